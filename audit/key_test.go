package audit

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadOrCreateKey(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.key")
	s1, err := LoadOrCreateKey(path)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("new key file has mode %04o, want 0600", fi.Mode().Perm())
	}
	s2, err := LoadOrCreateKey(path)
	if err != nil {
		t.Fatal(err)
	}
	if !s1.PublicKey().Equal(s2.PublicKey()) {
		t.Error("reloading the key gave another key")
	}
	sum := sha256.Sum256(s1.PublicKey())
	if want := hex.EncodeToString(sum[:])[:16]; s1.KeyID() != want || len(s1.KeyID()) != 16 {
		t.Errorf("KeyID = %q, want %q", s1.KeyID(), want)
	}
	msg := []byte("checkpoint")
	if !ed25519.Verify(s2.PublicKey(), msg, s1.Sign(msg)) {
		t.Error("signature of the created key does not verify with the reloaded key")
	}
	if entries, _ := os.ReadDir(filepath.Dir(path)); len(entries) != 1 {
		t.Errorf("key directory holds %d files, want only the key (no temporary left over)", len(entries))
	}
}

func TestLoadKeyFormats(t *testing.T) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pemPath := filepath.Join(t.TempDir(), "pem.key")
	pemSigner, err := createKey(pemPath)
	if err != nil {
		t.Fatal(err)
	}
	pemBytes, err := os.ReadFile(pemPath)
	if err != nil {
		t.Fatal(err)
	}
	bad64 := append([]byte(nil), priv...)
	bad64[63] ^= 1
	cases := []struct {
		name    string
		content []byte
		mode    os.FileMode
		want    ed25519.PublicKey // nil: must fail
		errHas  string
	}{
		{"raw seed", priv.Seed(), 0o600, priv.Public().(ed25519.PublicKey), ""},
		{"raw key", priv, 0o600, priv.Public().(ed25519.PublicKey), ""},
		{"pem", pemBytes, 0o400, pemSigner.PublicKey(), ""},
		{"world-readable", priv.Seed(), 0o644, nil, "chmod 600"},
		{"group-readable", priv.Seed(), 0o640, nil, "can be read by other users"},
		{"wrong size", []byte("short"), 0o600, nil, "got 5 bytes"},
		{"raw key with wrong public half", bad64, 0o600, nil, "does not match"},
		{"other PEM type", []byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"), 0o600, nil, "want \"PRIVATE KEY\""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "k")
			if err := os.WriteFile(path, c.content, 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(path, c.mode); err != nil {
				t.Fatal(err)
			}
			s, err := LoadOrCreateKey(path)
			if c.errHas != "" {
				if err == nil || !strings.Contains(err.Error(), c.errHas) {
					t.Fatalf("err = %v, want one saying %q", err, c.errHas)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !s.PublicKey().Equal(c.want) {
				t.Error("loaded another key")
			}
		})
	}
}
