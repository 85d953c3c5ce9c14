// Package storetest is the conformance suite for simguard.Store. Every
// implementation (SQLite now, PostgreSQL later) runs the same Run, so that
// the rules the root interfaces document mean the same thing everywhere:
// tenant isolation, optimistic concurrency, all-or-nothing imports with
// per-row errors, keyset pagination and filters, one audit record per
// change in a hash chain that package audit verifies, and event queries.
//
// It also exports generators of valid SIMs for tests and benchmarks of
// store implementations.
package storetest
