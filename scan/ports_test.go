package scan

import (
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/simguard/simguard"
)

func TestParsePorts(t *testing.T) {
	tests := []struct {
		name    string
		spec    string
		count   int
		has     []uint16
		hasNot  []uint16
		wantErr string
	}{
		{name: "default is top1000 and iot", spec: "", has: []uint16{80, 23, 1883, 8883, 502, 7547, 5683}},
		{name: "all", spec: "all", count: 65535, has: []uint16{1, 65535}},
		{name: "single", spec: "22", count: 1, has: []uint16{22}},
		{name: "range", spec: "8000-8010", count: 11, has: []uint16{8000, 8010}, hasNot: []uint16{7999, 8011}},
		{name: "mixed with duplicates and spaces", spec: "22, 22,20-23 ,top10", has: []uint16{20, 21, 22, 23, 80, 443}},
		{name: "top100", spec: "top100", count: 100},
		{name: "top alias", spec: "top", count: 1000},
		{name: "keywords are case-insensitive", spec: "ALL", count: 65535},
		{name: "zero", spec: "0", wantErr: `"0"`},
		{name: "too big", spec: "65536", wantErr: "65536"},
		{name: "reversed range", spec: "10-5", wantErr: "10-5"},
		{name: "empty item", spec: "22,,23", wantErr: "empty item"},
		{name: "top0", spec: "top0", wantErr: "topN"},
		{name: "top1001", spec: "top1001", wantErr: "topN"},
		{name: "word", spec: "ssh", wantErr: "ssh"},
		{name: "too long", spec: strings.Repeat("1,", 3000), wantErr: "4096"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, err := ParsePorts(tt.spec)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || simguard.ErrorCode(err) != simguard.EINVALID {
					t.Fatalf("err = %v, want EINVALID containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tt.count != 0 && len(l) != tt.count {
				t.Errorf("%d ports, want %d", len(l), tt.count)
			}
			if !slices.IsSorted(l) || len(slices.Compact(slices.Clone(l))) != len(l) {
				t.Error("list is not sorted and unique")
			}
			for _, p := range tt.has {
				if !l.Contains(p) {
					t.Errorf("missing %d", p)
				}
			}
			for _, p := range tt.hasNot {
				if l.Contains(p) {
					t.Errorf("has %d", p)
				}
			}
		})
	}
}

func TestPortListRanges(t *testing.T) {
	l := PortList{1, 2, 3, 5, 7, 8, 65535}
	got := l.Ranges()
	want := []simguard.PortRange{{From: 1, To: 3}, {From: 5, To: 5}, {From: 7, To: 8}, {From: 65535, To: 65535}}
	if !slices.Equal(got, want) {
		t.Fatalf("Ranges = %v, want %v", got, want)
	}
	all, _ := ParsePorts("all")
	if r := all.Ranges(); len(r) != 1 || r[0] != (simguard.PortRange{From: 1, To: 65535}) {
		t.Fatalf("all.Ranges = %v", r)
	}
}

// TestTopPortsMatchNmap holds the shipped list to nmap's own: with no
// target, nmap prints the ports of --top-ports N and sends nothing.
func TestTopPortsMatchNmap(t *testing.T) {
	if _, err := exec.LookPath("nmap"); err != nil {
		t.Skip("needs nmap")
	}
	for _, n := range []int{10, 100, 1000} {
		out, err := exec.Command("nmap", "-sT", "--top-ports", strconv.Itoa(n), "-n", "-Pn", "-oX", "-").CombinedOutput()
		if err != nil {
			t.Fatalf("nmap: %v: %s", err, out)
		}
		m := regexp.MustCompile(` services="([^"]+)"`).FindSubmatch(out)
		if m == nil {
			t.Fatalf("no services in nmap output: %s", out)
		}
		want, err := ParsePorts(string(m[1]))
		if err != nil {
			t.Fatal(err)
		}
		got := PortList(slices.Sorted(slices.Values(TopPorts(n))))
		if !slices.Equal(got, want) {
			t.Errorf("top %d differs from nmap's: only ours %v, only nmap's %v", n, diff(got, want), diff(want, got))
		}
	}
}

func diff(a, b PortList) []uint16 {
	var out []uint16
	for _, p := range a {
		if !b.Contains(p) {
			out = append(out, p)
		}
	}
	return out
}

func FuzzParsePorts(f *testing.F) {
	for _, s := range []string{"", "all", "22,80-90", "top50", "iot", "1-65535", "0-1", "5-", "-5", "top", "8000 - 8010"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		l, err := ParsePorts(spec)
		if err != nil {
			if simguard.ErrorCode(err) != simguard.EINVALID {
				t.Fatalf("error without EINVALID: %v", err)
			}
			return
		}
		if len(l) == 0 || !slices.IsSorted(l) || l[0] == 0 {
			t.Fatalf("bad list for %q: %d ports, first %v", spec, len(l), l[:min(1, len(l))])
		}
		n := 0
		for _, r := range l.Ranges() {
			n += int(r.To) - int(r.From) + 1
		}
		if n != len(l) {
			t.Fatalf("ranges cover %d ports, list has %d", n, len(l))
		}
	})
}
