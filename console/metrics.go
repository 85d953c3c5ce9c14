package console

import (
	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	logins       *prometheus.CounterVec
	csrfRejected prometheus.Counter
}

func newMetrics(reg prometheus.Registerer, s *sessions) (*metrics, error) {
	m := &metrics{
		logins: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "simguard_console_logins_total",
			Help: "Console logins by result: ok, unknown_token, node_token, refused (too many sessions), bad_form.",
		}, []string{"result"}),
		csrfRejected: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "simguard_console_csrf_rejected_total",
			Help: "State-changing console requests refused because their CSRF token or Origin was wrong.",
		}),
	}
	if reg == nil {
		return m, nil
	}
	live := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "simguard_console_sessions",
		Help: "Console sessions held (expired ones are dropped every minute).",
	}, func() float64 { return float64(s.len()) })
	for _, c := range []prometheus.Collector{m.logins, m.csrfRejected, live} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}
