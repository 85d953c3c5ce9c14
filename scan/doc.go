// Package scan is simguard's fleet exposure auditor: it finds the open
// ports of the fleet's devices (TCP connect scan, UDP probes for common IoT
// services), identifies what answers on them (banners and protocol probes,
// TLS or plaintext), optionally tries vendor default credentials (package
// creds), and turns all of it into findings with severities, a compliance
// verdict against the group's inbound policy, the difference from the
// previous scan and reports in JSON and CSV.
//
// Safety: every target must lie inside Config.AuditRanges; anything else
// (and everything, while no range is configured) is refused with an
// EINVALID error naming the target before a single packet is sent.
// Probes are paced by a packets-per-second token bucket shared by all
// scans of a Scanner and bounded by a concurrency limit; the credential
// audit is opt-in per scan and bounded per host.
//
// Not missing an open port: a connect refused by the target (RST) is a
// closed port; silence or an ICMP unreachable is "filtered" and tried
// again (Config.Retries); a failure of our own host (no ephemeral port, no
// descriptor) says nothing about the port and is retried after a pause,
// and counted as "unknown" if it persists, so a partial run is visible.
//
// Lifecycle: New(cfg, deps) → Scan(ctx, req) per scan (it returns when
// the scan is done or ctx ends, with nothing left running); at most
// Config.Parallel scans send packets at once. A Queue runs the API's
// scans in the background (Submit records the run as queued and returns
// it), a Scheduler runs per-group scans periodically; both until their
// context ends.
//
// What the scanner needs from the rest of simguard, all optional in Deps:
// a simguard.FindingStore (history, diff, exposure, audit record of each
// run), an Inventory (address → SIM and group, group → policy), a Fleet
// (a group's device addresses), and a simguard.EventSink
// ("scan.port_opened", "scan.default_credential"). PolicyInventory is
// both Inventory and Fleet over the live policy snapshot, with the live
// sessions of the AAA server behind the Sessions interface.
package scan
