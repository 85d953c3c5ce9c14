package console

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/simguard/simguard"
)

func TestDiffHunks(t *testing.T) {
	lines := func(s string) []diffLine { return diffLines(strings.ReplaceAll(s, "|", "\n")) }
	show := func(ls []diffLine) string {
		var b []string
		for _, l := range ls {
			b = append(b, l.Kind+":"+strings.TrimSpace(l.Text))
		}
		return strings.Join(b, " ")
	}
	tests := []struct {
		name, diff string
		context    int
		want       string
	}{
		{"no change", " a| b| c", 1, ""},
		{"change in the middle", " a| b| c|-d|+e| f| g| h", 1, "gap:… same:c del:-d add:+e same:f gap:…"},
		{"change at the start", "-a| b| c| d", 2, "del:-a same:b same:c gap:…"},
		{"change at the end", " a| b| c|+d", 1, "gap:… same:c add:+d"},
		{"two changes, one hunk", " a|-b| c|+d| e", 1, "same:a del:-b same:c add:+d same:e"},
		{"two hunks", "-a| b| c| d| e|+f", 1, "del:-a same:b gap:… same:e add:+f"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := show(diffHunks(lines(tt.diff), tt.context)); got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestFormatRule(t *testing.T) {
	cidr := netip.MustParsePrefix("192.0.2.0/28")
	tests := []struct {
		name string
		rule simguard.FlowRule
		want string
	}{
		{"ports", simguard.FlowRule{CIDR: cidr, Proto: "tcp", Ports: []simguard.PortRange{{From: 22, To: 22}, {From: 8000, To: 8100}}}, "from 192.0.2.0/28 tcp 22, 8000-8100"},
		{"every port", simguard.FlowRule{CIDR: cidr, Proto: "udp"}, "from 192.0.2.0/28 udp every port"},
		{"any protocol", simguard.FlowRule{CIDR: cidr}, "from 192.0.2.0/28 any every port"},
		{"icmp", simguard.FlowRule{CIDR: cidr, Proto: "icmp"}, "from 192.0.2.0/28 icmp"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := formatRule(tt.rule); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
	if plural(1, "host", "hosts") != "1 host" || plural(0, "host", "hosts") != "0 hosts" {
		t.Error("plural")
	}
}
