package node

import (
	"context"
	"time"

	"github.com/simguard/simguard"
	"github.com/simguard/simguard/client"
)

// Feedback sends what enforcement learns to the control plane over the API.
type Feedback struct {
	c       *client.Client
	timeout time.Duration
}

var _ simguard.Feedback = (*Feedback)(nil)

// NewFeedback reports through c; each report waits at most 5 s.
func NewFeedback(c *client.Client) *Feedback { return &Feedback{c: c, timeout: 5 * time.Second} }

func (f *Feedback) send(ctx context.Context, kind string, simID int64, imei, source string, data, sms int64) error {
	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	return f.c.Feedback(ctx, kind, simID, imei, source, data, sms)
}

// LearnIMEI implements simguard.Feedback.
func (f *Feedback) LearnIMEI(ctx context.Context, simID int64, imei, source string) error {
	return f.send(ctx, "imei_learn", simID, imei, source, 0, 0)
}

// ReportIMEIMismatch implements simguard.Feedback.
func (f *Feedback) ReportIMEIMismatch(ctx context.Context, simID int64, imei, source string) error {
	return f.send(ctx, "imei_mismatch", simID, imei, source, 0, 0)
}

// AddUsage implements simguard.Feedback.
func (f *Feedback) AddUsage(ctx context.Context, simID int64, dataBytes, smsCount int64) error {
	return f.send(ctx, "usage", simID, "", "node", dataBytes, smsCount)
}
