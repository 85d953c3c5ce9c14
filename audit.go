package simguard

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"time"
)

// AuditRecord is one change made to the fleet. Records form a chain: each
// holds the hash of the one before, so editing, deleting or reordering any
// of them breaks every hash after it.
type AuditRecord struct {
	Seq      int64     `json:"seq"` // 1, 2, 3 … without gaps
	Time     time.Time `json:"time"`
	TenantID int64     `json:"tenant_id"`
	// Actor is who did it: "token:7 (admin ops-laptop)", "rule:sim-swap",
	// "radius:imei-learn", "system".
	Actor string `json:"actor"`
	// Action is dotted: "sim.suspend", "group.update", "token.create".
	Action string `json:"action"`
	// Object names what changed: "sim:8949…", "group:meters".
	Object string          `json:"object"`
	Before json.RawMessage `json:"before,omitempty"`
	After  json.RawMessage `json:"after,omitempty"`
	// PrevHash and Hash are lower-case hex SHA-256.
	PrevHash string `json:"prev_hash"`
	Hash     string `json:"hash"`
}

// GenesisHash is the PrevHash of the first record.
const GenesisHash = "0000000000000000000000000000000000000000000000000000000000000000"

// ComputeHash returns the hash of r over every field but Hash itself, in an
// unambiguous encoding (each field length-prefixed). Time is hashed as UTC
// nanoseconds so that the hash survives any storage's time formatting.
func (r *AuditRecord) ComputeHash() string {
	h := sha256.New()
	var n [8]byte
	writeInt := func(v int64) {
		binary.BigEndian.PutUint64(n[:], uint64(v))
		h.Write(n[:])
	}
	writeBytes := func(b []byte) {
		writeInt(int64(len(b)))
		h.Write(b)
	}
	writeBytes([]byte("simguard-audit-v1"))
	writeInt(r.Seq)
	writeInt(r.Time.UTC().UnixNano())
	writeInt(r.TenantID)
	writeBytes([]byte(r.Actor))
	writeBytes([]byte(r.Action))
	writeBytes([]byte(r.Object))
	writeBytes(r.Before)
	writeBytes(r.After)
	writeBytes([]byte(r.PrevHash))
	return hex.EncodeToString(h.Sum(nil))
}

// AuditCheckpoint is a signed statement "the chain up to Seq ends in Hash".
// A deleted tail of the chain, which no hash can reveal, shows up as a
// checkpoint beyond the last record.
type AuditCheckpoint struct {
	Seq       int64     `json:"seq"`
	Hash      string    `json:"hash"`
	Time      time.Time `json:"time"`
	KeyID     string    `json:"key_id"`    // hex SHA-256 of the public key, first 16 chars
	Signature string    `json:"signature"` // hex ed25519 over CheckpointMessage
}

// CheckpointMessage is the byte string a checkpoint signs.
func CheckpointMessage(seq int64, hash string, t time.Time) []byte {
	b := make([]byte, 0, 96)
	b = append(b, "simguard-checkpoint-v1\n"...)
	b = binary.BigEndian.AppendUint64(b, uint64(seq))
	b = binary.BigEndian.AppendUint64(b, uint64(t.UTC().UnixNano()))
	b = append(b, hash...)
	return b
}

// AuditFilter selects audit records. Zero fields do not filter.
type AuditFilter struct {
	TenantID int64
	Object   string
	Action   string
	AfterSeq int64
	Limit    int // default 100, at most 10,000
}

// AuditStore reads the audit log. Records are appended only by the store's
// own write methods, in the same transaction as the change they describe.
type AuditStore interface {
	FindAudit(ctx context.Context, f AuditFilter) ([]AuditRecord, error)
	// ScanAudit calls fn for every record of every tenant in Seq order, for
	// verification; it stops at the first error fn returns.
	ScanAudit(ctx context.Context, fn func(AuditRecord) error) error
	AppendCheckpoint(ctx context.Context, c AuditCheckpoint) error
	Checkpoints(ctx context.Context) ([]AuditCheckpoint, error)
	// AuditHead returns the last record's Seq and Hash (0, GenesisHash when
	// the log is empty).
	AuditHead(ctx context.Context) (int64, string, error)
}
