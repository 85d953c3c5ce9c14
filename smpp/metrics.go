package smpp

import (
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/simguard/simguard"
	"github.com/simguard/simguard/smpp/pdu"
)

// Label values. Every label has a bounded set of values: command names
// come from a fixed list, upstream names from the configuration.
const (
	sideESME = 0
	sideSMSC = 1
	dirIn    = 0
	dirOut   = 1
)

var (
	sideNames = [2]string{"esme", "smsc"}
	dirNames  = [2]string{"in", "out"}
	// countedCommands are the commands with their own label value; the
	// rest count as "other".
	countedCommands = []pdu.CommandID{
		pdu.BindReceiver, pdu.BindReceiverResp, pdu.BindTransmitter, pdu.BindTransmitterResp,
		pdu.BindTransceiver, pdu.BindTransceiverResp, pdu.Unbind, pdu.UnbindResp,
		pdu.EnquireLink, pdu.EnquireLinkResp, pdu.GenericNack, pdu.SubmitSM, pdu.SubmitSMResp,
		pdu.DeliverSM, pdu.DeliverSMResp, pdu.DataSM, pdu.DataSMResp, pdu.Outbind,
	}
)

type metrics struct {
	pdus          [2][2][]prometheus.Counter // [side][dir][command index]
	decisions     *prometheus.CounterVec
	latency       *prometheus.HistogramVec
	upstreamBinds *prometheus.GaugeVec
	connects      *prometheus.CounterVec
	inflight      *prometheus.GaugeVec
	esmeBinds     *prometheus.GaugeVec
	bindAttempts  *prometheus.CounterVec
	localAnswers  *prometheus.CounterVec
	usageErrors   prometheus.Counter
	unmatched     *prometheus.CounterVec
	limiterKeys   *prometheus.GaugeVec

	mtLatency, moLatency prometheus.Observer
	// decisionCache holds the counters of decisions seen so far, copied
	// on write, so that the hot path does not hash label values.
	decisionMu    sync.Mutex
	decisionCache atomic.Pointer[map[decisionKey]prometheus.Counter]
}

type decisionKey struct {
	kind, decision string
	reason         simguard.Reason
}

// decision returns the counter of one kind, decision and reason.
func (m *metrics) decision(kind, decision string, reason simguard.Reason) prometheus.Counter {
	k := decisionKey{kind, decision, reason}
	if c, ok := (*m.decisionCache.Load())[k]; ok {
		return c
	}
	m.decisionMu.Lock()
	defer m.decisionMu.Unlock()
	old := *m.decisionCache.Load()
	if c, ok := old[k]; ok {
		return c
	}
	next := make(map[decisionKey]prometheus.Counter, len(old)+1)
	for k, v := range old {
		next[k] = v
	}
	c := m.decisions.WithLabelValues(kind, decision, string(reason))
	next[k] = c
	m.decisionCache.Store(&next)
	return c
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	pdus := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "simguard_smpp_pdus_total",
		Help: "PDUs by side (esme, smsc), direction (in, out) and command.",
	}, []string{"side", "direction", "command"})
	m := &metrics{
		decisions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "simguard_smpp_decisions_total",
			Help: "Policy decisions on messages by kind (sms_mt, sms_mo), decision (allow, deny) and reason.",
		}, []string{"kind", "decision", "reason"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "simguard_smpp_relay_duration_seconds",
			Help:    "Time from a message entering the proxy to its response leaving it, by kind.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 3, 12),
		}, []string{"kind"}),
		upstreamBinds: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "simguard_smpp_upstream_binds",
			Help: "Binds to each upstream SMSC route that are up.",
		}, []string{"upstream"}),
		connects: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "simguard_smpp_upstream_connects_total",
			Help: "Upstream connection attempts by result (bound, dial_error, bind_error).",
		}, []string{"upstream", "result"}),
		inflight: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "simguard_smpp_window_inflight",
			Help: "Requests outstanding (window occupancy): side smsc counts messages relayed to each upstream route, side esme deliveries relayed to ESMEs.",
		}, []string{"side", "upstream"}),
		esmeBinds: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "simguard_smpp_esme_binds",
			Help: "ESME binds by type.",
		}, []string{"bind_type"}),
		bindAttempts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "simguard_smpp_bind_attempts_total",
			Help: "ESME bind attempts by result.",
		}, []string{"result"}),
		localAnswers: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "simguard_smpp_local_answers_total",
			Help: "Requests the proxy answered itself because the other side could not, by cause.",
		}, []string{"cause"}),
		usageErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "simguard_smpp_usage_errors_total",
			Help: "SMS usage reports that failed.",
		}),
		unmatched: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "simguard_smpp_unmatched_responses_total",
			Help: "Responses that matched no outstanding request (late after a timeout, or bogus), by side.",
		}, []string{"side"}),
		limiterKeys: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "simguard_smpp_rate_limit_keys",
			Help: "Keys tracked by the rate limiters, by limiter (sim, source).",
		}, []string{"limiter"}),
	}
	for _, c := range []prometheus.Collector{pdus, m.decisions, m.latency, m.upstreamBinds, m.connects,
		m.inflight, m.esmeBinds, m.bindAttempts, m.localAnswers, m.usageErrors, m.unmatched, m.limiterKeys} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	m.mtLatency = m.latency.WithLabelValues("sms_mt")
	m.moLatency = m.latency.WithLabelValues("sms_mo")
	m.decisionCache.Store(&map[decisionKey]prometheus.Counter{})
	for s := range 2 {
		for d := range 2 {
			cs := make([]prometheus.Counter, len(countedCommands)+1)
			for i, id := range countedCommands {
				cs[i] = pdus.WithLabelValues(sideNames[s], dirNames[d], id.String())
			}
			cs[len(countedCommands)] = pdus.WithLabelValues(sideNames[s], dirNames[d], "other")
			m.pdus[s][d] = cs
		}
	}
	return m, nil
}

// countPDU counts a frame without any map lookup on the hot path.
func (m *metrics) countPDU(side, dir int, id pdu.CommandID) {
	cs := m.pdus[side][dir]
	for i, c := range countedCommands {
		if c == id {
			cs[i].Inc()
			return
		}
	}
	cs[len(countedCommands)].Inc()
}
