package scan

import (
	"encoding/binary"
	"strings"
)

// Binary TCP protocols: MQTT 3.1.1 CONNECT/CONNACK and Modbus/TCP Read
// Device Identification. Requests are built here; responses are parsed
// without trusting any length field.

// mqttConnect builds an MQTT 3.1.1 CONNECT with a clean session, no
// credentials and a 10 s keep-alive: the question is whether the broker
// lets anyone in.
func mqttConnect(clientID string) []byte {
	var vh []byte
	vh = append(vh, 0, 4, 'M', 'Q', 'T', 'T', 4, 0x02, 0, 10)
	vh = binary.BigEndian.AppendUint16(vh, uint16(len(clientID)))
	vh = append(vh, clientID...)
	out := []byte{0x10}
	for n := len(vh); ; {
		d := byte(n % 128)
		n /= 128
		if n > 0 {
			d |= 0x80
		}
		out = append(out, d)
		if n == 0 {
			break
		}
	}
	return append(out, vh...)
}

var mqttDisconnect = []byte{0xE0, 0x00}

// Connack is an MQTT CONNACK.
type Connack struct {
	SessionPresent bool
	// ReturnCode: 0 accepted, 1 bad protocol version, 2 identifier
	// rejected, 3 server unavailable, 4 bad user name or password, 5 not
	// authorized (MQTT 3.1.1 §3.2.2.3). MQTT 5 reason codes ≥ 0x80 also
	// appear when a v5-only broker answers.
	ReturnCode byte
}

// Accepted reports whether the broker let an anonymous client in.
func (c Connack) Accepted() bool { return c.ReturnCode == 0 }

// ParseConnack reads a CONNACK (fixed header 0x20, remaining length 2, or
// longer for MQTT 5).
func ParseConnack(b []byte) (Connack, bool) {
	if len(b) < 4 || b[0] != 0x20 || b[1] < 2 || b[2]&^1 != 0 {
		return Connack{}, false
	}
	return Connack{SessionPresent: b[2]&1 == 1, ReturnCode: b[3]}, true
}

// modbusReadDeviceID builds Modbus/TCP function 0x2B / MEI 0x0E (Read
// Device Identification, basic objects): a read that changes nothing.
func modbusReadDeviceID(txid uint16) []byte {
	b := binary.BigEndian.AppendUint16(nil, txid)
	b = append(b, 0, 0, 0, 5) // protocol 0, length 5
	return append(b, 0xFF, 0x2B, 0x0E, 0x01, 0x00)
}

// ModbusInfo is what a Modbus device told about itself.
type ModbusInfo struct {
	Unit byte
	// Exception is non-zero when the device answered with an exception
	// (0x01: it does not implement device identification): still Modbus.
	Exception byte
	Vendor    string
	Product   string
	Revision  string
}

// ParseModbus reads the answer to modbusReadDeviceID(txid).
func ParseModbus(b []byte, txid uint16) (ModbusInfo, bool) {
	if len(b) < 9 || binary.BigEndian.Uint16(b) != txid || b[2] != 0 || b[3] != 0 {
		return ModbusInfo{}, false
	}
	n := int(binary.BigEndian.Uint16(b[4:]))
	if n < 3 || n > 254 {
		return ModbusInfo{}, false
	}
	pdu := b[7:min(len(b), 6+n)] // n counts the unit byte
	info := ModbusInfo{Unit: b[6]}
	switch pdu[0] {
	case 0xAB:
		info.Exception = pdu[1]
		return info, true
	case 0x2B:
	default:
		if pdu[0]&0x80 != 0 && len(pdu) >= 2 {
			info.Exception = pdu[1]
			return info, true
		}
		return ModbusInfo{}, false
	}
	// 0x2B 0x0E code conformity more next count {id len value}…
	if len(pdu) < 7 || pdu[1] != 0x0E {
		return ModbusInfo{}, false
	}
	count, p := int(pdu[6]), pdu[7:]
	for range count {
		if len(p) < 2 || len(p) < 2+int(p[1]) {
			break
		}
		v := printable(strings.TrimSpace(string(p[2 : 2+int(p[1])])))
		switch p[0] {
		case 0:
			info.Vendor = v
		case 1:
			info.Product = v
		case 2:
			info.Revision = v
		}
		p = p[2+int(p[1]):]
	}
	return info, true
}
