package radius

import (
	"fmt"
	"net/netip"
	"sort"

	"github.com/simguard/simguard"
)

// nasClient is a validated NASClient with its secret as bytes.
type nasClient struct {
	simguard.NASClient
	secret []byte
}

// clientTable finds the NAS client of a source address: exact host
// addresses by map, prefixes by longest match. It is immutable once built
// and swapped whole.
type clientTable struct {
	hosts    map[netip.Addr]*nasClient
	prefixes []*nasClient // longest prefix first
	byName   map[string]*nasClient
}

func newClientTable(list []simguard.NASClient) (*clientTable, error) {
	t := &clientTable{hosts: map[netip.Addr]*nasClient{}, byName: map[string]*nasClient{}}
	seen := map[netip.Prefix]string{}
	for i := range list {
		c := list[i]
		if err := c.Validate(); err != nil {
			return nil, fmt.Errorf("nas client %d (%s): %w", i, c.Name, err)
		}
		if other, ok := seen[c.Prefix]; ok {
			return nil, fmt.Errorf("nas client %s: prefix %s is already %s's", c.Name, c.Prefix, other)
		}
		if _, ok := t.byName[c.Name]; ok {
			return nil, fmt.Errorf("nas client %s: name is used twice", c.Name)
		}
		seen[c.Prefix] = c.Name
		nc := &nasClient{NASClient: c, secret: []byte(c.Secret)}
		t.byName[c.Name] = nc
		if c.Prefix.IsSingleIP() {
			t.hosts[c.Prefix.Addr()] = nc
		} else {
			t.prefixes = append(t.prefixes, nc)
		}
	}
	sort.SliceStable(t.prefixes, func(i, j int) bool { return t.prefixes[i].Prefix.Bits() > t.prefixes[j].Prefix.Bits() })
	return t, nil
}

// lookup returns the client for a source address (IPv4-mapped IPv6
// addresses from dual-stack sockets match IPv4 prefixes), or nil.
func (t *clientTable) lookup(a netip.Addr) *nasClient {
	a = a.Unmap()
	if c, ok := t.hosts[a]; ok {
		return c
	}
	for _, c := range t.prefixes {
		if c.Prefix.Contains(a) {
			return c
		}
	}
	return nil
}
