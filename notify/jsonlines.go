package notify

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/simguard/simguard"
)

// JSONLines writes each notice as one JSON object on its own line. Writes
// are synchronous: a file or stdout is fast, and a line is complete when
// Notify returns.
type JSONLines struct {
	mu     sync.Mutex
	w      io.Writer
	closer io.Closer
	filter Filter
}

// NewJSONLines writes to w.
func NewJSONLines(w io.Writer, f Filter) (*JSONLines, error) {
	if err := f.validate("jsonl"); err != nil {
		return nil, err
	}
	return &JSONLines{w: w, filter: f}, nil
}

// OpenJSONLines appends to the file at path (created with mode 0600, as
// alerts name SIMs and devices), or writes to stdout for "-".
func OpenJSONLines(path string, f Filter) (*JSONLines, error) {
	if path == "-" {
		return NewJSONLines(os.Stdout, f)
	}
	file, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("jsonl: %w", err)
	}
	j, err := NewJSONLines(file, f)
	if err != nil {
		file.Close()
		return nil, err
	}
	j.closer = file
	return j, nil
}

// Notify writes n as one line.
func (j *JSONLines) Notify(_ context.Context, n simguard.AlertNotice) error {
	if !j.filter.Match(n) {
		return nil
	}
	b, err := json.Marshal(n)
	if err != nil {
		return fmt.Errorf("jsonl: encode: %w", err)
	}
	b = append(b, '\n')
	j.mu.Lock()
	defer j.mu.Unlock()
	if _, err := j.w.Write(b); err != nil {
		return fmt.Errorf("jsonl: write: %w", err)
	}
	return nil
}

// Close closes the file it opened (not stdout, not a writer it was given).
func (j *JSONLines) Close() error {
	if j.closer == nil {
		return nil
	}
	return j.closer.Close()
}
