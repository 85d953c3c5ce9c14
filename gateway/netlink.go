package gateway

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"slices"
	"syscall"
	"time"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// ErrPermission is returned when the kernel refuses to change nftables:
// the agent lacks CAP_NET_ADMIN.
var ErrPermission = errors.New("nftables refused the change: simguard gateway needs CAP_NET_ADMIN (run it as root or grant the capability: setcap cap_net_admin+ep simguard, or AmbientCapabilities=CAP_NET_ADMIN in systemd)")

// Netlink programs rulesets into the kernel. Every call is one netlink
// batch, so the kernel applies it whole or not at all.
type Netlink struct {
	netns int // 0: the caller's network namespace
	// maxElems bounds the elements of one message: the element list is
	// one netlink attribute, whose length field has 16 bits (a vmap
	// element takes about 60 bytes). Many messages go in one batch.
	maxElems int
}

// NewNetlink programs the network namespace the file descriptor netns
// refers to, or the caller's when netns is 0.
func NewNetlink(netns int) *Netlink { return &Netlink{netns: netns, maxElems: 512} }

func (n *Netlink) conn() (*nftables.Conn, error) {
	opts := []nftables.ConnOption{nftables.WithSockOptions(bigBuffers)}
	if n.netns != 0 {
		opts = append(opts, nftables.WithNetNSFd(n.netns))
	}
	return nftables.New(opts...)
}

// bigBuffers lets a whole-table batch of 100,000 elements go out in one
// write, as nft does (it sizes SO_SNDBUFFORCE to the batch); the forced
// option needs CAP_NET_ADMIN, which the agent has anyway.
func bigBuffers(c *netlink.Conn) error {
	raw, err := c.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	err = raw.Control(func(fd uintptr) {
		if e := unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_SNDBUFFORCE, 64<<20); e != nil {
			serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_SNDBUF, 64<<20)
		}
		_ = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, 16<<20)
	})
	if err != nil {
		return err
	}
	return serr
}

func flushErr(what string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, os.ErrPermission) || errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.EACCES) {
		return ErrPermission
	}
	return fmt.Errorf("%s: %w", what, err)
}

func (n *Netlink) table(rs *Ruleset) *nftables.Table {
	return &nftables.Table{Name: rs.Config.Table, Family: nftables.TableFamilyINet}
}

// Install replaces the table whole in one batch: it is created if
// missing, deleted, and built again, so packets meet either the old
// ruleset or the new one, never a mix and never none.
func (n *Netlink) Install(rs *Ruleset) error {
	c, err := n.conn()
	if err != nil {
		return flushErr("open netlink", err)
	}
	t := n.table(rs)
	c.AddTable(t)
	c.DelTable(t)
	c.AddTable(t)
	for _, name := range rs.counterNames() {
		c.AddObj(&nftables.CounterObj{Table: t, Name: name})
	}
	// Chains before sets: verdict map elements name them.
	accept := nftables.ChainPolicyAccept
	for _, cd := range rs.chains() {
		ch := &nftables.Chain{Name: cd.name, Table: t}
		switch cd.hook {
		case "forward":
			ch.Type, ch.Hooknum, ch.Priority, ch.Policy = nftables.ChainTypeFilter, nftables.ChainHookForward, nftables.ChainPriorityFilter, &accept
		case "input":
			ch.Type, ch.Hooknum, ch.Priority, ch.Policy = nftables.ChainTypeFilter, nftables.ChainHookInput, nftables.ChainPriorityFilter, &accept
		case "postrouting":
			ch.Type, ch.Hooknum, ch.Priority, ch.Policy = nftables.ChainTypeNAT, nftables.ChainHookPostrouting, nftables.ChainPriorityNATSource, &accept
		}
		c.AddChain(ch)
	}
	sets := map[string]*nftables.Set{}
	al := rs.addrLists()
	for _, d := range rs.sets() {
		s := newSet(t, d)
		if err := c.AddSet(s, nil); err != nil {
			return fmt.Errorf("set %s: %w", d.name, err)
		}
		sets[d.name] = s
		els, err := rs.elements(d, al)
		if err != nil {
			return err
		}
		if err := n.addElements(c, s, els); err != nil {
			return err
		}
	}
	for _, cd := range rs.chains() {
		ch := &nftables.Chain{Name: cd.name, Table: t}
		for _, r := range cd.rules {
			es, err := r.exprs(sets)
			if err != nil {
				return fmt.Errorf("chain %s: %w", cd.name, err)
			}
			c.AddRule(&nftables.Rule{Table: t, Chain: ch, Exprs: es})
		}
	}
	return flushErr("install table", c.Flush())
}

func (n *Netlink) addElements(c *nftables.Conn, s *nftables.Set, els []nftables.SetElement) error {
	for len(els) > 0 {
		k := min(len(els), n.maxElems)
		if s.Interval && !s.Concatenation {
			// An rbtree interval is two elements (start, end) that must
			// travel together.
			k -= k % 2
			if k == 0 {
				k = min(2, len(els))
			}
		}
		if err := c.SetAddElements(s, els[:k]); err != nil {
			return fmt.Errorf("set %s: %w", s.Name, err)
		}
		els = els[k:]
	}
	return nil
}

// Remove deletes the table (on exit when told to; the default leaves
// the last rules in place, failing closed).
func (n *Netlink) Remove(table string) error {
	c, err := n.conn()
	if err != nil {
		return flushErr("open netlink", err)
	}
	t := &nftables.Table{Name: table, Family: nftables.TableFamilyINet}
	c.AddTable(t) // so that deleting a missing table is not an error
	c.DelTable(t)
	return flushErr("remove table", c.Flush())
}

// Apply changes set elements only, in one batch: the table's structure
// is the one the delta was computed against.
func (n *Netlink) Apply(rs *Ruleset, d Delta) error {
	if d.Empty() {
		return nil
	}
	c, err := n.conn()
	if err != nil {
		return flushErr("open netlink", err)
	}
	t := n.table(rs)
	defs := map[string]setDef{}
	for _, sd := range rs.sets() {
		if sd.kind == setAddrs || sd.kind == setVmap {
			defs[sd.name] = sd
		}
	}
	for _, op := range [2]struct {
		add bool
		es  []elemChange
	}{{false, d.Del}, {true, d.Add}} {
		for _, e := range op.es {
			sd, ok := defs[e.Set]
			if !ok {
				return fmt.Errorf("delta names set %s, which is not in the table", e.Set)
			}
			s := newSet(t, sd)
			el := nftables.SetElement{Key: addrKey(e.Addr)}
			switch {
			case sd.kind == setVmap && op.add:
				el.VerdictData = &expr.Verdict{Kind: expr.VerdictGoto, Chain: e.Chain}
				err = c.SetAddElements(s, []nftables.SetElement{el})
			case sd.kind == setVmap:
				err = c.SetDeleteElements(s, []nftables.SetElement{el})
			case op.add:
				el.Timeout = blockTimeout
				err = c.SetAddElements(s, []nftables.SetElement{el})
			default:
				// Unblocking lets the element expire now instead of
				// deleting it: the kernel answers a timeout update in
				// well under a millisecond, a delete only after an RCU
				// grace period (10-25 ms measured on a loaded machine).
				// Lookups skip expired elements; the set's GC frees it.
				el.Timeout = time.Millisecond
				err = c.SetAddElements(s, []nftables.SetElement{el})
			}
			if err != nil {
				return err
			}
		}
	}
	return flushErr("update elements", c.Flush())
}

// Counters reads the table's named counters.
func (n *Netlink) Counters(table string) (map[string]Counter, error) {
	c, err := n.conn()
	if err != nil {
		return nil, flushErr("open netlink", err)
	}
	objs, err := c.GetObjects(&nftables.Table{Name: table, Family: nftables.TableFamilyINet})
	if err != nil {
		return nil, flushErr("read counters", err)
	}
	out := map[string]Counter{}
	for _, o := range objs {
		switch v := o.(type) {
		case *nftables.CounterObj:
			out[v.Name] = Counter{Packets: v.Packets, Bytes: v.Bytes}
		case *nftables.NamedObj:
			if ce, ok := v.Obj.(*expr.Counter); ok {
				out[v.Name] = Counter{Packets: ce.Packets, Bytes: ce.Bytes}
			}
		}
	}
	return out, nil
}

// HasTable reports whether the table exists in the kernel.
func (n *Netlink) HasTable(table string) (bool, error) {
	c, err := n.conn()
	if err != nil {
		return false, flushErr("open netlink", err)
	}
	ts, err := c.ListTablesOfFamily(nftables.TableFamilyINet)
	if err != nil {
		return false, flushErr("list tables", err)
	}
	return slices.ContainsFunc(ts, func(t *nftables.Table) bool { return t.Name == table }), nil
}

// Counter is one named counter's value.
type Counter struct{ Packets, Bytes uint64 }

func newSet(t *nftables.Table, d setDef) *nftables.Set {
	addrType := nftables.TypeIPAddr
	if d.v6 {
		addrType = nftables.TypeIP6Addr
	}
	s := &nftables.Set{Table: t, Name: d.name, KeyType: addrType}
	switch d.kind {
	case setNets:
		s.Interval = true
	case setAddrs:
		s.HasTimeout = true
	case setVmap:
		s.IsMap, s.DataType = true, nftables.TypeVerdict
	case setTuple:
		s.Interval, s.Concatenation = true, true
		s.KeyType = nftables.MustConcatSetType(addrType, nftables.TypeInetProto, nftables.TypeInetService)
	}
	return s
}

func addrKey(a netip.Addr) []byte { return a.AsSlice() }

// blockTimeout is how long a blocked element lives: for all practical
// purposes forever (the agent re-adds it on every whole-table install).
// The blocked sets have timeouts only so that unblocking can be a fast
// timeout update rather than a slow delete.
const blockTimeout = 3650 * 24 * time.Hour

// elements encodes a set's elements for the kernel.
func (rs *Ruleset) elements(d setDef, al *addrLists) ([]nftables.SetElement, error) {
	var els []nftables.SetElement
	switch d.kind {
	case setNets:
		for _, p := range rs.netsOf(d.v6) {
			els = append(els, nftables.SetElement{Key: addrKey(p.Addr())})
			if next := lastAddr(p).Next(); next.IsValid() {
				els = append(els, nftables.SetElement{Key: addrKey(next), IntervalEnd: true})
			}
		}
	case setAddrs:
		for _, a := range al.blocked[fam(d.v6)] {
			els = append(els, nftables.SetElement{Key: addrKey(a), Timeout: blockTimeout})
		}
	case setVmap:
		for _, a := range al.grouped[fam(d.v6)] {
			els = append(els, nftables.SetElement{Key: addrKey(a),
				VerdictData: &expr.Verdict{Kind: expr.VerdictGoto, Chain: rs.vmapTarget(rs.Addrs[a], d.inbound)}})
		}
	case setTuple:
		for _, e := range d.tuples {
			els = append(els, nftables.SetElement{
				Key:    tupleKey(e.Net.Addr(), e.ProtoLo, e.PortLo),
				KeyEnd: tupleKey(lastAddr(e.Net), e.ProtoHi, e.PortHi),
			})
		}
	}
	return els, nil
}

// tupleKey lays out addr . proto . port as the kernel's registers hold
// them: every field padded to 4 bytes.
func tupleKey(a netip.Addr, proto uint8, port uint16) []byte {
	b := append([]byte(nil), a.AsSlice()...)
	b = append(b, proto, 0, 0, 0)
	b = binary.BigEndian.AppendUint16(b, port)
	return append(b, 0, 0)
}

// Registers: the 16-byte register 1 holds an address; the 4-byte
// registers after it hold the protocol and the port of a tuple, as nft
// lays out a concatenation.
const (
	reg1       = 1
	reg32v4    = 9  // first 4-byte register after an IPv4 address
	reg32v6    = 12 // first 4-byte register after an IPv6 address
	regVerdict = 0
)

func nfproto(v6 bool) []expr.Any {
	p := byte(unix.NFPROTO_IPV4)
	if v6 {
		p = unix.NFPROTO_IPV6
	}
	return []expr.Any{
		&expr.Meta{Key: expr.MetaKeyNFPROTO, Register: reg1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: reg1, Data: []byte{p}},
	}
}

func loadAddr(v6, dst bool) expr.Any {
	off, n := uint32(12), uint32(4)
	if v6 {
		off, n = 8, 16
	}
	if dst {
		off += n
	}
	return &expr.Payload{DestRegister: reg1, Base: expr.PayloadBaseNetworkHeader, Offset: off, Len: n}
}

func lookup(sets map[string]*nftables.Set, name string) (*expr.Lookup, error) {
	s, ok := sets[name]
	if !ok {
		return nil, fmt.Errorf("rule names set %s, which is not in the table", name)
	}
	return &expr.Lookup{SourceRegister: reg1, SetName: s.Name, SetID: s.ID}, nil
}

func (r rule) exprs(sets map[string]*nftables.Set) ([]expr.Any, error) {
	var es []expr.Any
	for _, s := range r {
		switch s := s.(type) {
		case matchAddr:
			l, err := lookup(sets, s.set)
			if err != nil {
				return nil, err
			}
			l.Invert = s.not
			es = append(append(es, nfproto(s.v6)...), loadAddr(s.v6, s.dst), l)
		case iifname:
			name := make([]byte, 16)
			copy(name, s.name)
			es = append(es,
				&expr.Meta{Key: expr.MetaKeyIIFNAME, Register: reg1},
				&expr.Cmp{Op: expr.CmpOpEq, Register: reg1, Data: name})
		case matchTuple:
			l, err := lookup(sets, s.set)
			if err != nil {
				return nil, err
			}
			r2 := uint32(reg32v4)
			if s.v6 {
				r2 = reg32v6
			}
			es = append(append(es, nfproto(s.v6)...), loadAddr(s.v6, s.dst),
				&expr.Meta{Key: expr.MetaKeyL4PROTO, Register: r2},
				&expr.Payload{DestRegister: r2 + 1, Base: expr.PayloadBaseTransportHeader, Offset: 2, Len: 2}, l)
		case vmapAddr:
			l, err := lookup(sets, s.set)
			if err != nil {
				return nil, err
			}
			l.IsDestRegSet, l.DestRegister = true, regVerdict
			es = append(append(es, nfproto(s.v6)...), loadAddr(s.v6, s.dst), l)
		case ctReplyEstablished:
			es = append(es,
				&expr.Ct{Key: expr.CtKeyDIRECTION, Register: reg1},
				&expr.Cmp{Op: expr.CmpOpEq, Register: reg1, Data: []byte{1}}, // IP_CT_DIR_REPLY
			)
			es = append(es, ctState(expr.CtStateBitESTABLISHED)...)
		case ctRelated:
			es = append(es, ctState(expr.CtStateBitRELATED)...)
		case counterRef:
			es = append(es, &expr.Objref{Type: int(nftables.ObjTypeCounter), Name: s.name})
		case verdict:
			es = append(es, verdictExpr(s))
		case limitLog:
			es = append(es,
				&expr.Limit{Type: expr.LimitTypePkts, Rate: uint64(s.rate), Unit: expr.LimitTimeSecond, Burst: uint32(s.rate)},
				&expr.Log{Key: 1<<unix.NFTA_LOG_GROUP | 1<<unix.NFTA_LOG_PREFIX, Group: s.group, Data: []byte(s.prefix)})
		case oifname:
			name := make([]byte, 16)
			copy(name, s.name)
			es = append(es,
				&expr.Meta{Key: expr.MetaKeyOIFNAME, Register: reg1},
				&expr.Cmp{Op: expr.CmpOpEq, Register: reg1, Data: name})
		case masquerade:
			es = append(es, &expr.Masq{})
		case snatTo:
			a := netip.MustParseAddr(s.addr)
			fam := uint32(unix.NFPROTO_IPV4)
			if s.v6 {
				fam = unix.NFPROTO_IPV6
			}
			es = append(es,
				&expr.Immediate{Register: reg1, Data: a.AsSlice()},
				&expr.NAT{Type: expr.NATTypeSourceNAT, Family: fam, RegAddrMin: reg1})
		default:
			return nil, fmt.Errorf("no netlink form for %T", s)
		}
	}
	return es, nil
}

func ctState(bits uint32) []expr.Any {
	mask := binary.NativeEndian.AppendUint32(nil, bits)
	return []expr.Any{
		&expr.Ct{Key: expr.CtKeySTATE, Register: reg1},
		&expr.Bitwise{SourceRegister: reg1, DestRegister: reg1, Len: 4, Mask: mask, Xor: []byte{0, 0, 0, 0}},
		&expr.Cmp{Op: expr.CmpOpNeq, Register: reg1, Data: []byte{0, 0, 0, 0}},
	}
}

func verdictExpr(v verdict) expr.Any {
	kinds := map[string]expr.VerdictKind{
		"accept": expr.VerdictAccept, "drop": expr.VerdictDrop, "return": expr.VerdictReturn,
		"jump": expr.VerdictJump, "goto": expr.VerdictGoto,
	}
	return &expr.Verdict{Kind: kinds[v.kind], Chain: v.chain}
}
