//go:build !linux

package scan

import (
	"context"
	"net"
	"net/netip"
	"time"
)

// connectTCP is one TCP connect through the standard dialer.
func connectTCP(ctx context.Context, ap netip.AddrPort, timeout time.Duration) (PortState, error) {
	d := net.Dialer{Timeout: timeout}
	c, err := d.DialContext(ctx, "tcp", ap.String())
	if err == nil {
		c.Close()
		return PortOpen, nil
	}
	return classifyConnect(err)
}
