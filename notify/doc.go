// Package notify delivers alert notices (simguard.AlertNotice) outside
// simguard: to webhooks (JSON body signed with HMAC-SHA256, retried with
// exponential backoff, dead letters kept through a
// simguard.DeadLetterStore and replayable), to syslog (RFC 5424 over UDP
// or TCP with RFC 6587 octet counting) and as JSON lines (a file or
// stdout).
//
// Every deliverer has the method Notify(ctx, simguard.AlertNotice) error,
// which the detection engine calls; Webhook and Syslog queue the notice and
// deliver it from their Run loop, so that a slow receiver never holds up
// detection. Stop the engine before the deliverers so that the last
// notices are still queued for them.
//
// Webhook receivers verify a delivery by computing
// HMAC-SHA256(secret, raw body) and comparing it, in constant time, with
// the hex digest in the header "X-Simguard-Signature: sha256=<hex>". The
// body's "id" is the same on every retry and replay of one notice, so a
// receiver can drop duplicates.
package notify
