package scan

import (
	"github.com/prometheus/client_golang/prometheus"
)

// metrics of the auditor. Labels are bounded: proto (tcp, udp), result
// (the four port states), status (the run statuses), severity (five).
type metrics struct {
	probes   [2][4]prometheus.Counter
	runs     *prometheus.CounterVec
	findings *prometheus.CounterVec
	attempts prometheus.Counter
	active   prometheus.Gauge
	queued   prometheus.Gauge
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	probes := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "simguard_scan_probes_total",
		Help: "Port probes by protocol and the state they found (retries included in the state's single count).",
	}, []string{"proto", "result"})
	m := &metrics{
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "simguard_scan_runs_total",
			Help: "Finished scan runs by final status.",
		}, []string{"status"}),
		findings: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "simguard_scan_findings_total",
			Help: "Findings reported by scans, by severity.",
		}, []string{"severity"}),
		attempts: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "simguard_scan_credential_attempts_total",
			Help: "Default-credential login attempts made.",
		}),
		active: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "simguard_scan_active",
			Help: "Scans sending packets now.",
		}),
		queued: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "simguard_scan_queued",
			Help: "Scans accepted by the API and not finished yet (waiting or running).",
		}),
	}
	for i, proto := range []string{"tcp", "udp"} {
		for s := range PortState(4) {
			m.probes[i][s] = probes.WithLabelValues(proto, s.String())
		}
	}
	if reg != nil {
		for _, c := range []prometheus.Collector{probes, m.runs, m.findings, m.attempts, m.active, m.queued} {
			if err := reg.Register(c); err != nil {
				return nil, err
			}
		}
	}
	return m, nil
}

func (m *metrics) probe(proto string, s PortState) {
	i := 0
	if proto == "udp" {
		i = 1
	}
	m.probes[i][s].Inc()
}
