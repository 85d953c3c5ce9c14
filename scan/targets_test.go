package scan

import (
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/simguard/simguard"
)

func TestParseTargets(t *testing.T) {
	pool := []netip.Prefix{netip.MustParsePrefix("10.45.0.0/16"), netip.MustParsePrefix("2001:db8:45::/48")}
	tests := []struct {
		name    string
		ranges  []netip.Prefix
		specs   []string
		want    []string
		wantErr string
	}{
		{name: "address and cidr inside", ranges: pool, specs: []string{"10.45.0.7", " 10.45.1.0/24", "2001:db8:45::9"},
			want: []string{"10.45.0.7/32", "10.45.1.0/24", "2001:db8:45::9/128"}},
		{name: "cidr is masked", ranges: pool, specs: []string{"10.45.1.9/24"}, want: []string{"10.45.1.0/24"}},
		{name: "v4-mapped address", ranges: pool, specs: []string{"::ffff:10.45.0.7"}, want: []string{"10.45.0.7/32"}},
		{name: "whole pool", ranges: pool, specs: []string{"10.45.0.0/16"}, want: []string{"10.45.0.0/16"}},
		{name: "no audit ranges refuses everything", ranges: nil, specs: []string{"10.45.0.7"}, wantErr: "set scan.audit_ranges"},
		{name: "outside", ranges: pool, specs: []string{"10.46.0.7"}, wantErr: "targets[0]: 10.46.0.7/32 is outside the audit ranges"},
		{name: "second outside", ranges: pool, specs: []string{"10.45.0.7", "192.0.2.1"}, wantErr: "targets[1]"},
		{name: "wider than the range", ranges: pool, specs: []string{"10.44.0.0/15"}, wantErr: "outside"},
		{name: "v6 outside", ranges: pool, specs: []string{"2001:db8:46::1"}, wantErr: "outside"},
		{name: "v4 all zero prefix", ranges: pool, specs: []string{"0.0.0.0/0"}, wantErr: "outside"},
		{name: "garbage", ranges: pool, specs: []string{"fleet"}, wantErr: `"fleet" is not an IP address or CIDR`},
		{name: "bad cidr", ranges: pool, specs: []string{"10.45.0.0/33"}, wantErr: "not a CIDR"},
		{name: "unspecified", ranges: pool, specs: []string{"0.0.0.0"}, wantErr: "cannot be a device address"},
		{name: "zone", ranges: pool, specs: []string{"fe80::1%eth0"}, wantErr: "not an IP address"},
		{name: "none", ranges: pool, specs: nil, wantErr: "at least one"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseTargets(tt.specs, tt.ranges)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || simguard.ErrorCode(err) != simguard.EINVALID {
					t.Fatalf("err = %v, want EINVALID containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var s []string
			for _, p := range got {
				s = append(s, p.String())
			}
			if !slices.Equal(s, tt.want) {
				t.Fatalf("got %v, want %v", s, tt.want)
			}
		})
	}
}

func TestExpandTargets(t *testing.T) {
	p := func(s ...string) []netip.Prefix {
		var out []netip.Prefix
		for _, x := range s {
			out = append(out, netip.MustParsePrefix(x))
		}
		return out
	}
	tests := []struct {
		name    string
		in      []netip.Prefix
		limit   int
		want    []string
		wantErr bool
	}{
		{"host", p("10.0.0.7/32"), 10, []string{"10.0.0.7"}, false},
		{"/30 skips network and broadcast", p("10.0.0.4/30"), 10, []string{"10.0.0.5", "10.0.0.6"}, false},
		{"/31 keeps both", p("10.0.0.4/31"), 10, []string{"10.0.0.4", "10.0.0.5"}, false},
		{"duplicates once", p("10.0.0.5/32", "10.0.0.4/30"), 10, []string{"10.0.0.5", "10.0.0.6"}, false},
		{"v6 /126 keeps all", p("2001:db8::/126"), 10, []string{"2001:db8::", "2001:db8::1", "2001:db8::2", "2001:db8::3"}, false},
		{"last address of the space", p("255.255.255.254/31"), 10, []string{"255.255.255.254", "255.255.255.255"}, false},
		{"over the limit", p("10.0.0.0/24"), 100, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ExpandTargets(tt.in, tt.limit)
			if tt.wantErr {
				if err == nil || !strings.Contains(err.Error(), "max_hosts") {
					t.Fatalf("err = %v, want a max_hosts error", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var s []string
			for _, a := range got {
				s = append(s, a.String())
			}
			if !slices.Equal(s, tt.want) {
				t.Fatalf("got %v, want %v", s, tt.want)
			}
		})
	}
}

func FuzzParseTargets(f *testing.F) {
	for _, s := range []string{"10.45.0.7", "10.45.0.0/16", "10.0.0.0/8", "::1", "2001:db8:45::/64", "a/b", "10.45.0.7/", "/24"} {
		f.Add(s)
	}
	ranges := []netip.Prefix{netip.MustParsePrefix("10.45.0.0/16"), netip.MustParsePrefix("2001:db8:45::/48")}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseTargets([]string{s}, ranges)
		if err != nil {
			if simguard.ErrorCode(err) != simguard.EINVALID {
				t.Fatalf("error without EINVALID: %v", err)
			}
			return
		}
		// Whatever parses must lie wholly inside a range: the refusal is
		// the safety promise.
		for _, p := range got {
			first, last := p.Addr(), lastAddr(p)
			if !slices.ContainsFunc(ranges, func(r netip.Prefix) bool { return r.Contains(first) && r.Contains(last) }) {
				t.Fatalf("%q accepted as %s, outside %v", s, p, ranges)
			}
		}
	})
}
