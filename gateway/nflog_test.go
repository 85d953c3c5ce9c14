package gateway

import (
	"encoding/binary"
	"net/netip"
	"testing"

	"github.com/mdlayher/netlink"
)

// nflogMsg builds an NFULNL_MSG_PACKET body as the kernel sends it.
func nflogMsg(prefix string, payload []byte) []byte {
	attrs := []netlink.Attribute{{Type: 1, Data: []byte{0x08, 0x00, 2, 0}}} // NFULA_PACKET_HDR
	if prefix != "" {
		attrs = append(attrs, netlink.Attribute{Type: nfulaPrefix, Data: append([]byte(prefix), 0)})
	}
	if payload != nil {
		attrs = append(attrs, netlink.Attribute{Type: nfulaPayload, Data: payload})
	}
	b, _ := netlink.MarshalAttributes(attrs)
	return append([]byte{2, 0, 0, 7}, b...)
}

func ipv4(proto uint8, src, dst string, sport, dport uint16) []byte {
	b := make([]byte, 28)
	b[0] = 0x45
	b[9] = proto
	copy(b[12:16], netip.MustParseAddr(src).AsSlice())
	copy(b[16:20], netip.MustParseAddr(dst).AsSlice())
	binary.BigEndian.PutUint16(b[20:], sport)
	binary.BigEndian.PutUint16(b[22:], dport)
	return b
}

func ipv6(proto uint8, src, dst string, sport, dport uint16) []byte {
	b := make([]byte, 48)
	b[0] = 0x60
	b[6] = proto
	copy(b[8:24], netip.MustParseAddr(src).AsSlice())
	copy(b[24:40], netip.MustParseAddr(dst).AsSlice())
	binary.BigEndian.PutUint16(b[40:], sport)
	binary.BigEndian.PutUint16(b[42:], dport)
	return b
}

func TestDecodeNFLog(t *testing.T) {
	frag := ipv4(6, "10.64.0.1", "203.0.113.9", 1000, 443)
	frag[7] = 0x10 // fragment offset: no ports
	cases := []struct {
		name string
		msg  []byte
		ok   bool
		want DeniedPacket
	}{
		{"tcp v4", nflogMsg("simguard destination_denied ", ipv4(6, "10.64.0.1", "203.0.113.9", 40000, 443)), true,
			DeniedPacket{Reason: "destination_denied", Src: netip.MustParseAddr("10.64.0.1"), Dst: netip.MustParseAddr("203.0.113.9"), Proto: 6, SrcPort: 40000, DstPort: 443}},
		{"udp v6", nflogMsg("simguard inbound_denied ", ipv6(17, "2001:db8::1", "fd00:64::7", 53, 5353)), true,
			DeniedPacket{Reason: "inbound_denied", Src: netip.MustParseAddr("2001:db8::1"), Dst: netip.MustParseAddr("fd00:64::7"), Proto: 17, SrcPort: 53, DstPort: 5353}},
		{"icmp has no ports", nflogMsg("simguard sim_blocked ", ipv4(1, "10.64.0.2", "192.0.2.1", 0x0800, 0)), true,
			DeniedPacket{Reason: "sim_blocked", Src: netip.MustParseAddr("10.64.0.2"), Dst: netip.MustParseAddr("192.0.2.1"), Proto: 1}},
		{"later fragment", nflogMsg("simguard destination_denied ", frag), true,
			DeniedPacket{Reason: "destination_denied", Src: netip.MustParseAddr("10.64.0.1"), Dst: netip.MustParseAddr("203.0.113.9"), Proto: 6}},
		{"other prefix", nflogMsg("ulogd ", ipv4(6, "10.0.0.1", "10.0.0.2", 1, 2)), false, DeniedPacket{}},
		{"no prefix", nflogMsg("", ipv4(6, "10.0.0.1", "10.0.0.2", 1, 2)), false, DeniedPacket{}},
		{"no payload", nflogMsg("simguard sim_unknown ", nil), false, DeniedPacket{}},
		{"short ipv4", nflogMsg("simguard sim_unknown ", []byte{0x45, 0, 0}), false, DeniedPacket{}},
		{"truncated", []byte{2, 0}, false, DeniedPacket{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, ok := DecodeNFLog(c.msg)
			if ok != c.ok || (ok && got != c.want) {
				t.Errorf("got %+v %v, want %+v %v", got, ok, c.want, c.ok)
			}
		})
	}
}

func FuzzDecodeNFLog(f *testing.F) {
	f.Add(nflogMsg("simguard destination_denied ", ipv4(6, "10.64.0.1", "203.0.113.9", 40000, 443)))
	f.Add(nflogMsg("simguard inbound_denied ", ipv6(17, "2001:db8::1", "fd00:64::7", 53, 5353)))
	f.Add(nflogMsg("simguard sim_blocked ", []byte{0x4f}))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, ok := DecodeNFLog(b)
		if ok && (!p.Src.IsValid() || !p.Dst.IsValid() || p.Reason == "") {
			t.Fatalf("accepted %+v", p)
		}
	})
}
