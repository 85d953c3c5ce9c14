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

// PortState is what a probe learned about a port.
type PortState uint8

const (
	PortUnknown  PortState = iota // local resources failed us; the run is partial
	PortOpen                      // the handshake completed, or a UDP service answered
	PortClosed                    // refused (RST) or ICMP port unreachable
	PortFiltered                  // no answer within the timeout, after every retry
)

var portStateNames = [...]string{"unknown", "open", "closed", "filtered"}

func (s PortState) String() string { return portStateNames[s] }

// tcpStats counts a TCP sweep.
type tcpStats struct {
	probes, filtered, unknown atomic.Int64
}

// localBackoff bounds how often a connect that failed for a local reason
// (ephemeral ports or descriptors exhausted) is tried again: such a
// failure says nothing about the port, so it must not count as closed.
const localTries = 8

// sweepTCP connects to every port of every address and calls seen with
// each port's state and the index of its address. Jobs are taken port-major (all
// hosts on one port, then the next port) so no single device sees a burst.
// Workers claim jobs from a shared counter rather than a channel: most
// probes finish inside the connect call, and a hand-off per probe would
// cost more scheduling than the probe itself. It returns early only when
// ctx ends.
func (s *Scanner) sweepTCP(ctx context.Context, addrs []netip.Addr, ports PortList, st *tcpStats, seen func(host int, ap netip.AddrPort, state PortState)) error {
	total := int64(len(addrs)) * int64(len(ports))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(int64(s.cfg.Concurrency), total) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var spare socket
			defer spare.release()
			for {
				i := next.Add(1) - 1
				if i >= total || s.limit.Take(ctx) != nil {
					return
				}
				host := int(i % int64(len(addrs)))
				ap := netip.AddrPortFrom(addrs[host], ports[i/int64(len(addrs))])
				seen(host, ap, s.probeTCP(ctx, ap, st, &spare))
			}
		}()
	}
	wg.Wait()
	return ctx.Err()
}

// probeTCP learns the state of one port: a refusal is closed at once, a
// timeout is retried (cfg.Retries more connects, each paced by the
// bucket) before the port is called filtered.
func (s *Scanner) probeTCP(ctx context.Context, ap netip.AddrPort, st *tcpStats, spare *socket) PortState {
	state := PortUnknown
	for try := 0; try <= s.cfg.Retries; try++ {
		if try > 0 {
			if s.limit.Take(ctx) != nil {
				break
			}
		}
		state = s.connect(ctx, ap, st, spare)
		if state != PortFiltered {
			break
		}
	}
	switch state {
	case PortFiltered:
		st.filtered.Add(1)
	case PortUnknown:
		st.unknown.Add(1)
	}
	s.metrics.probe("tcp", state)
	return state
}

func (s *Scanner) connect(ctx context.Context, ap netip.AddrPort, st *tcpStats, spare *socket) PortState {
	backoff := 10 * time.Millisecond
	for range localTries {
		st.probes.Add(1)
		state, err := s.connectTCP(ctx, ap, s.cfg.ConnectTimeout, spare)
		if state != PortUnknown || ctx.Err() != nil {
			return state
		}
		s.log.Debug("scan: local connect failure, backing off", "target", ap, "err", err)
		t := time.NewTimer(backoff)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return PortUnknown
		}
		backoff = min(2*backoff, time.Second)
	}
	return PortUnknown
}

// classifyConnect maps a connect error to what it says about the port.
// Only an answer from the target (RST) proves "closed"; silence or an ICMP
// unreachable is "filtered"; a failure of our own host (no ephemeral port,
// no descriptor, no buffer) says nothing and comes back as unknown with
// the error, to be retried after a pause.
func classifyConnect(err error) (PortState, error) {
	var ne net.Error
	switch {
	case errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET):
		return PortClosed, nil
	case errors.Is(err, syscall.ETIMEDOUT), errors.Is(err, syscall.EHOSTUNREACH),
		errors.Is(err, syscall.ENETUNREACH), errors.Is(err, syscall.EHOSTDOWN):
		return PortFiltered, nil
	case errors.As(err, &ne) && ne.Timeout():
		return PortFiltered, nil
	}
	return PortUnknown, err
}
