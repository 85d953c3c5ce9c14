// Package scan is simguard's fleet exposure auditor: it finds the open
// ports of the fleet's devices (TCP connect scan, UDP probes for common IoT
// services), identifies what answers on them (banners and protocol probes,
// TLS or plaintext), optionally tries vendor default credentials (package
// creds), and turns all of it into findings with severities, a compliance
// verdict against the group's inbound policy, the difference from the
// previous scan and reports in JSON and CSV.
//
// Every target must fall inside the configured audit ranges; anything else
// is refused before a single packet is sent. Probes are paced by a
// packets-per-second token bucket and bounded by a concurrency limit.
package scan
