package radius

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/md5"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/simguard/simguard"
	"layeh.com/radius"
	"layeh.com/radius/rfc2865"
)

// accessRequest encodes an Access-Request for imsi with a
// Message-Authenticator computed here, independently of the server code.
func accessRequest(t testing.TB, secret string, id byte, imsi, apn string) []byte {
	t.Helper()
	p := radius.New(radius.CodeAccessRequest, []byte(secret))
	p.Identifier = id
	p.Add(attrMessageAuth, make([]byte, 16))
	_ = rfc2865.UserName_SetString(p, imsi)
	_ = rfc2865.CalledStationID_SetString(p, apn)
	vsa, _ := radius.NewVendorSpecific(vendor3GPP, append([]byte{vsaIMSI, byte(2 + len(imsi))}, imsi...))
	p.Add(attrVendorSpecific, vsa)
	b, err := p.Encode()
	if err != nil {
		t.Fatal(err)
	}
	h := hmac.New(md5.New, []byte(secret))
	h.Write(b)
	copy(b[22:38], h.Sum(nil))
	return b
}

// exchange sends b from conn and waits for one answer.
func exchange(t testing.TB, conn *net.UDPConn, to netip.AddrPort, b []byte, wait time.Duration) []byte {
	t.Helper()
	if _, err := conn.WriteToUDPAddrPort(b, to); err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(wait))
	buf := make([]byte, 4096)
	n, _, err := conn.ReadFromUDPAddrPort(buf)
	if err != nil {
		return nil
	}
	return append([]byte(nil), buf[:n]...)
}

// TestDuplicateAnsweredFromCache: a retransmission (same source, ID and
// authenticator) gets the very same answer without a second decision; a
// new request with the same ID but another authenticator is decided anew.
func TestDuplicateAnsweredFromCache(t *testing.T) {
	eval := newTestEvaluator(baseSIM(1, "001010000000001"))
	h := startServer(t, eval)
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	req := accessRequest(t, testSecret, 7, "001010000000001", testAPN)
	first := exchange(t, conn, h.auth, req, 2*time.Second)
	if first == nil || radius.Code(first[0]) != radius.CodeAccessAccept || !radius.IsAuthenticResponse(first, req, []byte(testSecret)) {
		t.Fatalf("first answer %x", first)
	}
	// The SIM is suspended in between: a re-decision would reject.
	eval.change("001010000000001", func(s *testSIM) { s.State = simguard.SIMSuspended })
	again := exchange(t, conn, h.auth, req, 2*time.Second)
	if !bytes.Equal(first, again) {
		t.Fatalf("retransmission answered differently:\n%x\n%x", first, again)
	}
	if n := len(h.sink.find(EventAccess, nil)); n != 1 {
		t.Errorf("%d decisions, want 1", n)
	}
	if n := counterValue(t, h.reg, "simguard_radius_duplicates_total", map[string]string{"state": "answered"}); n != 1 {
		t.Errorf("duplicates answered = %v", n)
	}
	fresh := exchange(t, conn, h.auth, accessRequest(t, testSecret, 7, "001010000000001", testAPN), 2*time.Second)
	if fresh == nil || radius.Code(fresh[0]) != radius.CodeAccessReject {
		t.Errorf("a new request with the same ID was not decided anew: %x", fresh)
	}
}

// slowSessions delays SaveSession so that the NAS retransmits meanwhile.
type slowSessions struct {
	*testSessions
	delay time.Duration
}

func (s slowSessions) SaveSession(ctx context.Context, r *simguard.RADIUSSession) error {
	time.Sleep(s.delay)
	return s.testSessions.SaveSession(ctx, r)
}

// TestDuplicateInFlightWithRadclient: radclient retransmits an
// Accounting-Request the server is still recording; the retransmission is
// not recorded a second time, and radclient gets its answer.
func TestDuplicateInFlightWithRadclient(t *testing.T) {
	needRadclient(t)
	store := &testSessions{}
	h := startServer(t, newTestEvaluator(baseSIM(1, "001010000000001")), func(c *Config, d *Deps) {
		d.Sessions = slowSessions{store, 1500 * time.Millisecond}
	})
	h.sessions = store
	// radclient: wait 1s, then retransmit the same packet (-r 2).
	c := []string{"-x", "-r", "2", "-t", "1", h.acct.String(), "acct", testSecret}
	res := runRadclient(t, c, acctAttrs("Start", "slow-1", "001010000000001"))
	if res.code != 0 {
		t.Fatalf("no answer:\n%s", res.out)
	}
	if n := counterValue(t, h.reg, "simguard_radius_duplicates_total", map[string]string{"state": "in_flight"}); n < 1 {
		t.Errorf("no in-flight duplicate counted:\n%s", res.out)
	}
	if n := len(store.all()); n != 1 || store.saveCount() != 1 {
		t.Errorf("%d sessions, %d saves; want 1, 1", n, store.saveCount())
	}
}

// TestConcurrentRequests: many clients at once over both address families
// all get answers (run with -race).
func TestConcurrentRequests(t *testing.T) {
	var sims []testSIM
	for i := range 20 {
		sims = append(sims, baseSIM(int64(i+1), "0010100000001"+string(rune('0'+i/10))+string(rune('0'+i%10))))
	}
	h := startServer(t, newTestEvaluator(sims...))
	var wg sync.WaitGroup
	for i, to := range []netip.AddrPort{h.auth, h.auth6, h.auth, h.auth6} {
		wg.Go(func() {
			conn, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(to.Addr(), 0)))
			if err != nil {
				t.Error(err)
				return
			}
			defer conn.Close()
			for j := range 50 {
				s := sims[(i*50+j)%len(sims)]
				req := accessRequest(t, testSecret, byte(j), s.IMSI, testAPN)
				var resp []byte
				for try := 0; try < 3 && resp == nil; try++ {
					resp = exchange(t, conn, to, req, time.Second)
				}
				if resp == nil || radius.Code(resp[0]) != radius.CodeAccessAccept {
					t.Errorf("client %d request %d: answer %x", i, j, resp)
					return
				}
			}
		})
	}
	wg.Wait()
}
