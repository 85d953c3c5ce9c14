package diameter

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/simguard/simguard/diameter/wire"
)

type metrics struct {
	requests     *prometheus.CounterVec   // command, result
	seconds      *prometheus.HistogramVec // command: time to decide (and answer, for local answers)
	relayed      *prometheus.CounterVec   // command, result
	relaySeconds *prometheus.HistogramVec // command: relay round trip
	conns        *prometheus.GaugeVec     // role
	cer          *prometheus.CounterVec   // result
	watchdog     *prometheus.CounterVec   // event
	dropped      *prometheus.CounterVec   // cause
	hssConnects  *prometheus.CounterVec   // result
	relayRefused *prometheus.CounterVec   // cause
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "simguard_diameter_requests_total",
			Help: "Diameter requests handled, by command (ECR, ULR, AIR …) and result (whitelisted, blacklisted, greylisted, allowed, a result code name …)."}, []string{"command", "result"}),
		seconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "simguard_diameter_request_seconds",
			Help: "Time from a request's arrival to its decision (ECR answered, ULR answered or relayed).", Buckets: prometheus.ExponentialBuckets(5e-6, 3, 10)}, []string{"command"}),
		relayed: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "simguard_diameter_relayed_total",
			Help: "Relayed requests by command and the result the answer carried."}, []string{"command", "result"}),
		relaySeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "simguard_diameter_relay_seconds",
			Help: "Round trip of relayed requests (to the HSS or back to an MME).", Buckets: prometheus.ExponentialBuckets(1e-4, 3, 10)}, []string{"command"}),
		conns: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "simguard_diameter_connections",
			Help: "Open Diameter connections by role (mme, hss)."}, []string{"role"}),
		cer: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "simguard_diameter_cer_total",
			Help: "Capabilities exchanges by result (success, unknown_peer, no_common_application)."}, []string{"result"}),
		watchdog: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "simguard_diameter_watchdog_total",
			Help: "Device-Watchdog events (dwr_sent, dwr_received, dwa_received, timeout)."}, []string{"event"}),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "simguard_diameter_dropped_total",
			Help: "Messages or connections dropped, by cause (malformed, too_large, no_cer, unexpected_answer, too_many_connections, unknown_address, too_many_unauthenticated)."}, []string{"cause"}),
		hssConnects: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "simguard_diameter_hss_connects_total",
			Help: "Attempts to connect to the HSS by result."}, []string{"result"}),
		relayRefused: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "simguard_diameter_relay_refused_total",
			Help: "Requests not relayed, by cause (too_busy: max_pending_relays, peer_too_busy: max_pending_per_peer, session_id_too_long)."}, []string{"cause"}),
	}
	if reg != nil {
		reg.MustRegister(m.requests, m.seconds, m.relayed, m.relaySeconds, m.conns, m.cer, m.watchdog, m.dropped, m.hssConnects, m.relayRefused)
	}
	return m
}

func (s *Server) count(m *wire.Message, result string) {
	s.m.requests.WithLabelValues(wire.CommandAbbrev(m.Code, true), result).Inc()
}

// resultName is a bounded label for a result code.
func resultName(rc uint32) string {
	switch rc {
	case 0:
		return "none"
	case wire.ResultSuccess:
		return "success"
	case wire.ResultUnableToDeliver:
		return "unable_to_deliver"
	case wire.ResultApplicationUnsupported:
		return "application_unsupported"
	case wire.ResultUnknownPeer:
		return "unknown_peer"
	case wire.ResultNoCommonApplication:
		return "no_common_application"
	case wire.ResultAuthorizationRejected:
		return "authorization_rejected"
	case wire.ExpUserUnknown:
		return "user_unknown"
	case wire.ExpRoamingNotAllowed:
		return "roaming_not_allowed"
	case wire.ExpUnknownEPSSubscription:
		return "unknown_eps_subscription"
	case wire.ExpRATNotAllowed:
		return "rat_not_allowed"
	}
	switch {
	case rc < 2000:
		return "1xxx"
	case rc < 3000:
		return "2xxx"
	case rc < 4000:
		return "3xxx"
	case rc < 5000:
		return "4xxx"
	case rc < 6000:
		return "5xxx"
	}
	return "other"
}
