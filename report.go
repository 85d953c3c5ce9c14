package simguard

import (
	"context"
	"time"
)

// DecisionFilter selects the decision events (events with a Decision) of
// one tenant in a time range, for reports.
type DecisionFilter struct {
	TenantID int64
	// SIMID limits the report to one SIM (0: every SIM).
	SIMID int64
	Since time.Time // inclusive
	Until time.Time // exclusive; zero: no end
	// Bucket is the width of the time buckets CountDecisions counts in;
	// at least one second.
	Bucket time.Duration
}

// DecisionCount is how many decisions with one outcome and reason fell in
// one time bucket.
type DecisionCount struct {
	// Start is the bucket's start: a multiple of the bucket width since
	// the Unix epoch, in UTC.
	Start    time.Time `json:"start"`
	Decision string    `json:"decision"` // "allow" or "deny"
	Reason   Reason    `json:"reason"`
	Count    int64     `json:"count"`
}

// DeniedCount is how often one SIM or one destination was denied.
type DeniedCount struct {
	SIMID int64 `json:"sim_id,omitempty"`
	// Dst is the "dst" attribute of the denial events: the address of a
	// flow, the destination of a message.
	Dst   string `json:"dst,omitempty"`
	Count int64  `json:"count"`
}

// ReportStore answers the questions of people looking at the fleet:
// aggregates of the event log and newest-first pages of the event and
// audit logs (the core queries page oldest first, as followers need).
type ReportStore interface {
	// CountDecisions counts f's decision events by bucket, decision and
	// reason, in bucket order.
	CountDecisions(ctx context.Context, f DecisionFilter) ([]DecisionCount, error)
	// TopDeniedSIMs returns the SIMs (SIMID not 0) with the most denials
	// in f's range, most first, ties by SIM ID; at most limit (1-1000).
	TopDeniedSIMs(ctx context.Context, f DecisionFilter, limit int) ([]DeniedCount, error)
	// TopDeniedDestinations does the same for the "dst" attribute of
	// denial events that have one, ties by Dst.
	TopDeniedDestinations(ctx context.Context, f DecisionFilter, limit int) ([]DeniedCount, error)
	// RecentEvents returns the newest events matching f, newest first.
	// beforeID > 0 pages back: only events with a smaller ID.
	RecentEvents(ctx context.Context, f EventFilter, beforeID int64) ([]Event, error)
	// RecentAudit returns the newest audit records matching f, newest
	// first. beforeSeq > 0 pages back: only records with a smaller Seq.
	RecentAudit(ctx context.Context, f AuditFilter, beforeSeq int64) ([]AuditRecord, error)
}
