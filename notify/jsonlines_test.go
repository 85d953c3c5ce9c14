package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/simguard/simguard"
)

func TestJSONLinesGolden(t *testing.T) {
	var buf bytes.Buffer
	j, err := NewJSONLines(&buf, Filter{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	_ = j.Notify(ctx, notice(simguard.NoticeOpened, simguard.SeverityHigh))
	_ = j.Notify(ctx, notice(simguard.NoticeResolved, simguard.SeverityHigh))
	golden(t, "alerts.jsonl", buf.Bytes())
}

func TestJSONLinesFileConcurrent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "alerts.jsonl")
	j, err := OpenJSONLines(path, Filter{MinSeverity: simguard.SeverityMedium})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = j.Notify(context.Background(), notice(simguard.NoticeOpened, simguard.SeverityHigh))
			_ = j.Notify(context.Background(), notice(simguard.NoticeOpened, simguard.SeverityLow)) // filtered out
		}()
	}
	wg.Wait()
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := bytes.Split(bytes.TrimSuffix(data, []byte("\n")), []byte("\n"))
	if len(lines) != 20 {
		t.Fatalf("%d lines, want 20", len(lines))
	}
	for _, l := range lines {
		var n simguard.AlertNotice
		if err := json.Unmarshal(l, &n); err != nil || n.Alert.ID != 7 {
			t.Fatalf("line %q: %v", l, err)
		}
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("file mode %v, want 0600", fi.Mode().Perm())
	}
	if _, err := OpenJSONLines(filepath.Join(t.TempDir(), "no", "dir.jsonl"), Filter{}); err == nil {
		t.Error("opening in a missing directory must fail")
	}
}

// Compile-time: every deliverer fits the engine's Notifier.
var (
	_ interface {
		Notify(context.Context, simguard.AlertNotice) error
	} = (*Webhook)(nil)
	_ interface {
		Notify(context.Context, simguard.AlertNotice) error
	} = (*Syslog)(nil)
	_ interface {
		Notify(context.Context, simguard.AlertNotice) error
	} = (*JSONLines)(nil)
)
