//go:build linux

package scan

import (
	"context"
	"errors"
	"net/netip"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// connectTCP is one TCP connect on a raw non-blocking socket. It is the
// scan's hot path, so it skips what net.Dial adds for a connection that
// will carry data: no address resolution, no net.Conn, and a refusal that
// the kernel reports at once (a local or LAN peer) costs two system calls.
// Waiting, when needed, goes through the runtime's poller via os.File, so
// thousands of pending connects cost goroutines, not threads.
func connectTCP(ctx context.Context, ap netip.AddrPort, timeout time.Duration) (PortState, error) {
	var sa unix.Sockaddr
	family := unix.AF_INET
	if ap.Addr().Is4() {
		sa = &unix.SockaddrInet4{Port: int(ap.Port()), Addr: ap.Addr().As4()}
	} else {
		family = unix.AF_INET6
		sa = &unix.SockaddrInet6{Port: int(ap.Port()), Addr: ap.Addr().As16()}
	}
	fd, err := unix.Socket(family, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return PortUnknown, os.NewSyscallError("socket", err)
	}
	// Close with RST: neither side keeps a TIME_WAIT for a port we only
	// test, which is what keeps a 65,535-port sweep from running out of
	// ephemeral ports.
	_ = unix.SetsockoptLinger(fd, unix.SOL_SOCKET, unix.SO_LINGER, &unix.Linger{Onoff: 1, Linger: 0})
	err = unix.Connect(fd, sa)
	if err != unix.EINPROGRESS {
		unix.Close(fd)
		if err == nil {
			return PortOpen, nil
		}
		return classifyConnect(os.NewSyscallError("connect", err))
	}
	f := os.NewFile(uintptr(fd), "scan")
	defer f.Close()
	if err := f.SetWriteDeadline(time.Now().Add(timeout)); err != nil {
		return PortUnknown, err
	}
	stop := context.AfterFunc(ctx, func() { f.SetWriteDeadline(time.Unix(1, 0)) })
	defer stop()
	rc, err := f.SyscallConn()
	if err != nil {
		return PortUnknown, err
	}
	var soErr error
	connected := false
	werr := rc.Write(func(fd uintptr) bool {
		v, err := unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_ERROR)
		switch {
		case err != nil:
			soErr = err
			return true
		case v != 0:
			soErr = unix.Errno(v)
			return true
		}
		// SO_ERROR 0 is both "connected" and "not yet": the peer name
		// tells them apart.
		if _, err := unix.Getpeername(int(fd)); err == nil {
			connected = true
			return true
		}
		return false
	})
	switch {
	case connected:
		return PortOpen, nil
	case soErr != nil:
		return classifyConnect(os.NewSyscallError("connect", soErr))
	case ctx.Err() != nil:
		return PortUnknown, ctx.Err()
	case errors.Is(werr, os.ErrDeadlineExceeded):
		return PortFiltered, nil
	}
	return PortUnknown, werr
}
