package radius

import (
	"sync"
	"time"

	"github.com/simguard/simguard"
)

// Event types this package emits.
const (
	EventAccess     = "radius.access"       // an Access-Request decided
	EventDropped    = "radius.dropped"      // a packet dropped without answer (attrs: cause)
	EventAccounting = "radius.accounting"   // an Accounting-Request recorded
	EventAnomaly    = "radius.acct_anomaly" // an odd accounting sequence (attrs: anomaly)
	EventDisconnect = "radius.disconnect"   // a Disconnect-Request answered or given up
)

// Drop causes (the cause attribute and metric label).
const (
	dropUnknownClient   = "unknown_client"
	dropBadAuth         = "bad_authenticator"
	dropMissingMsgAuth  = "missing_message_authenticator"
	dropMalformed       = "malformed"
	dropUnsupportedCode = "unsupported_code"
	dropBackend         = "backend_error" // a store or feedback write failed; the NAS retries
)

// requestAttrs are the event attributes of a decoded request.
func requestAttrs(nas string, d *decoded) map[string]string {
	r := &d.req
	m := map[string]string{"nas": nas}
	set := func(k, v string) {
		if v != "" {
			m[k] = v
		}
	}
	set("imsi", r.IMSI)
	set("msisdn", r.MSISDN)
	set("imei", r.IMEI)
	set("apn", r.APN)
	set("rat", string(r.RAT))
	set("identity", string(d.identity))
	set("uli_type", d.uliType)
	if !r.Location.PLMN.IsZero() {
		m["plmn"] = r.Location.PLMN.String()
	}
	if r.Location.HasArea {
		m["area"] = itoa(uint64(r.Location.Area))
	}
	if r.Location.HasCell {
		m["cell"] = itoa(r.Location.Cell)
	}
	if d.imeiBad {
		m["imei_invalid"] = "true"
	}
	return m
}

// dropSampler lets through at most perSecond events per cause and second.
type dropSampler struct {
	perSecond int
	mu        sync.Mutex
	second    int64
	counts    map[string]int
}

func (d *dropSampler) allow(cause string, now time.Time) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if s := now.Unix(); s != d.second || d.counts == nil {
		d.second, d.counts = s, map[string]int{}
	}
	d.counts[cause]++
	return d.counts[cause] <= d.perSecond
}

// emit sends an event with the common fields filled in.
func (s *Server) emit(typ, decision string, reason simguard.Reason, simID, tenantID int64, attrs map[string]string) {
	s.events.Emit(simguard.Event{
		Time: s.now(), TenantID: tenantID, SIMID: simID, Source: "radius",
		Type: typ, Decision: decision, Reason: reason, Attrs: attrs,
	})
}
