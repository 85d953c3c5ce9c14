package storetest

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/simguard/simguard"
)

func testSIMImport(t *testing.T, open func(t *testing.T) simguard.Store) {
	f := newFixture(t, open)
	bound := time.Date(2026, 3, 1, 12, 0, 0, 123456789, time.UTC)
	in := SIMs(1, 4, "meters")
	in[0].MSISDN = "+" + MSISDN(1) // normalized by the store
	in[1].MSISDN = ""              // data-only
	in[1].Labels = map[string]string{"site": "berlin", "tier": "gold"}
	in[2].StaticIP = netip.MustParseAddr("10.1.2.3")
	in[2].IMEILock = simguard.IMEILock{Mode: simguard.IMEILockExplicit, IMEI: "35209900176148", BoundAt: &bound}
	in[3].State = simguard.SIMInventory
	in[3].Group = "cameras"
	orig := slices.Clone(in)

	head := f.head(t)
	got := f.importSIMs(t, f.alpha.ID, in)
	// The caller's slice holds the SIMs as stored: IDs set, normalized.
	if in[0].MSISDN != MSISDN(1) || orig[0].MSISDN == in[0].MSISDN {
		t.Errorf("CreateSIMs left the caller's MSISDN as %q", in[0].MSISDN)
	}
	for i := range in {
		if in[i].ID != got[i].ID || in[i].Version != 1 || in[i].TenantID != f.alpha.ID {
			t.Errorf("row %d in the caller's slice: ID %d version %d tenant %d, stored ID %d", i+1, in[i].ID, in[i].Version, in[i].TenantID, got[i].ID)
		}
	}
	for i, s := range got {
		if s.ID == 0 || s.TenantID != f.alpha.ID || s.Version != 1 || s.CreatedAt.IsZero() || s.UpdatedAt.IsZero() {
			t.Errorf("row %d stored as %+v: want ID, tenant, version 1, times", i+1, s)
		}
		if s.ICCID != in[i].ICCID || s.IMSI != in[i].IMSI || s.State != in[i].State || s.Group != in[i].Group {
			t.Errorf("row %d stored as %+v, want %+v", i+1, s, in[i])
		}
	}
	if got[0].MSISDN != MSISDN(1) || got[1].MSISDN != "" {
		t.Errorf("MSISDNs stored as %q, %q", got[0].MSISDN, got[1].MSISDN)
	}
	if got[1].Labels["site"] != "berlin" || got[1].Labels["tier"] != "gold" || len(got[1].Labels) != 2 || got[0].Labels != nil {
		t.Errorf("labels stored as %v and %v", got[1].Labels, got[0].Labels)
	}
	if got[2].StaticIP != in[2].StaticIP || got[2].IMEILock.IMEI != "35209900176148" || got[2].IMEILock.Mode != simguard.IMEILockExplicit ||
		got[2].IMEILock.BoundAt == nil || !got[2].IMEILock.BoundAt.Equal(bound) {
		t.Errorf("static IP / IMEI lock stored as %v / %+v", got[2].StaticIP, got[2].IMEILock)
	}
	if got[0].IMEILock.Mode != simguard.IMEILockOff || got[0].IMEILock.BoundAt != nil || got[0].ActiveUntil != nil {
		t.Errorf("defaults stored as %+v", got[0])
	}
	if !(got[0].ID < got[1].ID && got[1].ID < got[2].ID && got[2].ID < got[3].ID) {
		t.Errorf("IDs not in import order: %d %d %d %d", got[0].ID, got[1].ID, got[2].ID, got[3].ID)
	}

	// One record for the whole import, with a summary rather than rows.
	if h := f.head(t); h != head+1 {
		t.Fatalf("import wrote %d audit records, want 1", h-head)
	}
	rec := f.lastAudit(t)
	var sum struct {
		Count      int            `json:"count"`
		FirstICCID string         `json:"first_iccid"`
		LastICCID  string         `json:"last_iccid"`
		Groups     map[string]int `json:"groups"`
	}
	if err := json.Unmarshal(rec.After, &sum); err != nil {
		t.Fatalf("import audit After %s: %v", rec.After, err)
	}
	if rec.Action != "sim.import" || rec.Object != "import:4 sims" || rec.TenantID != f.alpha.ID || sum.Count != 4 ||
		sum.FirstICCID != ICCID(1) || sum.LastICCID != ICCID(4) || sum.Groups["meters"] != 3 || sum.Groups["cameras"] != 1 {
		t.Errorf("import audit record %+v, summary %+v", rec, sum)
	}

	// An empty import changes nothing.
	must(t, "empty import", f.s.CreateSIMs(f.ctx, f.alpha.ID, nil, Change(f.alpha.ID, "sim.import")))
	if h := f.head(t); h != head+1 {
		t.Errorf("empty import wrote an audit record")
	}
}

// rowKey names one row error for comparison.
func rowKeys(rows []simguard.RowError) []string {
	var out []string
	for _, r := range rows {
		out = append(out, fmt.Sprintf("%d:%s", r.Line, r.Field))
	}
	slices.Sort(out)
	return out
}

func testSIMImportRejects(t *testing.T, open func(t *testing.T) simguard.Store) {
	f := newFixture(t, open)
	f.importSIMs(t, f.alpha.ID, SIMs(1, 5, "meters"))
	withIDs := func(s simguard.SIM, iccid, imsi, msisdn int) simguard.SIM {
		if iccid > 0 {
			s.ICCID = ICCID(iccid)
		}
		if imsi > 0 {
			s.IMSI = IMSI(imsi)
		}
		if msisdn > 0 {
			s.MSISDN = MSISDN(msisdn)
		}
		return s
	}
	bad := func(s simguard.SIM, mut func(*simguard.SIM)) simguard.SIM { mut(&s); return s }

	cases := []struct {
		name   string
		tenant int64
		sims   []simguard.SIM
		code   string
		rows   []string
	}{
		{
			name:   "duplicates within the import",
			tenant: f.beta.ID,
			sims: []simguard.SIM{
				SIM(10, "meters"), SIM(11, "meters"),
				withIDs(SIM(12, "meters"), 10, 0, 0), // ICCID of row 1
				withIDs(SIM(13, "meters"), 0, 11, 0), // IMSI of row 2
				withIDs(SIM(14, "meters"), 0, 0, 10), // MSISDN of row 1
			},
			code: simguard.ECONFLICT,
			rows: []string{"3:iccid", "4:imsi", "5:msisdn"},
		},
		{
			// Uniqueness is installation-wide: alpha's SIMs block beta.
			name:   "duplicates of the inventory",
			tenant: f.beta.ID,
			sims: []simguard.SIM{
				SIM(20, "meters"),
				withIDs(SIM(21, "meters"), 1, 0, 0),
				SIM(22, "meters"),
				withIDs(SIM(23, "meters"), 0, 2, 3),
				withIDs(SIM(24, "meters"), 5, 5, 5),
			},
			code: simguard.ECONFLICT,
			rows: []string{"2:iccid", "4:imsi", "4:msisdn", "5:iccid", "5:imsi", "5:msisdn"},
		},
		{
			name:   "one static IP for two SIMs",
			tenant: f.beta.ID,
			sims: []simguard.SIM{
				bad(SIM(25, "meters"), func(s *simguard.SIM) { s.StaticIP = netip.MustParseAddr("10.250.0.1") }),
				bad(SIM(26, "meters"), func(s *simguard.SIM) { s.StaticIP = netip.MustParseAddr("10.250.0.1") }),
			},
			code: simguard.ECONFLICT,
			rows: []string{"2:static_ip"},
		},
		{
			name:   "invalid rows",
			tenant: f.beta.ID,
			sims: []simguard.SIM{
				SIM(30, "meters"),
				bad(SIM(31, "meters"), func(s *simguard.SIM) { s.ICCID = wrongCheckDigit(ICCID(31)) }),
				bad(SIM(32, "meters"), func(s *simguard.SIM) { s.IMSI = "12345" }),
				bad(SIM(33, "meters"), func(s *simguard.SIM) { s.State = "lost" }),
			},
			code: simguard.EINVALID,
			rows: []string{"2:iccid", "3:imsi", "4:state"},
		},
		{
			name:   "unknown group",
			tenant: f.beta.ID,
			sims:   []simguard.SIM{SIM(40, "meters"), SIM(41, "cameras"), SIM(42, "cameras")},
			code:   simguard.EINVALID,
			rows:   []string{"2:group", "3:group"},
		},
		{
			name:   "unknown tenant",
			tenant: f.beta.ID + 100,
			sims:   []simguard.SIM{SIM(50, "meters")},
			code:   simguard.ENOTFOUND,
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			head := f.head(t)
			err := f.s.CreateSIMs(f.ctx, c.tenant, c.sims, Change(c.tenant, "sim.import"))
			e := wantCode(t, c.name, err, c.code)
			if got := rowKeys(e.Rows); !slices.Equal(got, c.rows) {
				t.Errorf("row errors %v, want %v (%+v)", got, c.rows, e.Rows)
			}
			for _, r := range e.Rows {
				if r.Message == "" {
					t.Errorf("row %d has no message", r.Line)
				}
			}
			// All or nothing: not one of the good rows went in.
			counts, err := f.s.CountSIMs(f.ctx, f.beta.ID)
			must(t, "CountSIMs", err)
			if n := counts[simguard.SIMActive] + counts[simguard.SIMInventory]; n != 0 {
				t.Errorf("rejected import left %d SIMs", n)
			}
			if h := f.head(t); h != head {
				t.Errorf("rejected import wrote %d audit records", h-head)
			}
		})
	}
}

func testSIMGetFind(t *testing.T, open func(t *testing.T) simguard.Store) {
	f := newFixture(t, open)
	a := f.importSIMs(t, f.alpha.ID, SIMs(1, 2, "meters"))
	f.importSIMs(t, f.beta.ID, SIMs(3, 1, "meters"))

	s, err := f.s.GetSIM(f.ctx, f.alpha.ID, a[1].ID)
	must(t, "GetSIM", err)
	if s.ICCID != ICCID(2) {
		t.Errorf("GetSIM = %+v", s)
	}
	_, err = f.s.GetSIM(f.ctx, f.beta.ID, a[1].ID)
	wantCode(t, "GetSIM of another tenant", err, simguard.ENOTFOUND)

	for _, key := range []string{ICCID(2), IMSI(2), MSISDN(2), "+" + MSISDN(2)} {
		s, err := f.s.FindSIM(f.ctx, f.alpha.ID, key)
		if err != nil || s.ID != a[1].ID {
			t.Errorf("FindSIM(%s) = %d, %v; want %d", key, s.ID, err, a[1].ID)
		}
		_, err = f.s.FindSIM(f.ctx, f.beta.ID, key)
		wantCode(t, "FindSIM in another tenant", err, simguard.ENOTFOUND)
	}
	_, err = f.s.FindSIM(f.ctx, f.alpha.ID, IMSI(99))
	wantCode(t, "FindSIM unknown", err, simguard.ENOTFOUND)
}

func wrongCheckDigit(s string) string {
	last := s[len(s)-1]
	return s[:len(s)-1] + string(rune('0'+(last-'0'+1)%10))
}
