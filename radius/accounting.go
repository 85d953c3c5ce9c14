package radius

import (
	"context"
	"errors"
	"hash/maphash"
	"net/netip"
	"sync"
	"time"

	"github.com/simguard/simguard"
	"layeh.com/radius"
)

// Acct-Status-Type values (RFC 2866 §5.1).
const (
	acctStart   = 1
	acctStop    = 2
	acctInterim = 3
	acctOn      = 7
	acctOff     = 8
)

var statusNames = map[uint32]string{acctStart: "start", acctStop: "stop", acctInterim: "interim", acctOn: "accounting_on", acctOff: "accounting_off"}

var terminateCauses = [...]string{"", "user-request", "lost-carrier", "lost-service", "idle-timeout",
	"session-timeout", "admin-reset", "admin-reboot", "port-error", "nas-error", "nas-request",
	"nas-reboot", "port-unneeded", "port-preempted", "port-suspended", "service-unavailable",
	"callback", "user-error", "host-request"}

// Accounting anomalies (the anomaly attribute and metric label).
const (
	anomalyDuplicateStart   = "duplicate_start"
	anomalyInterimNoStart   = "interim_without_start"
	anomalyStopNoStart      = "stop_without_start"
	anomalyStopAfterStop    = "stop_after_stop"
	anomalyCountersDecrease = "counters_decreased"
	anomalyUnknownStatus    = "unknown_status"
)

var errNoStatus = errors.New("accounting request without Acct-Status-Type")
var errNoSessionID = errors.New("accounting request without Acct-Session-Id")

// sessionLock is the stripe lock that serializes one session's updates.
func (s *Server) sessionLock(k sessKey) *sync.Mutex {
	return &s.locks[maphash.Comparable(s.lockSeed, k)%uint64(len(s.locks))]
}

// accounting records one Accounting-Request and answers only once the
// store has it (RFC 2866 §2: no answer for what was not recorded).
func (s *Server) accounting(ctx context.Context, c *nasClient, p *request, from netip.Addr) ([]byte, error) {
	a, err := decodeAttrs(p)
	if err != nil {
		return nil, err
	}
	if !a.hasStatus {
		return nil, errNoStatus
	}
	now := s.now()
	at := now
	if a.eventTime != 0 {
		at = time.Unix(int64(a.eventTime), 0)
	} else if a.hasDelay {
		at = now.Add(-time.Duration(a.delay) * time.Second)
	}
	status := statusNames[a.statusType]
	wctx, cancel := context.WithTimeout(ctx, s.cfg.WriteTimeout)
	defer cancel()

	switch a.statusType {
	case acctOn, acctOff:
		n, err := s.sessions.StopNASSessions(wctx, c.Name, at, "nas-reboot")
		if err != nil {
			s.log.Warn("radius: stop NAS sessions", "nas", c.Name, "err", err)
			return nil, errNoAnswer
		}
		s.live.removeNAS(c.Name)
		s.m.live.Set(float64(s.live.len()))
		s.m.accounting.WithLabelValues(status).Inc()
		s.emit(EventAccounting, "", "", 0, 0, map[string]string{"nas": c.Name, "status": status, "stopped_sessions": itoa(uint64(n))})
		return encodeResponse(reply(p, radius.CodeAccountingResponse), p.auth)
	case acctStart, acctStop, acctInterim:
	default:
		s.anomaly(anomalyUnknownStatus, c.Name, nil, map[string]string{"status_type": itoa(uint64(a.statusType))})
		return encodeResponse(reply(p, radius.CodeAccountingResponse), p.auth)
	}
	if a.sessionID == "" {
		return nil, errNoSessionID
	}
	key := sessKey{c.Name, a.sessionID}
	mu := s.sessionLock(key)
	mu.Lock()
	defer mu.Unlock()

	rs, anomaly, err := s.loadSession(wctx, c, &a, from, at, key)
	if err != nil {
		s.log.Warn("radius: load session", "nas", c.Name, "session", a.sessionID, "err", err)
		return nil, errNoAnswer
	}
	if rs == nil { // a Stop repeated after the session was closed
		s.anomaly(anomaly, c.Name, nil, map[string]string{"session": a.sessionID})
		return encodeResponse(reply(p, radius.CodeAccountingResponse), p.auth)
	}
	// A Start carries no usage; a repeated one must not reset the counters.
	if a.statusType != acctStart && counters(rs, &a) {
		s.anomaly(anomalyCountersDecrease, c.Name, rs, nil)
	}
	rs.LastUpdate = at
	if a.statusType == acctStop {
		rs.Stop = at
		if int(a.terminateCause) < len(terminateCauses) && a.terminateCause > 0 {
			rs.TerminateCause = terminateCauses[a.terminateCause]
		} else {
			rs.TerminateCause = "cause-" + itoa(uint64(a.terminateCause))
		}
	}
	delta := s.meter(wctx, rs)
	if err := s.sessions.SaveSession(wctx, rs); err != nil {
		s.log.Warn("radius: save session", "nas", c.Name, "session", a.sessionID, "err", err)
		return nil, errNoAnswer
	}
	if anomaly != "" {
		s.anomaly(anomaly, c.Name, rs, nil)
	}
	ls := liveFromSession(rs)
	check := *ls // the index owns ls once it is put there
	if rs.Live() {
		s.live.put(ls)
	} else {
		s.live.remove(key)
	}
	s.m.live.Set(float64(s.live.len()))
	s.m.accounting.WithLabelValues(status).Inc()
	s.emit(EventAccounting, "", "", rs.SIMID, rs.TenantID, accountingAttrs(status, rs, delta))
	if rs.Live() {
		// Usage just reported may have used up the quota; the snapshot
		// may already say so.
		s.recheck(ctx, s.eval, []liveSession{check})
	}
	return encodeResponse(reply(p, radius.CodeAccountingResponse), p.auth)
}

// loadSession finds the session an Accounting-Request is about, or starts
// one. It returns nil (and the anomaly) for a Stop that has nothing left
// to close.
func (s *Server) loadSession(ctx context.Context, c *nasClient, a *attrs, from netip.Addr, at time.Time, key sessKey) (*simguard.RADIUSSession, string, error) {
	rs, err := s.sessions.LiveSession(ctx, key.nas, key.id)
	switch {
	case err == nil:
		s.refresh(&rs, c, a)
		if a.statusType == acctStart {
			return &rs, anomalyDuplicateStart, nil
		}
		return &rs, "", nil
	case simguard.ErrorCode(err) != simguard.ENOTFOUND:
		return nil, "", err
	}
	if a.statusType == acctStop {
		last, err := s.sessions.LastSession(ctx, key.nas, key.id)
		if err == nil && !last.Live() {
			return nil, anomalyStopAfterStop, nil
		}
		if err != nil && simguard.ErrorCode(err) != simguard.ENOTFOUND {
			return nil, "", err
		}
	}
	rs = s.newSession(c, a, from, at)
	s.refresh(&rs, c, a)
	switch a.statusType {
	case acctInterim:
		return &rs, anomalyInterimNoStart, nil
	case acctStop:
		return &rs, anomalyStopNoStart, nil
	}
	return &rs, "", nil
}

// newSession starts a session from the Access-Accept context its Class
// names, or, without one, from the request's own attributes.
func (s *Server) newSession(c *nasClient, a *attrs, from netip.Addr, at time.Time) simguard.RADIUSSession {
	rs := simguard.RADIUSSession{
		NAS: c.Name, NASAddr: from, SessionID: a.sessionID, Class: a.class,
		UserName: a.userName, Start: at, LastUpdate: at,
	}
	if a.statusType != acctStart && a.hasSessionTime {
		rs.Start = at.Add(-time.Duration(a.sessionTime) * time.Second)
	}
	if ac, ok := s.authCtx.get(a.class); ok && a.class != "" {
		rs.SIMID, rs.TenantID, rs.IP = ac.simID, ac.tenantID, ac.ip
		setRequest(&rs, &ac.req)
		if rs.UserName == "" {
			rs.UserName = ac.userName
		}
		return rs
	}
	d := a.toRequest(c.IdentityOrder)
	d.req.Time = at
	dec := s.eval.Evaluate(&d.req)
	if c.mayAsk(dec.TenantID) {
		rs.SIMID, rs.TenantID = dec.SIMID, dec.TenantID
	}
	setRequest(&rs, &d.req)
	return rs
}

func setRequest(rs *simguard.RADIUSSession, r *simguard.Request) {
	rs.IMSI, rs.MSISDN, rs.IMEI, rs.APN, rs.RAT, rs.Location = r.IMSI, r.MSISDN, r.IMEI, r.APN, r.RAT, r.Location
}

// refresh takes what may change during a session from the request: the
// address, the radio and the location.
func (s *Server) refresh(rs *simguard.RADIUSSession, c *nasClient, a *attrs) {
	if a.framedIP.IsValid() {
		rs.IP = a.framedIP
	}
	d := a.toRequest(c.IdentityOrder)
	if d.req.RAT != "" {
		rs.RAT = d.req.RAT
	}
	if d.uliType != "" && d.uliErr == nil || !d.req.Location.PLMN.IsZero() {
		rs.Location = d.req.Location
	}
	if rs.IMEI == "" {
		rs.IMEI = d.req.IMEI
	}
}

// counters copies the session totals (Gigawords are the high 32 bits) and
// reports whether any went backwards.
func counters(rs *simguard.RADIUSSession, a *attrs) bool {
	in := uint64(a.inGiga)<<32 | uint64(a.inOctets)
	out := uint64(a.outGiga)<<32 | uint64(a.outOctets)
	dec := in < rs.InputOctets || out < rs.OutputOctets
	rs.InputOctets, rs.OutputOctets = in, out
	rs.InputPackets, rs.OutputPackets = uint64(a.inPackets), uint64(a.outPackets)
	return dec
}

// meter reports the octets not yet metered to Feedback.AddUsage and
// returns them. A failed report is retried with the next update; counters
// that went backwards (a NAS that lost them) are taken as the new base.
func (s *Server) meter(ctx context.Context, rs *simguard.RADIUSSession) uint64 {
	total := rs.InputOctets + rs.OutputOctets
	if total < rs.UsageReported {
		rs.UsageReported = total
		return 0
	}
	delta := total - rs.UsageReported
	if delta == 0 || rs.SIMID == 0 {
		return 0
	}
	if err := s.feedback.AddUsage(ctx, rs.SIMID, int64(delta), 0); err != nil {
		s.m.feedback.WithLabelValues("add_usage").Inc()
		s.log.Warn("radius: add usage", "sim", rs.SIMID, "err", err)
		return 0
	}
	rs.UsageReported = total
	return delta
}

func (s *Server) anomaly(kind, nas string, rs *simguard.RADIUSSession, extra map[string]string) {
	s.m.anomalies.WithLabelValues(kind).Inc()
	attrs := map[string]string{"anomaly": kind, "nas": nas}
	var simID, tenantID int64
	if rs != nil {
		attrs["session"] = rs.SessionID
		if rs.IMSI != "" {
			attrs["imsi"] = rs.IMSI
		}
		simID, tenantID = rs.SIMID, rs.TenantID
	}
	for k, v := range extra {
		attrs[k] = v
	}
	s.emit(EventAnomaly, "", "", simID, tenantID, attrs)
}

func accountingAttrs(status string, rs *simguard.RADIUSSession, delta uint64) map[string]string {
	m := map[string]string{
		"status": status, "nas": rs.NAS, "session": rs.SessionID,
		"input_octets": itoa(rs.InputOctets), "output_octets": itoa(rs.OutputOctets),
		"usage_delta": itoa(delta),
	}
	for k, v := range map[string]string{"imsi": rs.IMSI, "msisdn": rs.MSISDN, "imei": rs.IMEI, "apn": rs.APN,
		"rat": string(rs.RAT), "terminate_cause": rs.TerminateCause} {
		if v != "" {
			m[k] = v
		}
	}
	if rs.IP.IsValid() {
		m["ip"] = rs.IP.String()
	}
	if !rs.Location.PLMN.IsZero() {
		m["plmn"] = rs.Location.PLMN.String()
	}
	return m
}
