package radius

import (
	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the server's Prometheus metrics. Every label has a bounded
// set of values: packet types, decision reasons, drop causes.
type metrics struct {
	requests   *prometheus.CounterVec   // type
	decisions  *prometheus.CounterVec   // decision, reason
	latency    *prometheus.HistogramVec // type
	drops      *prometheus.CounterVec   // cause
	duplicates *prometheus.CounterVec   // state: answered, in_flight
	accounting *prometheus.CounterVec   // status
	anomalies  *prometheus.CounterVec   // anomaly
	disconnect *prometheus.CounterVec   // outcome
	feedback   *prometheus.CounterVec   // op
	live       prometheus.Gauge
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "simguard_radius_requests_total", Help: "RADIUS requests received and authenticated, by packet type.",
		}, []string{"type"}),
		decisions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "simguard_radius_decisions_total", Help: "Access-Request decisions by outcome and reason.",
		}, []string{"decision", "reason"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "simguard_radius_request_duration_seconds",
			Help:    "Time from reading a request to sending its answer.",
			Buckets: []float64{50e-6, 100e-6, 250e-6, 500e-6, 1e-3, 2.5e-3, 5e-3, 10e-3, 25e-3, 100e-3, 1},
		}, []string{"type"}),
		drops: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "simguard_radius_dropped_total", Help: "Packets dropped without an answer, by cause.",
		}, []string{"cause"}),
		duplicates: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "simguard_radius_duplicates_total", Help: "Retransmitted requests: answered from the cache, or dropped while the original is in flight.",
		}, []string{"state"}),
		accounting: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "simguard_radius_accounting_total", Help: "Accounting-Requests recorded, by Acct-Status-Type.",
		}, []string{"status"}),
		anomalies: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "simguard_radius_accounting_anomalies_total", Help: "Odd accounting sequences, by kind.",
		}, []string{"anomaly"}),
		disconnect: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "simguard_radius_disconnects_total", Help: "Disconnect-Requests by outcome.",
		}, []string{"outcome"}),
		feedback: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "simguard_radius_feedback_errors_total", Help: "Failed writes back to the control plane, by operation.",
		}, []string{"op"}),
		live: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "simguard_radius_live_sessions", Help: "Live accounting sessions this server knows.",
		}),
	}
	for _, c := range []prometheus.Collector{m.requests, m.decisions, m.latency, m.drops, m.duplicates, m.accounting, m.anomalies, m.disconnect, m.feedback, m.live} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}
