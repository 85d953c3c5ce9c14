package node

import (
	"context"
	"log/slog"
	"time"

	"github.com/simguard/simguard"
	"github.com/simguard/simguard/client"
)

// Events forwards a node's events to the control plane's event log in
// batches. It implements simguard.EventStore's append side so that the
// node can use the same enforce.EventWriter as the control plane (which
// batches, retries and never drops).
type Events struct {
	c   *client.Client
	log *slog.Logger
}

// NewEvents forwards through c.
func NewEvents(c *client.Client, log *slog.Logger) *Events { return &Events{c: c, log: log} }

// AppendEvents sends one batch; the event writer retries on error.
func (e *Events) AppendEvents(ctx context.Context, events []simguard.Event) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	return e.c.AppendEvents(ctx, events)
}

// FindEvents is not served by a node: query the control plane.
func (e *Events) FindEvents(context.Context, simguard.EventFilter) ([]simguard.Event, error) {
	return nil, simguard.Errorf(simguard.EINVALID, "a node does not keep events; query the control plane")
}

// DeleteEventsBefore is the control plane's job.
func (e *Events) DeleteEventsBefore(context.Context, time.Time) (int64, error) { return 0, nil }
