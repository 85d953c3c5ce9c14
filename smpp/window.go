package smpp

import "time"

// The window of a link: how many relayed requests may be outstanding on
// it (link.window, link.used). See the link's fields.

// acquire takes a window slot, waiting up to wait for one (after
// flushing f: what the caller queued must not wait with it).
func (l *link) acquire(wait time.Duration, f *flushSet) error {
	if l.window == 0 {
		l.used.Add(1)
		return nil
	}
	if l.used.Add(1) <= l.window {
		return nil
	}
	l.used.Add(-1)
	if wait <= 0 {
		return errWindowFull
	}
	if f != nil {
		f.flush()
	}
	l.waiting.Add(1)
	defer l.waiting.Add(-1)
	t := time.NewTimer(wait)
	defer t.Stop()
	for {
		if l.used.Add(1) <= l.window {
			// Several slots may have freed up behind one signal: pass
			// it on to the next waiter.
			if l.waiting.Load() > 1 && !l.full() {
				l.signal()
			}
			return nil
		}
		l.used.Add(-1)
		select {
		case <-l.freed:
		case <-t.C:
			return errWindowFull
		case <-l.done:
			return errClosed
		}
	}
}

// full reports whether the window has no free slot.
func (l *link) full() bool { return l.window > 0 && l.used.Load() >= l.window }

// occupancy is the number of relayed requests outstanding.
func (l *link) occupancy() int { return int(l.used.Load()) }

func (l *link) release(n int) {
	l.used.Add(-int32(n))
	if l.waiting.Load() > 0 {
		l.signal()
	}
}

func (l *link) signal() {
	select {
	case l.freed <- struct{}{}:
	default:
	}
}
