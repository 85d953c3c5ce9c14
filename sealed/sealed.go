// Package sealed encrypts the secrets simguard must be able to read back
// (RADIUS shared secrets, SMSC passwords, webhook signing keys) before they
// reach the store: AES-256-GCM under a key kept in the data directory, so
// a copy of the database alone reveals none of them. Secrets that need
// only be verified (API tokens, ESME passwords) are hashed instead.
package sealed

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
)

const prefix = "sealed:v1:"

// Box seals and opens secrets with one key.
type Box struct {
	aead cipher.AEAD
}

// New makes a Box from a 32-byte key.
func New(key []byte) (*Box, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("sealed: key must be 32 bytes, got %d", len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &Box{aead: aead}, nil
}

// LoadOrCreateKey reads the key file at path, or creates one (mode 0600).
// It refuses a key file others may read.
func LoadOrCreateKey(path string) (*Box, error) {
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		key := make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			return nil, err
		}
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return nil, fmt.Errorf("secrets key: %w", err)
		}
		if _, err := f.Write([]byte(base64.StdEncoding.EncodeToString(key) + "\n")); err != nil {
			f.Close()
			return nil, fmt.Errorf("secrets key: %w", err)
		}
		if err := f.Close(); err != nil {
			return nil, fmt.Errorf("secrets key: %w", err)
		}
		return New(key)
	}
	if err != nil {
		return nil, fmt.Errorf("secrets key: %w", err)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return nil, fmt.Errorf("secrets key %s can be read by other users (mode %04o); run chmod 600 %s", path, perm, path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("secrets key: %w", err)
	}
	key, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(b)))
	if err != nil {
		return nil, fmt.Errorf("secrets key %s: not base64: %w", path, err)
	}
	return New(key)
}

// Seal encrypts plaintext; the result is printable and safe to store.
// context binds the ciphertext to what it belongs to (e.g. "nas:12"), so a
// sealed value copied onto another object does not open.
func (b *Box) Seal(plaintext, context string) (string, error) {
	nonce := make([]byte, b.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	out := b.aead.Seal(nonce, nonce, []byte(plaintext), []byte(context))
	return prefix + base64.RawStdEncoding.EncodeToString(out), nil
}

// Open decrypts what Seal made with the same context.
func (b *Box) Open(sealed, context string) (string, error) {
	raw, ok := strings.CutPrefix(sealed, prefix)
	if !ok {
		return "", errors.New("sealed: not a sealed value")
	}
	data, err := base64.RawStdEncoding.DecodeString(raw)
	if err != nil || len(data) < b.aead.NonceSize() {
		return "", errors.New("sealed: corrupt value")
	}
	n := b.aead.NonceSize()
	pt, err := b.aead.Open(nil, data[:n], data[n:], []byte(context))
	if err != nil {
		return "", errors.New("sealed: wrong key, context or a tampered value")
	}
	return string(pt), nil
}
