// Package control is the control plane's service: every change to the
// fleet goes through it, whoever asks (the REST API, the console, a
// detection rule, an enforcement point reporting what it learned).
//
// For each change it checks the actor's role and tenant, validates the
// input, writes it to the store (which appends the audit record in the
// same transaction), applies the change to the policy snapshot
// copy-on-write, and records it in the change feed that remote
// enforcement nodes follow. The snapshot is never rebuilt for one change.
package control
