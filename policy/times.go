package policy

import (
	"math"
	"time"
)

// Times are int64 Unix nanoseconds inside the snapshot so that Evaluate
// compares integers. noStart and noEnd stand for open ends; request times
// are clamped strictly between them so that "t < noEnd" always holds.
const (
	noStart = math.MinInt64
	noEnd   = math.MaxInt64
	dayNS   = int64(24 * time.Hour)
	minNS   = int64(time.Minute)
	// noDay marks a usage period start that is not a period start at all.
	noDay = math.MinInt32
)

// Unix seconds outside this range do not fit in int64 nanoseconds.
const (
	minUnixSec = math.MinInt64/int64(time.Second) + 1
	maxUnixSec = math.MaxInt64/int64(time.Second) - 1
)

// nsOf converts t to Unix nanoseconds, clamped to (noStart, noEnd).
func nsOf(t time.Time) int64 {
	sec := t.Unix()
	switch {
	case sec < minUnixSec:
		return noStart + 1
	case sec > maxUnixSec:
		return noEnd - 1
	}
	return t.UnixNano()
}

// timeOf converts ns back to a UTC time; noEnd and noStart become zero.
func timeOf(ns int64) time.Time {
	if ns == noEnd || ns == noStart {
		return time.Time{}
	}
	return time.Unix(0, ns).UTC()
}

// dayOf is the number of the UTC day containing ns (floor division).
func dayOf(ns int64) int64 {
	d := ns / dayNS
	if ns%dayNS < 0 {
		d--
	}
	return d
}

// addSat adds without overflowing past the open end.
func addSat(a, b int64) int64 {
	if b > 0 && a > noEnd-b {
		return noEnd - 1
	}
	return a + b
}

// periodDays returns the day numbers a usage period start counts for:
// day is its day if it is a UTC midnight, monthEnd the first day of the
// next month if it is also the first of a month; noDay otherwise.
func periodDays(start time.Time) (day, monthEnd int32) {
	if start.IsZero() {
		return noDay, noDay
	}
	ns := nsOf(start)
	d := dayOf(ns)
	if ns != d*dayNS || d <= noDay || d > math.MaxInt32 {
		return noDay, noDay
	}
	u := start.UTC()
	if u.Day() != 1 {
		return int32(d), noDay
	}
	next := time.Date(u.Year(), u.Month()+1, 1, 0, 0, 0, 0, time.UTC)
	nd := dayOf(nsOf(next))
	if nd > math.MaxInt32 {
		return int32(d), noDay
	}
	return int32(d), int32(nd)
}
