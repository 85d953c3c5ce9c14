//go:build !linux

package scan

import (
	"context"
	"net"
	"net/netip"
	"time"
)

// connectTCP is one TCP connect through the standard dialer.
func connectTCP(ctx context.Context, ap netip.AddrPort, timeout time.Duration, _ *socket) (PortState, error) {
	d := net.Dialer{Timeout: timeout}
	c, err := d.DialContext(ctx, "tcp", ap.String())
	if err == nil {
		c.Close()
		return PortOpen, nil
	}
	return classifyConnect(err)
}

// socket would be a reusable socket; the standard dialer has none.
type socket struct{}

func (*socket) release() {}
