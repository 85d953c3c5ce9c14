package console

import (
	"context"
	"time"

	"github.com/simguard/simguard"
)

// SessionSource lists live data sessions. The RADIUS server's accounting
// provides them once it is wired into serve; until then the console hides
// every live-session panel.
//
// Implementations take the actor from ctx (simguard.ActorFrom) and return
// only the sessions of its tenant, with the role checks of the control
// service; a control.Service method does both.
type SessionSource interface {
	// LiveSessions returns live sessions, newest first, at most limit, of
	// one SIM when simID is not 0, and how many are live in all. The count
	// may stop at SessionCountCap; the console then says "at least".
	LiveSessions(ctx context.Context, simID int64, limit int) ([]Session, int64, error)
}

// SessionCountCap is where a SessionSource may stop counting live
// sessions: the overview needs an order of magnitude, not an exact census
// paid for every few seconds.
const SessionCountCap = 10_000

// Session is a live data session as the console shows it.
type Session struct {
	SIMID int64 `json:"sim_id,omitempty"`
	// ICCID links the session to its SIM page; the console fills it in
	// from SIMID when the source leaves it empty.
	ICCID        string    `json:"iccid,omitempty"`
	IMSI         string    `json:"imsi,omitempty"`
	IP           string    `json:"ip,omitempty"`
	APN          string    `json:"apn,omitempty"`
	NAS          string    `json:"nas,omitempty"`
	RAT          string    `json:"rat,omitempty"`
	PLMN         string    `json:"plmn,omitempty"`
	Start        time.Time `json:"start"`
	LastUpdate   time.Time `json:"last_update"`
	InputOctets  uint64    `json:"input_octets"`
	OutputOctets uint64    `json:"output_octets"`
}

// AlertSource lists and moves alerts. Detection provides it when it runs
// in serve; until then the console shows no alerts page or panel. Like
// SessionSource it takes the actor from ctx, scopes to its tenant, and
// refuses acknowledging and resolving to read-only roles.
type AlertSource interface {
	// ListAlerts returns alerts matching f (f.TenantID is the actor's) in
	// ID order, with their events.
	ListAlerts(ctx context.Context, f simguard.AlertFilter) ([]simguard.Alert, error)
	// GetAlert returns one alert with the events behind it.
	GetAlert(ctx context.Context, id int64) (simguard.Alert, error)
	// Acknowledge and Resolve move an alert forward, audited as the actor.
	Acknowledge(ctx context.Context, id int64, note string) (simguard.Alert, error)
	Resolve(ctx context.Context, id int64, note string) (simguard.Alert, error)
}

// severities is the order the console shows alert severities in, worst
// first.
var severities = []simguard.Severity{simguard.SeverityCritical, simguard.SeverityHigh, simguard.SeverityMedium,
	simguard.SeverityLow, simguard.SeverityInfo}
