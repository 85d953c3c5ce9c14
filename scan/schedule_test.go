package scan

import (
	"context"
	"fmt"
	"net/netip"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/simguard/simguard"
)

type fleetFunc func(context.Context, int64, string) ([]netip.Addr, error)

func (f fleetFunc) GroupAddrs(ctx context.Context, tenant int64, group string) ([]netip.Addr, error) {
	return f(ctx, tenant, group)
}

func TestSchedulerRunsAndStops(t *testing.T) {
	_, port := listenTCP(t)
	store := newMemStore()
	s := newTestScanner(t, Deps{Store: store, Inventory: loopbackDevice})
	before := runtime.NumGoroutine()
	lo := netip.MustParseAddr("127.0.0.1")
	fleet := fleetFunc(func(_ context.Context, tenant int64, group string) ([]netip.Addr, error) {
		if tenant != 3 || group != "meters" {
			return nil, fmt.Errorf("unexpected %d/%s", tenant, group)
		}
		return []netip.Addr{lo}, nil
	})
	ticks := make(chan time.Time)
	sched, err := NewScheduler(s, fleet, []Schedule{{TenantID: 3, Group: "meters", Every: time.Hour, Ports: fmt.Sprint(port)}},
		func(time.Duration) <-chan time.Time { return ticks })
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- sched.Run(ctx) }()
	for range 2 {
		ticks <- time.Now()
	}
	ticks <- time.Now() // the second scan has finished when the third tick is taken
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	runs, _ := store.ListScanRuns(ctx, 3, 0)
	if len(runs) < 2 {
		t.Fatalf("%d runs, want at least 2", len(runs))
	}
	for _, r := range runs[:2] {
		if r.Scope != "group:meters" || r.Actor != "scan:schedule" || r.Status != simguard.ScanDone || r.Stats.OpenPorts != 1 {
			t.Errorf("run %+v", r)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Fatalf("%d goroutines after Run returned, %d before", n, before)
	}
}

func TestNewSchedulerValidates(t *testing.T) {
	s := newTestScanner(t, Deps{})
	for _, tt := range []struct {
		sc    Schedule
		field string
	}{
		{Schedule{Group: "", Every: time.Hour}, "schedules[0].group"},
		{Schedule{Group: "meters", Every: time.Second}, "schedules[0].every"},
		{Schedule{Group: "meters", Every: time.Hour, Ports: "0"}, "schedules[0].ports"},
	} {
		_, err := NewScheduler(s, nil, []Schedule{tt.sc}, nil)
		if err == nil || !strings.Contains(err.Error(), tt.field) {
			t.Errorf("%+v: err = %v, want one naming %s", tt.sc, err, tt.field)
		}
	}
}
