package console

import (
	"context"
	"time"
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

// AlertSource counts open alerts. Detection provides it once it is wired
// into serve; until then the console hides the alerts panel. Like
// SessionSource it scopes to the tenant of the actor in ctx.
type AlertSource interface {
	// OpenAlerts counts open and acknowledged alerts by severity (info,
	// low, medium, high, critical).
	OpenAlerts(ctx context.Context) (map[string]int64, error)
}

// severities is the order the overview shows alert severities in, worst
// first.
var severities = []string{"critical", "high", "medium", "low", "info"}
