package scan

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func TestParseSSHBanner(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want SSHBanner
		ok   bool
	}{
		{"openssh", "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n", SSHBanner{"2.0", "OpenSSH_9.2p1", "Debian-2+deb12u3"}, true},
		{"dropbear no comment", "SSH-2.0-dropbear_2020.81\r\n", SSHBanner{"2.0", "dropbear_2020.81", ""}, true},
		{"ssh-1 compatible", "SSH-1.99-Cisco-1.25\n", SSHBanner{"1.99", "Cisco-1.25", ""}, true},
		{"lines before the banner", "Welcome\r\nauthorized use only\r\nSSH-2.0-ROSSSH\r\n", SSHBanner{"2.0", "ROSSSH", ""}, true},
		{"control bytes are masked", "SSH-2.0-x\x1b[31m y\r\n", SSHBanner{"2.0", "x.[31m", "y"}, true},
		{"not ssh", "220 ftp ready\r\n", SSHBanner{}, false},
		{"no version", "SSH-\r\n", SSHBanner{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := ParseSSHBanner([]byte(tt.in))
			if ok != tt.ok || got != tt.want {
				t.Fatalf("got %+v, %v; want %+v, %v", got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestParseHTTPResponse(t *testing.T) {
	tests := []struct {
		name       string
		in         string
		prefix     string
		port       uint16
		ok         bool
		status     int
		server     string
		scheme     string
		realm      string
		cwmp       bool
		wantPublic string
	}{
		{name: "basic auth", prefix: "HTTP/", port: 80, ok: true, status: 401, server: "lighttpd/1.4.59", scheme: "basic", realm: "IoT Gateway",
			in: "HTTP/1.1 401 Unauthorized\r\nServer: lighttpd/1.4.59\r\nWWW-Authenticate: Basic realm=\"IoT Gateway\"\r\n\r\n"},
		{name: "digest and basic offered", prefix: "HTTP/", port: 80, ok: true, status: 401, scheme: "digest", realm: "x",
			in: "HTTP/1.0 401 No\r\nWWW-Authenticate: Digest realm=\"x\", nonce=\"1\"\r\nWWW-Authenticate: Basic realm=\"y\"\r\n\r\n"},
		{name: "tr-069 by realm", prefix: "HTTP/", port: 30005, ok: true, status: 401, scheme: "digest", realm: "HuaweiHomeGateway-cwmp", cwmp: true,
			in: "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Digest realm=\"HuaweiHomeGateway-cwmp\", qop=\"auth\"\r\n\r\n"},
		{name: "tr-069 by port", prefix: "HTTP/", port: 7547, ok: true, status: 404, server: "RomPager/4.07", cwmp: true,
			in: "HTTP/1.1 404 Not Found\r\nServer: RomPager/4.07\r\n\r\n"},
		{name: "unquoted realm", prefix: "HTTP/", port: 80, ok: true, status: 401, scheme: "basic", realm: "cam",
			in: "HTTP/1.1 401 X\r\nWWW-Authenticate: basic realm=cam, charset=UTF-8\r\n\r\n"},
		{name: "head without blank line", prefix: "HTTP/", port: 80, ok: true, status: 200, server: "Boa/0.94",
			in: "HTTP/1.0 200 OK\r\nServer: Boa/0.94\r\n"},
		{name: "rtsp", prefix: "RTSP/", port: 554, ok: true, status: 200, server: "Hikvision",
			wantPublic: "OPTIONS, DESCRIBE", in: "RTSP/1.0 200 OK\r\nCSeq: 1\r\nServer: Hikvision\r\nPublic: OPTIONS, DESCRIBE\r\n\r\n"},
		{name: "not http", prefix: "HTTP/", in: "SSH-2.0-x\r\n"},
		{name: "bad status", prefix: "HTTP/", in: "HTTP/1.1 abc OK\r\n\r\n"},
		{name: "short status", prefix: "HTTP/", in: "HTTP/1.1 20 OK\r\n\r\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, ok := ParseHTTPResponse([]byte(tt.in), tt.prefix)
			if ok != tt.ok {
				t.Fatalf("ok = %v", ok)
			}
			if !ok {
				return
			}
			scheme, realm := r.AuthScheme()
			if r.Status != tt.status || r.Header["server"] != tt.server || scheme != tt.scheme || realm != tt.realm ||
				r.IsCWMP(tt.port) != tt.cwmp || r.Header["public"] != tt.wantPublic {
				t.Fatalf("got status %d server %q auth %q/%q cwmp %v public %q", r.Status, r.Header["server"], scheme, realm, r.IsCWMP(tt.port), r.Header["public"])
			}
		})
	}
}

func TestParseGreeting(t *testing.T) {
	tests := []struct {
		name string
		in   string
		port uint16
		want Greeting
		ok   bool
	}{
		{"vsftpd", "220 (vsFTPd 3.0.3)\r\n", 21, Greeting{"ftp", "(vsFTPd 3.0.3)"}, true},
		{"smtp by word", "220 mail.example ESMTP Postfix\r\n", 2525, Greeting{"smtp", "mail.example ESMTP Postfix"}, true},
		{"smtp by port", "220 ready\r\n", 25, Greeting{"smtp", "ready"}, true},
		{"multi-line", "220-Welcome\r\n220 go\r\n", 21, Greeting{"ftp", "Welcome"}, true},
		{"other code", "421 busy\r\n", 21, Greeting{}, false},
		{"no separator", "2200\r\n", 21, Greeting{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := ParseGreeting([]byte(tt.in), tt.port)
			if ok != tt.ok || got != tt.want {
				t.Fatalf("got %+v, %v", got, ok)
			}
		})
	}
}

func TestParseConnack(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want Connack
		ok   bool
	}{
		{"accepted", "20020000", Connack{false, 0}, true},
		{"session present", "20020100", Connack{true, 0}, true},
		{"not authorized", "20020005", Connack{false, 5}, true},
		{"mqtt5 with properties", "2003008700", Connack{false, 0x87}, true},
		{"reserved flag bits", "20020200", Connack{}, false},
		{"not connack", "30020000", Connack{}, false},
		{"short", "2002", Connack{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := ParseConnack(mustHex(t, tt.in))
			if ok != tt.ok || got != tt.want {
				t.Fatalf("got %+v, %v", got, ok)
			}
		})
	}
}

func TestParseModbus(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want ModbusInfo
		ok   bool
	}{
		// vendor "Simens", product "S712", revision "v4.2"
		{"device id", "5347 0000 001c 01 2b0e 01 01 00 00 03 0006 53696d656e73 0104 53373132 0204 76342e32", ModbusInfo{Unit: 1, Vendor: "Simens", Product: "S712", Revision: "v4.2"}, true},
		{"illegal function exception", "5347 0000 0003 ff ab 01", ModbusInfo{Unit: 0xff, Exception: 1}, true},
		{"other exception", "5347 0000 0003 01 83 02", ModbusInfo{Unit: 1, Exception: 2}, true},
		{"object length past the end", "5347 0000 000c 01 2b0e 01 01 00 00 01 0009 4142", ModbusInfo{Unit: 1}, true},
		{"wrong transaction", "0001 0000 0003 ff ab 01", ModbusInfo{}, false},
		{"wrong protocol", "5347 0001 0003 ff ab 01", ModbusInfo{}, false},
		{"length too small", "5347 0000 0002 ff ab 01", ModbusInfo{}, false},
		{"not modbus", "4854 5450 2f31 2e31 2032", ModbusInfo{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := ParseModbus(mustHex(t, tt.in), 0x5347)
			if ok != tt.ok || got != tt.want {
				t.Fatalf("got %+v, %v; want %+v", got, ok, tt.want)
			}
		})
	}
}

func TestUDPParsers(t *testing.T) {
	tests := []struct {
		name   string
		parse  func([]byte, uint16) (string, bool)
		in     string
		id     uint16
		want   string
		wantOK bool
	}{
		{"snmp sysDescr", ParseSNMPResponse, "303402010104067075626c6963a22702025300020100020100301b301906082b06010201010100040d4c696e757820677720352e3130", 0x5300, "Linux gw 5.10", true},
		{"snmp other request id", ParseSNMPResponse, "303402010104067075626c6963a22702025301020100020100301b301906082b06010201010100040d4c696e757820677720352e3130", 0x5300, "", false},
		{"snmp other community", ParseSNMPResponse, "303402010104067075626c6963a22702025300020100020100301b301906082b06010201010100040d4c696e757820677720352e3130"[:14] + "71", 0x5300, "", false},
		{"coap 2.05 with links", ParseCoAPResponse, "624553005347c128ff3c2f73656e736f72732f74656d703e3b72743d2274656d706572617475726522", 0x5300, `2.05 </sensors/temp>;rt="temperature"`, true},
		{"coap reset", ParseCoAPResponse, "70005300", 0x5300, "reset", true},
		{"coap 4.04 separate response by token", ParseCoAPResponse, "528400095347", 0x5300, "4.04", true},
		{"coap foreign message", ParseCoAPResponse, "60455301", 0x5300, "", false},
		{"dns version.bind", ParseDNSResponse, "5300840000010001000000000776657273696f6e0462696e640000100003c00c0010000300000000000d0c646e736d6173712d322e3839", 0x5300, "rcode 0 dnsmasq-2.89", true},
		{"dns refused", ParseDNSResponse, "530081050001000000000000", 0x5300, "rcode 5", true},
		{"dns a query not a response", ParseDNSResponse, "530001000001000000000000", 0x5300, "", false},
		{"ntp server", ParseNTPResponse, "240200000000000000000000000000000000000000000000000000000000530000000000000000000000000000000000", 0x5300, "stratum 2, v4", true},
		{"ntp not echoing our id", ParseNTPResponse, "240200000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000", 0x5300, "", false},
		{"ntp mode 6 version", ParseNTPReadVar, "16825347000000000000003476657273696f6e3d226e74706420342e322e3870313540312e333732382d6f222c2070726f636573736f723d227838365f363422", 0x5347, "ntpd 4.2.8p15@1.3728-o", true},
		{"mqtt-sn gwinfo", ParseMQTTSNResponse, "030201", 0, "gateway 1", true},
		{"mqtt-sn advertise", ParseMQTTSNResponse, "0500070384", 0, "gateway 7", true},
		{"mqtt-sn other", ParseMQTTSNResponse, "030401", 0, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := tt.parse(mustHex(t, tt.in), tt.id)
			if ok != tt.wantOK || got != tt.want {
				t.Fatalf("got %q, %v; want %q, %v", got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

// TestProbeRequestsDecodeInTshark has Wireshark's dissectors read every
// request the scanner sends: a probe a real device would not understand
// is a port we would miss.
func TestProbeRequestsDecodeInTshark(t *testing.T) {
	for _, tool := range []string{"tshark", "text2pcap"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("needs %s", tool)
		}
	}
	want := map[string][]string{
		"snmp_get_sysdescr":       {"community: public", "get-request", "1.3.6.1.2.1.1.1.0"},
		"coap_get_wellknown_core": {"Confirmable, GET", "Uri-Path: .well-known", "Uri-Path: core"},
		"dns_version_bind":        {"version.bind: type TXT, class CH"},
		"ntp_client":              {"NTP Version 4, client"},
		"ntp_readvar":             {"NTP Version 2, control", "Response bit: Request"},
		"mqttsn_searchgw":         {"Search Gateway"},
		"mqtt_connect":            {"Connect Command", "MQTT v3.1.1", "Client ID: simguard-audit"},
		"modbus_read_device_id":   {"Read Device Identification", "Basic Device Identification"},
	}
	dir := t.TempDir()
	for _, p := range probeRequests {
		t.Run(p.name, func(t *testing.T) {
			var dump bytes.Buffer
			for i := 0; i < len(p.b); i += 16 {
				fmt.Fprintf(&dump, "%06x", i)
				for _, c := range p.b[i:min(i+16, len(p.b))] {
					fmt.Fprintf(&dump, " %02x", c)
				}
				dump.WriteString("\n")
			}
			in, pcap := filepath.Join(dir, p.name+".txt"), filepath.Join(dir, p.name+".pcap")
			os.WriteFile(in, dump.Bytes(), 0o644)
			flag := "-u"
			if p.proto == "tcp" {
				flag = "-T"
			}
			if out, err := exec.Command("text2pcap", "-q", flag, "40000,"+strconv.Itoa(p.port), in, pcap).CombinedOutput(); err != nil {
				t.Fatalf("text2pcap: %v: %s", err, out)
			}
			out, err := exec.Command("tshark", "-r", pcap, "-V", "-d", "tcp.port==1883,mqtt", "-d", "udp.port==1883,mqttsn").CombinedOutput()
			if err != nil {
				t.Fatalf("tshark: %v: %s", err, out)
			}
			text := string(out)
			if strings.Contains(text, "Malformed") {
				t.Errorf("tshark calls it malformed:\n%s", text)
			}
			for _, w := range want[p.name] {
				if !strings.Contains(text, w) {
					t.Errorf("tshark output lacks %q:\n%s", w, text)
				}
			}
		})
	}
}
