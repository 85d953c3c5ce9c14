// Package audit verifies the hash-chained audit log and signs checkpoints
// of it.
//
// Each simguard.AuditRecord holds the hash of the one before, so editing,
// deleting or reordering records breaks the chain where it happened. What
// a chain cannot show is a cut tail: the remaining records still link. A
// checkpoint is an ed25519 signature over "the chain up to Seq ends in
// Hash"; Verify reports a checkpoint beyond the last record as a truncated
// log, and a checkpoint whose hash differs from the chain's as a rewrite.
// Checkpoints are only as strong as the key: keep it on a different
// machine or in a file only simguard can read (LoadOrCreateKey refuses a
// key that others can read).
package audit
