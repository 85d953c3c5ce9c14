package simguard

// ScanDiff is what changed between two runs of the same scope.
type ScanDiff struct {
	// PrevScanID is 0 when there was no earlier run to compare with.
	PrevScanID int64 `json:"prev_scan_id,omitempty"`
	// Opened: open now; the earlier run looked at the port and found it
	// closed. Each is a "scan.port_opened" event.
	Opened []Finding `json:"opened,omitempty"`
	// Closed: open before; this run looked and found it closed.
	Closed []Finding `json:"closed,omitempty"`
	// NewCredentials: a default credential works now that did not before.
	NewCredentials []Finding `json:"new_credentials,omitempty"`
	// Unverified: open before, not found now, but this run could not
	// learn the port's state (its address answered nothing, or the port
	// gave no answer): neither closed nor open, the finding stays open.
	Unverified []Finding `json:"unverified,omitempty"`
}

// DiffScans compares the findings of cur with those of prev (prev may be
// nil: no baseline) and carries FirstSeen over from prev for services that
// stayed open. Ports that prev did not cover are neither opened nor closed.
// Without a baseline nothing is opened or closed, but every default
// credential that works is new: a working vendor login is news on the
// first scan of a scope too, and detection must hear of it.
func DiffScans(prev *ScanRun, prevFindings []Finding, cur *ScanRun, curFindings []Finding) ScanDiff {
	var d ScanDiff
	if prev == nil {
		for i := range curFindings {
			if len(curFindings[i].Credentials) > 0 {
				d.NewCredentials = append(d.NewCredentials, curFindings[i])
			}
		}
		return d
	}
	d.PrevScanID = prev.ID
	before := make(map[FindingKey]*Finding, len(prevFindings))
	for i := range prevFindings {
		before[prevFindings[i].Key()] = &prevFindings[i]
	}
	now := make(map[FindingKey]bool, len(curFindings))
	for i := range curFindings {
		f := &curFindings[i]
		k := f.Key()
		now[k] = true
		p, ok := before[k]
		switch {
		case ok:
			if !p.FirstSeen.IsZero() && p.FirstSeen.Before(f.FirstSeen) {
				f.FirstSeen = p.FirstSeen
			}
			if len(f.Credentials) > 0 && len(p.Credentials) == 0 {
				d.NewCredentials = append(d.NewCredentials, *f)
			}
		case prev.Covers(k.Target, k.Proto, k.Port):
			d.Opened = append(d.Opened, *f)
			if len(f.Credentials) > 0 {
				d.NewCredentials = append(d.NewCredentials, *f)
			}
		}
	}
	for i := range prevFindings {
		p := &prevFindings[i]
		if now[p.Key()] {
			continue
		}
		switch {
		case cur.Covers(p.Target, p.Proto, p.Port):
			d.Closed = append(d.Closed, *p)
		case coversPort(cur, p):
			d.Unverified = append(d.Unverified, *p)
		}
	}
	return d
}

// coversPort reports whether the run's targets and port lists include
// the finding's port, answered or not.
func coversPort(r *ScanRun, f *Finding) bool {
	bare := *r
	bare.Unreachable, bare.Inconclusive = nil, nil
	return bare.Covers(f.Target, f.Proto, f.Port)
}
