// Package gateway is simguard's firewall on the packet gateway host: it
// compiles the policy snapshot into one nftables table of its own (inet
// simguard) and keeps the kernel's copy equal to it through netlink.
//
// Compile turns a policy.Snapshot into a Ruleset: per group an egress
// and an inbound allowlist as concatenated interval sets (address .
// protocol . port), normalized into disjoint elements; device addresses
// (static IPs and pool leases) in verdict maps that jump to their group's
// chains; addresses whose SIM may not use data now in a blocked set that
// is checked first; named counters per group and per reason; deny chains
// that count, log to nflog and drop; SNAT on the uplink. Whether a SIM may
// use data is the policy engine's answer (SIMView.ServiceOn); the
// allowlists are the groups' Policy.Egress and Policy.Inbound, the same
// rules Evaluate reads for KindFlow.
//
// A Ruleset renders as nft text (WriteText, for --dry-run) and is
// programmed by Netlink: Install replaces the whole table in one batch,
// Apply changes set elements only (the Delta of UpdateSIMs or Diff). The
// two renderings come from one description of each rule and set, and a
// test holds them equal through nft itself.
//
// Agent ties it together: it installs on start (reconcile), follows the
// policy's changes (elements for single SIMs, a whole install when the
// structure changed), resyncs periodically for time windows and leases,
// turns nflog packets into flow.denied events, exposes the kernel's
// counters as metrics, and leaves the table in place on exit unless told
// otherwise (fail closed).
package gateway
