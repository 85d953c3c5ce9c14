//go:build linux

package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/simguard/simguard"
	"github.com/simguard/simguard/demo"
	"github.com/simguard/simguard/scan/scanlab"
)

// Issue 9's acceptance through the real product. The test builds a lab of
// network namespaces with real daemons, then runs itself again inside the
// lab's scanner namespace ("inner" half): there it starts serve with the
// scan feature on, registers the lab devices as SIMs through the CLI and
// drives everything through the CLI and the API, with nmap as the oracle.
// Every packet stays inside the lab: the API on the scanner namespace's
// loopback, the scans on the lab's veth links.

const envLabE2E = "SGSCAN_E2E_LAB"

// labSpec tells the inner half about the lab.
type labSpec struct {
	Hosts []scanlab.Host `json:"hosts"`
}

func TestScanLabEndToEnd(t *testing.T) {
	scanlab.RunChild() // the lab's helper servers are children of this test
	if spec := os.Getenv(envLabE2E); spec != "" {
		var ls labSpec
		if err := json.Unmarshal([]byte(spec), &ls); err != nil {
			t.Fatal(err)
		}
		labInner(t, ls)
		return
	}
	for _, tool := range []string{"nmap", "/usr/sbin/sshd", "/usr/sbin/telnetd", "inetutils-inetd", "mosquitto", "openssl", "ssh-keygen", "nft", "nc"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("the scan lab needs %s: %v", tool, err)
		}
	}
	lab := scanlab.New(t, 2)
	lab.ChildRun = "^TestScanLabEndToEnd$"
	dev1, dev2 := lab.Hosts[0], lab.Hosts[1]
	at := netip.AddrPortFrom

	// dev1: a badly configured gateway with the account admin/admin
	// (only inside its namespace), SSH, Telnet, a web UI with basic auth
	// admin:admin and an anonymous MQTT broker.
	lab.AddLoginUser(dev1.NS, "admin", "admin")
	lab.StartSSHD(dev1.NS, at(dev1.Addr, 22))
	lab.StartTelnetd(dev1.NS, at(dev1.Addr, 23))
	lab.StartChild(dev1.NS, "httpd", at(dev1.Addr, 80).String(), "admin", "admin")
	lab.StartMosquitto(dev1.NS, []string{"listener 1883 " + dev1.Addr.String(), "allow_anonymous true"}, at(dev1.Addr, 1883))
	lab.WaitTCP(at(dev1.Addr, 80), 10*time.Second)
	// dev2: a quiet device: one unknown service, one port its own
	// firewall drops; every other port is closed.
	lab.StartChild(dev2.NS, "listen", at(dev2.Addr, 4444).String(), at(dev2.Addr, 9999).String())
	lab.WaitTCP(at(dev2.Addr, 4444), 10*time.Second)
	if _, err := lab.Run(dev2.NS, "nft", "add table inet sgscan; add chain inet sgscan in { type filter hook input priority 0; }; add rule inet sgscan in tcp dport 9999 drop"); err != nil {
		t.Fatal(err)
	}

	spec, _ := json.Marshal(labSpec{Hosts: lab.Hosts})
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := lab.Command(lab.Scanner, exe, "-test.run=^TestScanLabEndToEnd$", "-test.v", "-test.count=1", "-test.timeout=8m")
	cmd.Env = append(os.Environ(), envLabE2E+"="+string(spec))
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err = cmd.Run()
	t.Logf("inside the lab:\n%s", out.String())
	if err != nil || !strings.Contains(out.String(), "--- PASS: TestScanLabEndToEnd") {
		t.Fatalf("the inner half failed: %v", err)
	}
}

// labInner runs in the scanner namespace.
func labInner(t *testing.T, ls labSpec) {
	dev1, dev2 := ls.Hosts[0], ls.Hosts[1]
	targets := []string{dev1.Addr.String(), dev2.Addr.String()}
	s := startScanServer(t, t.TempDir(), scanConfig{
		Enabled: true, AuditRanges: []string{scanlab.Range.String()},
		PPS: 100000, Concurrency: 512, ConnectTimeout: 2 * time.Second,
	})
	defer s.stop()

	// The lab devices as SIMs with static IPs, in a group whose policy
	// lets the operators' network reach SSH, Telnet, the web UI and MQTT.
	group := "name: lab-devices\npolicy:\n  services: [data]\n  inbound:\n    - cidr: 203.0.113.0/24\n      proto: tcp\n      ports: [\"22-23\", \"80\", \"1883\"]\n"
	file := filepath.Join(t.TempDir(), "lab.yaml")
	os.WriteFile(file, []byte(group), 0o600)
	s.mustCLI(t, "", "group", "apply", "-f", file, "--yes")
	s.mustCLI(t, fmt.Sprintf("iccid,imsi,group,state,static_ip\n%s,%s,lab-devices,active,%s\n%s,%s,lab-devices,active,%s\n",
		demo.ICCID(0), demo.IMSI(0), dev1.Addr, demo.ICCID(1), demo.IMSI(1), dev2.Addr), "sim", "import", "-")

	// The oracle, then simguard through the API.
	oracle := nmapOpen(t, targets)
	var rep simguard.ScanReport
	out := s.mustCLI(t, "", append([]string{"scan", "--ports", "all", "--udp", "--credentials", "--wait", "--format", "json"}, targets...)...)
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("scan report: %v\n%s", err, out)
	}
	t.Logf("scan %d: %+v in %s", rep.Run.ID, rep.Run.Stats, rep.Run.FinishedAt.Sub(rep.Run.StartedAt))
	got := map[netip.AddrPort]simguard.Finding{}
	for _, f := range rep.Findings {
		if f.Proto == "tcp" {
			got[netip.AddrPortFrom(f.Target, f.Port)] = f
		}
	}
	for ap := range oracle {
		if _, ok := got[ap]; !ok {
			t.Errorf("missed %s, which nmap found open", ap)
		}
	}
	for ap := range got {
		if !oracle[ap] {
			t.Errorf("reported %s, which nmap did not find open", ap)
		}
	}
	if len(oracle) != 5 {
		t.Errorf("nmap found %d open ports, the lab has 5: %v", len(oracle), oracle)
	}
	simOf := map[netip.Addr]int64{}
	for i, ref := range []string{demo.ICCID(0), demo.ICCID(1)} {
		var sim struct{ ID int64 }
		json.Unmarshal([]byte(s.mustCLI(t, "", "sim", "get", ref, "--json")), &sim)
		simOf[ls.Hosts[i].Addr] = sim.ID
	}
	cases := []struct {
		port      uint16
		service   string
		plaintext bool
		cred      string
		severity  simguard.Severity
	}{
		{22, "ssh", false, "admin", simguard.SeverityCritical},
		{23, "telnet", true, "admin", simguard.SeverityCritical},
		{80, "http", true, "admin", simguard.SeverityCritical},
		{1883, "mqtt", true, "", simguard.SeverityHigh},
	}
	for _, c := range cases {
		f, ok := got[netip.AddrPortFrom(dev1.Addr, c.port)]
		cred := ""
		if len(f.Credentials) > 0 {
			cred = f.Credentials[0].Username
		}
		if !ok || f.Service != c.service || f.Plaintext != c.plaintext || cred != c.cred || f.Severity != c.severity ||
			f.SIMID != simOf[dev1.Addr] || f.Group != "lab-devices" || f.FirstSeen.IsZero() || f.State != simguard.FindingOpen {
			t.Errorf("%s/%d: got %+v; want service %s, plaintext %v, default login %q, severity %s, on SIM %d",
				dev1.Addr, c.port, f, c.service, c.plaintext, c.cred, c.severity, simOf[dev1.Addr])
		}
	}
	if f := got[netip.AddrPortFrom(dev2.Addr, 4444)]; f.Service != "unknown" || f.SIMID != simOf[dev2.Addr] || !f.HasIssue(simguard.IssuePortNotAllowed) {
		t.Errorf("dev2 4444: %+v", f)
	}
	for _, f := range rep.Findings {
		if f.Target == dev2.Addr && f.Port == 9999 {
			t.Errorf("reported the firewalled port 9999: %+v", f)
		}
	}

	// Findings are kept per SIM, with first and last seen.
	out = s.mustCLI(t, "", "findings", "--sim", demo.ICCID(0), "--json")
	var mine []simguard.Finding
	json.Unmarshal([]byte(out), &mine)
	if len(mine) != 4 || mine[0].LastSeen.IsZero() || mine[0].FirstSeen.IsZero() {
		t.Errorf("findings of dev1's SIM: %s", out)
	}

	// A port opens on dev2; the next scan says so, and so does the event
	// log.
	nc := exec.Command("ip", "netns", "exec", dev2.NS, "nc", "-lk", dev2.Addr.String(), "7070")
	nc.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := nc.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { syscall.Kill(-nc.Process.Pid, syscall.SIGKILL); nc.Wait() }()
	waitOpen(t, netip.AddrPortFrom(dev2.Addr, 7070))
	var rep2 simguard.ScanReport
	out = s.mustCLI(t, "", append([]string{"scan", "--ports", "all", "--wait", "--format", "json"}, targets...)...)
	if err := json.Unmarshal([]byte(out), &rep2); err != nil {
		t.Fatalf("second report: %v\n%s", err, out)
	}
	if rep2.Diff.PrevScanID != rep.Run.ID || len(rep2.Diff.Opened) != 1 || rep2.Diff.Opened[0].Port != 7070 || len(rep2.Diff.Closed) != 0 {
		t.Errorf("diff of the second scan: %+v", rep2.Diff)
	}
	// The event writer stores in batches (every 100 ms): wait for it.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		out = s.mustCLI(t, "", "events", "--type", "scan.port_opened", "--since", "1h")
		if strings.Contains(out, "scan.port_opened") && strings.Contains(out, "port=7070") && strings.Contains(out, fmt.Sprintf("sim=%d", simOf[dev2.Addr])) {
			break
		}
		if time.Now().After(deadline) {
			t.Errorf("simguard events:\n%s", out)
			break
		}
	}

	// Reports to download.
	csvOut := s.mustCLI(t, "", "scan", "show", fmt.Sprint(rep.Run.ID), "--format", "csv")
	rows, err := csv.NewReader(strings.NewReader(csvOut)).ReadAll()
	if err != nil || len(rows) != 1+len(rep.Findings) || !slices.Equal(rows[0], simguard.FindingsCSVHeader) {
		t.Errorf("CSV report (%v):\n%s", err, csvOut)
	}
	var again simguard.ScanReport
	if err := json.Unmarshal([]byte(s.mustCLI(t, "", "scan", "show", fmt.Sprint(rep.Run.ID), "--format", "json")), &again); err != nil ||
		len(again.Findings) != len(rep.Findings) {
		t.Errorf("JSON report: %v, %d findings", err, len(again.Findings))
	}

	// Remediation: close Telnet in the group's policy.
	var telnet simguard.Finding
	json.Unmarshal([]byte(s.mustCLI(t, "", "findings", "--target", dev1.Addr.String(), "--kind", "plaintext_login", "--json")), &mine)
	for _, f := range mine {
		if f.Port == 23 {
			telnet = f
		}
	}
	if telnet.ID == 0 || telnet.Remediation == nil {
		t.Fatalf("no telnet finding to remediate: %+v", mine)
	}
	out = s.mustCLI(t, "", "findings", "remediate", fmt.Sprint(telnet.ID))
	if !strings.Contains(out, "closed inbound tcp/23 in group lab-devices (now version 2)") {
		t.Errorf("remediate:\n%s", out)
	}
	out = s.mustCLI(t, "", "group", "get", "lab-devices")
	if !strings.Contains(out, "# version 2") || !strings.Contains(out, "- \"22\"") || strings.Contains(out, "22-23") {
		t.Errorf("group after remediation:\n%s", out)
	}
	out = s.mustCLI(t, "", "audit", "log", "--object", "group:lab-devices")
	if !strings.Contains(out, "group.remediate") || !strings.Contains(out, "bootstrap-admin") {
		t.Errorf("audit log of the group:\n%s", out)
	}
	if out = s.mustCLI(t, "", "audit", "log", "--action", "scan.start"); strings.Count(out, "scan.start") != 2 {
		t.Errorf("audit log of the scans:\n%s", out)
	}
}

// nmapOpen runs the oracle: nmap -p- -T4 from this namespace.
func nmapOpen(t *testing.T, targets []string) map[netip.AddrPort]bool {
	t.Helper()
	out, err := exec.Command("nmap", append([]string{"-p-", "-T4", "-n", "-Pn", "-oX", "-"}, targets...)...).Output()
	if err != nil {
		t.Fatalf("nmap: %v", err)
	}
	open, err := scanlab.ParseNmapXML(out)
	if err != nil {
		t.Fatal(err)
	}
	return open
}

func waitOpen(t *testing.T, ap netip.AddrPort) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for exec.Command("nc", "-z", "-w", "1", ap.Addr().String(), fmt.Sprint(ap.Port())).Run() != nil {
		if time.Now().After(deadline) {
			t.Fatalf("%s did not open", ap)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
