package diameter

import (
	"encoding/binary"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/simguard/simguard"
	"github.com/simguard/simguard/diameter/wire"
)

// TestTsharkDecodesOurAnswers: Wireshark's Diameter dissector (tshark)
// reads the CEA and ECA simguard sends without complaint and finds what
// we meant in them.
func TestTsharkDecodesOurAnswers(t *testing.T) {
	tshark, err := exec.LookPath("tshark")
	if err != nil {
		t.Skip("tshark is not installed")
	}
	h := startServer(t, Config{}, []simguard.DiameterPeer{localPeer(mmeHost)}, testPolicy(t, 1))
	cl := dial(t, h.srv.Addr(), mmeHost)
	cl.write(cl.request(wire.CmdCapabilitiesExchange, wire.AppCommon, vsai(wire.AppS13)))
	cea := readRaw(t, cl)
	cl.write(ecr(cl, testIMSI(0), imeiOther, ""))
	eca := readRaw(t, cl)

	pcap := filepath.Join(t.TempDir(), "answers.pcap")
	writePcap(t, pcap, cea, eca)
	out, err := exec.Command(tshark, "-r", pcap, "-V", "-d", "tcp.port==3868,diameter").CombinedOutput()
	if err != nil {
		t.Fatalf("tshark: %v\n%s", err, out)
	}
	text := string(out)
	for _, want := range []string{
		"Command Code: Capabilities-Exchange (257)", "Result-Code: DIAMETER_SUCCESS (2001)", "Auth-Application-Id: 3GPP S13",
		"Command Code: 3GPP-ME-Identity-Check (324)", "Equipment-Status: BLACKLISTED (1)", "Origin-Host: eir.test.example",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("tshark output lacks %q", want)
		}
	}
	if strings.Contains(text, "Malformed") || strings.Contains(text, "Expert Info (Error") {
		t.Errorf("tshark finds our answers malformed:\n%s", text)
	}
	if t.Failed() {
		t.Logf("tshark output:\n%s", text)
	}
}

func readRaw(t *testing.T, c *client) []byte {
	t.Helper()
	c.nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	hdr := make([]byte, wire.HeaderLen)
	if _, err := io.ReadFull(c.nc, hdr); err != nil {
		t.Fatal(err)
	}
	n, err := wire.PeekLength(hdr)
	if err != nil {
		t.Fatal(err)
	}
	b := append(hdr, make([]byte, n-wire.HeaderLen)...)
	if _, err := io.ReadFull(c.nc, b[wire.HeaderLen:]); err != nil {
		t.Fatal(err)
	}
	return b
}

// writePcap wraps each payload in Ethernet/IPv4/TCP from port 3868 to
// 40000 (sequence numbers continuing), so tshark can dissect it.
func writePcap(t *testing.T, path string, payloads ...[]byte) {
	t.Helper()
	var b []byte
	b = binary.LittleEndian.AppendUint32(b, 0xa1b2c3d4)
	b = binary.LittleEndian.AppendUint16(b, 2)
	b = binary.LittleEndian.AppendUint16(b, 4)
	b = binary.LittleEndian.AppendUint32(b, 0)
	b = binary.LittleEndian.AppendUint32(b, 0)
	b = binary.LittleEndian.AppendUint32(b, 65535)
	b = binary.LittleEndian.AppendUint32(b, 1) // Ethernet
	seq := uint32(1000)
	for i, p := range payloads {
		var pkt []byte
		pkt = append(pkt, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 1, 0x08, 0x00)
		ipLen := 20 + 20 + len(p)
		ip := []byte{0x45, 0, byte(ipLen >> 8), byte(ipLen), 0, 0, 0x40, 0, 64, 6, 0, 0, 127, 0, 0, 1, 127, 0, 0, 2}
		var sum uint32
		for j := 0; j < 20; j += 2 {
			sum += uint32(ip[j])<<8 | uint32(ip[j+1])
		}
		for sum > 0xffff {
			sum = sum&0xffff + sum>>16
		}
		binary.BigEndian.PutUint16(ip[10:], ^uint16(sum))
		pkt = append(pkt, ip...)
		tcp := make([]byte, 20)
		binary.BigEndian.PutUint16(tcp[0:], 3868)
		binary.BigEndian.PutUint16(tcp[2:], 40000)
		binary.BigEndian.PutUint32(tcp[4:], seq)
		binary.BigEndian.PutUint32(tcp[8:], 1)
		tcp[12] = 5 << 4
		tcp[13] = 0x18 // PSH, ACK
		binary.BigEndian.PutUint16(tcp[14:], 65535)
		pkt = append(pkt, tcp...)
		pkt = append(pkt, p...)
		seq += uint32(len(p))
		b = binary.LittleEndian.AppendUint32(b, uint32(1700000000+i))
		b = binary.LittleEndian.AppendUint32(b, 0)
		b = binary.LittleEndian.AppendUint32(b, uint32(len(pkt)))
		b = binary.LittleEndian.AppendUint32(b, uint32(len(pkt)))
		b = append(b, pkt...)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}
