package gateway

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"time"

	"github.com/google/nftables"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// ErrDrift says that the kernel's table is not what the agent installed:
// it is missing (nft flush ruleset, a reboot of the netns, another tool)
// or someone changed it. The agent answers with a whole install.
var ErrDrift = errors.New("the kernel's table differs from what simguard installed")

func drift(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrDrift, fmt.Sprintf(format, args...))
}

// Verify reads the table back from the kernel and compares it with rs:
// the table, every chain with its number of rules, every set, and the
// elements of every set by content. It returns nil when they match, an
// error wrapping ErrDrift naming the first difference, or another error
// when netlink itself fails.
//
// deep false skips the elements of the verdict maps (sim4_out, sim4_in,
// sim6_out, sim6_in). They are by far the largest sets, and the kernel
// dumps a hash set in chunks that each walk it from the start, so
// reading 100,000 elements costs over a second of CPU; and they fail
// closed: a flushed map sends devices to sim_unknown / inbound_denied.
// The blocked sets, which fail open when flushed, are always read.
func (n *Netlink) Verify(rs *Ruleset, deep bool) error {
	opts := []nftables.ConnOption{nftables.AsLasting(), nftables.WithSockOptions(bigBuffers)}
	if n.netns != 0 {
		opts = append(opts, nftables.WithNetNSFd(n.netns))
	}
	c, err := nftables.New(opts...)
	if err != nil {
		return flushErr("open netlink", err)
	}
	defer c.CloseLasting()
	t := n.table(rs)
	tables, err := c.ListTablesOfFamily(nftables.TableFamilyINet)
	if err != nil {
		return flushErr("list tables", err)
	}
	if !slices.ContainsFunc(tables, func(x *nftables.Table) bool { return x.Name == t.Name }) {
		return drift("table inet %s is missing", t.Name)
	}
	chains, err := c.ListChainsOfTableFamily(nftables.TableFamilyINet)
	if err != nil {
		return flushErr("list chains", err)
	}
	have := map[string]bool{}
	for _, ch := range chains {
		if ch.Table != nil && ch.Table.Name == t.Name {
			have[ch.Name] = true
		}
	}
	want := rs.chains()
	if len(have) != len(want) {
		return drift("%d chains, want %d", len(have), len(want))
	}
	for _, cd := range want {
		if !have[cd.name] {
			return drift("chain %s is missing", cd.name)
		}
		rules, err := c.GetRules(t, &nftables.Chain{Name: cd.name, Table: t})
		if err != nil {
			return flushErr("list rules of "+cd.name, err)
		}
		if len(rules) != len(cd.rules) {
			return drift("chain %s has %d rules, want %d", cd.name, len(rules), len(cd.rules))
		}
	}
	sets, err := c.GetSets(t)
	if err != nil {
		return flushErr("list sets", err)
	}
	defs := rs.sets()
	if len(sets) != len(defs) {
		return drift("%d sets, want %d", len(sets), len(defs))
	}
	al := rs.addrLists()
	for _, d := range defs {
		if !slices.ContainsFunc(sets, func(s *nftables.Set) bool { return s.Name == d.name }) {
			return drift("set %s is missing", d.name)
		}
		if d.kind == setVmap && !deep {
			continue
		}
		got, err := c.GetSetElements(newSet(t, d))
		if err != nil {
			return flushErr("list elements of "+d.name, err)
		}
		exp, err := rs.elements(d, al)
		if err != nil {
			return err
		}
		if err := sameElements(d, got, exp); err != nil {
			return err
		}
	}
	return nil
}

// sameElements compares a set's elements as the kernel lists them with
// the ones rs encodes.
func sameElements(d setDef, got, want []nftables.SetElement) error {
	// Keys are raw bytes joined by a separator no field holds at that
	// position (lengths are fixed per set); fmt would cost a second at
	// 100,000 elements.
	key := func(e nftables.SetElement) string {
		k := string(e.Key) + "\x00" + string(e.KeyEnd)
		if e.IntervalEnd {
			k += "\x00end"
		}
		if e.VerdictData != nil {
			k += "\x00" + strconv.Itoa(int(e.VerdictData.Kind)) + "\x00" + e.VerdictData.Chain
		} else if d.kind == setVmap {
			// The kernel lists a verdict as nested attributes in Val.
			code, chain := parseVerdict(e.Val)
			k += "\x00" + strconv.Itoa(int(code)) + "\x00" + chain
		}
		return k
	}
	if d.kind == setAddrs {
		// Unblocked addresses linger with a 1 ms timeout until the set's
		// garbage collector frees them: they block nothing.
		got = slices.DeleteFunc(slices.Clone(got), func(e nftables.SetElement) bool { return e.Timeout < time.Hour })
		for i := range got {
			got[i] = nftables.SetElement{Key: got[i].Key}
		}
		w := make([]nftables.SetElement, len(want))
		for i := range want {
			w[i] = nftables.SetElement{Key: want[i].Key}
		}
		want = w
	}
	count := map[string]int{}
	for _, e := range want {
		count[key(e)]++
	}
	for _, e := range got {
		k := key(e)
		if count[k] == 0 {
			return drift("set %s holds %s, which simguard did not put there", d.name, describeElem(e))
		}
		count[k]--
	}
	for _, e := range want {
		if count[key(e)] > 0 {
			return drift("set %s lacks %s", d.name, describeElem(e))
		}
	}
	return nil
}

// parseVerdict reads NFTA_VERDICT_CODE and NFTA_VERDICT_CHAIN.
func parseVerdict(b []byte) (int32, string) {
	ad, err := netlink.NewAttributeDecoder(b)
	if err != nil {
		return 0, ""
	}
	ad.ByteOrder = binary.BigEndian
	var code int32
	var chain string
	for ad.Next() {
		switch ad.Type() {
		case unix.NFTA_VERDICT_CODE:
			code = int32(ad.Uint32())
		case unix.NFTA_VERDICT_CHAIN:
			chain = ad.String()
		}
	}
	return code, chain
}

func describeElem(e nftables.SetElement) string {
	if a, ok := netip.AddrFromSlice(e.Key); ok {
		return a.String()
	}
	return fmt.Sprintf("%x", e.Key)
}
