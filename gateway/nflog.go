package gateway

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// Denied packets reach the agent through nflog (the kernel's
// nfnetlink_log): the deny chains log to a group with a prefix naming the
// reason, and the agent reads the packets' headers back over netlink.

// nfnetlink_log message types and attributes (linux/netfilter/nfnetlink_log.h).
const (
	nfulnlMsgPacket = 0
	nfulnlMsgConfig = 1

	nfulaCfgCmd  = 1
	nfulaCfgMode = 2

	nfulnlCfgCmdBind   = 1
	nfulnlCfgCmdUnbind = 2
	nfulnlCopyPacket   = 2

	nfulaPayload = 9
	nfulaPrefix  = 10
)

// DeniedPacket is what the agent learns about one dropped packet.
type DeniedPacket struct {
	Reason   string // the deny chain's reason, from the log prefix
	Src, Dst netip.Addr
	Proto    uint8
	SrcPort  uint16
	DstPort  uint16 // for TCP, UDP, SCTP, UDP-Lite; 0 otherwise
}

// NFLog reads one nflog group.
type NFLog struct {
	conn  *netlink.Conn
	group uint16
}

// OpenNFLog binds to nflog group in the namespace netns (0: the
// caller's). Only one listener may bind a group.
func OpenNFLog(netns int, group uint16) (*NFLog, error) {
	c, err := netlink.Dial(unix.NETLINK_NETFILTER, &netlink.Config{NetNS: netns})
	if err != nil {
		return nil, fmt.Errorf("nflog: %w", err)
	}
	_ = c.SetReadBuffer(4 << 20)
	l := &NFLog{conn: c, group: group}
	// A listener left bound by a crashed agent would keep the group: unbind first.
	_ = l.config(netlink.Attribute{Type: nfulaCfgCmd, Data: []byte{nfulnlCfgCmdUnbind}})
	if err := l.config(netlink.Attribute{Type: nfulaCfgCmd, Data: []byte{nfulnlCfgCmdBind}}); err != nil {
		c.Close()
		if errors.Is(err, unix.EPERM) {
			if CheckPrivilege() != nil {
				return nil, ErrPermission
			}
			// With CAP_NET_ADMIN the kernel says EPERM when another
			// socket has the group bound (nfnetlink_log allows one
			// listener per group and namespace).
			return nil, fmt.Errorf("nflog group %d is held by another listener (ulogd, another simguard gateway, or a leftover process in this network namespace): stop it or pick a free group with nflog_group / --nflog-group", group)
		}
		return nil, fmt.Errorf("nflog bind group %d: %w (is another listener, e.g. ulogd, bound to it?)", group, err)
	}
	// Headers are enough: 128 bytes cover IPv6 and a transport header.
	mode := binary.BigEndian.AppendUint32(nil, 128)
	mode = append(mode, nfulnlCopyPacket, 0)
	if err := l.config(netlink.Attribute{Type: nfulaCfgMode, Data: mode}); err != nil {
		c.Close()
		return nil, fmt.Errorf("nflog copy mode: %w", err)
	}
	return l, nil
}

func (l *NFLog) config(a netlink.Attribute) error {
	ab, err := netlink.MarshalAttributes([]netlink.Attribute{a})
	if err != nil {
		return err
	}
	hdr := []byte{unix.AF_UNSPEC, 0, 0, 0}
	binary.BigEndian.PutUint16(hdr[2:], l.group)
	_, err = l.conn.Execute(netlink.Message{
		Header: netlink.Header{Type: netlink.HeaderType(unix.NFNL_SUBSYS_ULOG<<8 | nfulnlMsgConfig), Flags: netlink.Request | netlink.Acknowledge},
		Data:   append(hdr, ab...),
	})
	return err
}

// Run delivers denied packets to fn until ctx ends.
func (l *NFLog) Run(ctx context.Context, fn func(DeniedPacket)) error {
	stop := context.AfterFunc(ctx, func() { _ = l.conn.SetReadDeadline(time.Now()) })
	defer stop()
	for {
		msgs, err := l.conn.Receive()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			// A full socket buffer loses packets but not the reader.
			if errors.Is(err, unix.ENOBUFS) {
				continue
			}
			return fmt.Errorf("nflog receive: %w", err)
		}
		for _, m := range msgs {
			if m.Header.Type != netlink.HeaderType(unix.NFNL_SUBSYS_ULOG<<8|nfulnlMsgPacket) {
				continue
			}
			if p, ok := DecodeNFLog(m.Data); ok {
				fn(p)
			}
		}
	}
}

// Close unbinds the group.
func (l *NFLog) Close() error { return l.conn.Close() }

// DecodeNFLog reads one NFULNL_MSG_PACKET body (nfgenmsg, then
// attributes). Packets without a simguard prefix or with headers it
// cannot read are skipped (ok false).
func DecodeNFLog(b []byte) (DeniedPacket, bool) {
	if len(b) < 4 {
		return DeniedPacket{}, false
	}
	ad, err := netlink.NewAttributeDecoder(b[4:])
	if err != nil {
		return DeniedPacket{}, false
	}
	var prefix string
	var payload []byte
	for ad.Next() {
		switch ad.Type() {
		case nfulaPrefix:
			prefix = strings.TrimRight(string(ad.Bytes()), "\x00")
		case nfulaPayload:
			payload = ad.Bytes()
		}
	}
	if ad.Err() != nil || !strings.HasPrefix(prefix, LogPrefix) {
		return DeniedPacket{}, false
	}
	p, ok := decodeIP(payload)
	p.Reason = strings.TrimSpace(strings.TrimPrefix(prefix, LogPrefix))
	return p, ok && p.Reason != ""
}

// decodeIP reads addresses, protocol and ports from an IP packet.
func decodeIP(b []byte) (DeniedPacket, bool) {
	var p DeniedPacket
	if len(b) < 1 {
		return p, false
	}
	var l4 []byte
	switch b[0] >> 4 {
	case 4:
		ihl := int(b[0]&0x0f) * 4
		if len(b) < 20 || ihl < 20 || len(b) < ihl {
			return p, false
		}
		p.Proto = b[9]
		p.Src = netip.AddrFrom4([4]byte(b[12:16]))
		p.Dst = netip.AddrFrom4([4]byte(b[16:20]))
		// Only the first fragment carries the ports.
		if binary.BigEndian.Uint16(b[6:8])&0x1fff == 0 {
			l4 = b[ihl:]
		}
	case 6:
		if len(b) < 40 {
			return p, false
		}
		p.Proto = b[6]
		p.Src = netip.AddrFrom16([16]byte(b[8:24]))
		p.Dst = netip.AddrFrom16([16]byte(b[24:40]))
		l4 = b[40:]
	default:
		return p, false
	}
	switch p.Proto {
	case 6, 17, 132, 136: // TCP, UDP, SCTP, UDP-Lite: ports first
		if len(l4) >= 4 {
			p.SrcPort = binary.BigEndian.Uint16(l4[0:2])
			p.DstPort = binary.BigEndian.Uint16(l4[2:4])
		}
	}
	return p, true
}
