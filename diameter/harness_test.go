package diameter

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/simguard/simguard"
	"github.com/simguard/simguard/diameter/wire"
	"github.com/simguard/simguard/enforce"
	"github.com/simguard/simguard/policy"
)

// Test fleet: SIM i has IMSI 001010000000001+i. SIM 0 is locked to
// imeiBound; SIM 1 learns; SIM 2 is suspended. The group allows the home
// network 001-01 and 4G/NB-IoT/LTE-M only.
const (
	imeiBound = "35609204079300"
	imeiOther = "35209900176148"
	mmeHost   = "mme1.test.example"
	hssHost   = "hss.test.example"
)

func testIMSI(i int) string { return fmt.Sprintf("0010100000000%02d", i+1) }

func testPolicy(t testing.TB, n int) *enforce.Policy {
	t.Helper()
	g := simguard.Group{ID: 1, TenantID: 1, Name: "meters", Policy: simguard.Policy{
		Services: []simguard.Service{simguard.ServiceData},
		Location: simguard.LocationLock{PLMNs: []string{"001-01"}},
		RATs:     []simguard.RAT{simguard.RAT4G, simguard.RATNBIoT, simguard.RATLTEM},
	}}
	sims := make([]simguard.SIM, n)
	for i := range sims {
		sims[i] = simguard.SIM{ID: int64(i + 1), TenantID: 1, ICCID: iccid(i), IMSI: fmt.Sprintf("00101%010d", i+1),
			State: simguard.SIMActive, Group: "meters", IMEILock: simguard.IMEILock{Mode: simguard.IMEILockExplicit, IMEI: imeiBound}}
	}
	if n > 1 {
		sims[1].IMEILock = simguard.IMEILock{Mode: simguard.IMEILockLearn}
	}
	if n > 2 {
		sims[2].State = simguard.SIMSuspended
	}
	snap, err := policy.Compile([]simguard.Group{g}, sims)
	if err != nil {
		t.Fatal(err)
	}
	return enforce.NewPolicy(snap, nil)
}

func iccid(i int) string {
	body := fmt.Sprintf("898800100%09d", i+1)
	sum := 0
	for j := 0; j < len(body); j++ {
		d := int(body[len(body)-1-j] - '0')
		if j%2 == 0 {
			if d *= 2; d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return body + string(rune('0'+(10-sum%10)%10))
}

type recEvents struct {
	mu sync.Mutex
	ev []simguard.Event
}

func (r *recEvents) Emit(e simguard.Event) {
	r.mu.Lock()
	r.ev = append(r.ev, e)
	r.mu.Unlock()
}

func (r *recEvents) find(typ string, match func(simguard.Event) bool) (simguard.Event, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, e := range r.ev {
		if e.Type == typ && (match == nil || match(e)) {
			return e, true
		}
	}
	return simguard.Event{}, false
}

// waitEvent waits (generously: the machine is shared) for an event.
func (r *recEvents) wait(t *testing.T, typ string, match func(simguard.Event) bool) simguard.Event {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if e, ok := r.find(typ, match); ok {
			return e
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("no %s event", typ)
	return simguard.Event{}
}

type recFeedback struct {
	mu      sync.Mutex
	learned map[int64]string
	reports int
}

func (f *recFeedback) LearnIMEI(_ context.Context, simID int64, imei, _ string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.learned == nil {
		f.learned = map[int64]string{}
	}
	f.learned[simID] = imei
	return nil
}

func (f *recFeedback) ReportIMEIMismatch(context.Context, int64, string, string) error {
	f.mu.Lock()
	f.reports++
	f.mu.Unlock()
	return nil
}
func (f *recFeedback) AddUsage(context.Context, int64, int64, int64) error { return nil }

type harness struct {
	srv    *Server
	ev     *recEvents
	fb     *recFeedback
	pol    *enforce.Policy
	cancel context.CancelFunc
	done   chan struct{}
}

func startServer(t testing.TB, cfg Config, peers []simguard.DiameterPeer, pol *enforce.Policy) *harness {
	t.Helper()
	if cfg.Listen == "" {
		cfg.Listen = "127.0.0.1:0"
	}
	cfg.OriginHost, cfg.OriginRealm = "eir.test.example", "test.example"
	h := &harness{ev: &recEvents{}, fb: &recFeedback{}, pol: pol, done: make(chan struct{})}
	srv, err := New(cfg, Deps{Evaluator: pol, Feedback: h.fb, Events: h.ev})
	if err != nil {
		t.Fatal(err)
	}
	srv.SetPeers(peers)
	if err := srv.Listen(); err != nil {
		t.Fatal(err)
	}
	h.srv = srv
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	go func() {
		defer close(h.done)
		srv.Run(ctx)
	}()
	t.Cleanup(h.stop)
	return h
}

func (h *harness) stop() {
	h.cancel()
	select {
	case <-h.done:
	case <-time.After(15 * time.Second):
		panic("diameter server did not stop")
	}
}

func localPeer(host string, plmns ...string) simguard.DiameterPeer {
	return simguard.DiameterPeer{ID: 1, TenantID: 1, OriginHost: host, Prefix: netip.MustParsePrefix("127.0.0.0/8"), PLMNs: plmns}
}

// client is a minimal Diameter peer for tests (an MME or an HSS).
type client struct {
	t    testing.TB
	nc   net.Conn
	host string
	hbh  uint32
}

func dial(t testing.TB, addr net.Addr, host string) *client {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr.String(), 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	return &client{t: t, nc: nc, host: host, hbh: 100}
}

func (c *client) write(m *wire.Message) {
	c.t.Helper()
	c.nc.SetWriteDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.nc.Write(m.Append(nil)); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

func (c *client) read() (*wire.Message, error) {
	c.nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	hdr := make([]byte, wire.HeaderLen)
	if _, err := io.ReadFull(c.nc, hdr); err != nil {
		return nil, err
	}
	n, err := wire.PeekLength(hdr)
	if err != nil {
		return nil, err
	}
	b := make([]byte, n)
	copy(b, hdr)
	if _, err := io.ReadFull(c.nc, b[wire.HeaderLen:]); err != nil {
		return nil, err
	}
	return wire.Decode(b)
}

func (c *client) mustRead() *wire.Message {
	c.t.Helper()
	m, err := c.read()
	if err != nil {
		c.t.Fatalf("read: %v", err)
	}
	return m
}

func (c *client) request(code, app uint32, avps ...wire.AVP) *wire.Message {
	c.hbh++
	m := &wire.Message{Header: wire.Header{Version: 1, Flags: wire.FlagRequest | wire.FlagProxiable, Code: code, AppID: app, HopByHop: c.hbh, EndToEnd: c.hbh + 1000}}
	if code == wire.CmdCapabilitiesExchange || code == wire.CmdDeviceWatchdog || code == wire.CmdDisconnectPeer {
		m.Flags = wire.FlagRequest
	} else {
		m.Add(wire.NewString(wire.AVPSessionID, 0, wire.AVPMandatory, fmt.Sprintf("%s;%d", c.host, c.hbh)))
	}
	m.Add(wire.NewString(wire.AVPOriginHost, 0, wire.AVPMandatory, c.host),
		wire.NewString(wire.AVPOriginRealm, 0, wire.AVPMandatory, "test.example"))
	m.Add(avps...)
	return m
}

func vsai(app uint32) wire.AVP {
	return wire.NewGroup(wire.AVPVendorSpecificApplicationID, 0, wire.AVPMandatory,
		wire.NewUint32(wire.AVPVendorID, 0, wire.AVPMandatory, wire.Vendor3GPP),
		wire.NewUint32(wire.AVPAuthApplicationID, 0, wire.AVPMandatory, app))
}

// cer exchanges capabilities and returns the CEA's Result-Code.
func (c *client) cer(apps ...uint32) uint32 {
	c.t.Helper()
	var avps []wire.AVP
	avps = append(avps, wire.NewAddress(wire.AVPHostIPAddress, 0, wire.AVPMandatory, netip.MustParseAddr("127.0.0.1")),
		wire.NewUint32(wire.AVPVendorID, 0, wire.AVPMandatory, 0), wire.NewString(wire.AVPProductName, 0, 0, "test"))
	for _, a := range apps {
		avps = append(avps, vsai(a))
	}
	c.write(c.request(wire.CmdCapabilitiesExchange, wire.AppCommon, avps...))
	a := c.mustRead()
	if a.Code != wire.CmdCapabilitiesExchange || a.IsRequest() {
		c.t.Fatalf("want a CEA, got %s", wire.Format(a))
	}
	return resultOf(a)
}

func ecr(c *client, imsi, imei, sv string) *wire.Message {
	ti := []wire.AVP{wire.NewString(wire.AVPIMEI, wire.Vendor3GPP, wire.AVPMandatory, imei)}
	if sv != "" {
		ti = append(ti, wire.NewString(wire.AVPSoftwareVersion, wire.Vendor3GPP, wire.AVPMandatory, sv))
	}
	avps := []wire.AVP{
		wire.NewUint32(wire.AVPAuthSessionState, 0, wire.AVPMandatory, 1),
		wire.NewString(wire.AVPDestinationRealm, 0, wire.AVPMandatory, "test.example"),
		wire.NewGroup(wire.AVPTerminalInformation, wire.Vendor3GPP, wire.AVPMandatory, ti...),
	}
	if imsi != "" {
		avps = append(avps, wire.NewString(wire.AVPUserName, 0, wire.AVPMandatory, imsi))
	}
	return c.request(wire.CmdMEIdentityCheck, wire.AppS13, avps...)
}

func ulr(c *client, imsi, imei string, plmn simguard.PLMN, rat uint32) *wire.Message {
	return c.request(wire.CmdUpdateLocation, wire.AppS6a,
		vsai(wire.AppS6a),
		wire.NewUint32(wire.AVPAuthSessionState, 0, wire.AVPMandatory, 1),
		wire.NewString(wire.AVPDestinationRealm, 0, wire.AVPMandatory, "test.example"),
		wire.NewString(wire.AVPUserName, 0, wire.AVPMandatory, imsi),
		wire.NewGroup(wire.AVPTerminalInformation, wire.Vendor3GPP, wire.AVPMandatory,
			wire.NewString(wire.AVPIMEI, wire.Vendor3GPP, wire.AVPMandatory, imei)),
		wire.NewUint32(wire.AVPRATType, wire.Vendor3GPP, wire.AVPMandatory, rat),
		wire.NewUint32(wire.AVPULRFlags, wire.Vendor3GPP, wire.AVPMandatory, 0x22),
		wire.NewBytes(wire.AVPVisitedPLMNID, wire.Vendor3GPP, wire.AVPMandatory, encodePLMN(plmn)))
}

func equipment(t testing.TB, a *wire.Message) uint32 {
	t.Helper()
	es := a.Find(wire.AVPEquipmentStatus, wire.Vendor3GPP)
	if es == nil || resultOf(a) != wire.ResultSuccess {
		t.Fatalf("ECA without success and Equipment-Status:\n%s", wire.Format(a))
	}
	v, _ := es.Uint32()
	return v
}

// fakeHSS accepts one connection from simguard, answers its CER, answers
// ULR/AIR with DIAMETER_SUCCESS and records what it received.
type fakeHSS struct {
	ln   net.Listener
	mu   sync.Mutex
	got  []*wire.Message
	conn net.Conn
	wmu  sync.Mutex
	done chan struct{}
	// hold: requests other than CER/DWR are recorded but not answered.
	hold atomic.Bool
}

func startHSS(t *testing.T) *fakeHSS {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h := &fakeHSS{ln: ln, done: make(chan struct{})}
	go h.serve()
	t.Cleanup(func() {
		ln.Close()
		h.mu.Lock()
		if h.conn != nil {
			h.conn.Close()
		}
		h.mu.Unlock()
		<-h.done
	})
	return h
}

func (h *fakeHSS) serve() {
	defer close(h.done)
	nc, err := h.ln.Accept()
	if err != nil {
		return
	}
	h.mu.Lock()
	h.conn = nc
	h.mu.Unlock()
	c := &client{t: nopTB{}, nc: nc, host: hssHost}
	for {
		nc.SetReadDeadline(time.Time{})
		m, err := readNoDeadline(nc)
		if err != nil {
			return
		}
		if !m.IsRequest() {
			h.mu.Lock()
			h.got = append(h.got, m)
			h.mu.Unlock()
			continue
		}
		a := m.Answer()
		if sid := m.Find(wire.AVPSessionID, 0); sid != nil {
			a.Add(*sid)
		}
		a.Add(wire.NewUint32(wire.AVPResultCode, 0, wire.AVPMandatory, wire.ResultSuccess),
			wire.NewString(wire.AVPOriginHost, 0, wire.AVPMandatory, hssHost),
			wire.NewString(wire.AVPOriginRealm, 0, wire.AVPMandatory, "test.example"))
		switch m.Code {
		case wire.CmdCapabilitiesExchange:
			a.Add(vsai(wire.AppS6a))
		case wire.CmdUpdateLocation:
			a.Add(wire.NewUint32(wire.AVPULAFlags, wire.Vendor3GPP, wire.AVPMandatory, 1))
		}
		if m.Code != wire.CmdCapabilitiesExchange && m.Code != wire.CmdDeviceWatchdog {
			h.mu.Lock()
			h.got = append(h.got, m)
			h.mu.Unlock()
			if h.hold.Load() {
				continue
			}
		}
		h.wmu.Lock()
		c.nc.Write(a.Append(nil))
		h.wmu.Unlock()
	}
}

func (h *fakeHSS) send(m *wire.Message) {
	h.wmu.Lock()
	defer h.wmu.Unlock()
	h.mu.Lock()
	nc := h.conn
	h.mu.Unlock()
	nc.Write(m.Append(nil))
}

func (h *fakeHSS) received(code uint32, request bool) *wire.Message {
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		h.mu.Lock()
		for _, m := range h.got {
			if m.Code == code && m.IsRequest() == request {
				h.mu.Unlock()
				return m
			}
		}
		h.mu.Unlock()
		time.Sleep(10 * time.Millisecond)
	}
	return nil
}

func readNoDeadline(nc net.Conn) (*wire.Message, error) {
	hdr := make([]byte, wire.HeaderLen)
	if _, err := io.ReadFull(nc, hdr); err != nil {
		return nil, err
	}
	n, err := wire.PeekLength(hdr)
	if err != nil {
		return nil, err
	}
	b := make([]byte, n)
	copy(b, hdr)
	if _, err := io.ReadFull(nc, b[wire.HeaderLen:]); err != nil {
		return nil, err
	}
	return wire.Decode(b)
}

type nopTB struct{ testing.TB }

func (nopTB) Helper()               {}
func (nopTB) Fatalf(string, ...any) {}

// waitHSS waits until simguard's HSS connection is open.
func (h *harness) waitHSS(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for h.srv.hssConn() == nil {
		if time.Now().After(deadline) {
			t.Fatal("simguard did not connect to the HSS")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
