package detect

import (
	"time"

	"github.com/simguard/simguard"
)

// TriggerKind is how a rule decides to fire from the events that match it.
type TriggerKind string

const (
	// TriggerEach fires on every matching event.
	TriggerEach TriggerKind = "each"
	// TriggerSlidingWindow fires when Threshold events of one key fall
	// within Window.
	TriggerSlidingWindow TriggerKind = "sliding_window"
	// TriggerLeakyBucket pours each event into a bucket of Capacity that
	// leaks one event per LeakSpeed and fires when it overflows (CrowdSec
	// semantics: the event that makes the level exceed Capacity fires).
	TriggerLeakyBucket TriggerKind = "leaky_bucket"
	// TriggerDistinct fires when Threshold distinct values of Field are
	// seen for one key within Window (e.g. distinct destinations).
	TriggerDistinct TriggerKind = "distinct"
	// TriggerBaseline keeps an exponentially weighted moving average of
	// Value per key and fires when a sample exceeds Factor times it.
	TriggerBaseline TriggerKind = "baseline"
	// TriggerFirstSeen fires when a key meets a value of Field it has not
	// seen before, after a learning period.
	TriggerFirstSeen TriggerKind = "first_seen"
)

var triggerKinds = []string{
	string(TriggerEach), string(TriggerSlidingWindow), string(TriggerLeakyBucket),
	string(TriggerDistinct), string(TriggerBaseline), string(TriggerFirstSeen),
}

// Trigger holds the parameters of a rule's trigger. Which fields apply
// depends on Kind; the loader rejects the others.
type Trigger struct {
	Kind TriggerKind `json:"kind"`

	Threshold int           `json:"threshold,omitempty"` // sliding_window, distinct
	Window    time.Duration `json:"window,omitempty"`    // sliding_window, distinct

	Capacity  int           `json:"capacity,omitempty"`   // leaky_bucket
	LeakSpeed time.Duration `json:"leak_speed,omitempty"` // leaky_bucket: one event leaks per LeakSpeed

	Field string `json:"field,omitempty"` // distinct, first_seen: the key field whose values are tracked

	// Baseline: Value is a CEL expression giving a number. With CounterBy
	// set, Value is a counter that grows within a session named by that
	// attr (RADIUS accounting octets), and the sample is its growth since
	// the previous event of the same session.
	Value      string  `json:"value,omitempty"`
	CounterBy  string  `json:"counter_by,omitempty"`
	Factor     float64 `json:"factor,omitempty"`
	Alpha      float64 `json:"alpha,omitempty"`
	MinSamples int     `json:"min_samples,omitempty"`
	MinValue   float64 `json:"min_value,omitempty"`

	// First seen: values are learned silently during LearnFor after the
	// key's first event; at most MaxValues are remembered per key.
	LearnFor  time.Duration `json:"learn_for,omitempty"`
	MaxValues int           `json:"max_values,omitempty"`

	// ForgetAfter is how long baseline and first_seen state of an idle key
	// is kept (windows and buckets forget on their own).
	ForgetAfter time.Duration `json:"forget_after,omitempty"`
}

// Action is an automatic response of a rule.
type Action struct {
	Type string `json:"type"` // simguard.ActionSuspendSIM, ActionQuarantine, ActionBlockDestination
	// Group is the quarantine group (quarantine).
	Group string `json:"group,omitempty"`
	// Attr names the event attr holding the address to block
	// (block_destination; default "dst").
	Attr string `json:"attr,omitempty"`
}

// Rule is a loaded and compiled detection rule. It is immutable.
type Rule struct {
	Name        string            `json:"name"`
	Description string            `json:"description"`
	Severity    simguard.Severity `json:"severity"`
	Enabled     bool              `json:"enabled"`
	// Events are event types ("radius.access") or type prefixes ending in
	// "." ("flow.").
	Events    []string `json:"events"`
	Condition string   `json:"condition,omitempty"`
	GroupBy   []string `json:"group_by,omitempty"`
	Trigger   Trigger  `json:"trigger"`
	// Evidence is how many of the latest matching events per key are kept
	// to be attached to the alert.
	Evidence int      `json:"evidence"`
	Actions  []Action `json:"actions,omitempty"`
	DryRun   bool     `json:"dry_run"`

	// File and Line say where the rule was defined.
	File string `json:"file"`
	Line int    `json:"line"`

	cond      *expr // nil: every event of the types matches
	value     *expr // baseline value
	keyFields []keyField
	field     keyField // distinct, first_seen
	counterBy keyField // baseline
	// fingerprint identifies the definition, so that a reload keeps the
	// state of rules that did not change.
	fingerprint string
}

// idleAfter is how long a key's state is kept after its last event.
func (r *Rule) idleAfter() time.Duration {
	t := r.Trigger
	switch t.Kind {
	case TriggerSlidingWindow, TriggerDistinct:
		return t.Window
	case TriggerLeakyBucket:
		return time.Duration(t.Capacity+1) * t.LeakSpeed
	case TriggerBaseline, TriggerFirstSeen:
		return t.ForgetAfter
	}
	return 0
}

// matchesType reports whether an event of type typ meets the rule.
func (r *Rule) matchesType(typ string) bool {
	for _, e := range r.Events {
		if e == typ || e[len(e)-1] == '.' && len(typ) > len(e) && typ[:len(e)] == e {
			return true
		}
	}
	return false
}
