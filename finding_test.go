package simguard

import (
	"net/netip"
	"testing"
	"time"
)

func TestScanRunCovers(t *testing.T) {
	r := ScanRun{
		Targets:  []netip.Prefix{netip.MustParsePrefix("10.45.0.0/24"), netip.MustParsePrefix("2001:db8::7/128")},
		TCPPorts: []PortRange{{1, 1024}, {8883, 8883}},
		UDPPorts: []PortRange{{161, 161}},
	}
	tests := []struct {
		name   string
		target string
		proto  string
		port   uint16
		want   bool
	}{
		{"tcp in range", "10.45.0.7", "tcp", 23, true},
		{"tcp single", "10.45.0.7", "tcp", 8883, true},
		{"tcp outside ports", "10.45.0.7", "tcp", 1883, false},
		{"udp port", "10.45.0.7", "udp", 161, true},
		{"udp port only scanned as tcp", "10.45.0.7", "udp", 23, false},
		{"other host", "10.45.1.7", "tcp", 23, false},
		{"v6 host", "2001:db8::7", "tcp", 22, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := r.Covers(netip.MustParseAddr(tt.target), tt.proto, tt.port); got != tt.want {
				t.Fatalf("Covers = %v", got)
			}
		})
	}
}

func TestDiffScans(t *testing.T) {
	t0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	t1 := t0.Add(24 * time.Hour)
	dev := netip.MustParseAddr("10.45.0.7")
	f := func(port uint16, seen time.Time, creds ...Credential) Finding {
		return Finding{Target: dev, Proto: "tcp", Port: port, FirstSeen: seen, LastSeen: seen, Credentials: creds}
	}
	cred := Credential{Service: "telnet", Username: "root", ListEntry: "builtin:2"}
	prev := &ScanRun{ID: 4, Targets: []netip.Prefix{netip.MustParsePrefix("10.45.0.0/24")}, TCPPorts: []PortRange{{1, 1024}}}
	cur := &ScanRun{ID: 5, Targets: prev.Targets, TCPPorts: []PortRange{{1, 65535}}}
	prevF := []Finding{f(22, t0), f(23, t0), f(80, t0)}
	curF := []Finding{
		f(22, t1),       // stayed open
		f(23, t1, cred), // stayed open, credential now works
		f(443, t1),      // newly opened: the earlier run covered 443
		f(8080, t1),     // first seen, but the earlier run did not cover it
	}
	d := DiffScans(prev, prevF, cur, curF)
	if d.PrevScanID != 4 {
		t.Errorf("PrevScanID = %d", d.PrevScanID)
	}
	ports := func(fs []Finding) []uint16 {
		var out []uint16
		for _, x := range fs {
			out = append(out, x.Port)
		}
		return out
	}
	if got := ports(d.Opened); len(got) != 1 || got[0] != 443 {
		t.Errorf("Opened = %v, want [443]", got)
	}
	if got := ports(d.Closed); len(got) != 1 || got[0] != 80 {
		t.Errorf("Closed = %v, want [80]", got)
	}
	if got := ports(d.NewCredentials); len(got) != 1 || got[0] != 23 {
		t.Errorf("NewCredentials = %v, want [23]", got)
	}
	for _, x := range curF {
		want := t1
		if x.Port == 22 || x.Port == 23 {
			want = t0
		}
		if !x.FirstSeen.Equal(want) {
			t.Errorf("port %d FirstSeen = %s, want %s", x.Port, x.FirstSeen, want)
		}
	}
	// Without a baseline nothing opened or closed, but a working default
	// login is news.
	if d := DiffScans(nil, nil, cur, curF); d.PrevScanID != 0 || len(d.Opened)+len(d.Closed) != 0 || len(d.NewCredentials) != 1 || d.NewCredentials[0].Port != 23 {
		t.Errorf("diff without a baseline: %+v", d)
	}
}

func TestFindingIssues(t *testing.T) {
	var f Finding
	f.AddIssue(IssuePlaintextProtocol, SeverityMedium, "x")
	f.AddIssue(IssueInfoLeak, SeverityLow, "y")
	if f.Severity != SeverityMedium || !f.HasIssue(IssueInfoLeak) || f.HasIssue(IssueDefaultCredential) {
		t.Fatalf("%+v", f)
	}
	f.AddIssue(IssueDefaultCredential, SeverityCritical, "z")
	if f.Severity != SeverityCritical {
		t.Fatalf("severity %s", f.Severity)
	}
	order := []Severity{SeverityInfo, SeverityLow, SeverityMedium, SeverityHigh, SeverityCritical}
	for i := 1; i < len(order); i++ {
		if order[i].Rank() <= order[i-1].Rank() || !order[i].Valid() {
			t.Errorf("%s does not rank above %s", order[i], order[i-1])
		}
	}
	if Severity("bad").Valid() {
		t.Error("unknown severity is valid")
	}
}

// A run learns nothing about the ports of an address that answered no
// probe, nor about a port that gave no answer: it covers neither, so it
// closes no finding there, and the next run opens none.
func TestScanRunCoversOnlyAnswers(t *testing.T) {
	dev, other := netip.MustParseAddr("10.45.0.7"), netip.MustParseAddr("10.45.0.8")
	offline := &ScanRun{ID: 5, Targets: []netip.Prefix{netip.MustParsePrefix("10.45.0.0/24")}, TCPPorts: []PortRange{{1, 65535}},
		UDPPorts: []PortRange{{161, 161}}, Unreachable: []netip.Addr{dev}}
	filtered := &ScanRun{ID: 6, Targets: offline.Targets, TCPPorts: offline.TCPPorts, UDPPorts: offline.UDPPorts,
		Inconclusive: []HostPorts{{Target: dev, Proto: "tcp", Ports: []PortRange{{20, 23}}}, {Target: dev, Proto: "udp", Ports: []PortRange{{161, 161}}}}}
	filtered.SortUnanswered()
	for _, c := range []struct {
		run    *ScanRun
		target netip.Addr
		proto  string
		port   uint16
		want   bool
	}{
		{offline, dev, "tcp", 22, false},
		{offline, dev, "udp", 161, false},
		{offline, other, "tcp", 22, true},
		{filtered, dev, "tcp", 22, false},
		{filtered, dev, "TCP", 23, false},
		{filtered, dev, "tcp", 24, true},
		{filtered, dev, "udp", 161, false},
		{filtered, other, "tcp", 22, true},
	} {
		if got := c.run.Covers(c.target, c.proto, c.port); got != c.want {
			t.Errorf("run %d Covers(%s %s/%d) = %v, want %v", c.run.ID, c.target, c.proto, c.port, got, c.want)
		}
	}
	t0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	open := []Finding{{Target: dev, Proto: "tcp", Port: 22, FirstSeen: t0}, {Target: dev, Proto: "tcp", Port: 80, FirstSeen: t0}}
	prev := &ScanRun{ID: 4, Targets: offline.Targets, TCPPorts: offline.TCPPorts}
	d := DiffScans(prev, open, offline, nil)
	if len(d.Closed) != 0 || len(d.Unverified) != 2 {
		t.Errorf("diff to an offline run: %+v", d)
	}
	back := &ScanRun{ID: 7, Targets: offline.Targets, TCPPorts: offline.TCPPorts}
	if d := DiffScans(offline, nil, back, open); len(d.Opened) != 0 {
		t.Errorf("a device back online opened %+v", d.Opened)
	}
	d = DiffScans(prev, open, filtered, nil)
	if len(d.Closed) != 1 || d.Closed[0].Port != 80 || len(d.Unverified) != 1 || d.Unverified[0].Port != 22 {
		t.Errorf("diff to a run with port 22 filtered: %+v", d)
	}
}
