package pdu

import (
	"bufio"
	"bytes"
	"net"
	"os/exec"
	"strconv"
	"testing"
	"time"
)

// netSMPPOrder is the order in which testdata/netsmpp_goldens.pl sends.
// bind_transmitter_resp_error and submit_sm_resp_error are missing: Net::SMPP
// always sends a body, even with an error status.
var netSMPPOrder = []string{
	"bind_transmitter", "bind_receiver", "bind_transceiver", "bind_transceiver_resp", "outbind",
	"unbind", "unbind_resp", "enquire_link", "enquire_link_resp", "generic_nack",
	"submit_sm_text", "submit_sm_ota", "submit_sm_payload", "submit_sm_resp",
	"deliver_sm_receipt", "deliver_sm_mo", "deliver_sm_resp", "data_sm", "data_sm_resp", "query_sm",
}

// TestNetSMPPAgreesWithGoldens checks the golden files against an encoder
// written by someone else: Perl Net::SMPP builds the same PDUs and sends
// them over TCP.
func TestNetSMPPAgreesWithGoldens(t *testing.T) {
	if _, err := exec.LookPath("perl"); err != nil {
		t.Skip("perl not installed")
	}
	if err := exec.Command("perl", "-MNet::SMPP", "-e", "1").Run(); err != nil {
		t.Skip("Net::SMPP not installed (Debian libnet-smpp-perl)")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	cmd := exec.Command("perl", "testdata/netsmpp_goldens.pl", strconv.Itoa(ln.Addr().(*net.TCPAddr).Port))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := cmd.Wait(); err != nil {
			t.Errorf("perl: %v\n%s", err, stderr.String())
		}
	}()
	ln.(*net.TCPListener).SetDeadline(time.Now().Add(20 * time.Second))
	c, err := ln.Accept()
	if err != nil {
		t.Fatalf("accept: %v\n%s", err, stderr.String())
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(20 * time.Second))
	r := bufio.NewReader(c)
	for _, name := range netSMPPOrder {
		frame, err := ReadFrame(r, nil, DefaultMaxLen)
		if err != nil {
			t.Fatalf("%s: %v\n%s", name, err, stderr.String())
		}
		if want := readGolden(t, name); !bytes.Equal(frame, want) {
			t.Errorf("%s: Net::SMPP sent\n%x\ngolden is\n%x", name, frame, want)
		}
		if _, err := Decode(frame); err != nil {
			t.Errorf("%s: decode: %v", name, err)
		}
	}
}
