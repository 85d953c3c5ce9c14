package smpp

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/simguard/simguard/smpp/smpptest"
)

// counterValue sums the samples of a metric whose labels include want.
func counterValue(t testing.TB, reg *prometheus.Registry, name string, want map[string]string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	sum := 0.0
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	metric:
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			for k, v := range want {
				if labels[k] != v {
					continue metric
				}
			}
			switch {
			case m.Counter != nil:
				sum += m.GetCounter().GetValue()
			case m.Gauge != nil:
				sum += m.GetGauge().GetValue()
			case m.Histogram != nil:
				sum += float64(m.GetHistogram().GetSampleCount())
			}
		}
	}
	return sum
}

// TestMetrics: names follow simguard_smpp_*, and traffic shows up in them.
func TestMetrics(t *testing.T) {
	smsc := newSMSC(t, smpptest.SMSCOptions{})
	h := startProxy(t, []string{smsc.Addr()}, nil)
	h.waitUp(1)
	c := h.dial("meterapp", "pw1", smpptest.ClientOptions{})
	c.Do(submit("4930123456", simMeter, "ok"), 5*time.Second)
	c.Do(submit("4990123456", simMeter, "denied"), 5*time.Second)

	mfs, err := h.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if !strings.HasPrefix(mf.GetName(), "simguard_smpp_") {
			t.Errorf("metric %s lacks the simguard_smpp_ prefix", mf.GetName())
		}
	}
	checks := []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"simguard_smpp_pdus_total", map[string]string{"side": "esme", "direction": "in", "command": "submit_sm"}, 2},
		{"simguard_smpp_pdus_total", map[string]string{"side": "smsc", "direction": "out", "command": "submit_sm"}, 1},
		{"simguard_smpp_pdus_total", map[string]string{"side": "esme", "direction": "out", "command": "submit_sm_resp"}, 2},
		{"simguard_smpp_decisions_total", map[string]string{"kind": "sms_mt", "decision": "allow", "reason": "allowed"}, 1},
		{"simguard_smpp_decisions_total", map[string]string{"kind": "sms_mt", "decision": "deny", "reason": "sms_peer_denied"}, 1},
		{"simguard_smpp_relay_duration_seconds", map[string]string{"kind": "sms_mt"}, 1},
		{"simguard_smpp_upstream_binds", map[string]string{"upstream": "main"}, 1},
		{"simguard_smpp_esme_binds", map[string]string{"bind_type": "transceiver"}, 1},
		{"simguard_smpp_bind_attempts_total", map[string]string{"result": "bound"}, 1},
		{"simguard_smpp_window_inflight", map[string]string{"side": "smsc", "upstream": "main"}, 0},
		{"simguard_smpp_window_inflight", map[string]string{"side": "esme"}, 0},
	}
	for _, c := range checks {
		if got := counterValue(t, h.reg, c.name, c.labels); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
}
