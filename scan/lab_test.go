//go:build linux

package scan_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net/netip"
	"os"
	"os/exec"
	"slices"
	"testing"
	"time"

	"github.com/simguard/simguard"
	"github.com/simguard/simguard/scan"
	"github.com/simguard/simguard/scan/scanlab"
)

func TestMain(m *testing.M) {
	scanlab.RunChild()
	os.Exit(m.Run())
}

// TestLabAcceptance is issue 9's acceptance test: lab devices in network
// namespaces run real daemons (OpenSSH with a default-password account,
// inetutils telnetd with the same, an HTTP server with basic auth
// admin:admin, Mosquitto on 1883 and on 8883 with TLS, a silent service,
// a firewalled port, a CoAP sensor), nmap scans them as the reference,
// and the scanner must find exactly nmap's open ports, identify them,
// find the default logins and flag the plaintext protocols.
func TestLabAcceptance(t *testing.T) {
	for _, tool := range []string{"nmap", "/usr/sbin/sshd", "/usr/sbin/telnetd", "inetutils-inetd", "mosquitto", "openssl", "ssh-keygen", "nft", "nc"} {
		if _, err := execLookPath(tool); err != nil {
			t.Skipf("lab needs %s: %v", tool, err)
		}
	}
	lab := scanlab.New(t, 2)
	dev1, dev2 := lab.Hosts[0], lab.Hosts[1]
	at := func(a netip.Addr, port uint16) netip.AddrPort { return netip.AddrPortFrom(a, port) }

	// dev1: a badly configured gateway. The account admin/admin exists
	// only inside dev1's namespace (see AddLoginUser).
	lab.AddLoginUser(dev1.NS, "admin", "admin")
	lab.StartSSHD(dev1.NS, at(dev1.Addr, 22))
	lab.StartTelnetd(dev1.NS, at(dev1.Addr, 23))
	lab.StartChild(dev1.NS, "httpd", at(dev1.Addr, 80).String(), "admin", "admin")
	lab.StartMosquitto(dev1.NS, []string{"listener 1883 " + dev1.Addr.String(), "allow_anonymous true"}, at(dev1.Addr, 1883))
	lab.WaitTCP(at(dev1.Addr, 80), 10*time.Second)

	// dev2: a better one: MQTT over TLS only, an unknown silent service, a
	// listening port that the device's firewall drops, a CoAP sensor.
	cert, key := selfSigned(t)
	lab.StartMosquitto(dev2.NS, []string{
		"listener 8883 " + dev2.Addr.String(),
		"certfile " + lab.WriteFile("cert.pem", cert),
		"keyfile " + lab.WriteFile("key.pem", key),
		"allow_anonymous false",
		"password_file " + lab.WriteFile("passwd", nil),
	}, at(dev2.Addr, 8883))
	lab.StartChild(dev2.NS, "listen", at(dev2.Addr, 4444).String(), at(dev2.Addr, 9999).String())
	lab.StartChild(dev2.NS, "coap", at(dev2.Addr, 5683).String())
	lab.WaitTCP(at(dev2.Addr, 4444), 10*time.Second)
	if _, err := lab.Run(dev2.NS, "nft", "add table inet sgscan; add chain inet sgscan in { type filter hook input priority 0; }; add rule inet sgscan in tcp dport 9999 drop"); err != nil {
		t.Fatal(err)
	}

	ref := lab.Nmap([]string{"-p-", "-T4", "-n", "-Pn"}, dev1.Addr, dev2.Addr)
	t.Logf("nmap: %d open ports in %s", len(ref.Open), ref.Elapsed)

	out := lab.Scan(scanlab.ScanInput{
		Config: scan.Config{
			AuditRanges:    []netip.Prefix{scanlab.Range},
			Rate:           200000,
			Concurrency:    512,
			ConnectTimeout: 2 * time.Second, // generous: CI runs other tests beside this one
			BannerWait:     time.Second,
			ProbeTimeout:   5 * time.Second,
			UDPTimeout:     time.Second,
		},
		Request: scan.Request{
			TenantID: 1,
			// The provider's admin audits the whole range.
			Actor:       simguard.Actor{TenantID: 1, Role: simguard.RoleAdmin, Name: "lab", Provider: true},
			Targets:     []string{dev1.Addr.String(), dev2.Addr.String()},
			Ports:       "all",
			UDP:         true,
			Credentials: true,
		},
	})
	if out.Error != "" {
		t.Fatalf("scan: %s", out.Error)
	}
	rep := out.Report
	t.Logf("simguard: %d findings in %.2fs, stats %+v", len(rep.Findings), out.Seconds, rep.Run.Stats)

	got := map[netip.AddrPort]simguard.Finding{}
	for _, f := range rep.Findings {
		if f.Proto == "tcp" {
			got[netip.AddrPortFrom(f.Target, f.Port)] = f
		}
	}
	for ap := range ref.Open {
		if _, ok := got[ap]; !ok {
			t.Errorf("missed %s, which nmap found open", ap)
		}
	}
	for ap := range got {
		if !ref.Open[ap] {
			t.Errorf("reported %s, which nmap did not find open", ap)
		}
	}
	if want := 6; len(ref.Open) != want {
		t.Errorf("nmap found %d open TCP ports, the lab has %d: %v", len(ref.Open), want, ref.Open)
	}

	type want struct {
		service   string
		tls       bool
		plaintext bool
		cred      string // username of the default credential, "" none
		issues    []simguard.IssueKind
		severity  simguard.Severity
	}
	cases := map[string]struct {
		ap    netip.AddrPort
		proto string
		want  want
	}{
		"ssh default password":   {at(dev1.Addr, 22), "tcp", want{"ssh", false, false, "admin", []simguard.IssueKind{simguard.IssueDefaultCredential}, simguard.SeverityCritical}},
		"telnet default login":   {at(dev1.Addr, 23), "tcp", want{"telnet", false, true, "admin", []simguard.IssueKind{simguard.IssuePlaintextLogin, simguard.IssueDefaultCredential}, simguard.SeverityCritical}},
		"http basic admin:admin": {at(dev1.Addr, 80), "tcp", want{"http", false, true, "admin", []simguard.IssueKind{simguard.IssuePlaintextLogin, simguard.IssueDefaultCredential}, simguard.SeverityCritical}},
		"mqtt anonymous":         {at(dev1.Addr, 1883), "tcp", want{"mqtt", false, true, "", []simguard.IssueKind{simguard.IssuePlaintextProtocol, simguard.IssueAnonymousAccess}, simguard.SeverityHigh}},
		"mqtt over tls":          {at(dev2.Addr, 8883), "tcp", want{"mqtts", true, false, "", nil, simguard.SeverityInfo}},
		"silent service":         {at(dev2.Addr, 4444), "tcp", want{"unknown", false, false, "", nil, simguard.SeverityInfo}},
		"coap sensor":            {at(dev2.Addr, 5683), "udp", want{"coap", false, true, "", []simguard.IssueKind{simguard.IssuePlaintextProtocol}, simguard.SeverityMedium}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			i := slices.IndexFunc(rep.Findings, func(f simguard.Finding) bool {
				return f.Target == tc.ap.Addr() && f.Port == tc.ap.Port() && f.Proto == tc.proto
			})
			if i < 0 {
				t.Fatalf("no finding for %s/%s", tc.ap, tc.proto)
			}
			f := rep.Findings[i]
			cred := ""
			if len(f.Credentials) > 0 {
				cred = f.Credentials[0].Username
			}
			var kinds []simguard.IssueKind
			for _, is := range f.Issues {
				kinds = append(kinds, is.Kind)
			}
			g := want{f.Service, f.TLS, f.Plaintext, cred, kinds, f.Severity}
			if g.service != tc.want.service || g.tls != tc.want.tls || g.plaintext != tc.want.plaintext ||
				g.cred != tc.want.cred || !slices.Equal(g.issues, tc.want.issues) || g.severity != tc.want.severity {
				t.Errorf("finding %s/%s:\n got  %+v\n want %+v\n full %+v", tc.ap, tc.proto, g, tc.want, f)
			}
		})
	}
	for _, f := range rep.Findings {
		if f.Target == dev2.Addr && f.Port == 9999 {
			t.Errorf("reported the firewalled port 9999: %+v", f)
		}
	}
	if i := slices.IndexFunc(rep.Findings, func(f simguard.Finding) bool { return f.Port == 22 }); i >= 0 {
		if p := rep.Findings[i].Product; len(p) < 7 || p[:7] != "OpenSSH" {
			t.Errorf("ssh product = %q, want OpenSSH…", p)
		}
	}
}

func selfSigned(t *testing.T) (certPEM, keyPEM []byte) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "lab-device"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	kd, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kd})
}

func execLookPath(name string) (string, error) { return exec.LookPath(name) }
