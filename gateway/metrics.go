package gateway

import (
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	installs       prometheus.Counter
	installSeconds prometheus.Histogram
	elements       prometheus.Counter
	updateSeconds  prometheus.Histogram
	errors         *prometheus.CounterVec
	repairs        prometheus.Counter
	deniedEvents   prometheus.Counter
}

func newMetrics(a *Agent, reg prometheus.Registerer) *metrics {
	m := &metrics{
		installs: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "simguard_gateway_installs_total",
			Help: "Whole-table replacements of the gateway's nftables table (one netlink batch each).",
		}),
		installSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "simguard_gateway_install_seconds",
			Help:    "Time to compile and install the whole table.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 14),
		}),
		elements: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "simguard_gateway_element_updates_total",
			Help: "Set and map elements added or deleted for changes to single SIMs (no table replacement).",
		}),
		updateSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "simguard_gateway_update_seconds",
			Help:    "Time to compute and apply an element update.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 2, 14),
		}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "simguard_gateway_errors_total",
			Help: "Failed netlink operations by op (install, update, verify); the agent retries with a whole install.",
		}, []string{"op"}),
		repairs: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "simguard_gateway_repairs_total",
			Help: "Whole installs because the kernel's table was missing or differed from what simguard installed (nft flush ruleset, changes by hand).",
		}),
		deniedEvents: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "simguard_gateway_denied_logged_total",
			Help: "Denied packets read from nflog (rate-limited in the kernel) and turned into flow.denied events.",
		}),
	}
	if reg != nil {
		reg.MustRegister(m.installs, m.installSeconds, m.elements, m.updateSeconds, m.errors, m.repairs, m.deniedEvents, counterCollector{a})
	}
	return m
}

func (m *metrics) observeUpdate(d Delta, took time.Duration) {
	m.elements.Add(float64(d.Len()))
	m.updateSeconds.Observe(took.Seconds())
}

var (
	descGroupPackets = prometheus.NewDesc("simguard_gateway_group_packets_total",
		"Packets of a group's devices by verdict (allowed, denied), from the table's nftables counters (reset when the table is replaced whole).",
		[]string{"tenant", "group", "verdict"}, nil)
	descReasonPackets = prometheus.NewDesc("simguard_gateway_denied_packets_total",
		"Dropped packets by reason, from the table's nftables counters (reset when the table is replaced whole).",
		[]string{"reason"}, nil)
	descAddrs = prometheus.NewDesc("simguard_gateway_addresses",
		"Device addresses by state (open: follows its group's allowlist; blocked: the SIM may not use data now; outside: a SIM address outside device_nets, not fenced by this table).",
		[]string{"state"}, nil)
)

// counterCollector reads the kernel's counters at scrape time.
type counterCollector struct{ a *Agent }

func (c counterCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descGroupPackets
	ch <- descReasonPackets
	ch <- descAddrs
}

func (c counterCollector) Collect(ch chan<- prometheus.Metric) {
	st, err := c.a.Status(false)
	if err != nil && st.Groups == 0 && st.SIMs == 0 {
		return
	}
	ch <- prometheus.MustNewConstMetric(descAddrs, prometheus.GaugeValue, float64(st.SIMs), "open")
	ch <- prometheus.MustNewConstMetric(descAddrs, prometheus.GaugeValue, float64(st.Blocked), "blocked")
	ch <- prometheus.MustNewConstMetric(descAddrs, prometheus.GaugeValue, float64(st.Outside), "outside")
	for _, k := range st.Counters {
		if k.Group == "" {
			ch <- prometheus.MustNewConstMetric(descReasonPackets, prometheus.CounterValue, float64(k.Packets), k.Kind)
		} else {
			ch <- prometheus.MustNewConstMetric(descGroupPackets, prometheus.CounterValue, float64(k.Packets), strconv.FormatInt(k.TenantID, 10), k.Group, k.Kind)
		}
	}
}
