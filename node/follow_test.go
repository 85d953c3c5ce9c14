package node_test

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/simguard/simguard"
	"github.com/simguard/simguard/client"
	"github.com/simguard/simguard/control"
	"github.com/simguard/simguard/demo"
	"github.com/simguard/simguard/enforce"
	sghttp "github.com/simguard/simguard/http"
	"github.com/simguard/simguard/node"
	"github.com/simguard/simguard/sqlite"
)

// TestNodeFollowsControlPlane runs a real control plane over HTTP and a
// node following it: the node sees the demo fleet, then a suspension, then
// a group change; its feedback and events reach the control plane.
func TestNodeFollowsControlPlane(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "s.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	svc, err := control.New(ctx, db, control.Config{})
	if err != nil {
		t.Fatal(err)
	}
	secret, err := svc.Bootstrap(ctx, "provider")
	if err != nil {
		t.Fatal(err)
	}
	a, _, _ := svc.Authenticate(ctx, secret)
	admin := simguard.WithActor(ctx, a)
	for _, g := range demo.Groups() {
		if _, err := svc.CreateGroup(admin, g); err != nil {
			t.Fatal(err)
		}
	}
	var rows []control.ImportRow
	for i, s := range demo.SIMs()[:100] {
		rows = append(rows, control.ImportRow{Line: i + 1, SIM: s})
	}
	if _, err := svc.ImportSIMs(admin, rows); err != nil {
		t.Fatal(err)
	}
	nodeTok, err := svc.CreateToken(admin, 0, "radius-node-1", simguard.RoleNode)
	if err != nil {
		t.Fatal(err)
	}
	api, err := sghttp.New(sghttp.Config{Service: svc})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(api.Handler())
	defer srv.Close()

	c, err := client.New(srv.URL, nodeTok.Secret, nil)
	if err != nil {
		t.Fatal(err)
	}
	f, err := node.Start(ctx, c, slog.New(slog.DiscardHandler), nil)
	if err != nil {
		t.Fatal(err)
	}
	runDone := make(chan struct{})
	go func() { f.Run(ctx); close(runDone) }()
	defer func() { cancel(); <-runDone }() // before srv.Close, which waits for the long poll
	req := simguard.Request{Kind: simguard.KindDataSession, IMSI: demo.IMSI(5), IMEI: demo.IMEI(5), APN: "meters.iot",
		RAT: simguard.RAT4G, Location: simguard.Location{PLMN: simguard.PLMN{MCC: 1, MNC: 1}}, Time: time.Now()}
	if d := f.Policy().Evaluate(&req); !d.Allow {
		t.Fatalf("node after sync: %+v", d)
	}
	if _, err := svc.SuspendSIM(admin, demo.IMSI(5), 0); err != nil {
		t.Fatal(err)
	}
	waitFor(t, f.Policy(), &req, simguard.ReasonSIMSuspended)
	g, _ := svc.GetGroup(admin, "smart-meters")
	g.Policy.RATs = []simguard.RAT{simguard.RATNBIoT}
	if _, _, err := svc.ApplyGroup(admin, g, 0); err != nil {
		t.Fatal(err)
	}
	req.IMSI, req.IMEI = demo.IMSI(6), demo.IMEI(6)
	waitFor(t, f.Policy(), &req, simguard.ReasonRATDenied)

	// Feedback and events go back over the API.
	if err := node.NewFeedback(c).AddUsage(ctx, 7, 100, 0); err != nil {
		t.Fatal(err)
	}
	ev := node.NewEvents(c, slog.New(slog.DiscardHandler))
	w := enforce.NewEventWriter(ev, enforce.EventWriterConfig{FlushInterval: 10 * time.Millisecond}, slog.New(slog.DiscardHandler), time.Now, nil)
	wctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { w.Run(wctx); close(done) }()
	w.Emit(simguard.Event{TenantID: 1, SIMID: 7, Source: "radius", Type: "radius.access", Decision: "allow", Reason: simguard.ReasonAllowed})
	stop()
	<-done
	got, err := svc.FindEvents(admin, simguard.EventFilter{Types: []string{"radius.access"}})
	if err != nil || len(got) != 1 || got[0].SIMID != 7 {
		t.Fatalf("events on the control plane: %+v, %v", got, err)
	}
	// A node token can do nothing else.
	if _, err := c.SIMs(ctx, simguard.SIMFilter{}); simguard.ErrorCode(err) != simguard.EFORBIDDEN {
		t.Fatalf("node token listing SIMs: %v", err)
	}
}

func waitFor(t *testing.T, p *enforce.Policy, r *simguard.Request, want simguard.Reason) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		r.Time = time.Now()
		d := p.Evaluate(r)
		if d.Reason == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("node still decides %+v, want %s", d, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
