package scan

import (
	"bytes"
	"encoding/binary"
	"strconv"
	"strings"
)

// UDP probes for IoT services. Each request is the smallest harmless
// question the service must answer; each parser checks that the answer
// is that service's and pulls out what identifies the software.

// udpProbe is one UDP service question.
type udpProbe struct {
	service string
	port    uint16
	request func(id uint16) []byte
	// parse returns the product/details text and whether b is a valid
	// answer to request(id).
	parse func(b []byte, id uint16) (string, bool)
}

var udpProbes = []udpProbe{
	{"snmp", 161, snmpGetSysDescr, ParseSNMPResponse},
	{"coap", 5683, coapWellKnownCore, ParseCoAPResponse},
	{"dns", 53, dnsVersionBind, ParseDNSResponse},
	{"ntp", 123, ntpClientQuery, ParseNTPResponse},
	{"mqtt-sn", 1883, func(uint16) []byte { return []byte{3, 0x01, 0} }, ParseMQTTSNResponse},
}

// UDPServices lists the services the UDP probes cover, for configuration.
func UDPServices() []string {
	out := make([]string, len(udpProbes))
	for i, p := range udpProbes {
		out[i] = p.service
	}
	return out
}

// --- SNMP v2c GetRequest sysDescr.0 with community "public" (RFC 3416) ---

var oidSysDescr = []byte{0x2b, 6, 1, 2, 1, 1, 1, 0} // 1.3.6.1.2.1.1.1.0

func snmpGetSysDescr(id uint16) []byte {
	varbind := tlv(0x30, append(tlv(0x06, oidSysDescr), 0x05, 0x00))
	pdu := tlv(0xA0, concat(tlv(0x02, []byte{byte(id >> 8), byte(id)}), tlv(0x02, []byte{0}), tlv(0x02, []byte{0}), tlv(0x30, varbind)))
	return tlv(0x30, concat(tlv(0x02, []byte{1}), tlv(0x04, []byte("public")), pdu))
}

// ParseSNMPResponse accepts a GetResponse to snmpGetSysDescr(id) and
// returns sysDescr. An answer at all means the community "public" works.
func ParseSNMPResponse(b []byte, id uint16) (string, bool) {
	msg, ok := berSeq(b, 0x30)
	if !ok {
		return "", false
	}
	var version, community, pdu []byte
	if version, msg, ok = berNext(msg, 0x02); !ok || len(version) != 1 || version[0] > 1 {
		return "", false
	}
	if community, msg, ok = berNext(msg, 0x04); !ok || string(community) != "public" {
		return "", false
	}
	if pdu, _, ok = berNext(msg, 0xA2); !ok {
		return "", false
	}
	reqID, pdu, ok := berNext(pdu, 0x02)
	if !ok || berUint(reqID) != uint64(id) {
		return "", false
	}
	for _, skip := range []byte{0x02, 0x02} { // error-status, error-index
		if _, pdu, ok = berNext(pdu, skip); !ok {
			return "", false
		}
	}
	list, _, ok := berNext(pdu, 0x30)
	if !ok {
		return "", true
	}
	vb, _, ok := berNext(list, 0x30)
	if !ok {
		return "", true
	}
	if _, vb, ok = berNext(vb, 0x06); !ok {
		return "", true
	}
	if val, _, ok := berNext(vb, 0x04); ok {
		return printable(string(val)), true
	}
	return "", true
}

func tlv(tag byte, v []byte) []byte {
	out := []byte{tag}
	if len(v) < 128 {
		out = append(out, byte(len(v)))
	} else {
		out = append(out, 0x82, byte(len(v)>>8), byte(len(v)))
	}
	return append(out, v...)
}

func concat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// berNext reads one TLV with tag from b: its value and what follows.
func berNext(b []byte, tag byte) (val, rest []byte, ok bool) {
	if len(b) < 2 || b[0] != tag {
		return nil, nil, false
	}
	n, hdr := int(b[1]), 2
	if n&0x80 != 0 {
		k := n & 0x7f
		if k == 0 || k > 3 || len(b) < 2+k {
			return nil, nil, false
		}
		n = 0
		for _, c := range b[2 : 2+k] {
			n = n<<8 | int(c)
		}
		hdr += k
	}
	if len(b)-hdr < n {
		return nil, nil, false
	}
	return b[hdr : hdr+n], b[hdr+n:], true
}

func berSeq(b []byte, tag byte) ([]byte, bool) {
	v, _, ok := berNext(b, tag)
	return v, ok
}

func berUint(b []byte) uint64 {
	if len(b) > 8 {
		return 1 << 63
	}
	var v uint64
	for _, c := range b {
		v = v<<8 | uint64(c)
	}
	return v
}

// --- CoAP GET /.well-known/core (RFC 7252, RFC 6690) ---

func coapWellKnownCore(id uint16) []byte {
	b := []byte{0x42, 0x01, byte(id >> 8), byte(id), 0x53, 0x47} // ver 1, CON, TKL 2, GET, token "SG"
	b = append(b, 0xBB)                                          // Uri-Path (11), length 11
	b = append(b, ".well-known"...)
	b = append(b, 0x04) // Uri-Path again (delta 0), length 4
	return append(b, "core"...)
}

// ParseCoAPResponse accepts a CoAP answer to coapWellKnownCore(id) (an ACK
// or a separate response echoing our token, or a RST) and returns the
// code and, for 2.05, the first resources of the link format.
func ParseCoAPResponse(b []byte, id uint16) (string, bool) {
	if len(b) < 4 || b[0]>>6 != 1 {
		return "", false
	}
	typ, tkl, code := b[0]>>4&3, int(b[0]&0x0f), b[1]
	mid := binary.BigEndian.Uint16(b[2:])
	switch {
	case typ == 3 && mid == id: // RST: a CoAP endpoint that refuses us
		return "reset", true
	case typ == 2 && mid == id, tkl == 2 && len(b) >= 6 && string(b[4:6]) == "SG":
	default:
		return "", false
	}
	if tkl > 8 || len(b) < 4+tkl {
		return "", false
	}
	detail := coapCode(code)
	if i := bytes.IndexByte(b[4+tkl:], 0xFF); i >= 0 && code == 0x45 {
		payload := string(b[4+tkl+i+1:])
		if len(payload) > 120 {
			payload = payload[:120]
		}
		detail += " " + printable(payload)
	}
	return detail, true
}

func coapCode(c byte) string {
	return string([]byte{'0' + c>>5, '.', '0' + (c&0x1f)/10, '0' + (c&0x1f)%10})
}

// --- DNS: version.bind CH TXT (the query that makes BIND and dnsmasq name themselves) ---

func dnsVersionBind(id uint16) []byte {
	b := binary.BigEndian.AppendUint16(nil, id)
	b = append(b, 0x00, 0x00, 0, 1, 0, 0, 0, 0, 0, 0) // standard query, 1 question
	b = append(b, 7, 'v', 'e', 'r', 's', 'i', 'o', 'n', 4, 'b', 'i', 'n', 'd', 0)
	return append(b, 0, 16, 0, 3) // TXT, CHAOS
}

// ParseDNSResponse accepts any DNS response with our ID (REFUSED too: it
// is still a DNS server) and returns "rcode N" and the TXT answer, if any.
func ParseDNSResponse(b []byte, id uint16) (string, bool) {
	if len(b) < 12 || binary.BigEndian.Uint16(b) != id || b[2]&0x80 == 0 {
		return "", false
	}
	rcode := b[3] & 0x0f
	detail := "rcode " + strconv.Itoa(int(rcode))
	qd, an := binary.BigEndian.Uint16(b[4:]), binary.BigEndian.Uint16(b[6:])
	p := 12
	for range qd {
		if p = skipName(b, p); p < 0 || p+4 > len(b) {
			return detail, true
		}
		p += 4
	}
	if an == 0 {
		return detail, true
	}
	if p = skipName(b, p); p < 0 || p+10 > len(b) {
		return detail, true
	}
	typ, rdlen := binary.BigEndian.Uint16(b[p:]), int(binary.BigEndian.Uint16(b[p+8:]))
	p += 10
	if typ == 16 && rdlen > 1 && p+rdlen <= len(b) && int(b[p]) < rdlen {
		detail += " " + printable(string(b[p+1:p+1+int(b[p])]))
	}
	return detail, true
}

// skipName returns the offset after a (possibly compressed) name at p, or -1.
func skipName(b []byte, p int) int {
	for range 128 {
		if p >= len(b) {
			return -1
		}
		l := int(b[p])
		switch {
		case l == 0:
			return p + 1
		case l&0xC0 == 0xC0:
			if p+2 > len(b) {
				return -1
			}
			return p + 2
		case l&0xC0 != 0:
			return -1
		}
		p += 1 + l
	}
	return -1
}

// --- NTP: a mode 3 client query (RFC 5905) ---

func ntpClientQuery(id uint16) []byte {
	b := make([]byte, 48)
	b[0] = 0x23 // LI 0, version 4, mode 3
	// Our ID goes into the transmit timestamp, which the server echoes
	// as the origin timestamp.
	binary.BigEndian.PutUint16(b[46:], id)
	return b
}

// ParseNTPResponse accepts a mode 4 (server) answer whose origin timestamp
// echoes ours and returns "stratum N, vV".
func ParseNTPResponse(b []byte, id uint16) (string, bool) {
	if len(b) < 48 || b[0]&7 != 4 || binary.BigEndian.Uint16(b[30:]) != id {
		return "", false
	}
	v := b[0] >> 3 & 7
	return "stratum " + strconv.Itoa(int(b[1])) + ", v" + strconv.Itoa(int(v)), true
}

// ntpReadVar is a mode 6 READVAR request for the system variables: a
// server that answers it leaks its version and is an amplifier.
func ntpReadVar(seq uint16) []byte {
	b := []byte{0x16, 0x02}
	b = binary.BigEndian.AppendUint16(b, seq)
	return append(b, 0, 0, 0, 0, 0, 0, 0, 0)
}

// ParseNTPReadVar returns the "version=" value of a mode 6 response.
func ParseNTPReadVar(b []byte, seq uint16) (string, bool) {
	if len(b) < 12 || b[0]&7 != 6 || b[1]&0x80 == 0 || b[1]&0x1f != 2 || binary.BigEndian.Uint16(b[2:]) != seq {
		return "", false
	}
	n := int(binary.BigEndian.Uint16(b[10:]))
	data := string(b[12:min(len(b), 12+n)])
	if _, v, ok := strings.Cut(data, `version="`); ok {
		v, _, _ = strings.Cut(v, `"`)
		return printable(v), true
	}
	return "", true
}

// --- MQTT-SN SEARCHGW (MQTT-SN 1.2 §5.4.2) ---

// ParseMQTTSNResponse accepts GWINFO (0x02) or ADVERTISE (0x00) and returns
// the gateway ID.
func ParseMQTTSNResponse(b []byte, _ uint16) (string, bool) {
	if len(b) < 3 || int(b[0]) != len(b) && b[0] != 1 {
		return "", false
	}
	switch b[1] {
	case 0x02:
		return "gateway " + strconv.Itoa(int(b[2])), true
	case 0x00:
		if len(b) >= 5 {
			return "gateway " + strconv.Itoa(int(b[2])), true
		}
	}
	return "", false
}
