package main

import (
	"encoding/json"
	"fmt"
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/simguard/simguard"
	"github.com/simguard/simguard/demo"
)

// TestScanNamesDevicesByTheirRADIUSSession: a device with a dynamic
// address is known only by its data session. radclient opens one for a
// demo meter (Framed-IP-Address 127.0.0.3) through serve's RADIUS server;
// a scan of that address through the CLI names the meter's SIM and group.
func TestScanNamesDevicesByTheirRADIUSSession(t *testing.T) {
	if _, err := exec.LookPath("radclient"); err != nil {
		t.Skip("radclient not installed (Debian package freeradius-utils)")
	}
	const secret = "scan-shared-secret"
	ln, err := net.Listen("tcp", "127.0.0.3:0")
	if err != nil {
		t.Skipf("no 127.0.0.3 on this host: %v", err)
	}
	defer ln.Close()
	go acceptAndClose(ln)
	port := ln.Addr().(*net.TCPAddr).Port

	cfg := defaultServeConfig()
	cfg.Data, cfg.Listen, cfg.Demo = t.TempDir(), "127.0.0.1:0", true
	cfg.RADIUS.Enabled = true
	cfg.RADIUS.AuthAddrs, cfg.RADIUS.AcctAddrs = []string{"127.0.0.1:0"}, []string{"127.0.0.1:0"}
	cfg.RADIUS.RecheckInterval = -1
	cfg.Scan = scanConfig{Enabled: true, AuditRanges: []string{"127.0.0.0/8"}, ConnectTimeout: time.Second}
	s := startServerConfig(t, cfg)
	defer s.stop()
	cp := s.cp
	s.mustCLI(t, secret+"\n", "radius", "nas", "add", "--name", "pgw-scan", "--prefix", "127.0.0.1")
	start := []string{"Acct-Status-Type = Start", "Acct-Session-Id = scan-1", "User-Name = " + demo.IMSI(1),
		"3GPP-IMSI = " + demo.IMSI(1), "3GPP-IMEISV = " + demo.IMEI(1) + "01", "Called-Station-Id = meters.iot",
		"3GPP-RAT-Type = 8", "3GPP-SGSN-MCC-MNC = 00101", "Framed-IP-Address = 127.0.0.3"}
	var res string
	deadline := time.Now().Add(10 * time.Second)
	for { // the NAS client list reloads asynchronously
		res = radclientRun(t, cp.radius.AcctAddrs()[0].String(), "acct", secret, start)
		if strings.Contains(res, "Accounting-Response") || time.Now().After(deadline) {
			break
		}
	}
	if !strings.Contains(res, "Accounting-Response") {
		t.Fatalf("Accounting-Start not answered:\n%s", res)
	}
	var sim struct{ ID int64 }
	json.Unmarshal([]byte(s.mustCLI(t, "", "sim", "get", demo.IMSI(1), "--json")), &sim)

	var rep simguard.ScanReport
	if err := json.Unmarshal([]byte(s.mustCLI(t, "", "scan", "127.0.0.3", "--ports", fmt.Sprint(port), "--wait", "--format", "json")), &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Findings) != 1 || rep.Findings[0].SIMID != sim.ID || sim.ID == 0 || rep.Findings[0].Group != "smart-meters" {
		t.Fatalf("the session's device was not named: SIM %d, findings %+v", sim.ID, rep.Findings)
	}
}
