package main

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"testing/fstest"
	"time"

	"github.com/simguard/simguard"
	"github.com/simguard/simguard/detect"
)

// benchRules loads the built-in rules plus generated ones up to n rules in
// all. The generated rules read the same event types with other
// conditions, keys and triggers, the way a deployment adds its own.
func benchRules(n int) (*detect.RuleSet, error) {
	l, err := detect.NewLoader()
	if err != nil {
		return nil, err
	}
	builtin, err := l.Load(detect.Builtin())
	if err != nil {
		return nil, err
	}
	extra := fstest.MapFS{}
	for i := 0; len(builtin.Rules())+i < n; i++ {
		extra[fmt.Sprintf("gen-%02d.yaml", i)] = &fstest.MapFile{Data: []byte(genRule(i))}
	}
	return l.Load(detect.Builtin(), detect.Source{Name: "bench", FS: extra})
}

func genRule(i int) string {
	head := fmt.Sprintf("name: gen-%02d\ndescription: generated rule %d\nseverity: low\n", i, i)
	switch i % 6 {
	case 0:
		return head + fmt.Sprintf(`events: [radius.access]
condition: decision == "deny" && reason == "%s"
group_by: [sim]
trigger: {kind: sliding_window, threshold: %d, window: 1m}
`, []string{"apn_denied", "location_denied", "rat_denied", "quota_exceeded"}[i%4], 3+i)
	case 1:
		return head + fmt.Sprintf(`events: [flow.denied]
condition: attrs.proto == "tcp" && num(attrs.port) < %d
group_by: [sim]
trigger: {kind: leaky_bucket, capacity: %d, leak_speed: 2s}
`, 1024+i, 10+i)
	case 2:
		return head + fmt.Sprintf(`events: [flow.allowed]
condition: attrs.port == "443"
group_by: [sim]
trigger: {kind: distinct, field: dst, threshold: %d, window: 5m}
`, 30+i)
	case 3:
		return head + fmt.Sprintf(`events: [sms.mt, sms.mo]
condition: attrs.peer.startsWith("49%d")
group_by: [sim, peer]
trigger: {kind: sliding_window, threshold: 10, window: 1m}
`, i%10)
	case 4:
		return head + fmt.Sprintf(`events: [radius.accounting]
condition: num(attrs.in_bytes) > %d
group_by: [sim]
trigger: {kind: sliding_window, threshold: 5, window: 10m}
`, 1<<20*(i+1))
	}
	return head + `events: [radius.access]
condition: decision == "allow"
group_by: [sim]
trigger: {kind: first_seen, field: plmn, learn_for: 1h, max_values: 8}
`
}

// workload makes events over keys SIMs. Attr maps come from small pools
// (the SIM ID carries the key), so that the input itself does not take
// gigabytes; emitters hand over fresh maps in production.
type workload struct {
	rng    *rand.Rand
	keys   int
	access []map[string]string
	denied []map[string]string // denied requests: no IMEI, so that pooled IMEIs do not look like attackers
	acct   []map[string]string
	flows  []map[string]string
	sms    []map[string]string
}

func newWorkload(keys int, seed uint64) *workload {
	w := &workload{rng: rand.New(rand.NewPCG(seed, seed^0x5eed)), keys: keys}
	plmns := []string{"262-01", "262-02", "310-260", "208-01"}
	for i := 0; i < 4096; i++ {
		w.access = append(w.access, map[string]string{
			"imsi": fmt.Sprintf("26201%010d", i), "imei": fmt.Sprintf("352099%08d", i), "apn": "iot.example",
			"plmn": plmns[i%len(plmns)], "rat": "4g", "nas": "192.0.2." + strconv.Itoa(i%8), "group": "g" + strconv.Itoa(i%16),
		})
		w.denied = append(w.denied, map[string]string{"imsi": fmt.Sprintf("26201%010d", i), "plmn": "262-01", "nas": "192.0.2.1"})
		w.acct = append(w.acct, map[string]string{
			"session": strconv.Itoa(i), "status": "interim", "in_bytes": strconv.Itoa(i * 4096), "out_bytes": strconv.Itoa(i * 512),
		})
		port := []string{"443", "443", "443", "8883", "23", "22"}[i%6]
		w.flows = append(w.flows, map[string]string{
			"src": fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255), "dst": fmt.Sprintf("198.51.%d.%d", i>>8&255, i&255),
			"port": port, "proto": "tcp", "direction": "egress", "group": "g" + strconv.Itoa(i%16),
		})
		w.sms = append(w.sms, map[string]string{"peer": "49" + strconv.Itoa(1000000+i), "binary": "false", "silent": "false"})
	}
	return w
}

var denyReasons = []simguard.Reason{
	simguard.ReasonAPNDenied, simguard.ReasonLocationDenied, simguard.ReasonRATDenied, simguard.ReasonQuotaExceeded,
	simguard.ReasonSIMSuspended, simguard.ReasonOutsideWindow,
}

// next fills ev with the next event of the mix: 40% RADIUS access (5%
// denied), 25% accounting, 20% flows (a tenth denied), 10% SMS, 5% IMEI
// and S6a.
func (w *workload) next(ev *simguard.Event, t time.Time) {
	r := w.rng
	*ev = simguard.Event{Time: t, TenantID: 1, SIMID: int64(r.IntN(w.keys) + 1)}
	p := r.IntN(100)
	i := r.IntN(4096)
	own := int(ev.SIMID % 4096) // what a SIM reports about itself stays the same
	switch {
	case p < 40:
		ev.Source, ev.Type, ev.Attrs = "radius", "radius.access", w.access[own]
		ev.Decision, ev.Reason = "allow", simguard.ReasonAllowed
		if r.IntN(20) == 0 {
			ev.Decision, ev.Reason, ev.Attrs = "deny", denyReasons[r.IntN(len(denyReasons))], w.denied[own]
		}
	case p < 65:
		ev.Source, ev.Type, ev.Attrs = "radius", "radius.accounting", w.acct[i]
	case p < 85:
		ev.Source, ev.Type, ev.Attrs = "gateway", "flow.allowed", w.flows[i]
		if r.IntN(10) == 0 {
			ev.Type = "flow.denied"
		}
	case p < 95:
		ev.Source, ev.Type, ev.Attrs = "smpp", "sms.mo", w.sms[i]
		ev.Decision, ev.Reason = "allow", simguard.ReasonAllowed
		if r.IntN(2) == 0 {
			ev.Type = "sms.mt"
		}
	case p < 98:
		ev.Source, ev.Type, ev.Attrs = "diameter", "diameter.ulr", w.access[own]
		ev.Decision, ev.Reason = "allow", simguard.ReasonAllowed
	default:
		ev.Source, ev.Type, ev.Attrs = "radius", "imei.learned", w.access[own]
	}
}

// attack returns the n offending events of a brute force on one SIM.
func attack(sim int64, n int) []simguard.Event {
	out := make([]simguard.Event, n)
	for i := range out {
		out[i] = simguard.Event{TenantID: 1, SIMID: sim, Source: "radius", Type: "radius.access", Decision: "deny",
			Reason: simguard.ReasonIMEIMismatch, Attrs: map[string]string{"imei": fmt.Sprintf("8600000000%04d", i), "imsi": "262019999999999"}}
	}
	return out
}
