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
	if d := DiffScans(nil, nil, cur, curF); d.PrevScanID != 0 || len(d.Opened)+len(d.Closed)+len(d.NewCredentials) != 0 {
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
