package scan

import (
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/simguard/simguard"
)

// ledger keeps what a run learned per address beyond its open ports:
// whether the address answered at all, and which of its ports gave no
// conclusive answer. Without it a run would "close" every finding of a
// device that was merely offline, and "open" them again when it is back.
type ledger struct {
	addrs    []netip.Addr
	index    map[netip.Addr]int
	answered []atomic.Bool

	mu sync.Mutex
	// unsure holds, per address index and protocol, the ports that were
	// filtered or unknown; 2 bytes a port keeps a silent /20 on the full
	// top-1000 list at a few MB.
	unsure map[int]map[string][]uint16
}

func newLedger(addrs []netip.Addr) *ledger {
	l := &ledger{addrs: addrs, index: make(map[netip.Addr]int, len(addrs)), answered: make([]atomic.Bool, len(addrs)),
		unsure: map[int]map[string][]uint16{}}
	for i, a := range addrs {
		l.index[a] = i
	}
	return l
}

// record notes what a probe of proto/port on the address at index host
// learned. Open and closed are answers from the device; filtered and
// unknown are not.
func (l *ledger) record(host int, proto string, port uint16, st PortState) {
	if st == PortOpen || st == PortClosed {
		l.answered[host].Store(true)
		return
	}
	l.mu.Lock()
	m := l.unsure[host]
	if m == nil {
		m = map[string][]uint16{}
		l.unsure[host] = m
	}
	m[proto] = append(m[proto], port)
	l.mu.Unlock()
}

// recordAddr is record by address.
func (l *ledger) recordAddr(a netip.Addr, proto string, port uint16, st PortState) {
	if i, ok := l.index[a]; ok {
		l.record(i, proto, port, st)
	}
}

// apply writes Unreachable, Inconclusive and Stats.Unreachable into run.
func (l *ledger) apply(run *simguard.ScanRun) {
	run.Unreachable, run.Inconclusive = nil, nil
	l.mu.Lock()
	defer l.mu.Unlock()
	for i, a := range l.addrs {
		if !l.answered[i].Load() {
			run.Unreachable = append(run.Unreachable, a)
			continue
		}
		for proto, ports := range l.unsure[i] {
			run.Inconclusive = append(run.Inconclusive, simguard.HostPorts{Target: a, Proto: proto, Ports: portRanges(ports)})
		}
	}
	run.Stats.Unreachable = len(run.Unreachable)
	run.SortUnanswered()
}

// portRanges sorts ports and joins neighbors into ranges.
func portRanges(ports []uint16) []simguard.PortRange {
	slices.Sort(ports)
	ports = slices.Compact(ports)
	var out []simguard.PortRange
	for _, p := range ports {
		if n := len(out); n > 0 && out[n-1].To+1 == p {
			out[n-1].To = p
			continue
		}
		out = append(out, simguard.PortRange{From: p, To: p})
	}
	return out
}
