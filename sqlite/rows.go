package sqlite

import (
	"context"
	"database/sql"
	"fmt"
)

// rowScanner is a *sql.Row or *sql.Rows: one scan function reads a row
// of either.
type rowScanner = interface{ Scan(dest ...any) error }

// queryEach runs query and calls row with each result row. Errors of the
// query and of the iteration say what was being done; row's are returned
// as they are (it wraps its own).
func queryEach(ctx context.Context, q queryer, what, query string, args []any, row func(*sql.Rows) error) error {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := row(rows); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// queryAll runs query and returns every row as scan reads it: an empty
// list rather than nil, so that an API answers [] and not null.
func queryAll[T any](ctx context.Context, q queryer, what string, scan func(rowScanner) (T, error), query string, args ...any) ([]T, error) {
	out := []T{}
	err := queryEach(ctx, q, what, query, args, func(rows *sql.Rows) error {
		v, err := scan(rows)
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		out = append(out, v)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
