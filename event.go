package simguard

import (
	"context"
	"time"
)

// Event is one thing that happened, from any source: a decision of an
// enforcement point, a session start, a learned IMEI, a port found open.
// Events are appended to the durable event log and fed to detection.
type Event struct {
	ID       int64     `json:"id"`
	Time     time.Time `json:"time"`
	TenantID int64     `json:"tenant_id"`
	// SIMID is 0 when the event is about no known SIM (an unknown IMSI, a
	// packet from an unknown NAS).
	SIMID int64 `json:"sim_id,omitempty"`
	// Source is the component that saw it: radius, smpp, diameter, gateway,
	// api, detect, scan.
	Source string `json:"source"`
	// Type is dotted, source first: "radius.access", "sms.mt", "flow.denied",
	// "imei.learned".
	Type string `json:"type"`
	// Decision is "allow", "deny" or "" for events that decide nothing.
	Decision string `json:"decision,omitempty"`
	Reason   Reason `json:"reason,omitempty"`
	// Attrs are the details: imsi, imei, plmn, apn, nas, peer, dst, port …
	// Values are strings so that every store and rule reads them the same.
	Attrs map[string]string `json:"attrs,omitempty"`
}

// EventFilter selects events. Zero fields do not filter.
type EventFilter struct {
	TenantID int64
	SIMID    int64
	Types    []string // exact types, or a prefix ending in "." ("radius.")
	Since    time.Time
	Until    time.Time
	// AfterID pages forward: only events with a larger ID.
	AfterID int64
	Limit   int // default 100, at most 10,000
}

// EventSink accepts events from enforcement points. Emit must not block the
// caller for long: implementations batch and write asynchronously.
type EventSink interface {
	Emit(Event)
}

// EventStore is the durable event log.
type EventStore interface {
	// AppendEvents writes events in one transaction and sets their IDs.
	AppendEvents(ctx context.Context, events []Event) error
	// FindEvents returns events matching f in ID order.
	FindEvents(ctx context.Context, f EventFilter) ([]Event, error)
	// DeleteEventsBefore removes events older than t (retention) and says
	// how many it removed.
	DeleteEventsBefore(ctx context.Context, t time.Time) (int64, error)
}
