package detect

import (
	"strconv"
	"strings"
	"testing"

	"github.com/google/cel-go/common/types"
	"github.com/simguard/simguard"
)

// sameAsCEL checks that the fast path, where it applies, answers exactly
// like the CEL interpreter on every event (errors included).
func sameAsCEL(t *testing.T, x *expr, src string, evs []simguard.Event) {
	t.Helper()
	var act activation
	for i := range evs {
		act.set(&evs[i])
		out, _, err := x.prg.Eval(&act)
		if x.fastB != nil {
			v, ok := x.fastB(&act)
			b, isBool := out.(types.Bool)
			if ok != (err == nil && isBool) || ok && v != bool(b) {
				t.Fatalf("%s on %+v: fast path %v/%v, CEL %v/%v", src, evs[i], v, ok, out, err)
			}
		}
		if x.fastInt != nil {
			v, ok := x.fastInt(&act)
			n, isInt := out.(types.Int)
			if ok != (err == nil && isInt) || ok && v != int64(n) {
				t.Fatalf("%s on %+v: fast path %v/%v, CEL %v/%v", src, evs[i], v, ok, out, err)
			}
		}
	}
}

func diffEvents() []simguard.Event {
	evs := fuzzEvents()
	odd := []map[string]string{
		nil, {}, {"plmn": "2", "imsi": "262"}, {"plmn": "é€x", "imsi": "é€xyz"}, {"in_bytes": "9223372036854775807", "out_bytes": "1"},
		{"in_bytes": "-9223372036854775808", "out_bytes": "-1"}, {"port": " 23 ", "dst": "::ffff:198.51.100.1"},
		{"direction": "inbound", "binary": "true"},
	}
	for i, a := range odd {
		evs = append(evs, simguard.Event{Type: "radius.access", Decision: []string{"", "deny", "allow"}[i%3], Reason: "location_denied", SIMID: int64(i), Attrs: a})
	}
	return evs
}

func TestFastPathMatchesCEL(t *testing.T) {
	l := testLoader(t)
	cases := []struct {
		src  string
		fast bool // within the subset
	}{
		{`decision == "deny"`, true},
		{`decision == "deny" && reason in ["imei_mismatch", "location_denied"]`, true},
		{`type == "imei.mismatch" || reason == "imei_mismatch"`, true},
		{`attrs.port in ["22", "23", "2323"] && attrs.direction != "inbound"`, true},
		{`attrs["port"] == "23"`, true},
		{`!(attrs.binary == "true")`, true},
		{`attrs.plmn.size() >= 3 && attrs.imsi.size() >= 3 && !attrs.imsi.startsWith(attrs.plmn.substring(0, 3))`, true},
		{`!attrs.imsi.startsWith(attrs.plmn.substring(0, 3))`, true}, // errors when plmn is short
		{`attrs.plmn.substring(1, 2) == "" || decision == "deny"`, true},
		{`num(attrs.in_bytes) + num(attrs.out_bytes) > 1000`, true},
		{`num(attrs.in_bytes) - num(attrs.out_bytes) < 0`, true},
		{`sim in [1, 2, 3] || tenant > 1`, true},
		{`attrs.dst.endsWith(".1") && attrs.dst.contains("100")`, true},
		{`true && decision < "b"`, true},
		{`in_cidr(attrs.dst, "198.51.100.0/24")`, false},
		{`attrs.exists(k, k == "imei")`, false},
		{`sim % 2 == 0`, false},
		{`"imei" in attrs`, false},
	}
	evs := diffEvents()
	for _, c := range cases {
		t.Run(c.src, func(t *testing.T) {
			x, err := compileExpr(l.env, c.src, celBool())
			if err != nil {
				t.Fatal(err)
			}
			if (x.fastB != nil) != c.fast {
				t.Fatalf("fast path used: %v, want %v", x.fastB != nil, c.fast)
			}
			sameAsCEL(t, x, c.src, evs)
		})
	}
	x, err := compileExpr(l.env, `num(attrs.in_bytes) + num(attrs.out_bytes)`, celInt())
	if err != nil || x.fastInt == nil {
		t.Fatalf("value expression: %v", err)
	}
	sameAsCEL(t, x, "value", evs)
}

// TestBuiltinConditionsAreFast: every shipped condition runs on the fast
// path, so the default rules never pay for the interpreter.
func TestBuiltinConditionsAreFast(t *testing.T) {
	for _, r := range builtinRules(t).Rules() {
		if r.cond != nil && r.cond.fastB == nil {
			t.Errorf("rule %s: condition %q is not on the fast path", r.Name, r.Condition)
		}
		if r.value != nil && r.value.fastInt == nil {
			t.Errorf("rule %s: value %q is not on the fast path", r.Name, r.Trigger.Value)
		}
		if r.cond != nil {
			sameAsCEL(t, r.cond, r.Condition, diffEvents())
		}
	}
}

// num() must read exactly what strconv.ParseInt reads (0 for what it
// refuses), without allocating.
func FuzzParseNum(f *testing.F) {
	for _, s := range []string{"", " 42 ", "-7", "+7", "9223372036854775807", "9223372036854775808",
		"-9223372036854775808", "-9223372036854775809", "18446744073709551616", "1_000", "0x10", "- 1", "+", "١٢"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		if err != nil {
			want = 0
		}
		if got := parseNum(s); got != want {
			t.Fatalf("parseNum(%q) = %d, strconv says %d", s, got, want)
		}
	})
}

var numSink int64

func TestParseNumDoesNotAllocate(t *testing.T) {
	for _, s := range []string{"", "x", "123", "-99999999999999999999"} {
		if n := testing.AllocsPerRun(100, func() { numSink += parseNum(s) }); n != 0 {
			t.Errorf("parseNum(%q): %v allocs", s, n)
		}
	}
}
