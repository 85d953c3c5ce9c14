package audit

import (
	"context"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/simguard/simguard"
)

// Checkpoint signs the current head of the chain and stores the
// checkpoint. When the head has not moved since this key's last checkpoint
// it stores nothing and returns that checkpoint; on an empty log it stores
// nothing and returns a checkpoint with Seq 0.
func Checkpoint(ctx context.Context, store simguard.AuditStore, signer *Signer, now time.Time) (simguard.AuditCheckpoint, error) {
	seq, hash, err := store.AuditHead(ctx)
	if err != nil {
		return simguard.AuditCheckpoint{}, fmt.Errorf("checkpoint: %w", err)
	}
	if seq == 0 {
		return simguard.AuditCheckpoint{}, nil
	}
	cps, err := store.Checkpoints(ctx)
	if err != nil {
		return simguard.AuditCheckpoint{}, fmt.Errorf("checkpoint: %w", err)
	}
	for i := len(cps) - 1; i >= 0; i-- {
		if cps[i].KeyID != signer.KeyID() {
			continue
		}
		if cps[i].Seq == seq && cps[i].Hash == hash {
			return cps[i], nil
		}
		break
	}
	// Nanosecond UTC, as the message encodes it, so the stored time
	// verifies whatever the store does with time zones.
	t := time.Unix(0, now.UnixNano()).UTC()
	c := simguard.AuditCheckpoint{
		Seq:       seq,
		Hash:      hash,
		Time:      t,
		KeyID:     signer.KeyID(),
		Signature: hex.EncodeToString(signer.Sign(simguard.CheckpointMessage(seq, hash, t))),
	}
	if err := store.AppendCheckpoint(ctx, c); err != nil {
		return simguard.AuditCheckpoint{}, fmt.Errorf("checkpoint: %w", err)
	}
	return c, nil
}
