package storetest

import (
	"errors"
	"maps"
	"testing"
	"time"

	"github.com/simguard/simguard"
)

func testSIMScanCount(t *testing.T, open func(t *testing.T) simguard.Store) {
	f := newFixture(t, open)
	all := listData(t, f) // 24 in alpha, 3 in beta

	var kept []simguard.SIM
	err := f.s.ScanSIMs(f.ctx, func(s *simguard.SIM) error {
		kept = append(kept, *s) // a shallow copy must be enough to keep it
		return nil
	})
	must(t, "ScanSIMs", err)
	if len(kept) != 27 {
		t.Fatalf("ScanSIMs saw %d SIMs, want 27 of both tenants", len(kept))
	}
	for i := 1; i < len(kept); i++ {
		if kept[i].ID <= kept[i-1].ID {
			t.Fatalf("ScanSIMs not in ID order: %d after %d", kept[i].ID, kept[i-1].ID)
		}
	}
	for i, s := range all {
		k := kept[i]
		if k.ID != s.ID || k.ICCID != s.ICCID || k.Group != s.Group || k.State != s.State || !maps.Equal(k.Labels, s.Labels) ||
			k.IMEILock.IMEI != s.IMEILock.IMEI || k.TenantID != f.alpha.ID {
			t.Errorf("scanned SIM %d = %+v, want %+v", i, k, s)
		}
	}
	stop := errors.New("enough")
	n := 0
	err = f.s.ScanSIMs(f.ctx, func(*simguard.SIM) error {
		if n++; n == 3 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || n != 3 {
		t.Errorf("ScanSIMs with failing fn: %v after %d calls, want stop after 3", err, n)
	}

	counts, err := f.s.CountSIMs(f.ctx, f.alpha.ID)
	must(t, "CountSIMs", err)
	want := map[simguard.SIMState]int64{}
	for _, s := range all {
		want[s.State]++
	}
	for _, st := range []simguard.SIMState{simguard.SIMInventory, simguard.SIMActive, simguard.SIMSuspended, simguard.SIMTerminated} {
		if counts[st] != want[st] {
			t.Errorf("CountSIMs(alpha)[%s] = %d, want %d", st, counts[st], want[st])
		}
	}
	counts, err = f.s.CountSIMs(f.ctx, f.beta.ID)
	must(t, "CountSIMs", err)
	if counts[simguard.SIMActive] != 3 {
		t.Errorf("CountSIMs(beta) = %v, want 3 active", counts)
	}
}

func testUsage(t *testing.T, open func(t *testing.T) simguard.Store) {
	f := newFixture(t, open)
	s := f.importSIMs(t, f.alpha.ID, SIMs(1, 1, "meters"))[0]
	head := f.head(t)
	nov := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	dec := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	steps := []struct {
		name       string
		period     time.Time
		data, sms  int64
		wantPeriod time.Time
		wantData   int64
		wantSMS    int64
	}{
		{"first report", nov, 100, 1, nov, 100, 1},
		{"same period adds", nov, 50, 2, nov, 150, 3},
		{"new period resets", dec, 10, 0, dec, 10, 0},
		{"late report of an old period is dropped", nov, 5, 5, dec, 10, 0},
		{"zero adds nothing", dec, 0, 0, dec, 10, 0},
	}
	for _, st := range steps {
		u, err := f.s.AddUsage(f.ctx, s.ID, st.period, st.data, st.sms)
		must(t, st.name, err)
		if !u.PeriodStart.Equal(st.wantPeriod) || u.DataBytes != st.wantData || u.SMSCount != st.wantSMS {
			t.Errorf("%s: usage %+v, want %v %d %d", st.name, u, st.wantPeriod, st.wantData, st.wantSMS)
		}
	}
	got, err := f.s.GetSIM(f.ctx, f.alpha.ID, s.ID)
	must(t, "GetSIM", err)
	if !got.Usage.PeriodStart.Equal(dec) || got.Usage.DataBytes != 10 || got.Version != s.Version {
		t.Errorf("SIM after metering: usage %+v version %d (was %d)", got.Usage, got.Version, s.Version)
	}
	if h := f.head(t); h != head {
		t.Errorf("metering wrote %d audit records; it is not audited", h-head)
	}
	_, err = f.s.AddUsage(f.ctx, s.ID+1000, dec, 1, 1)
	wantCode(t, "unknown SIM", err, simguard.ENOTFOUND)
	_, err = f.s.AddUsage(f.ctx, s.ID, dec, -1, 0)
	wantCode(t, "negative usage", err, simguard.EINVALID)
}
