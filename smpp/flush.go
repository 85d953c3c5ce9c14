package smpp

import (
	"bufio"
	"encoding/binary"
	"syscall"
	"time"

	"github.com/simguard/simguard/smpp/pdu"
)

// Writing without a goroutine hop. A reader (of an ESME or an upstream
// link) queues what its input makes it send — answers, relayed messages,
// relayed responses — on the links concerned, and flushes them when its
// input drains: one write per link per batch of input, made in the
// reader's own goroutine when the socket takes it at once (it nearly
// always does), so that no writer goroutine has to be woken per batch.
// What the socket does not take, and everything written by other
// goroutines (keepalives, shutdown, answers to a link that died), goes
// through the link's writer goroutine, which may block (up to the write
// deadline) without holding up any reader.

// flushSet is the links a reader has queued on since it last flushed.
// Only its reader uses it.
type flushSet struct{ links []*link }

func (f *flushSet) add(l *link) {
	for _, x := range f.links {
		if x == l {
			return
		}
	}
	f.links = append(f.links, l)
}

// flush writes what the reader queued.
func (f *flushSet) flush() {
	for i, l := range f.links {
		l.flush()
		f.links[i] = nil
	}
	f.links = f.links[:0]
}

// frameBuffered reports whether a whole frame is already buffered in r,
// so that reading it will not block.
func frameBuffered(r *bufio.Reader) bool {
	n := r.Buffered()
	if n < pdu.HeaderLen {
		return false
	}
	b, err := r.Peek(4)
	return err == nil && n >= int(binary.BigEndian.Uint32(b))
}

// flush writes what is queued on l in the caller's goroutine if no write
// is in progress and the socket takes it all without blocking; otherwise
// the writer goroutine finishes.
func (l *link) flush() {
	if l.rc == nil {
		l.kick()
		return
	}
	if !l.io.TryLock() {
		return // the holder looks at the queue again once done (below)
	}
	if l.off < len(l.out) {
		l.io.Unlock()
		l.kick() // a partial write is pending: the writer goroutine finishes it
		return
	}
	l.wmu.Lock()
	l.out, l.wbuf, l.off = l.wbuf, l.out[:0], 0
	l.wmu.Unlock()
	if len(l.out) > 0 {
		l.off = l.tryWrite(l.out)
	}
	partial := l.off < len(l.out)
	l.io.Unlock()
	if partial || l.queued() {
		l.kick()
	}
}

func (l *link) queued() bool {
	l.wmu.Lock()
	defer l.wmu.Unlock()
	return len(l.wbuf) > 0
}

// tryWrite writes as much of b as the socket takes without blocking and
// returns how much that was. Errors are left to the writer goroutine's
// blocking write, which sees them again and closes the link.
func (l *link) tryWrite(b []byte) int {
	n := 0
	_ = l.rc.Write(func(fd uintptr) bool {
		for n < len(b) {
			m, err := syscall.Write(int(fd), b[n:])
			if m > 0 {
				n += m
			}
			if err != nil || m <= 0 {
				break
			}
		}
		return true // never wait for the socket here
	})
	return n
}

// writeLoop writes what flush could not and what other goroutines queue,
// until the link closes; then it writes the rest (a final unbind_resp,
// say) and closes the connection. The write deadline is moved only when
// less than half of it is left, since every move resets a runtime timer.
func (l *link) writeLoop() {
	var deadline time.Time
	for {
		var stop bool
		select {
		case <-l.wake:
		case <-l.done:
			stop = true
		}
		for {
			l.io.Lock()
			err := l.drain(&deadline)
			l.io.Unlock()
			if err != nil {
				l.close(err)
				stop = true
				break
			}
			// A flush that found io taken while we wrote left its frames
			// to us: look again now that io is free.
			if !l.queued() {
				break
			}
		}
		if stop {
			l.nc.Close()
			return
		}
	}
}

// drain writes the pending part of out, then what is queued, until the
// queue is empty. The caller holds io.
func (l *link) drain(deadline *time.Time) error {
	for {
		if l.off >= len(l.out) {
			l.wmu.Lock()
			l.out, l.wbuf, l.off = l.wbuf, l.out[:0], 0
			l.wmu.Unlock()
			if len(l.out) == 0 {
				return nil
			}
		}
		if now := time.Now(); deadline.Sub(now) < l.wait/2 {
			*deadline = now.Add(l.wait)
			l.nc.SetWriteDeadline(*deadline)
		}
		n, err := l.nc.Write(l.out[l.off:])
		l.off += n
		if err != nil {
			return err
		}
	}
}
