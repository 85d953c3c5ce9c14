package policy

import (
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"testing"

	"github.com/simguard/simguard"
)

// fleet compiles n SIMs (IDs 1..n) in group "g"; SIMs with an even ID get
// a static IP 10.0.x.y.
func fleet(t testing.TB, n int) (*Snapshot, []simguard.SIM) {
	t.Helper()
	sims := make([]simguard.SIM, n)
	for i := range sims {
		sims[i] = testSIM(int64(i + 1))
		if (i+1)%2 == 0 {
			sims[i].StaticIP = ipFor(i + 1)
		}
	}
	return mustCompile(t, []simguard.Group{testGroup("g", basePolicy())}, sims), sims
}

func ipFor(id int) netip.Addr { return netip.AddrFrom4([4]byte{10, 0, byte(id >> 8), byte(id)}) }

func data(imsi string) *simguard.Request {
	return &simguard.Request{Kind: simguard.KindDataSession, Time: t0, IMSI: imsi}
}

// checkIndexes asserts that every SIM of want is found by every key, with
// its current values, and that s holds nothing else.
func checkIndexes(t *testing.T, s *Snapshot, want map[int64]simguard.SIM) {
	t.Helper()
	if s.Len() != len(want) {
		t.Errorf("Len = %d, want %d", s.Len(), len(want))
	}
	n := 0
	s.RangeSIMs(func(v SIMView) bool {
		n++
		w, ok := want[v.ID]
		if !ok {
			t.Errorf("RangeSIMs yields unexpected SIM %d", v.ID)
		} else if v.IMSI != w.IMSI || v.MSISDN != w.MSISDN || v.State != w.State || v.StaticIP != w.StaticIP {
			t.Errorf("SIM %d reads %+v, want %+v", v.ID, v, w)
		}
		return true
	})
	if n != len(want) {
		t.Errorf("RangeSIMs yields %d SIMs, want %d", n, len(want))
	}
	if err := s.checkInvariants(); err != nil {
		t.Error(err)
	}
	for id, w := range want {
		if v, ok := s.SIMByID(id); !ok || v.IMSI != w.IMSI {
			t.Errorf("SIMByID(%d) = %v, %v", id, v.IMSI, ok)
		}
		if v, ok := s.SIMByIMSI(w.IMSI); !ok || v.ID != id {
			t.Errorf("SIMByIMSI(%s) = %d, %v; want %d", w.IMSI, v.ID, ok, id)
		}
		if w.MSISDN != "" {
			if v, ok := s.SIMByMSISDN(w.MSISDN); !ok || v.ID != id {
				t.Errorf("SIMByMSISDN(%s) = %d, %v; want %d", w.MSISDN, v.ID, ok, id)
			}
		}
		if w.StaticIP.IsValid() {
			if v, ok := s.SIMByIP(w.StaticIP); !ok || v.ID != id {
				t.Errorf("SIMByIP(%s) = %d, %v; want %d", w.StaticIP, v.ID, ok, id)
			}
		}
	}
}

func byID(sims []simguard.SIM) map[int64]simguard.SIM {
	m := map[int64]simguard.SIM{}
	for _, s := range sims {
		m[s.ID] = s
	}
	return m
}

func TestWithSIMCopyOnWrite(t *testing.T) {
	old, sims := fleet(t, 300)
	want := byID(sims)

	changed := sims[41] // ID 42
	changed.State = simguard.SIMSuspended
	s1, err := old.WithSIM(&changed)
	if err != nil {
		t.Fatal(err)
	}
	if d := old.Evaluate(data(changed.IMSI)); !d.Allow {
		t.Errorf("old snapshot changed: %+v", d)
	}
	if d := s1.Evaluate(data(changed.IMSI)); d.Reason != simguard.ReasonSIMSuspended {
		t.Errorf("new snapshot did not change: %+v", d)
	}
	checkIndexes(t, old, want)

	added := testSIM(1000)
	s2, err := s1.WithSIM(&added)
	if err != nil {
		t.Fatal(err)
	}
	s3 := s2.WithoutSIM(7)
	checkIndexes(t, old, want)
	if _, ok := s1.SIMByID(1000); ok {
		t.Error("s1 sees a SIM added later")
	}
	if _, ok := s2.SIMByID(7); !ok {
		t.Error("s2 lost a SIM removed later")
	}
	want[42], want[1000] = changed, added
	delete(want, 7)
	checkIndexes(t, s3, want)
	if s3.WithoutSIM(7) != s3 {
		t.Error("removing an absent SIM must return the receiver")
	}
}

func TestWithSIMMovesKeys(t *testing.T) {
	old, sims := fleet(t, 200)
	want := byID(sims)
	s := old
	// Change every key of several SIMs, including IMSI changes that move
	// records between shards and force the last record of a shard to move.
	for i, id := range []int64{2, 50, 51, 100, 199, 200} {
		c := want[id]
		c.IMSI = fmt.Sprintf("00102%010d", id)
		c.MSISDN = fmt.Sprintf("4930%08d", id)
		if i%2 == 0 {
			c.StaticIP = netip.MustParseAddr(fmt.Sprintf("2001:db8::%x", id))
		} else {
			c.StaticIP = netip.Addr{}
			c.MSISDN = ""
		}
		var err error
		if s, err = s.WithSIM(&c); err != nil {
			t.Fatal(err)
		}
		old := want[id]
		want[id] = c
		if _, ok := s.SIMByIMSI(old.IMSI); ok {
			t.Errorf("old IMSI %s still found", old.IMSI)
		}
		if v, ok := s.SIMByMSISDN(old.MSISDN); ok && v.ID == id {
			t.Errorf("old MSISDN %s still found", old.MSISDN)
		}
		if old.StaticIP.IsValid() {
			if _, ok := s.SIMByIP(old.StaticIP); ok {
				t.Errorf("old IP %s still found", old.StaticIP)
			}
		}
		if d := s.Evaluate(data(old.IMSI)); d.Reason != simguard.ReasonSIMUnknown {
			t.Errorf("old IMSI still decides: %+v", d)
		}
	}
	checkIndexes(t, s, want)
	checkIndexes(t, old, byID(sims))

	// Same IMSI, other MSISDN and static IP: the record stays in place,
	// its secondary entries move.
	for i, id := range []int64{3, 4, 60, 61, 150} {
		c := want[id]
		prev := c
		c.MSISDN = []string{"", fmt.Sprintf("4940%08d", id)}[i%2]
		c.StaticIP = []netip.Addr{{}, netip.MustParseAddr(fmt.Sprintf("10.9.0.%d", id))}[(i/2)%2]
		var err error
		if s, err = s.WithSIM(&c); err != nil {
			t.Fatal(err)
		}
		want[id] = c
		if v, ok := s.SIMByMSISDN(prev.MSISDN); ok && prev.MSISDN != c.MSISDN {
			t.Errorf("old MSISDN %s still finds SIM %d", prev.MSISDN, v.ID)
		}
		if v, ok := s.SIMByIP(prev.StaticIP); ok && prev.StaticIP != c.StaticIP {
			t.Errorf("old IP %s still finds SIM %d", prev.StaticIP, v.ID)
		}
	}
	checkIndexes(t, s, want)

	// Remove everything, in an order that moves records around.
	for id := int64(200); id >= 1; id -= 3 {
		s = s.WithoutSIM(id)
		delete(want, id)
	}
	checkIndexes(t, s, want)
	for id := range want {
		s = s.WithoutSIM(id)
	}
	checkIndexes(t, s, nil)
	// Keys are free again.
	if s, err := s.WithSIM(&sims[0]); err != nil || s.Len() != 1 {
		t.Fatalf("re-adding to an empty snapshot: %v", err)
	}
}

func TestWithSIMConflicts(t *testing.T) {
	s, sims := fleet(t, 10)
	cases := []struct {
		name  string
		mod   func(*simguard.SIM)
		field string
	}{
		{"imsi", func(c *simguard.SIM) { c.IMSI = sims[1].IMSI }, "imsi"},
		{"msisdn", func(c *simguard.SIM) { c.MSISDN = "+" + sims[1].MSISDN }, "msisdn"},
		{"static ip", func(c *simguard.SIM) { c.StaticIP = sims[1].StaticIP }, "static_ip"},
		{"mapped static ip", func(c *simguard.SIM) { c.StaticIP = netip.AddrFrom16(sims[1].StaticIP.As16()) }, "static_ip"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sim := sims[0]
			c.mod(&sim)
			ns, err := s.WithSIM(&sim)
			if ns != nil || simguard.ErrorCode(err) != simguard.ECONFLICT {
				t.Fatalf("got %v, %v; want ECONFLICT", ns, err)
			}
			var e *simguard.Error
			if !asError(err, &e) || e.Field != c.field {
				t.Errorf("error %v does not name field %q", err, c.field)
			}
		})
	}
	t.Run("invalid", func(t *testing.T) {
		sim := sims[0]
		sim.ICCID = "123"
		if _, err := s.WithSIM(&sim); simguard.ErrorCode(err) != simguard.EINVALID {
			t.Errorf("got %v, want EINVALID", err)
		}
	})
	t.Run("own keys are no conflict", func(t *testing.T) {
		sim := sims[1]
		sim.Labels = map[string]string{"site": "x"}
		if _, err := s.WithSIM(&sim); err != nil {
			t.Error(err)
		}
	})
}

func TestWithGroup(t *testing.T) {
	old, sims := fleet(t, 50)
	r := data(sims[3].IMSI)
	p := basePolicy()
	p.Services = []simguard.Service{simguard.ServiceSMSMO}
	g := testGroup("g", p)
	s1, err := old.WithGroup(&g)
	if err != nil {
		t.Fatal(err)
	}
	if d := s1.Evaluate(r); d.Reason != simguard.ReasonServiceDisabled || d.Rule != "group:g/services" {
		t.Errorf("SIMs did not follow the group: %+v", d)
	}
	if d := old.Evaluate(r); !d.Allow {
		t.Errorf("old snapshot changed: %+v", d)
	}
	p.Services[0] = simguard.ServiceData // the snapshot must not share the caller's slices
	if d := s1.Evaluate(r); d.Allow {
		t.Error("the snapshot shares the group's slices with the caller")
	}

	s2 := s1.WithoutGroup(1, "g")
	if d := s2.Evaluate(r); d.Rule != "sim:group_missing" || d.Group != "g" {
		t.Errorf("without group: %+v", d)
	}
	if _, ok := s2.GroupPolicy(1, "g"); ok {
		t.Error("GroupPolicy finds a removed group")
	}
	if s2.WithoutGroup(1, "g") != s2 || s2.WithoutGroup(2, "g") != s2 {
		t.Error("removing an absent group must return the receiver")
	}
	s3, err := s2.WithGroup(&simguard.Group{TenantID: 1, Name: "g", Policy: allServices()})
	if err != nil {
		t.Fatal(err)
	}
	if d := s3.Evaluate(r); !d.Allow {
		t.Errorf("SIMs did not follow the returning group: %+v", d)
	}

	// A group of another tenant with the same name is another group.
	other := simguard.Group{TenantID: 2, Name: "g"}
	s4, err := s3.WithGroup(&other)
	if err != nil {
		t.Fatal(err)
	}
	if d := s4.Evaluate(r); !d.Allow {
		t.Errorf("tenant 2's group changed tenant 1's SIMs: %+v", d)
	}

	// A SIM may arrive before its group.
	early := testSIM(900)
	early.Group = "later"
	s5, err := s4.WithSIM(&early)
	if err != nil {
		t.Fatal(err)
	}
	if d := s5.Evaluate(data(early.IMSI)); d.Rule != "sim:group_missing" {
		t.Errorf("early SIM: %+v", d)
	}
	later := testGroup("later", allServices())
	s6, _ := s5.WithGroup(&later)
	if d := s6.Evaluate(data(early.IMSI)); !d.Allow || d.Rule != "group:later" {
		t.Errorf("early SIM after its group came: %+v", d)
	}
	if _, ok := s5.GroupPolicy(1, "later"); ok {
		t.Error("old snapshot sees a group added later")
	}

	bad := testGroup("g", simguard.Policy{RATs: []simguard.RAT{"6g"}})
	if _, err := s6.WithGroup(&bad); simguard.ErrorCode(err) != simguard.EINVALID {
		t.Errorf("invalid group: %v", err)
	}
}

// TestConcurrentReadersDuringUpdates runs readers on every snapshot while
// a writer derives new ones; -race checks that nothing is shared mutably,
// and readers check that their snapshot never changes under them.
func TestConcurrentReadersDuringUpdates(t *testing.T) {
	base, sims := fleet(t, 400)
	snaps := make(chan *Snapshot, 64)
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for s := range snaps {
				first := make([]simguard.Decision, 0, len(sims))
				for i := range sims {
					first = append(first, s.Evaluate(data(sims[i].IMSI)))
				}
				for i := range sims {
					if d := s.Evaluate(data(sims[i].IMSI)); d != first[i] {
						t.Errorf("snapshot changed under a reader: %+v then %+v", first[i], d)
						return
					}
				}
			}
		}()
	}
	s := base
	for i := range 200 {
		snaps <- s
		c := sims[(i*37)%len(sims)]
		c.State = []simguard.SIMState{simguard.SIMActive, simguard.SIMSuspended}[i%2]
		c.MSISDN = fmt.Sprintf("4931%08d", i)
		var err error
		if s, err = s.WithSIM(&c); err != nil {
			t.Fatal(err)
		}
		if i%10 == 0 {
			g := testGroup("g", basePolicy())
			if i%20 == 0 {
				g.Policy.Services = nil
			}
			s, _ = s.WithGroup(&g)
		}
		if i%15 == 0 {
			s = s.WithoutSIM(int64(i + 1))
		}
	}
	close(snaps)
	wg.Wait()
	checkIndexes(t, base, byID(sims))
	if err := s.checkInvariants(); err != nil {
		t.Error(err)
	}
}

// checkInvariants verifies the internal structure: every record sits in
// its IMSI's shard and is reachable from its home slot, shard counts add
// up, and every index holds exactly one entry per key, none stale.
func (s *Snapshot) checkInvariants() error {
	n := 0
	for i := range s.prim {
		sh := &s.prim[i]
		if sh.n == 0 && len(sh.recs) == 0 {
			continue
		}
		live := 0
		for j := range sh.recs {
			r := &sh.recs[j]
			if r.id == 0 {
				continue
			}
			live++
			if h := hashIMSI(r.imsi); shardOf(h) != i || s.findIMSI(r.imsi) != r {
				return fmt.Errorf("record %d (IMSI %d) is not found where it is", r.id, r.imsi)
			}
			if int(r.group) >= len(s.groups.slots) {
				return fmt.Errorf("record %d refers to group slot %d of %d", r.id, r.group, len(s.groups.slots))
			}
		}
		if live != sh.n || live == 0 || len(sh.recs) < recCap(live) {
			return fmt.Errorf("prim shard %d: %d live records, n %d, %d slots", i, live, sh.n, len(sh.recs))
		}
		n += live
	}
	if n != s.n {
		return fmt.Errorf("%d records, Len %d", n, s.n)
	}
	want := map[int]int{}
	for k := range s.prim {
		sh := &s.prim[k]
		for j := range sh.recs {
			if r := &sh.recs[j]; r.id != 0 {
				r.keys(func(kind int, h uint64) { want[kind]++ })
			}
		}
	}
	for kind := range 3 {
		got := 0
		set := s.indexSet(kind)
		for i := range set {
			sh := &set[i]
			if sh.n == 0 && len(sh.entries) == 0 {
				continue
			}
			live := 0
			for _, e := range sh.entries {
				if e.h == 0 {
					continue
				}
				live++
				r := s.findIMSI(e.imsi)
				if r == nil {
					return fmt.Errorf("index %d shard %d: entry for unknown IMSI %d", kind, i, e.imsi)
				}
				ok := false
				r.keys(func(k int, h uint64) { ok = ok || k == kind && h|1 == e.h && shardOf(h) == i })
				if !ok {
					return fmt.Errorf("index %d shard %d: stale entry for SIM %d", kind, i, r.id)
				}
			}
			if live != sh.n || live == 0 {
				return fmt.Errorf("index %d shard %d: %d live entries, n %d", kind, i, live, sh.n)
			}
			got += live
		}
		if got != want[kind] {
			return fmt.Errorf("index %d: %d entries for %d keys", kind, got, want[kind])
		}
	}
	return nil
}

func TestBatches(t *testing.T) {
	old, sims := fleet(t, 100)
	want := byID(sims)

	a, b := want[1], want[2]
	a.MSISDN, b.MSISDN = "4999000001", a.MSISDN // b takes a's number, freed earlier in the batch
	c := testSIM(500)
	s, err := old.WithSIMs([]simguard.SIM{a, b, c})
	if err != nil {
		t.Fatal(err)
	}
	want[1], want[2], want[500] = a, b, c
	checkIndexes(t, s, want)
	checkIndexes(t, old, byID(sims))

	// The other order conflicts: a still holds the number when b asks.
	if ns, err := old.WithSIMs([]simguard.SIM{b, a}); ns != nil || simguard.ErrorCode(err) != simguard.ECONFLICT || !strings.Contains(err.Error(), "sims[0]") {
		t.Errorf("got %v, %v; want a conflict on sims[0]", ns, err)
	}
	d1, d2 := testSIM(600), testSIM(601)
	d2.IMSI = d1.IMSI
	if _, err := old.WithSIMs([]simguard.SIM{d1, d2}); simguard.ErrorCode(err) != simguard.ECONFLICT || !strings.Contains(err.Error(), "sims[1]") {
		t.Errorf("duplicate IMSI within a batch: %v", err)
	}
	checkIndexes(t, old, byID(sims))

	s2 := s.WithoutSIMs([]int64{1, 2, 3, 9999})
	delete(want, 1)
	delete(want, 2)
	delete(want, 3)
	checkIndexes(t, s2, want)
	if s2.WithoutSIMs([]int64{1, 9999}) != s2 || s2.WithoutSIMs(nil) != s2 {
		t.Error("removing absent SIMs must return the receiver")
	}
	if s3 := s2.WithoutSIMs([]int64{4, 4}); s3.Len() != s2.Len()-1 {
		t.Errorf("removing a SIM twice in a batch: Len %d", s3.Len())
	}
}

// TestBatchInPlace makes a batch change the same shards many times, so
// that later changes hit shards the batch already copied (and changes in
// place), and checks every index and the old snapshot afterwards.
func TestBatchInPlace(t *testing.T) {
	old, sims := fleet(t, 2000)
	want := byID(sims)
	var batch []simguard.SIM
	for id := int64(3001); id <= 9000; id++ { // about two per shard
		c := testSIM(id)
		c.StaticIP = netip.AddrFrom4([4]byte{10, 8, byte(id >> 8), byte(id)})
		batch = append(batch, c)
		want[id] = c
	}
	for id := int64(1); id <= 600; id++ {
		c := want[id]
		switch id % 4 {
		case 0:
			c.State = simguard.SIMSuspended
		case 1:
			c.MSISDN = fmt.Sprintf("4941%08d", id)
		case 2:
			c.IMSI = fmt.Sprintf("00105%010d", id)
		case 3:
			c.StaticIP = netip.AddrFrom4([4]byte{10, 7, byte(id >> 8), byte(id)})
		}
		batch = append(batch, c)
		c.State = simguard.SIMActive // and again, in the same batch
		if id%4 == 1 {
			c.MSISDN = fmt.Sprintf("4942%08d", id)
		}
		batch = append(batch, c)
		want[id] = c
	}
	s, err := old.WithSIMs(batch)
	if err != nil {
		t.Fatal(err)
	}
	checkIndexes(t, s, want)
	checkIndexes(t, old, byID(sims))
	for id := int64(1); id <= 600; id++ {
		if d := s.Evaluate(data(want[id].IMSI)); !d.Allow || d.SIMID != id {
			t.Fatalf("SIM %d after the batch: %+v", id, d)
		}
	}
}
