package scan

import (
	"context"
	"net"
	"net/netip"
	"testing"
	"time"
)

// TestConnectTCPReuse interleaves closed and open ports on one worker's
// spare socket: a socket reused after a refusal must still find open
// ports open, and closed ones closed, in any order.
func TestConnectTCPReuse(t *testing.T) {
	_, open := listenTCP(t)
	var closed []uint16
	for range 20 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		closed = append(closed, uint16(ln.Addr().(*net.TCPAddr).Port))
		ln.Close()
	}
	lo := netip.MustParseAddr("127.0.0.1")
	var spare socket
	defer spare.release()
	for i, p := range closed {
		for _, tc := range []struct {
			port uint16
			want PortState
		}{{p, PortClosed}, {p, PortClosed}, {open, PortOpen}} {
			if i%3 == 2 && tc.want == PortOpen {
				continue // sometimes two closed ports in a row
			}
			got, err := connectTCP(context.Background(), netip.AddrPortFrom(lo, tc.port), time.Second, &spare)
			if got != tc.want {
				t.Fatalf("round %d: port %d is %s (%v), want %s", i, tc.port, got, err, tc.want)
			}
		}
	}
}

func TestConnectTCPIPv6(t *testing.T) {
	ln, err := net.Listen("tcp", "[::1]:0")
	if err != nil {
		t.Skipf("no IPv6 loopback: %v", err)
	}
	defer ln.Close()
	open := netip.MustParseAddrPort(ln.Addr().String())
	closedLn, err := net.Listen("tcp", "[::1]:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := netip.MustParseAddrPort(closedLn.Addr().String())
	closedLn.Close()
	var spare socket
	defer spare.release()
	// A spare IPv4 socket must not be reused for IPv6, nor the reverse.
	_, v4 := listenTCP(t)
	for _, tc := range []struct {
		ap   netip.AddrPort
		want PortState
	}{
		{closed, PortClosed}, {open, PortOpen}, {closed, PortClosed},
		{netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), v4), PortOpen}, {closed, PortClosed}, {open, PortOpen},
	} {
		if got, err := connectTCP(context.Background(), tc.ap, time.Second, &spare); got != tc.want {
			t.Fatalf("%s is %s (%v), want %s", tc.ap, got, err, tc.want)
		}
	}
}
