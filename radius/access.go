package radius

import (
	"context"
	"net/netip"
	"time"

	"github.com/simguard/simguard"
	"layeh.com/radius"
)

// authContextTTL is how long the context of an Access-Accept waits for
// its Accounting-Start, found by the Class the NAS echoes. Accounting
// without it falls back to the request's own attributes.
const authContextTTL = 2 * time.Minute

// Cache bounds (entries per generation; see newGenMap). At 25,000
// requests/s the duplicate cache holds its 5 s; beyond, retransmissions
// must come sooner to be answered from it. Together they stay under about
// 100 MiB.
const (
	dupCacheMax    = 1 << 17
	authContextMax = 1 << 15
)

// authContext is what accounting needs from the Access-Request that
// opened a session: the SIM and what the policy saw.
type authContext struct {
	simID, tenantID int64
	req             simguard.Request
	userName        string
	ip              netip.Addr
}

// access decides one Access-Request.
func (s *Server) access(ctx context.Context, c *nasClient, p *request) ([]byte, error) {
	a, err := decodeAttrs(p)
	if err != nil {
		return nil, err
	}
	d := a.toRequest(c.IdentityOrder)
	now := s.now()
	d.req.Time = now
	dec := s.eval.Evaluate(&d.req)
	if dec.Allow && !c.mayAsk(dec.TenantID) {
		// A tenant's own gateway learns nothing about other tenants' SIMs.
		dec = simguard.Decision{Reason: simguard.ReasonSIMUnknown, Rule: "radius:nas-tenant"}
	}
	attrs := requestAttrs(c.Name, &d)

	if dec.Allow && dec.LearnIMEI && d.req.IMEI != "" {
		if err := s.learnIMEI(ctx, c, dec.SIMID, d.req.IMEI); err != nil {
			if simguard.ErrorCode(err) != simguard.ECONFLICT {
				return nil, errNoAnswer
			}
			// Another device was bound first (a concurrent attach).
			dec = simguard.Decision{Allow: false, Reason: simguard.ReasonIMEIMismatch, Rule: "radius:imei-learn-conflict",
				SIMID: dec.SIMID, TenantID: dec.TenantID, Group: dec.Group}
		} else {
			attrs["imei_learned"] = "true"
		}
	}
	if !dec.Allow && dec.Reason == simguard.ReasonIMEIMismatch && dec.SIMID != 0 && d.req.IMEI != "" && s.firstMismatch(dec.SIMID, d.req.IMEI) {
		wctx, cancel := context.WithTimeout(ctx, s.cfg.WriteTimeout)
		if err := s.feedback.ReportIMEIMismatch(wctx, dec.SIMID, d.req.IMEI, "radius:"+c.Name); err != nil {
			s.m.feedback.WithLabelValues("report_imei_mismatch").Inc()
			s.log.Warn("radius: report IMEI mismatch", "sim", dec.SIMID, "err", err)
		}
		cancel()
	}

	var ip netip.Addr
	if dec.Allow {
		ip = dec.StaticIP
		if !ip.IsValid() {
			ip, err = s.pools.acquire(ctx, s.cfg.WriteTimeout, d.req.APN, dec.SIMID, dec.TenantID, now)
			if err == errPoolExhausted {
				dec = simguard.Decision{Reason: simguard.ReasonIPPoolExhausted, Rule: "radius:pool:" + d.req.APN,
					SIMID: dec.SIMID, TenantID: dec.TenantID, Group: dec.Group}
			} else if err != nil {
				s.m.feedback.WithLabelValues("lease").Inc()
				s.log.Warn("radius: lease", "sim", dec.SIMID, "apn", d.req.APN, "err", err)
				return nil, errNoAnswer
			}
		}
	}

	decision := "deny"
	var r *radius.Packet
	if dec.Allow {
		decision = "allow"
		r = reply(p, radius.CodeAccessAccept)
		class := s.classPrefix + itoa(s.classSeq.Add(1))
		r.Add(attrClass, radius.Attribute(class))
		if ip.Is4() {
			r.Add(attrFramedIPAddress, ip.AsSlice())
		} else if ip.Is6() {
			r.Add(attrFramedIPv6Address, ip.AsSlice())
		}
		if t := s.sessionTimeout(dec.ValidUntil, now); t > 0 {
			r.Add(attrSessionTimeout, radius.NewInteger(t))
		}
		if s.cfg.InterimInterval > 0 {
			r.Add(attrAcctInterim, radius.NewInteger(uint32(s.cfg.InterimInterval/time.Second)))
		}
		s.authCtx.put(class, &authContext{simID: dec.SIMID, tenantID: dec.TenantID, req: d.req, userName: a.userName, ip: ip})
		if ip.IsValid() {
			attrs["ip"] = ip.String()
		}
		attrs["class"] = class
	} else {
		r = reply(p, radius.CodeAccessReject)
		r.Add(attrReplyMessage, radius.Attribute(dec.Reason))
	}
	if dec.Rule != "" {
		attrs["rule"] = dec.Rule
	}
	if dec.Group != "" {
		attrs["group"] = dec.Group
	}
	s.m.decisions.WithLabelValues(decision, string(dec.Reason)).Inc()
	s.emit(EventAccess, decision, dec.Reason, dec.SIMID, dec.TenantID, attrs)
	return encodeResponse(r, p.auth)
}

// mayAsk reports whether the client may be told about a SIM of tenantID.
func (c *nasClient) mayAsk(tenantID int64) bool {
	return c.TenantID == 0 || c.TenantID == simguard.ProviderTenantID || c.TenantID == tenantID
}

func (s *Server) learnIMEI(ctx context.Context, c *nasClient, simID int64, imei string) error {
	wctx, cancel := context.WithTimeout(ctx, s.cfg.WriteTimeout)
	defer cancel()
	err := s.feedback.LearnIMEI(wctx, simID, imei, "radius:"+c.Name)
	if err != nil && simguard.ErrorCode(err) != simguard.ECONFLICT {
		s.m.feedback.WithLabelValues("learn_imei").Inc()
		s.log.Warn("radius: learn IMEI", "sim", simID, "err", err)
	}
	return err
}

// sessionTimeout is the Session-Timeout in seconds: up to the end of the
// activation window, capped by MaxSessionTimeout; 0 for none.
func (s *Server) sessionTimeout(until, now time.Time) uint32 {
	var d time.Duration
	if !until.IsZero() {
		d = until.Sub(now)
		if d < time.Second {
			d = time.Second // the window ends now: the shortest session RADIUS can say
		}
	}
	if m := s.cfg.MaxSessionTimeout; m > 0 && (d == 0 || d > m) {
		d = m
	}
	// Round down: the session must end before the window does.
	secs := d / time.Second
	if secs == 0 && d > 0 {
		secs = 1
	}
	if secs > 1<<32-1 {
		secs = 1<<32 - 1
	}
	return uint32(secs)
}

// firstMismatch reports whether simID/imei was not reported in the last
// minute, and remembers it.
func (s *Server) firstMismatch(simID int64, imei string) bool {
	first := false
	s.mismatches.update(itoa(uint64(simID))+"/"+imei, func(_ bool, ok bool) (bool, bool) {
		first = !ok
		return true, true
	})
	return first
}
