package notify

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// deliveriesVec registers the delivery counter, or reuses the one already
// registered, so that several deliverers share one metric family.
func deliveriesVec(reg prometheus.Registerer) (*prometheus.CounterVec, error) {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "simguard_notify_deliveries_total",
		Help: "Alert notice deliveries, by sink (webhook:NAME, syslog) and result.",
	}, []string{"sink", "result"})
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(*prometheus.CounterVec); ok {
				return existing, nil
			}
		}
		return nil, err
	}
	return c, nil
}
