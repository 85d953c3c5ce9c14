package policy

// serviceOn reports whether the service bit svc is on at t under the
// group's windows, and until when. A service no window applies to is on
// without end. When several windows cover t, the latest end wins: the
// service stays on at least that long.
func (g *compiledGroup) serviceOn(svc uint8, t int64) (on bool, end int64) {
	applies := false
	end = noStart
	for i := range g.windows {
		w := &g.windows[i]
		if w.services&svc == 0 {
			continue
		}
		applies = true
		if e, in := w.covers(t); in && e > end {
			end = e
		}
	}
	if !applies {
		return true, noEnd
	}
	return end != noStart, end
}

// servicesOn is serviceOn for a set of service bits: on when any is on,
// until the latest end among those that are.
func (g *compiledGroup) servicesOn(svcs uint8, t int64) (on bool, end int64) {
	end = noStart
	for b := uint8(1); b <= svcs && b != 0; b <<= 1 {
		if svcs&b == 0 {
			continue
		}
		if ok, e := g.serviceOn(b, t); ok {
			on = true
			end = max(end, e)
		}
	}
	return on, end
}

// covers reports whether t is inside w and when that stretch of w ends:
// at Until, or at the end of today's daily slot if that comes first.
func (w *window) covers(t int64) (end int64, in bool) {
	if t < w.from || t >= w.until {
		return 0, false
	}
	end = w.until
	if !w.daily {
		return end, true
	}
	base := dayOf(t) * dayNS
	tod := t - base
	var slotEnd int64
	switch {
	case w.start < w.end:
		if tod < w.start || tod >= w.end {
			return 0, false
		}
		slotEnd = addSat(base, w.end)
	case tod >= w.start: // wraps: the slot ends tomorrow
		slotEnd = addSat(base, dayNS+w.end)
	case tod < w.end: // wraps: the slot began yesterday
		slotEnd = addSat(base, w.end)
	default:
		return 0, false
	}
	return min(end, slotEnd), true
}

// quotaPeriod reports whether the SIM's usage counts for the period
// containing t (day or month, per the group), and when that period ends.
func (g *compiledGroup) quotaPeriod(r *simRec, t int64) (current bool, end int64) {
	day := dayOf(t)
	if g.quotaDay {
		return int64(r.usageDay) == day, addSat(day*dayNS, dayNS)
	}
	if r.usageMonthEnd == noDay || day < int64(r.usageDay) || day >= int64(r.usageMonthEnd) {
		return false, 0
	}
	return true, int64(r.usageMonthEnd) * dayNS
}

// quotaExhausted reports whether the data (or SMS) quota is used up at t.
func (g *compiledGroup) quotaExhausted(r *simRec, sms bool, t int64) (exhausted bool, used, limit, end int64) {
	used, limit = r.dataUsed, g.dataLimit
	if sms {
		used, limit = r.smsUsed, g.smsLimit
	}
	if limit <= 0 || used < limit {
		return false, used, limit, 0
	}
	cur, end := g.quotaPeriod(r, t)
	return cur, used, limit, end
}
