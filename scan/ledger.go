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
	// filtered or unknown.
	unsure map[int]map[string]*portSet
}

// portSet is a set of ports: a list while small (2 bytes a port), a
// bitmap (8 KiB) once larger, so that a silent address swept over all
// 65,535 ports costs 8 KiB, not 128.
type portSet struct {
	list []uint16
	bits *[1024]uint64
}

const portSetListMax = 4096

func (s *portSet) add(p uint16) {
	if s.bits == nil && len(s.list) < portSetListMax {
		s.list = append(s.list, p)
		return
	}
	if s.bits == nil {
		s.bits = new([1024]uint64)
		for _, q := range s.list {
			s.bits[q/64] |= 1 << (q % 64)
		}
		s.list = nil
	}
	s.bits[p/64] |= 1 << (p % 64)
}

// ports lists the set's ports (unsorted when a list).
func (s *portSet) ports() []uint16 {
	if s.bits == nil {
		return s.list
	}
	var out []uint16
	for i := range 65536 {
		if s.bits[i/64]&(1<<(i%64)) != 0 {
			out = append(out, uint16(i))
		}
	}
	return out
}

func newLedger(addrs []netip.Addr) *ledger {
	l := &ledger{addrs: addrs, index: make(map[netip.Addr]int, len(addrs)), answered: make([]atomic.Bool, len(addrs)),
		unsure: map[int]map[string]*portSet{}}
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
		m = map[string]*portSet{}
		l.unsure[host] = m
	}
	if m[proto] == nil {
		m[proto] = &portSet{}
	}
	m[proto].add(port)
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
		for proto, set := range l.unsure[i] {
			run.Inconclusive = append(run.Inconclusive, simguard.HostPorts{Target: a, Proto: proto, Ports: portRanges(set.ports())})
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
