package scan

import (
	_ "embed"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/simguard/simguard"
)

//go:embed topports.txt
var topPortsText string

// TopPorts returns the n most frequently open TCP ports, most frequent
// first (n is clamped to 1..1000).
func TopPorts(n int) []uint16 {
	n = max(1, min(n, 1000))
	out := make([]uint16, 0, n)
	for _, line := range strings.Split(topPortsText, "\n") {
		if strings.HasPrefix(line, "#") {
			continue
		}
		for _, f := range strings.Fields(line) {
			p, err := strconv.ParseUint(f, 10, 16)
			if err != nil {
				// The file is embedded and checked by a test; a bad entry is a build bug.
				panic(fmt.Sprintf("scan: topports.txt: bad port %q", f))
			}
			out = append(out, uint16(p))
			if len(out) == n {
				return out
			}
		}
	}
	return out
}

// IoTPorts are TCP ports of IoT and industrial services that the top-1000
// list misses or that matter more on a cellular fleet than in general.
var IoTPorts = []uint16{
	23, 2323, // telnet, and the alternate port Mirai also tried
	80, 443, 8080, 8443, 8081, 8000, 8888,
	1883, 8883, // MQTT, MQTT over TLS
	502,       // Modbus/TCP
	554, 8554, // RTSP
	7547, 5555, // TR-069 CWMP, its common alternate
	5683, 5684, // CoAP over TCP/TLS (RFC 8323)
	20000, 2404, 44818, 47808, 102, // DNP3, IEC 104, EtherNet/IP, BACnet, S7
	22, 2222, 21, 161, 4840, 9000, 37777, 34567,
}

// PortList is a sorted set of ports without duplicates.
type PortList []uint16

// ParsePorts reads a port specification: a comma-separated list of
// ports ("22"), ranges ("8000-8100") and keywords: "all" (1-65535),
// "top" or "top1000", "topN" (the N most frequent, N ≤ 1000) and "iot".
// An empty spec means "top1000,iot".
func ParsePorts(spec string) (PortList, error) {
	spec = strings.TrimSpace(spec)
	if spec == "" {
		spec = "top1000,iot"
	}
	if len(spec) > 4096 {
		return nil, simguard.FieldError("ports", "specification longer than 4096 characters")
	}
	var set [65536 / 64]uint64
	for _, item := range strings.Split(spec, ",") {
		item = strings.ToLower(strings.TrimSpace(item))
		if err := addPortItem(&set, item); err != nil {
			return nil, err
		}
	}
	var out PortList
	for p := 1; p < 65536; p++ {
		if set[p/64]&(1<<(p%64)) != 0 {
			out = append(out, uint16(p))
		}
	}
	return out, nil
}

func addPortItem(set *[65536 / 64]uint64, item string) error {
	add := func(p uint16) { set[p/64] |= 1 << (p % 64) }
	switch {
	case item == "":
		return simguard.FieldError("ports", "empty item in the list (two commas in a row?)")
	case item == "all":
		for p := 1; p < 65536; p++ {
			add(uint16(p))
		}
	case item == "iot":
		for _, p := range IoTPorts {
			add(p)
		}
	case item == "top":
		for _, p := range TopPorts(1000) {
			add(p)
		}
	case strings.HasPrefix(item, "top"):
		n, err := strconv.Atoi(item[3:])
		if err != nil || n < 1 || n > 1000 {
			return simguard.FieldError("ports", "%q: want topN with N from 1 to 1000", clip(item))
		}
		for _, p := range TopPorts(n) {
			add(p)
		}
	default:
		var r simguard.PortRange
		if err := r.UnmarshalText([]byte(item)); err != nil {
			return simguard.FieldError("ports", "%q: want a port 1-65535, a range like 8000-8100, or all, top1000, topN, iot", clip(item))
		}
		for p := int(r.From); p <= int(r.To); p++ {
			add(uint16(p))
		}
	}
	return nil
}

// Ranges compresses the list into ranges, for ScanRun coverage.
func (l PortList) Ranges() []simguard.PortRange {
	var out []simguard.PortRange
	for _, p := range l {
		if n := len(out); n > 0 && out[n-1].To+1 == p && out[n-1].To != 65535 {
			out[n-1].To = p
			continue
		}
		out = append(out, simguard.PortRange{From: p, To: p})
	}
	return out
}

// Contains reports whether p is in the list.
func (l PortList) Contains(p uint16) bool {
	_, ok := slices.BinarySearch(l, p)
	return ok
}

// clip shortens user input quoted in error messages.
func clip(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}
