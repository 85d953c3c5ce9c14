package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/simguard/simguard"
	"github.com/simguard/simguard/demo"
	"github.com/simguard/simguard/notify"
)

// TestDetectRADIUSAcceptance is issue 8's acceptance test: radclient sends
// a burst of Access-Requests with wrong IMEIs for one SIM, the brute-force
// rule fires, the SIM is suspended automatically (audited as the rule),
// the next Access-Request for it is rejected, and a webhook receiver got
// the signed alert. Time to detect is measured from the first offending
// request to the alert.
func TestDetectRADIUSAcceptance(t *testing.T) {
	if _, err := exec.LookPath("radclient"); err != nil {
		t.Skip("radclient not installed (Debian package freeradius-utils)")
	}
	const secret, hookSecret = "acceptance-secret", "acceptance-webhook-key"
	var mu sync.Mutex
	var alerts []simguard.Alert
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if !notify.Verify(hookSecret, body, r.Header.Get(notify.SignatureHeader)) {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		var n simguard.AlertNotice
		if err := json.Unmarshal(body, &n); err == nil {
			mu.Lock()
			alerts = append(alerts, n.Alert)
			mu.Unlock()
		}
	}))
	defer hook.Close()

	cfg := defaultServeConfig()
	cfg.Data, cfg.Listen, cfg.Demo = t.TempDir(), "127.0.0.1:0", true
	cfg.RADIUS.Enabled = true
	cfg.RADIUS.AuthAddrs, cfg.RADIUS.AcctAddrs = []string{"127.0.0.1:0"}, []string{"127.0.0.1:0"}
	cfg.RADIUS.RecheckInterval = -1
	cfg.Detect.Webhooks = []detectWebhook{{Name: "soc", URL: hook.URL, Secret: hookSecret, Kinds: []string{"opened"}}}
	s := startServerConfig(t, cfg)
	defer s.stop()
	cp, ctx := s.cp, context.Background()
	if code, o := s.cli(t, s.token, secret+"\n", "radius", "nas", "add", "--name", "pgw-acceptance", "--prefix", "127.0.0.1"); code != 0 {
		t.Fatalf("radius nas add: exit %d\n%s", code, o)
	}
	auth := cp.radius.AuthAddrs()[0].String()

	// Demo meter 5 is locked to its device; the same model with another
	// serial number is a different device.
	imsi, imeisv := demo.IMSI(5), demo.IMEI(5)+"01"
	request := func(imeisv string) []string {
		return []string{"User-Name = " + imsi, "3GPP-IMSI = " + imsi, "3GPP-IMEISV = " + imeisv,
			"Called-Station-Id = meters.iot", "3GPP-RAT-Type = 8", "3GPP-SGSN-MCC-MNC = 00101", "Message-Authenticator = 0x00"}
	}
	var res string
	for deadline := time.Now().Add(10 * time.Second); ; { // the NAS list reloads asynchronously
		res = radclientRun(t, auth, "auth", secret, request(imeisv))
		if strings.Contains(res, "Access-Accept") || time.Now().After(deadline) {
			break
		}
	}
	if !strings.Contains(res, "Received Access-Accept") {
		t.Fatalf("the meter in its own device is not accepted:\n%s", res)
	}

	// The burst: five requests with wrong IMEIs in one radclient run.
	var burst []string
	for i := 0; i < 5; i++ {
		burst = append(burst, strings.Join(request(fmt.Sprintf("%s%06d01", demo.MeterTAC, 777000+i)), "\n"))
	}
	c := exec.Command("radclient", "-x", "-r", "1", "-t", "2", auth, "auth", secret)
	c.Stdin = strings.NewReader(strings.Join(burst, "\n\n") + "\n")
	b, _ := c.CombinedOutput()
	if n := strings.Count(string(b), "Received Access-Reject"); n != 5 {
		t.Fatalf("%d of 5 wrong-IMEI requests rejected:\n%s", n, b)
	}

	sim, err := cp.db.FindSIM(ctx, simguard.ProviderTenantID, imsi)
	if err != nil {
		t.Fatal(err)
	}
	var alert simguard.Alert
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		cur, err := cp.db.GetSIM(ctx, sim.TenantID, sim.ID)
		mu.Lock()
		for _, a := range alerts {
			if a.Rule == "radius-bruteforce-sim" && a.SIMID == sim.ID {
				alert = a
			}
		}
		mu.Unlock()
		if err == nil && cur.State == simguard.SIMSuspended && alert.ID != 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("SIM %s, webhook alert %+v", cur.State, alert)
		}
	}
	if len(alert.Actions) != 1 || alert.Actions[0].Result != simguard.ActionDone || len(alert.Events) != 5 ||
		alert.Events[0].Reason != simguard.ReasonIMEIMismatch {
		t.Errorf("webhook alert %+v", alert)
	}
	recs, err := cp.db.FindAudit(ctx, simguard.AuditFilter{TenantID: sim.TenantID, Action: "sim.suspend"})
	if err != nil || len(recs) != 1 || recs[0].Actor != "rule:radius-bruteforce-sim" {
		t.Errorf("audit %+v %v", recs, err)
	}
	// The right device is now refused too: the SIM is suspended.
	var after string
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		after = radclientRun(t, auth, "auth", secret, request(imeisv))
		if strings.Contains(after, `Reply-Message = "sim_suspended"`) || time.Now().After(deadline) {
			break
		}
	}
	if !strings.Contains(after, "Access-Reject") || !strings.Contains(after, "sim_suspended") {
		t.Errorf("after the suspension:\n%s", after)
	}
	t.Logf("time to detect: %s from the first wrong-IMEI request to the alert", alert.CreatedAt.Sub(alert.FirstEventAt))
}
