package notify

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/simguard/simguard"
)

// bury writes a dead letter.
func (w *Webhook) bury(ctx context.Context, d delivery) error {
	w.deliveries.WithLabelValues(w.sink, "dead_letter").Inc()
	w.log.Error("notify: webhook delivery failed for good", "webhook", w.cfg.Name, "attempts", d.attempts, "err", d.lastErr)
	if w.dead == nil {
		return fmt.Errorf("webhook %s: delivery failed (%s) and no dead-letter store is configured", w.cfg.Name, d.lastErr)
	}
	_, err := w.dead.AddDeadLetter(ctx, simguard.DeadLetter{
		Webhook: w.cfg.Name, Body: d.body, Attempts: d.attempts, LastError: d.lastErr, CreatedAt: w.clock().UTC(),
	})
	if err != nil {
		return fmt.Errorf("webhook %s: store dead letter: %w", w.cfg.Name, err)
	}
	return nil
}

func (w *Webhook) shutdown(pending []delivery) {
	for {
		select {
		case d := <-w.queue:
			pending = append(pending, d)
			continue
		default:
		}
		break
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, d := range pending {
		if d.lastErr == "" {
			d.lastErr = "not delivered before shutdown"
		}
		if err := w.bury(ctx, d); err != nil {
			w.log.Error("notify: dead letter lost", "webhook", w.cfg.Name, "err", err)
		}
	}
}

// ReplayDeadLetters sends this webhook's dead letters once each, oldest
// first, deleting those delivered. It stops at the first failure (the
// receiver is likely still down) and says how many it delivered.
func (w *Webhook) ReplayDeadLetters(ctx context.Context) (int, error) {
	if w.dead == nil {
		return 0, errors.New("webhook " + w.cfg.Name + ": no dead-letter store configured")
	}
	delivered := 0
	for {
		list, err := w.dead.DeadLetters(ctx, w.cfg.Name, 100)
		if err != nil {
			return delivered, fmt.Errorf("webhook %s: list dead letters: %w", w.cfg.Name, err)
		}
		if len(list) == 0 {
			return delivered, nil
		}
		for _, d := range list {
			if err := w.send(ctx, d.Body); err != nil {
				return delivered, fmt.Errorf("webhook %s: replay dead letter %d: %w", w.cfg.Name, d.ID, err)
			}
			w.deliveries.WithLabelValues(w.sink, "replayed").Inc()
			if err := w.dead.DeleteDeadLetter(ctx, d.ID); err != nil {
				return delivered, fmt.Errorf("webhook %s: delete dead letter %d: %w", w.cfg.Name, d.ID, err)
			}
			delivered++
		}
	}
}
