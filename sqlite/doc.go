// Package sqlite implements simguard.Store on one SQLite file, with the
// pure-Go driver modernc.org/sqlite (no cgo).
//
// # Connections and durability
//
// The database runs in WAL mode with synchronous=FULL: a transaction that
// returned is on disk, and a crash (of the process or the machine) at any
// moment leaves the last committed state. Every write goes through one
// write connection (BEGIN IMMEDIATE), because SQLite admits one writer at a
// time anyway; reads use a separate pool and, thanks to WAL, see the last
// committed state without ever waiting for a write, even a long import.
//
// # Audit
//
// Every write that changes the fleet (tenants, tokens, groups, SIMs)
// appends its simguard.AuditRecord in the same transaction, so the change
// and its record exist together or not at all. The record belongs to the
// tenant that owns the changed object; a new tenant owns its own creation
// record. Usage metering and events are not audited. Triggers make the
// audit_log table append-only for simguard itself; package audit verifies
// the hash chain and signed checkpoints against deliberate tampering.
//
// # Migrations
//
// Schema changes are SQL files embedded from migrations/, named
// NNNN_name.sql. Features own number ranges and are developed in parallel:
//
//	0001-0099 core        0300-0399 diameter    0600-0699 scan
//	0100-0199 radius      0400-0499 gateway
//	0200-0299 smpp        0500-0599 detect
//
// Because a database may have received 0200_smpp before this binary gained
// 0100_radius, applied migrations are recorded by name in
// schema_migrations (with the SHA-256 of the file), not as one "current
// version" number. Open applies every embedded migration whose name is not
// recorded, in name order, in one transaction. A migration may rely on
// 0001_core and on earlier files of its own range, never on another
// feature's range. Open refuses a database that records a migration this
// binary does not embed: it was written by a newer simguard, and running
// older code on it could corrupt it. Never edit or rename an applied
// migration; add a new file.
//
// # Backups
//
// DB.Backup writes a consistent copy with VACUUM INTO while simguard keeps
// running. The copy is an ordinary database file; restoring is opening it.
package sqlite
