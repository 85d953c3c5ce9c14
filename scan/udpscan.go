package scan

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// udpResult is a UDP service that answered.
type udpResult struct {
	ap  netip.AddrPort
	svc service
}

// udpStats counts a UDP sweep.
type udpStats struct {
	sent, filtered, unknown atomic.Int64
}

// sweepUDP sends each probe to each address: a valid answer is an open
// port, an ICMP port unreachable a closed one, silence after the retries
// "open|filtered", which is not reported (no finding without evidence)
// and counted as filtered; a local failure is unknown. Every state goes
// to l when it is not nil.
func (s *Scanner) sweepUDP(ctx context.Context, addrs []netip.Addr, probes []udpProbe, st *udpStats, l *ledger) []udpResult {
	type job struct {
		a netip.Addr
		p udpProbe
	}
	jobs := make(chan job)
	var (
		mu  sync.Mutex
		out []udpResult
		wg  sync.WaitGroup
	)
	for range min(s.cfg.Concurrency, len(addrs)*len(probes)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				ap := netip.AddrPortFrom(j.a, j.p.port)
				svc, state := s.probeUDP(ctx, ap, j.p, &st.sent)
				s.metrics.probe("udp", state)
				switch state {
				case PortFiltered:
					st.filtered.Add(1)
				case PortUnknown:
					st.unknown.Add(1)
				}
				if l != nil {
					l.recordAddr(j.a, "udp", j.p.port, state)
				}
				if state == PortOpen {
					mu.Lock()
					out = append(out, udpResult{ap, svc})
					mu.Unlock()
				}
			}
		}()
	}
feed:
	for _, p := range probes {
		for _, a := range addrs {
			select {
			case jobs <- job{a, p}:
			case <-ctx.Done():
				break feed
			}
		}
	}
	close(jobs)
	wg.Wait()
	return out
}

func (s *Scanner) probeUDP(ctx context.Context, ap netip.AddrPort, p udpProbe, sent *atomic.Int64) (service, PortState) {
	c, err := s.dialer.DialContext(ctx, "udp", ap.String())
	if err != nil {
		return service{}, PortUnknown
	}
	defer c.Close()
	buf := make([]byte, 2048)
	for try := 0; try <= s.cfg.Retries; try++ {
		if s.limit.Take(ctx) != nil {
			return service{}, PortUnknown
		}
		id := uint16(0x5300 + try)
		sent.Add(1)
		if _, err := c.Write(p.request(id)); err != nil {
			return service{}, udpErrState(err)
		}
		deadline := time.Now().Add(s.cfg.UDPTimeout)
		for {
			c.SetReadDeadline(deadline)
			n, err := c.Read(buf)
			if err != nil {
				if st := udpErrState(err); st != PortFiltered {
					return service{}, st
				}
				break // silence: try again
			}
			// A stray datagram (an answer to our earlier try, or noise) is
			// not an answer to this one: keep reading until the deadline.
			if detail, ok := p.parse(buf[:n], id); ok || try > 0 && s.parsesAny(p, buf[:n], try) {
				svc := service{name: p.service, detail: detail}
				s.udpDetails(c, p, &svc, buf)
				return svc, PortOpen
			}
		}
	}
	return service{}, PortFiltered
}

// parsesAny accepts a late answer to an earlier try of the same probe.
func (s *Scanner) parsesAny(p udpProbe, b []byte, try int) bool {
	for t := range try {
		if _, ok := p.parse(b, uint16(0x5300+t)); ok {
			return true
		}
	}
	return false
}

// udpDetails fills in what the services say beyond "open": SNMP answered
// community "public", NTP may answer mode 6.
func (s *Scanner) udpDetails(c net.Conn, p udpProbe, svc *service, buf []byte) {
	switch p.service {
	case "snmp":
		svc.product, svc.auth = svc.detail, "community"
		svc.detail = "community public"
	case "dns":
		svc.auth = "none"
	case "ntp":
		const seq = 0x5347
		if _, err := c.Write(ntpReadVar(seq)); err != nil {
			return
		}
		c.SetReadDeadline(time.Now().Add(s.cfg.UDPTimeout))
		n, err := c.Read(buf)
		if err != nil {
			return
		}
		if v, ok := ParseNTPReadVar(buf[:n], seq); ok {
			svc.product = v
			svc.infoLeak = "answers NTP mode 6 (READVAR) queries: leaks its version and can amplify traffic"
		}
	}
}

func udpErrState(err error) PortState {
	var ne net.Error
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return PortClosed
	case errors.As(err, &ne) && ne.Timeout():
		return PortFiltered
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return PortFiltered
	}
	return PortUnknown
}
