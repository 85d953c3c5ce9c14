package detect

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/simguard/simguard"
)

type metrics struct {
	events     prometheus.Counter
	dropped    prometheus.Counter
	fires      *prometheus.CounterVec
	ruleErrors *prometheus.CounterVec
	open       *prometheus.GaugeVec
	actions    *prometheus.CounterVec
	ttd        prometheus.Histogram
	delay      prometheus.Histogram
	keys       prometheus.Gauge
	storeErrs  prometheus.Counter
	rules      prometheus.Gauge
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	// Alerts should come within a second; the buckets reach a minute to
	// show slow attacks (a threshold reached over a whole window).
	buckets := prometheus.ExponentialBuckets(0.001, 2, 17)
	m := &metrics{
		events: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "simguard_detect_events_total", Help: "Events run through the detection rules."}),
		dropped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "simguard_detect_events_dropped_total", Help: "Events dropped because the detection queue was full or the engine stopped."}),
		fires: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "simguard_detect_rule_fires_total", Help: "Rule firings, by rule."}, []string{"rule"}),
		ruleErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "simguard_detect_rule_errors_total", Help: "CEL evaluation errors, by rule (the event counts as not matching)."}, []string{"rule"}),
		open: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "simguard_detect_alerts_open", Help: "Alerts not resolved (open or acknowledged), by severity."}, []string{"severity"}),
		actions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "simguard_detect_actions_total", Help: "Automatic responses, by action type and result."}, []string{"action", "result"}),
		ttd: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "simguard_detect_time_to_detect_seconds", Help: "Alert time minus the time of the first offending event.", Buckets: buckets}),
		delay: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "simguard_detect_alert_delay_seconds", Help: "Alert time minus the time of the event that fired the rule (the engine's own delay).", Buckets: buckets}),
		keys: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "simguard_detect_state_keys", Help: "Keys holding rule state, over all rules."}),
		storeErrs: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "simguard_detect_store_errors_total", Help: "Failed writes of alerts to the store."}),
		rules: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "simguard_detect_rules", Help: "Rules the engine runs (changes when rules are reloaded)."}),
	}
	for _, c := range []prometheus.Collector{m.events, m.dropped, m.fires, m.ruleErrors, m.open, m.actions, m.ttd, m.delay, m.keys, m.storeErrs, m.rules} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	for _, s := range simguard.Severities {
		m.open.WithLabelValues(string(s)).Set(0)
	}
	return m, nil
}
