package radius

import (
	"context"
	"crypto/hmac"
	"crypto/md5"
	"encoding/binary"
	"math/rand/v2"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/simguard/simguard"
	"layeh.com/radius"
)

// outcomes sums what handle can do with a packet: drop it, answer a
// duplicate, or answer it. Each packet does exactly one.
func outcomes(t testing.TB, reg *prometheus.Registry) float64 {
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var n float64
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			switch mf.GetName() {
			case "simguard_radius_dropped_total", "simguard_radius_duplicates_total":
				n += m.GetCounter().GetValue()
			case "simguard_radius_request_duration_seconds":
				n += float64(m.GetHistogram().GetSampleCount())
			}
		}
	}
	return n
}

// sign makes attrs a well-authenticated request of code: Accounting
// requests get their Request Authenticator, the others a random one and
// a Message-Authenticator.
func sign(code byte, id byte, attrs []byte, secret []byte, rnd *rand.Rand) []byte {
	b := []byte{code, id, 0, 0}
	var auth [16]byte
	if code != byte(radius.CodeAccountingRequest) {
		for i := range auth {
			auth[i] = byte(rnd.Uint32())
		}
	}
	b = append(b, auth[:]...)
	if code != byte(radius.CodeAccountingRequest) {
		b = append(b, attrMessageAuth, 18)
		b = append(b, make([]byte, 16)...)
	}
	b = append(b, attrs...)
	if len(b) > radius.MaxPacketLength {
		b = b[:radius.MaxPacketLength]
	}
	binary.BigEndian.PutUint16(b[2:], uint16(len(b)))
	if code == byte(radius.CodeAccountingRequest) {
		h := md5.New()
		h.Write(b)
		h.Write(secret)
		copy(b[4:20], h.Sum(nil))
	} else {
		h := hmac.New(md5.New, secret)
		h.Write(b)
		copy(b[22:38], h.Sum(nil))
	}
	return b
}

// fuzzServer is a server whose handle is called directly; its answers go
// to a socket of the test.
func fuzzServer(t testing.TB) (*Server, *listener, netip.AddrPort, *prometheus.Registry) {
	reg := prometheus.NewRegistry()
	s, err := New(Config{AuthAddrs: []string{"127.0.0.1:0"}, AcctAddrs: []string{"127.0.0.1:0"}, RecheckInterval: -1,
		DropEventsPerSecond: 1},
		Deps{Evaluator: newTestEvaluator(baseSIM(1, "001010000000001")), Feedback: &testFeedback{eval: newTestEvaluator()},
			Events: &testSink{}, Sessions: &testSessions{}, Registerer: reg,
			Clients: []simguard.NASClient{{TenantID: 1, Name: "pgw", Prefix: netip.MustParsePrefix("127.0.0.1/32"), Secret: testSecret}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Listen(); err != nil {
		t.Fatal(err)
	}
	sink, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sink.Close(); s.mu.Lock(); s.closeLocked(); s.mu.Unlock() })
	return s, s.conns[0], sink.LocalAddr().(*net.UDPAddr).AddrPort(), reg
}

// FuzzHandle feeds whole packets to the server, raw and re-signed with
// the right secret (so that the fuzzer reaches attribute decoding). It
// must never panic, and every packet must be answered or counted as a
// drop or duplicate.
func FuzzHandle(f *testing.F) {
	rnd := rand.New(rand.NewPCG(1, 2))
	f.Add(byte(1), accessRequest(f, testSecret, 1, "001010000000001", testAPN)[20:])
	f.Add(byte(4), []byte{40, 6, 0, 0, 0, 1, 44, 4, 's', '1', 1, 17, '0', '0', '1', '0', '1', '0', '0', '0', '0', '0', '0', '0', '0', '0', '1'})
	f.Add(byte(1), []byte{26, 21, 0, 0, 0x28, 0xaf, 22, 15, 0x82, 0, 0xf1, 0x10, 0, 1, 0, 0xf1, 0x10, 0, 0, 1, 1})
	f.Add(byte(12), []byte{})
	f.Add(byte(1), []byte{26, 3, 0})
	s, l, from, reg := fuzzServer(f)
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, code byte, data []byte) {
		for _, pkt := range [][]byte{data, sign(code, byte(rnd.Uint32()), data, []byte(testSecret), rnd)} {
			before := outcomes(t, reg)
			s.handle(ctx, l, pkt, from)
			if got := outcomes(t, reg) - before; got != 1 {
				t.Fatalf("packet %x: %v outcomes counted, want 1", pkt, got)
			}
		}
	})
}

// TestFloodOfMalformedPackets: while a flood of garbage, forged and
// truncated packets arrives from a known client, good requests are still
// answered.
func TestFloodOfMalformedPackets(t *testing.T) {
	h := startServer(t, newTestEvaluator(baseSIM(1, "001010000000001")))
	flood, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer flood.Close()
	good := accessRequest(t, testSecret, 1, "001010000000001", testAPN)
	var sent atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		rnd := rand.New(rand.NewPCG(3, 4))
		end := time.Now().Add(20 * time.Second)
		for i := 0; i < 500000 && time.Now().Before(end); i++ {
			if i >= 50000 {
				select {
				case <-stop:
					return
				default:
				}
			}
			var pkt []byte
			switch i % 4 {
			case 0: // garbage
				pkt = make([]byte, 1+rnd.IntN(200))
				for j := range pkt {
					pkt[j] = byte(rnd.Uint32())
				}
			case 1: // a good packet with a broken Message-Authenticator
				pkt = append([]byte(nil), good...)
				pkt[30] ^= 0xff
			case 2: // truncated
				pkt = good[:20+rnd.IntN(len(good)-20)]
			case 3: // signed, attributes garbage
				attrs := make([]byte, rnd.IntN(100))
				for j := range attrs {
					attrs[j] = byte(rnd.Uint32())
				}
				pkt = sign(1, byte(i), attrs, []byte(testSecret), rnd)
			}
			if _, err := flood.WriteToUDPAddrPort(pkt, h.auth); err == nil {
				sent.Add(1)
			}
		}
	})
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for sent.Load() < 10000 { // the good requests arrive into a running flood
		time.Sleep(time.Millisecond)
	}
	answered := 0
	for i := range 100 {
		req := accessRequest(t, testSecret, byte(i), "001010000000001", testAPN)
		for try := 0; try < 5; try++ {
			if resp := exchange(t, conn, h.auth, req, time.Second); resp != nil && radius.Code(resp[0]) == radius.CodeAccessAccept {
				answered++
				break
			}
		}
	}
	close(stop)
	wg.Wait()
	if answered != 100 {
		t.Errorf("%d of 100 good requests answered during the flood", answered)
	}
	drops := counterValue(t, h.reg, "simguard_radius_dropped_total", map[string]string{"cause": dropMalformed}) +
		counterValue(t, h.reg, "simguard_radius_dropped_total", map[string]string{"cause": dropBadAuth})
	if drops < 1000 {
		t.Errorf("only %v drops counted of %d flood packets", drops, sent.Load())
	}
	t.Logf("flood: %d packets sent, %v counted as dropped, 100/100 good answered", sent.Load(), drops)
	// Drop events are sampled: the event log sees a few per second.
	if n := len(h.sink.find(EventDropped, nil)); n > 200 {
		t.Errorf("%d drop events for the flood; sampling does not work", n)
	}
}
