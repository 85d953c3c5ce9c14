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
func connectTCP(ctx context.Context, ap netip.AddrPort, timeout time.Duration, spare *socket) (PortState, error) {
	var sa unix.Sockaddr
	family := unix.AF_INET
	if ap.Addr().Is4() {
		sa = &unix.SockaddrInet4{Port: int(ap.Port()), Addr: ap.Addr().As4()}
	} else {
		family = unix.AF_INET6
		sa = &unix.SockaddrInet6{Port: int(ap.Port()), Addr: ap.Addr().As16()}
	}
	fd, err := spare.connect(family, sa)
	if fd < 0 {
		return PortUnknown, os.NewSyscallError("socket", err)
	}
	if err == unix.EINPROGRESS {
		// On a LAN or a veth the answer is often in before connect
		// returns. A second connect reports it — 0 when the handshake
		// is done, the error when refused, EALREADY while the SYN is
		// still out — and after a refusal it also resets the socket for
		// reuse, so a closed port costs two system calls in all.
		err = unix.Connect(fd, sa)
		if err == unix.EALREADY {
			err = unix.EINPROGRESS
		}
	}
	if err != unix.EINPROGRESS {
		switch err {
		case nil, unix.EISCONN:
			resetClose(fd)
			return PortOpen, nil
		case unix.ECONNREFUSED:
			spare.put(family, fd)
			return PortClosed, nil
		}
		unix.Close(fd)
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
			setLinger0(int(fd))
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

// setLinger0 makes close send RST: neither side keeps a TIME_WAIT for a
// port we only test, which is what keeps a 65,535-port sweep of a busy
// host from running out of ephemeral ports. Refused connects need nothing.
func setLinger0(fd int) {
	_ = unix.SetsockoptLinger(fd, unix.SOL_SOCKET, unix.SO_LINGER, &unix.Linger{Onoff: 1, Linger: 0})
}

func resetClose(fd int) {
	setLinger0(fd)
	unix.Close(fd)
}

// socket is a worker's spare socket: one whose connect was refused.
// Linux lets such a socket connect again (the refusal, once reported,
// leaves it unconnected with its ephemeral port released), which saves a
// socket and a close per closed port. Reuse must never change a verdict:
// a reused socket that answers anything unexpected is dropped and the
// probe starts over on a fresh one.
type socket struct {
	fd     int
	family int
}

// connect starts a non-blocking connect to sa, on the spare socket when
// there is one. It returns fd -1 when no socket could be made.
func (s *socket) connect(family int, sa unix.Sockaddr) (int, error) {
	if fd := s.fd; fd > 0 && s.family == family {
		s.fd = 0
		err := unix.Connect(fd, sa)
		if err == nil || err == unix.EINPROGRESS || err == unix.ECONNREFUSED {
			return fd, err
		}
		unix.Close(fd)
	}
	s.release()
	fd, err := unix.Socket(family, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, err
	}
	return fd, unix.Connect(fd, sa)
}

func (s *socket) put(family, fd int) {
	s.release()
	s.fd, s.family = fd, family
}

// release closes the spare socket, if any.
func (s *socket) release() {
	if s.fd > 0 {
		unix.Close(s.fd)
		s.fd = 0
	}
}
