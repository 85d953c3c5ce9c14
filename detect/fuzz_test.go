package detect

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/simguard/simguard"
)

// fuzzEvents exercise whatever a fuzzed rule compiled to.
func fuzzEvents() []simguard.Event {
	var out []simguard.Event
	for i := 0; i < 30; i++ {
		out = append(out, simguard.Event{
			Time: t0.Add(time.Duration(i) * time.Second), TenantID: 1, SIMID: int64(i%3 + 1),
			Type: []string{"radius.access", "flow.denied", "radius.accounting"}[i%3], Decision: "deny", Reason: simguard.ReasonIMEIMismatch,
			Attrs: map[string]string{"imei": "3520990017614" + strconv.Itoa(i%10), "dst": "198.51.100." + strconv.Itoa(i),
				"port": "23", "session": "s", "in_bytes": strconv.Itoa(i * 1000), "plmn": "262-01", "imsi": "262011234567890"},
		})
	}
	return out
}

func FuzzParseRule(f *testing.F) {
	// One rule per seed: small inputs keep the fuzzer's minimization of
	// each new finding short (every run compiles CEL).
	files, _ := filepath.Glob("rules/*.yaml")
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		for _, doc := range bytes.Split(b, []byte("\n---\n")) {
			f.Add(doc)
		}
	}
	f.Add([]byte(validRule))
	f.Add([]byte("name: a\nseverity: low\nevents: [t.]\ntrigger: {kind: first_seen, field: sim, max_values: 2}\n"))
	l := testLoader(f)
	evs := fuzzEvents()
	f.Fuzz(func(t *testing.T, src []byte) {
		rules, err := l.Parse("fuzz.yaml", src)
		if err != nil && err.Error() == "" {
			t.Fatal("empty error")
		}
		if len(rules) == 0 {
			return
		}
		for _, r := range rules {
			r.Enabled = true
		}
		d := NewDetector(&RuleSet{rules: rules}, DetectorOptions{MaxKeys: 100}, nil)
		for i := range evs {
			d.Process(&evs[i], nil)
		}
		d.Expire(t0.Add(time.Hour))
	})
}

func FuzzCondition(f *testing.F) {
	for _, c := range []string{
		`decision == "deny"`, `attrs.port in ["22", "23"]`, `num(attrs.in_bytes) > 10`,
		`in_cidr(attrs.dst, "198.51.100.0/24")`, `attrs.imsi.startsWith(attrs.plmn.substring(0, 3))`,
		`time > timestamp("2026-01-01T00:00:00Z")`, `attrs.exists(k, k.startsWith("i"))`, `sim % 2 == 0`,
		`[1,2,3].all(x, [1,2,3].all(y, x + y > 0))`, `attrs.size() > 2 && "imei" in attrs`,
	} {
		f.Add(c)
	}
	l := testLoader(f)
	evs := diffEvents()
	f.Fuzz(func(t *testing.T, cond string) {
		x, err := compileExpr(l.env, cond, celBool())
		if err != nil {
			return
		}
		sameAsCEL(t, x, cond, evs)
	})
}
