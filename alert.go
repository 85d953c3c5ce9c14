package simguard

import (
	"context"
	"net/netip"
	"time"
)

// Severity ranks an alert. The order is info < low < medium < high <
// critical.
type Severity string

const (
	SeverityInfo     Severity = "info"
	SeverityLow      Severity = "low"
	SeverityMedium   Severity = "medium"
	SeverityHigh     Severity = "high"
	SeverityCritical Severity = "critical"
)

// Severities lists every severity from the lowest to the highest.
var Severities = []Severity{SeverityInfo, SeverityLow, SeverityMedium, SeverityHigh, SeverityCritical}

// Rank returns 1 (info) to 5 (critical), or 0 for an unknown severity.
func (s Severity) Rank() int {
	for i, x := range Severities {
		if s == x {
			return i + 1
		}
	}
	return 0
}

// Valid reports whether s is a known severity.
func (s Severity) Valid() bool { return s.Rank() > 0 }

// AlertState is where an alert is in its life: open → acknowledged →
// resolved. A resolved alert never opens again: a new firing of the same
// rule for the same key opens a new alert.
type AlertState string

const (
	AlertOpen         AlertState = "open"
	AlertAcknowledged AlertState = "acknowledged"
	AlertResolved     AlertState = "resolved"
)

// Valid reports whether s is a known state.
func (s AlertState) Valid() bool {
	return s == AlertOpen || s == AlertAcknowledged || s == AlertResolved
}

// Active reports whether an alert in state s still absorbs new firings.
func (s AlertState) Active() bool { return s == AlertOpen || s == AlertAcknowledged }

// Alert is what a detection rule raised for one key (a SIM, an IMEI, a NAS,
// an address …). Firings of the same rule for the same key while the alert
// is open or acknowledged are folded into it: Count grows, LastSeenAt
// moves, and Events grows up to a cap.
type Alert struct {
	ID       int64    `json:"id"`
	TenantID int64    `json:"tenant_id"`
	Rule     string   `json:"rule"`
	Severity Severity `json:"severity"`
	// Key is the rule's group-by value as "field=value" pairs joined by
	// ",", e.g. "sim=42" or "imei=35209900176148"; "" for a rule that does
	// not group (one alert per tenant).
	Key string `json:"key"`
	// SIMID is the SIM of the event that fired the rule; 0 when the events
	// name no known SIM (an unknown NAS, an address).
	SIMID   int64      `json:"sim_id,omitempty"`
	State   AlertState `json:"state"`
	Summary string     `json:"summary"`
	// Count is how many firings the alert holds (1 when it opens).
	Count int64 `json:"count"`
	// FirstEventAt is the time of the first offending event; CreatedAt -
	// FirstEventAt is the time to detect.
	FirstEventAt time.Time `json:"first_event_at"`
	CreatedAt    time.Time `json:"created_at"`
	// LastSeenAt is the event time of the latest firing.
	LastSeenAt time.Time `json:"last_seen_at"`
	// DryRun is true when the rule's actions were only simulated.
	DryRun         bool       `json:"dry_run,omitempty"`
	AcknowledgedAt *time.Time `json:"acknowledged_at,omitempty"`
	AcknowledgedBy string     `json:"acknowledged_by,omitempty"`
	ResolvedAt     *time.Time `json:"resolved_at,omitempty"`
	ResolvedBy     string     `json:"resolved_by,omitempty"`
	// Note is what the operator wrote when acknowledging or resolving.
	Note string `json:"note,omitempty"`
	// Events are the events that caused the alert, oldest first, up to the
	// engine's cap; later firings add theirs until the cap is reached.
	Events []Event `json:"events"`
	// Actions are the automatic responses the rule ran (or simulated).
	Actions []AlertAction `json:"actions,omitempty"`
}

// Action types a rule can run.
const (
	ActionSuspendSIM       = "suspend_sim"
	ActionQuarantine       = "quarantine"
	ActionBlockDestination = "block_destination"
)

// Action results.
const (
	ActionDone    = "done"    // the control plane carried it out
	ActionDryRun  = "dry_run" // the rule is in dry-run mode: nothing was changed
	ActionFailed  = "failed"  // the control plane refused or failed; see Error
	ActionCapped  = "capped"  // the hourly cap on automatic suspensions was reached
	ActionSkipped = "skipped" // the events lack what the action needs (no SIM, no group …)
	ActionNotRun  = "not_run" // an offline replay: what the action would have done
)

// AlertAction is one automatic response and its outcome.
type AlertAction struct {
	Type string `json:"type"`
	// Target names what was acted on: "sim:42", "sim:42 group:quarantine",
	// "group:meters cidr:203.0.113.9/32".
	Target string    `json:"target"`
	Result string    `json:"result"`
	Error  string    `json:"error,omitempty"`
	Time   time.Time `json:"time"`
}

// AlertFiring is a new firing folded into an active alert.
type AlertFiring struct {
	// Count is added to the alert's Count (usually 1).
	Count      int64
	LastSeenAt time.Time
	// Events are appended to the alert's events while it holds fewer than
	// MaxEvents; those beyond the cap are dropped (Count still grows).
	Events    []Event
	MaxEvents int
}

// AlertFilter selects alerts. Zero fields do not filter.
type AlertFilter struct {
	TenantID int64
	// States selects any of these states.
	States   []AlertState
	Rule     string
	SIMID    int64
	Severity Severity // this severity or higher
	Since    time.Time
	// AfterID pages forward: only alerts with a larger ID, in ID order.
	AfterID int64
	Limit   int // default 100, at most 10,000
}

// AlertStore keeps alerts. Alerts are raised by the detection engine,
// which is not an operator: creating them and folding firings into them is
// not audited (the actions they trigger are, by the control plane).
// Acknowledging and resolving are operator changes and are audited.
type AlertStore interface {
	// CreateAlert stores a new alert (State open), sets its ID and returns
	// it. It is durable when it returns.
	CreateAlert(ctx context.Context, a Alert) (Alert, error)
	// AddAlertFiring folds f into alert id in one transaction and returns
	// the updated alert. It fails with ECONFLICT when the alert is
	// resolved (the caller then opens a new one) and ENOTFOUND when it does
	// not exist.
	AddAlertFiring(ctx context.Context, id int64, f AlertFiring) (Alert, error)
	// AddAlertActions appends action outcomes to alert id.
	AddAlertActions(ctx context.Context, id int64, actions []AlertAction) error
	// GetAlert returns one alert of the tenant; ENOTFOUND if none.
	GetAlert(ctx context.Context, tenantID, id int64) (Alert, error)
	// ListAlerts returns alerts matching f in ID order, with their events.
	// TenantID 0 lists every tenant's (the engine uses it on start).
	ListAlerts(ctx context.Context, f AlertFilter) ([]Alert, error)
	// SetAlertState moves an alert forward (open → acknowledged →
	// resolved, or open → resolved), records who did it and the note, and
	// appends the audit record of ch ("alert.acknowledge",
	// "alert.resolve") in the same transaction. Going backwards, or
	// changing a resolved alert, fails with ECONFLICT.
	SetAlertState(ctx context.Context, tenantID, id int64, state AlertState, note string, ch Change) (Alert, error)
}

// Responder is how detection acts on the fleet. The control plane
// implements it exactly like an operator's request: validated, written with
// the audit record of actor (SystemActor(tenant, "rule:NAME")), and pushed
// into a new policy snapshot, so RADIUS disconnects live sessions and the
// gateway firewall follows. Every method fails with ENOTFOUND when the SIM
// or group does not exist in actor's tenant and with ECONFLICT when the
// change is not possible in the current state (e.g. a terminated SIM).
type Responder interface {
	// SuspendSIM suspends the SIM. Suspending a suspended SIM is not an
	// error.
	SuspendSIM(ctx context.Context, simID int64, actor Actor, reason string) error
	// MoveSIMToGroup moves the SIM into group (a quarantine group).
	MoveSIMToGroup(ctx context.Context, simID int64, group string, actor Actor) error
	// BlockDestination stops every SIM of group from reaching cidr.
	BlockDestination(ctx context.Context, tenantID int64, group string, cidr netip.Prefix, actor Actor) error
}

// AlertNoticeKind says what happened to an alert.
type AlertNoticeKind string

const (
	NoticeOpened       AlertNoticeKind = "opened"
	NoticeAcknowledged AlertNoticeKind = "acknowledged"
	NoticeResolved     AlertNoticeKind = "resolved"
)

// AlertNotice is what is delivered to webhooks, syslog and JSON lines.
type AlertNotice struct {
	Kind  AlertNoticeKind `json:"kind"`
	Time  time.Time       `json:"time"`
	Alert Alert           `json:"alert"`
}

// DeadLetter is a webhook delivery that failed every attempt. It keeps the
// exact body so that a replay sends (and signs) the same bytes.
type DeadLetter struct {
	ID        int64     `json:"id"`
	Webhook   string    `json:"webhook"` // the webhook's configured name
	Body      []byte    `json:"body"`
	Attempts  int       `json:"attempts"`
	LastError string    `json:"last_error"`
	CreatedAt time.Time `json:"created_at"`
}

// DeadLetterStore keeps failed webhook deliveries until they are replayed.
type DeadLetterStore interface {
	// AddDeadLetter stores d and sets its ID; durable when it returns.
	AddDeadLetter(ctx context.Context, d DeadLetter) (DeadLetter, error)
	// DeadLetters lists the dead letters of one webhook ("" for all),
	// oldest first, at most limit (0: 100).
	DeadLetters(ctx context.Context, webhook string, limit int) ([]DeadLetter, error)
	// DeleteDeadLetter removes a dead letter once it was delivered;
	// ENOTFOUND if it is gone.
	DeleteDeadLetter(ctx context.Context, id int64) error
}
