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
func requestAttrs(nas string, r *simguard.Request, identity simguard.IdentitySource, uliType string, imeiBad bool) map[string]string {
	m := make(map[string]string, 12)
	m["nas"] = nas
	for _, kv := range [...]struct{ k, v string }{
		{"imsi", r.IMSI}, {"msisdn", r.MSISDN}, {"imei", r.IMEI}, {"apn", r.APN}, {"rat", string(r.RAT)},
		{"identity", string(identity)}, {"uli_type", uliType},
	} {
		if kv.v != "" {
			m[kv.k] = kv.v
		}
	}
	if !r.Location.PLMN.IsZero() {
		m["plmn"] = r.Location.PLMN.String()
	}
	if r.Location.HasArea {
		m["area"] = itoa(uint64(r.Location.Area))
	}
	if r.Location.HasCell {
		m["cell"] = itoa(r.Location.Cell)
	}
	if imeiBad {
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
