package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/simguard/simguard"
)

var _ simguard.DeadLetterStore = (*DB)(nil)

// AddDeadLetter keeps a webhook delivery that failed every attempt.
func (db *DB) AddDeadLetter(ctx context.Context, d simguard.DeadLetter) (simguard.DeadLetter, error) {
	if d.Webhook == "" || len(d.Body) == 0 {
		return simguard.DeadLetter{}, simguard.FieldError("dead_letter", "needs a webhook name and a body")
	}
	err := db.write(ctx, func(tx *sql.Tx, now time.Time) error {
		if d.CreatedAt.IsZero() {
			d.CreatedAt = now
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO webhook_dead_letters (webhook, body, attempts, last_error, created_at)
			VALUES (?, ?, ?, ?, ?)`, d.Webhook, d.Body, d.Attempts, d.LastError, ts(d.CreatedAt))
		if err != nil {
			return fmt.Errorf("add dead letter: %w", err)
		}
		d.ID, err = res.LastInsertId()
		return err
	})
	d.CreatedAt = fromTS(ts(d.CreatedAt))
	return d, err
}

// DeadLetters lists dead letters oldest first.
func (db *DB) DeadLetters(ctx context.Context, webhook string, limit int) ([]simguard.DeadLetter, error) {
	return queryAll(ctx, db.r, "list dead letters", scanDeadLetter, `SELECT id, webhook, body, attempts, last_error, created_at
		FROM webhook_dead_letters WHERE ? = '' OR webhook = ? ORDER BY id LIMIT ?`, webhook, webhook, clampLimit(limit))
}

func scanDeadLetter(r rowScanner) (simguard.DeadLetter, error) {
	var d simguard.DeadLetter
	var created int64
	if err := r.Scan(&d.ID, &d.Webhook, &d.Body, &d.Attempts, &d.LastError, &created); err != nil {
		return d, err
	}
	d.CreatedAt = fromTS(created)
	return d, nil
}

// DeleteDeadLetter removes a delivered dead letter.
func (db *DB) DeleteDeadLetter(ctx context.Context, id int64) error {
	return db.write(ctx, func(tx *sql.Tx, _ time.Time) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM webhook_dead_letters WHERE id = ?`, id)
		if err != nil {
			return fmt.Errorf("delete dead letter: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return &simguard.Error{Code: simguard.ENOTFOUND, Field: "dead_letter", Message: fmt.Sprintf("dead letter %d does not exist", id)}
		}
		return nil
	})
}
