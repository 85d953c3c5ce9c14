// Package detect is simguard's intrusion detection: declarative rules run
// over the events of every enforcement point, raise deduplicated alerts and
// run automatic responses through the control plane.
//
// # Rules
//
// A rule is a YAML document. Built-in rules are embedded (Builtin); users
// add a directory (Dir) whose rules replace built-in ones of the same name:
//
//	name: radius-bruteforce-sim          # unique, a-z 0-9 - _ .
//	description: Many rejected Access-Requests for one SIM
//	severity: high                       # info, low, medium, high, critical
//	enabled: true                        # default true
//	events: [radius.access]              # types, or prefixes ending in "."
//	condition: decision == "deny"        # CEL, optional
//	group_by: [sim]                      # up to 3 fields; the tenant is always part of the key
//	trigger:                             # how matching events make the rule fire
//	  kind: sliding_window               # each, sliding_window, leaky_bucket, distinct, baseline, first_seen
//	  threshold: 5
//	  window: 1m
//	evidence: 5                          # events kept for the alert (windowed kinds)
//	dry_run: false                       # true: actions are only recorded
//	actions:
//	  - type: suspend_sim                # or quarantine (group: NAME), block_destination (attr: dst)
//
// Unknown fields are errors; every error names the file, line, rule and
// field. Conditions are compiled once at load. They see the variables type,
// source, decision, reason (strings), sim, tenant, id (ints), time
// (timestamp) and attrs (map of strings, where a missing attr reads as "";
// test presence with "x" in attrs), the CEL string extensions, num(s) (a
// decimal string as int, 0 when it is not one) and in_cidr(ip, cidr).
// Group-by and trigger fields are sim, tenant, type, source, decision,
// reason, or an attr name ("imei" or "attrs.imei"). An event that lacks a
// group-by field does not count for the rule.
//
// Triggers: each fires on every matching event; sliding_window fires when
// threshold events fall within window (exact); leaky_bucket pours events
// into a bucket of capacity that leaks one per leak_speed and fires on
// overflow (CrowdSec); distinct fires on threshold distinct values of field
// within window; baseline keeps an EWMA of value per key (with counter_by,
// value is a per-session counter and the sample is its growth) and fires
// on a sample above factor × average after min_samples; first_seen fires on
// a value of field the key has not met before, after learn_for. Windows,
// buckets and distinct sets restart after firing.
//
// # Time and memory
//
// Time comes from the events, so that replaying recorded events gives the
// same firings. The Engine's injected clock only drives expiry: a key's
// state is dropped when it has been idle for longer than it can matter
// (the window, the time to drain the bucket, forget_after). Rules that
// group by the same fields share one key space (one map lookup per event
// for all of them), and each key space holds at most MaxKeys keys.
//
// # Alerts and actions
//
// An open or acknowledged alert for (rule, tenant, key) absorbs new
// firings: its count grows, its last-seen time moves and it collects more
// events up to a cap. A resolved alert does not: the next firing opens a
// new one. Actions run once, when an alert opens, through a
// simguard.Responder with the actor "rule:NAME"; suspend_sim and quarantine
// are capped per hour over all rules.
//
// # The event contract
//
// Rules rely on these event types and attrs (simguard.Event). Every event
// about a known SIM has SIMID and TenantID set and the attr group (the
// SIM's group, from Decision.Group); decision events carry Decision and
// Reason, and the attr rule (Decision.Rule). Attr values are strings;
// numbers are decimal, booleans "true" or "false". Emitters must not change
// an event's Attrs after emitting it: the engine keeps them as evidence.
//
//	radius.access          decision allow/deny, reason; imsi, imei (14 digits), apn,
//	                       plmn ("262-01"), rat ("4g"), nas (NAS-IP or identifier), src (client address)
//	radius.accounting      session (Acct-Session-Id), status start/interim/stop,
//	                       in_bytes, out_bytes or input_octets, output_octets
//	                       (session counters), imsi, nas
//	radius.unknown_client  nas, src: a request from an address with no configured
//	(or radius.dropped     secret (the RADIUS server sends radius.dropped with
//	 cause unknown_client) cause unknown_client and src address:port)
//	imei.learned           imei, previous_imei ("" on the first), imsi: a lock bound a device
//	imei.mismatch          imei, bound_imei, imsi: another device than the bound one
//	sms.mo, sms.mt         decision, reason; src, dst, binary (a cause such as pid_7f,
//	                       or "true"), silent ("true")
//	diameter.ulr           decision, reason; imsi, imei, plmn, rat
//	diameter.ecr           decision, reason; imei, imsi
//	flow.denied,           src (device), dst (remote), port, proto (tcp/udp/icmp),
//	flow.allowed           direction (egress/inbound)
//	scan.port_opened       scan_id, target (the device's address), proto (tcp/udp),
//	                       port, service (ssh, telnet, http … or unknown), severity
//	                       (the finding's), group (source "scan"; SIMID 0 for an
//	                       address of no SIM): a port open now that the previous
//	                       scan of the scope looked at and found closed
//	scan.default_credential the same attrs: a default login works that did not before
//	scan.host_unreachable  scan_id, target, group, open_findings: an address with
//	                       open findings answered no probe; they stay open
//
// # Wiring
//
// "simguard serve" feeds the engine from the event writer once events are
// stored (so alerts carry event IDs): events.Subscribe(engine.EmitBatch).
// Alerts go to a simguard.AlertStore (sqlite.DB), actions to a
// simguard.Responder over the control service, notices to the notify
// package's webhooks, syslog and JSON lines. Engine.Acknowledge and
// Engine.Resolve are the API's way to change an alert, so that
// deduplication and notices follow; a change made directly in the store is
// noticed at the next write of a folded firing.
//
// Replay runs the rules over recorded events (JSON lines of simguard.Event)
// without executing any action.
package detect
