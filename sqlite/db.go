package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"strings"
	"time"

	"modernc.org/sqlite" // registers the "sqlite" database/sql driver
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/simguard/simguard"
)

// Options configure Open. The zero value is usable.
type Options struct {
	// Now is the clock for created/updated times and audit records.
	// Default time.Now.
	Now func() time.Time
	// Logger receives start-up and migration messages. Default: discard.
	Logger *slog.Logger
	// ReadConns is the size of the read pool. Default: GOMAXPROCS, at
	// least 4.
	ReadConns int

	// relaxedSync selects synchronous=NORMAL instead of FULL. Only the
	// benchmarks use it, to measure what durability costs.
	relaxedSync bool
}

// DB is the SQLite store. It holds one write connection, through which
// every write is serialized (SQLite has one writer at a time anyway; a
// second pooled writer would only wait on the lock), and a pool of read
// connections that see the last committed state and never wait for a
// write in WAL mode.
type DB struct {
	path string
	dsn  string // the pragmas of every connection
	w    *sql.DB
	r    *sql.DB
	now  func() time.Time
	log  *slog.Logger

	// hookImportRow is called after each row CreateSIMs inserted, before
	// the commit. Tests use it to crash or pause in the middle of an import.
	hookImportRow func(row int)
}

var _ simguard.Store = (*DB)(nil)

// Open opens or creates the database at path and applies missing
// migrations. The file is created with mode 0600: it holds token hashes.
func Open(ctx context.Context, path string, opts Options) (*DB, error) {
	if path == "" || strings.ContainsAny(path, "?#") || strings.HasPrefix(path, "file:") || path == ":memory:" {
		return nil, simguard.FieldError("path", "want a file name without '?' or '#', got %q", path)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if opts.ReadConns <= 0 {
		opts.ReadConns = max(4, runtime.GOMAXPROCS(0))
	}
	if err := createPrivate(path); err != nil {
		return nil, err
	}
	syncMode := "FULL"
	if opts.relaxedSync {
		syncMode = "NORMAL"
	}
	// busy_timeout only matters when another process (a CLI command on the
	// same file) holds the lock; in-process writers queue on the pool.
	common := "_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)&_pragma=journal_mode(WAL)" +
		"&_pragma=synchronous(" + syncMode + ")"
	// The writer checkpoints every 8000 pages (32 MB) rather than SQLite's
	// 1000: pages written by many transactions (index leaves) are copied
	// into the database once per checkpoint, which cut the CPU cost of
	// appending events by a quarter. journal_size_limit trims the WAL file
	// back after a burst.
	w, err := sql.Open("sqlite", path+"?"+common+"&_txlock=immediate&_pragma=cache_size(-65536)&_pragma=temp_store(memory)"+
		"&_pragma=wal_autocheckpoint(8000)&_pragma=journal_size_limit(67108864)")
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)

	r, err := sql.Open("sqlite", path+"?"+common+"&_pragma=cache_size(-16384)&_query_only=1")
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	r.SetMaxOpenConns(opts.ReadConns)
	r.SetMaxIdleConns(opts.ReadConns)

	db := &DB{path: path, dsn: common, w: w, r: r, now: opts.Now, log: opts.Logger}
	if err := db.w.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	all, err := loadMigrations(migrationFS)
	if err != nil {
		db.Close()
		return nil, err
	}
	if err := db.migrate(ctx, all); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// createPrivate creates an empty file at path with mode 0600 unless it
// exists. SQLite gives the -wal and -shm files the mode of the database.
func createPrivate(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("create database file: %w", err)
	}
	return f.Close()
}

// Close closes both pools. The last connection to close checkpoints the WAL
// into the database file.
func (db *DB) Close() error {
	return errors.Join(db.r.Close(), db.w.Close())
}

// write runs fn in a write transaction (BEGIN IMMEDIATE on the single write
// connection). fn's error is returned unchanged so that callers' own errors
// (from UpdateSIM's fn, for instance) reach them as they were.
func (db *DB) write(ctx context.Context, fn func(tx *sql.Tx, now time.Time) error) error {
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin write: %w", err)
	}
	// Deferred so that a panic in fn does not leave the only write
	// connection inside a transaction.
	defer tx.Rollback()
	if err := fn(tx, db.now()); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// checkChange refuses writes that nobody would be accountable for.
func checkChange(ch simguard.Change) error {
	if ch.Actor.Name == "" {
		return simguard.FieldError("actor", "every change needs an actor for the audit log")
	}
	if ch.Action == "" {
		return simguard.FieldError("action", "every change needs an action for the audit log")
	}
	return nil
}

// uniqueViolation returns the columns named by a UNIQUE constraint error,
// such as "sims.msisdn".
func uniqueViolation(err error) (string, bool) {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return "", false
	}
	if se.Code() != sqlite3.SQLITE_CONSTRAINT_UNIQUE && se.Code() != sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY {
		return "", false
	}
	// The driver's text repeats SQLite's: "constraint failed: UNIQUE
	// constraint failed: sims.msisdn (2067)"; the columns follow the last one.
	msg := se.Error()
	const failed = "constraint failed: "
	cols := msg
	if i := strings.LastIndex(msg, failed); i >= 0 {
		cols = msg[i+len(failed):]
	}
	cols, _, _ = strings.Cut(cols, " (")
	return cols, true
}

func clampLimit(n int) int {
	switch {
	case n <= 0:
		return 100
	case n > 10000:
		return 10000
	}
	return n
}

// Times are stored as UTC nanoseconds since the epoch.

func ts(t time.Time) int64 { return t.UnixNano() }

func fromTS(n int64) time.Time { return time.Unix(0, n).UTC() }

func nullTS(t *time.Time) sql.NullInt64 {
	if t == nil {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: t.UnixNano(), Valid: true}
}

func ptrTS(n sql.NullInt64) *time.Time {
	if !n.Valid {
		return nil
	}
	t := fromTS(n.Int64)
	return &t
}

func nullStr(s string) sql.NullString { return sql.NullString{String: s, Valid: s != ""} }

// exists reports whether the query returns a row.
func exists(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, query string, args ...any) (bool, error) {
	var one int
	err := q.QueryRowContext(ctx, query, args...).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

func timeOrZero(n sql.NullInt64) time.Time {
	if !n.Valid {
		return time.Time{}
	}
	return fromTS(n.Int64)
}
