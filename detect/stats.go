package detect

// RuleStats is what a rule did since the detector started.
type RuleStats struct {
	Rule        string
	Keys        int    // keys with state now
	Fires       uint64 // firings
	Errors      uint64 // condition or value evaluation errors
	LastError   error
	DroppedKeys uint64 // new keys not tracked because the key space was full
}

// Stats reports per-rule counters, in rule order.
func (d *Detector) Stats() []RuleStats {
	out := make([]RuleStats, len(d.rules))
	for i, s := range d.rules {
		out[i] = RuleStats{Rule: s.rule.Name, Keys: s.keys, Fires: s.fires, Errors: s.errors,
			LastError: s.lastErr, DroppedKeys: s.dropped}
	}
	return out
}

// Keys is the number of keys holding state, over all rules.
func (d *Detector) Keys() int {
	n := 0
	for _, s := range d.rules {
		n += s.keys
	}
	return n
}

// records is the number of keys over all key spaces.
func (d *Detector) records() int {
	n := 0
	for _, sp := range d.spaces {
		n += sp.size()
	}
	return n
}

// Events is the number of events processed.
func (d *Detector) Events() uint64 { return d.events }
