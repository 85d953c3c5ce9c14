package enforce_test

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/simguard/simguard"
	"github.com/simguard/simguard/enforce"
	"github.com/simguard/simguard/policy"
)

// flakyStore fails the first writes, then keeps events.
type flakyStore struct {
	mu     sync.Mutex
	fail   int
	got    []simguard.Event
	nextID int64
}

func (f *flakyStore) AppendEvents(_ context.Context, evs []simguard.Event) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail > 0 {
		f.fail--
		return errors.New("disk full")
	}
	for i := range evs {
		f.nextID++
		evs[i].ID = f.nextID
	}
	f.got = append(f.got, evs...)
	return nil
}

func (f *flakyStore) FindEvents(context.Context, simguard.EventFilter) ([]simguard.Event, error) {
	return nil, nil
}

func (f *flakyStore) DeleteEventsBefore(context.Context, time.Time) (int64, error) { return 0, nil }

func TestEventWriterRetriesAndNeverDrops(t *testing.T) {
	st := &flakyStore{fail: 2}
	w := enforce.NewEventWriter(st, enforce.EventWriterConfig{Buffer: 16, BatchSize: 10, FlushInterval: time.Millisecond},
		slog.New(slog.DiscardHandler), time.Now, nil)
	var seen []int64
	var mu sync.Mutex
	w.Subscribe(func(evs []simguard.Event) {
		mu.Lock()
		defer mu.Unlock()
		for _, e := range evs {
			if e.ID == 0 {
				t.Error("subscriber got an event before it was stored")
			}
			seen = append(seen, e.ID)
		}
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { w.Run(ctx); close(done) }()
	// More events than the buffer holds: Emit waits instead of dropping.
	for i := 0; i < 100; i++ {
		w.Emit(simguard.Event{Type: "test", SIMID: int64(i)})
	}
	cancel()
	<-done
	st.mu.Lock()
	defer st.mu.Unlock()
	if len(st.got) != 100 {
		t.Fatalf("stored %d events, want 100", len(st.got))
	}
	for i, e := range st.got {
		if e.SIMID != int64(i) || e.Time.IsZero() {
			t.Fatalf("event %d stored as %+v (order or time lost)", i, e)
		}
	}
	if len(seen) != 100 {
		t.Fatalf("subscribers saw %d events", len(seen))
	}
}

func TestPolicySubscribersHearChangedSIMs(t *testing.T) {
	g := simguard.Group{TenantID: 1, Name: "g", Policy: simguard.Policy{Services: []simguard.Service{simguard.ServiceData}}}
	snap, err := policy.Compile([]simguard.Group{g}, nil)
	if err != nil {
		t.Fatal(err)
	}
	p := enforce.NewPolicy(snap, nil)
	var calls [][]int64
	cancel := p.Subscribe(func(old, new *policy.Snapshot, ids []int64) {
		if old == new {
			t.Error("subscriber called without a change")
		}
		calls = append(calls, ids)
	})
	sim := simguard.SIM{ID: 7, TenantID: 1, ICCID: "8988001000000000015", IMSI: "001010000000001", State: simguard.SIMActive, Group: "g"}
	if err := p.UpdateSIMs([]int64{7}, func(s *policy.Snapshot) (*policy.Snapshot, error) { return s.WithSIM(&sim) }); err != nil {
		t.Fatal(err)
	}
	if err := p.Update(func(s *policy.Snapshot) (*policy.Snapshot, error) { return s.WithGroup(&g) }); err != nil {
		t.Fatal(err)
	}
	bad := errors.New("refused")
	if err := p.Update(func(*policy.Snapshot) (*policy.Snapshot, error) { return nil, bad }); err != bad {
		t.Fatal(err)
	}
	cancel()
	_ = p.Update(func(s *policy.Snapshot) (*policy.Snapshot, error) { return s.WithoutSIM(7), nil })
	if len(calls) != 2 || len(calls[0]) != 1 || calls[0][0] != 7 || calls[1] != nil {
		t.Fatalf("subscriber calls: %v", calls)
	}
	r := simguard.Request{Kind: simguard.KindDataSession, IMSI: sim.IMSI, Time: time.Now()}
	if d := p.Evaluate(&r); d.Reason != simguard.ReasonSIMUnknown {
		t.Fatalf("after removal: %+v", d)
	}
}
