package sealed_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/simguard/simguard/sealed"
)

func TestSealOpen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "secrets.key")
	box, err := sealed.LoadOrCreateKey(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Fatalf("key mode %v", fi.Mode())
	}
	s, err := box.Seal("radius-secret", "nas:1")
	if err != nil || strings.Contains(s, "radius-secret") {
		t.Fatalf("sealed %q, %v", s, err)
	}
	again, _ := sealed.LoadOrCreateKey(path)
	if pt, err := again.Open(s, "nas:1"); err != nil || pt != "radius-secret" {
		t.Fatalf("open with the reloaded key: %q, %v", pt, err)
	}
	if _, err := box.Open(s, "nas:2"); err == nil {
		t.Fatal("opened under another context")
	}
	tampered := s[:len(s)-2] + "AA"
	if _, err := box.Open(tampered, "nas:1"); err == nil {
		t.Fatal("opened a tampered value")
	}
	other, _ := sealed.LoadOrCreateKey(filepath.Join(t.TempDir(), "k2"))
	if _, err := other.Open(s, "nas:1"); err == nil {
		t.Fatal("opened with another key")
	}
	os.Chmod(path, 0o644)
	if _, err := sealed.LoadOrCreateKey(path); err == nil {
		t.Fatal("accepted a world-readable key")
	}
}
