package detect

import (
	"fmt"
	"strings"
	"time"

	"github.com/google/cel-go/cel"
)

const (
	maxWindow    = 7 * 24 * time.Hour
	maxForget    = 366 * 24 * time.Hour
	maxThreshold = 100_000
)

// triggerFields lists the fields each trigger kind accepts.
var triggerFields = map[TriggerKind][]string{
	TriggerEach:          {"kind"},
	TriggerSlidingWindow: {"kind", "threshold", "window"},
	TriggerLeakyBucket:   {"kind", "capacity", "leak_speed"},
	TriggerDistinct:      {"kind", "field", "threshold", "window"},
	TriggerBaseline:      {"kind", "value", "counter_by", "factor", "alpha", "min_samples", "min_value", "forget_after"},
	TriggerFirstSeen:     {"kind", "field", "learn_for", "max_values", "forget_after"},
}

func (l *Loader) parseTrigger(r *Rule, d node) error {
	all := []string{"kind", "threshold", "window", "capacity", "leak_speed", "field", "value",
		"counter_by", "factor", "alpha", "min_samples", "min_value", "learn_for", "max_values", "forget_after"}
	f, err := d.fields(all...)
	if err != nil {
		return err
	}
	kn, ok := f["kind"]
	if !ok {
		return d.errf("kind is missing; one of %s", strings.Join(triggerKinds, ", "))
	}
	k, err := kn.str()
	if err != nil {
		return err
	}
	t := &r.Trigger
	t.Kind = TriggerKind(k)
	allowed, ok := triggerFields[t.Kind]
	if !ok {
		return kn.errf("must be one of %s, got %q", strings.Join(triggerKinds, ", "), clip(k))
	}
	for name, v := range f {
		if !contains(allowed, name) {
			return v.errf("does not apply to trigger kind %s (it takes %s)", t.Kind, strings.Join(allowed[1:], ", "))
		}
	}
	// need reads a required field with its reader.
	need := func(name string, read func(node) error) error {
		n, ok := f[name]
		if !ok {
			return d.errf("%s is missing; trigger kind %s needs %s", name, t.Kind, strings.Join(allowed[1:], ", "))
		}
		return read(n)
	}
	// opt reads an optional field.
	opt := func(name string, read func(node) error) error {
		if n, ok := f[name]; ok {
			return read(n)
		}
		return nil
	}
	threshold := func(lo, hi int) func(node) error {
		return func(n node) (err error) { t.Threshold, err = n.integer(lo, hi); return err }
	}
	window := func(n node) (err error) { t.Window, err = n.duration(time.Second, maxWindow); return err }
	field := func(n node) error {
		s, err := n.str()
		if err != nil {
			return err
		}
		kf, ok := parseField(s)
		if !ok {
			return n.errf("%q is not a field; use an attr name like dst, imei, plmn or an event field", clip(s))
		}
		t.Field, r.field = s, kf
		return nil
	}
	forget := func(def time.Duration) error {
		t.ForgetAfter = def
		return opt("forget_after", func(n node) (err error) { t.ForgetAfter, err = n.duration(time.Minute, maxForget); return err })
	}

	switch t.Kind {
	case TriggerEach:
		return nil
	case TriggerSlidingWindow:
		if err := need("threshold", threshold(1, maxThreshold)); err != nil {
			return err
		}
		return need("window", window)
	case TriggerLeakyBucket:
		if err := need("capacity", func(n node) (err error) { t.Capacity, err = n.integer(1, maxThreshold); return err }); err != nil {
			return err
		}
		return need("leak_speed", func(n node) (err error) { t.LeakSpeed, err = n.duration(time.Millisecond, 24*time.Hour); return err })
	case TriggerDistinct:
		if err := need("field", field); err != nil {
			return err
		}
		// The state keeps one entry per distinct value up to the
		// threshold, so the threshold bounds its memory.
		if err := need("threshold", threshold(2, 1000)); err != nil {
			return err
		}
		return need("window", window)
	case TriggerBaseline:
		return l.parseBaseline(r, f, need, opt, forget)
	case TriggerFirstSeen:
		if err := need("field", field); err != nil {
			return err
		}
		if err := opt("learn_for", func(n node) (err error) { t.LearnFor, err = n.duration(0, maxForget); return err }); err != nil {
			return err
		}
		t.MaxValues = 10_000
		if err := opt("max_values", func(n node) (err error) { t.MaxValues, err = n.integer(2, 1_000_000); return err }); err != nil {
			return err
		}
		return forget(30 * 24 * time.Hour)
	}
	return fmt.Errorf("unreachable trigger kind %q", t.Kind)
}

func (l *Loader) parseBaseline(r *Rule, f map[string]node, need, opt func(string, func(node) error) error, forget func(time.Duration) error) error {
	t := &r.Trigger
	err := need("value", func(n node) error {
		var err error
		if t.Value, err = n.str(); err != nil {
			return err
		}
		if r.value, err = compileExpr(l.env, t.Value, cel.IntType, cel.UintType, cel.DoubleType); err != nil {
			return n.errf("%v", err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	err = opt("counter_by", func(n node) error {
		s, err := n.str()
		if err != nil {
			return err
		}
		kf, ok := parseField(s)
		if !ok {
			return n.errf("%q is not a field; name the attr that identifies a session, e.g. session", clip(s))
		}
		t.CounterBy, r.counterBy = s, kf
		return nil
	})
	if err != nil {
		return err
	}
	t.Factor, t.Alpha, t.MinSamples = 10, 0.1, 10
	steps := []struct {
		name string
		read func(node) error
	}{
		{"factor", func(n node) (err error) { t.Factor, err = n.number(1.01, 1e9); return err }},
		{"alpha", func(n node) (err error) { t.Alpha, err = n.number(0.001, 1); return err }},
		{"min_samples", func(n node) (err error) { t.MinSamples, err = n.integer(1, 1_000_000); return err }},
		{"min_value", func(n node) (err error) { t.MinValue, err = n.number(0, 1e18); return err }},
	}
	for _, s := range steps {
		if err := opt(s.name, s.read); err != nil {
			return err
		}
	}
	return forget(7 * 24 * time.Hour)
}
