package audit

import (
	"cmp"
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"fmt"
	"slices"
	"time"

	"github.com/simguard/simguard"
)

// Kind classifies a problem found in the audit log.
type Kind string

const (
	// Edited: a record's content does not match its hash, or a record was
	// rewritten with a recomputed hash (the next record or a checkpoint
	// holds a different one).
	Edited Kind = "edited"
	// Deleted: a sequence number is missing.
	Deleted Kind = "deleted"
	// Reordered: an intact record sits at another sequence number than
	// the one it was written with.
	Reordered Kind = "reordered"
	// Truncated: a signed checkpoint covers records that no longer exist.
	Truncated Kind = "truncated"
	// BadSignature: a checkpoint's signature does not verify with the key.
	BadSignature Kind = "bad_signature"
)

// Problem is one finding of Verify.
type Problem struct {
	Seq     int64  `json:"seq"`
	Kind    Kind   `json:"kind"`
	Message string `json:"message"`
}

// Report is the result of Verify.
type Report struct {
	OK       bool   `json:"ok"`
	Records  int64  `json:"records"`
	LastSeq  int64  `json:"last_seq"`
	LastHash string `json:"last_hash"`
	// Checkpoints counts the checkpoints whose signature verified and
	// whose hash matches the chain.
	Checkpoints int       `json:"checkpoints_verified"`
	Problems    []Problem `json:"problems"`
}

// maxHeld bounds the records Verify keeps in memory to classify broken
// hashes; beyond it, broken records are reported as edited without trying
// to find where they came from.
const maxHeld = 10000

// Verify reads the whole chain and every checkpoint and reports every
// problem it finds. The error is only for failures to read the store;
// tampering is in the Report.
func Verify(ctx context.Context, store simguard.AuditStore, pub ed25519.PublicKey) (Report, error) {
	if len(pub) != ed25519.PublicKeySize {
		return Report{}, fmt.Errorf("verify audit log: want an ed25519 public key of %d bytes, got %d", ed25519.PublicKeySize, len(pub))
	}
	cps, err := store.Checkpoints(ctx)
	if err != nil {
		return Report{}, fmt.Errorf("verify audit log: %w", err)
	}
	v := &verifier{hashAt: map[int64]string{}, broken: map[int64]simguard.AuditRecord{}, expected: 1}
	for _, c := range cps {
		v.hashAt[c.Seq] = ""
	}
	if err := store.ScanAudit(ctx, v.record); err != nil {
		return Report{}, fmt.Errorf("verify audit log: %w", err)
	}
	v.classifyBroken()
	v.checkLinks()
	v.checkCheckpoints(cps, pub)
	slices.SortStableFunc(v.rep.Problems, func(a, b Problem) int { return cmp.Compare(a.Seq, b.Seq) })
	v.rep.OK = len(v.rep.Problems) == 0
	if v.rep.LastHash == "" {
		v.rep.LastHash = simguard.GenesisHash
	}
	return v.rep, nil
}

type linkBreak struct{ seq, prevSeq int64 }

type verifier struct {
	rep      Report
	expected int64
	havePrev bool
	prevSeq  int64
	prevHash string
	// hashAt maps each checkpointed seq to the chain's stored hash there
	// ("" while the record has not been seen).
	hashAt map[int64]string
	// broken holds records whose hash does not recompute, by stored seq.
	broken      map[int64]simguard.AuditRecord
	brokenExtra []int64 // beyond maxHeld: seqs only
	links       []linkBreak
	missing     []int64 // missing seqs, up to maxHeld, as candidates for moved records
}

func (v *verifier) add(seq int64, k Kind, format string, args ...any) {
	v.rep.Problems = append(v.rep.Problems, Problem{Seq: seq, Kind: k, Message: fmt.Sprintf(format, args...)})
}

// record is called for every record in stored Seq order.
func (v *verifier) record(r simguard.AuditRecord) error {
	v.rep.Records++
	gap := false
	switch {
	case r.Seq < v.expected:
		v.add(r.Seq, Reordered, "record %d appears again after record %d", r.Seq, v.prevSeq)
	case r.Seq == v.expected+1:
		v.add(v.expected, Deleted, "record %d is missing: it was deleted", v.expected)
		gap = true
	case r.Seq > v.expected:
		v.add(v.expected, Deleted, "records %d to %d are missing: they were deleted", v.expected, r.Seq-1)
		gap = true
	}
	for s := v.expected; s < r.Seq && len(v.missing) < maxHeld; s++ {
		v.missing = append(v.missing, s)
	}
	if r.ComputeHash() != r.Hash {
		if len(v.broken) < maxHeld {
			v.broken[r.Seq] = r
		} else {
			v.brokenExtra = append(v.brokenExtra, r.Seq)
		}
	}
	// Across a gap the link is broken by the deletion already reported.
	if !gap {
		want := simguard.GenesisHash
		if v.havePrev {
			want = v.prevHash
		}
		if r.PrevHash != want {
			v.links = append(v.links, linkBreak{seq: r.Seq, prevSeq: v.prevSeq})
		}
	}
	if _, ok := v.hashAt[r.Seq]; ok {
		v.hashAt[r.Seq] = r.Hash
	}
	v.havePrev, v.prevSeq, v.prevHash = true, r.Seq, r.Hash
	v.expected = max(v.expected, r.Seq+1)
	v.rep.LastSeq, v.rep.LastHash = r.Seq, r.Hash
	return nil
}

// classifyBroken tells a moved record (intact under another seq) from an
// edited one. Candidates are the other broken positions (records swapped
// with each other), the missing seqs (a record moved into a gap's place
// elsewhere) and the neighbours (a block shifted by one).
func (v *verifier) classifyBroken() {
	var cands []int64
	if len(v.broken) <= 1000 {
		for s := range v.broken {
			cands = append(cands, s)
		}
		if len(v.missing) <= 1000 {
			cands = append(cands, v.missing...)
		}
	}
	for seq, r := range v.broken {
		moved := int64(0)
		for _, c := range append([]int64{seq - 1, seq + 1}, cands...) {
			if c == seq || c <= 0 {
				continue
			}
			x := r
			x.Seq = c
			if x.ComputeHash() == r.Hash {
				moved = c
				break
			}
		}
		if moved != 0 {
			v.add(seq, Reordered, "record at seq %d was written as record %d: it was moved", seq, moved)
		} else {
			v.add(seq, Edited, "content of record %d does not match its hash: it was edited", seq)
		}
	}
	for _, seq := range v.brokenExtra {
		v.add(seq, Edited, "content of record %d does not match its hash: it was edited", seq)
	}
}

// checkLinks reports broken links that no broken record explains: both
// records hash correctly, so one was rewritten with a recomputed hash.
func (v *verifier) checkLinks() {
	isBroken := func(s int64) bool {
		_, ok := v.broken[s]
		return ok || slices.Contains(v.brokenExtra, s)
	}
	for _, l := range v.links {
		if isBroken(l.seq) || isBroken(l.prevSeq) {
			continue
		}
		if l.seq == 1 {
			v.add(1, Edited, "record 1 does not start from the genesis hash: it was replaced")
			continue
		}
		v.add(l.prevSeq, Edited, "record %d is not the record that record %d follows: it was rewritten with a recomputed hash", l.prevSeq, l.seq)
	}
}

func (v *verifier) checkCheckpoints(cps []simguard.AuditCheckpoint, pub ed25519.PublicKey) {
	keyID := KeyID(pub)
	var beyond *simguard.AuditCheckpoint
	for i := range cps {
		c := &cps[i]
		if c.KeyID != keyID {
			v.add(c.Seq, BadSignature, "checkpoint at seq %d names key %s, not the verifying key %s", c.Seq, c.KeyID, keyID)
			continue
		}
		sig, err := hex.DecodeString(c.Signature)
		if err != nil || !ed25519.Verify(pub, simguard.CheckpointMessage(c.Seq, c.Hash, c.Time), sig) {
			v.add(c.Seq, BadSignature, "signature of the checkpoint at seq %d (%s) does not verify: it was forged or altered", c.Seq, c.Time.Format(time.RFC3339))
			continue
		}
		if c.Seq > v.rep.LastSeq {
			if beyond == nil || c.Seq > beyond.Seq {
				beyond = c
			}
			continue
		}
		h := v.hashAt[c.Seq]
		if h == "" {
			continue // the record is gone; reported as deleted
		}
		if h != c.Hash {
			v.add(c.Seq, Edited, "the chain up to seq %d does not match the checkpoint signed at %s: records up to it were rewritten", c.Seq, c.Time.Format(time.RFC3339))
			continue
		}
		v.rep.Checkpoints++
	}
	if beyond != nil {
		v.add(v.rep.LastSeq+1, Truncated, "entries after seq %d were removed: the checkpoint signed at %s covers seq %d",
			v.rep.LastSeq, beyond.Time.Format(time.RFC3339), beyond.Seq)
	}
}
