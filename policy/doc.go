// Package policy is the policy engine: it compiles the control plane's
// groups and SIMs into an immutable *Snapshot and answers one
// simguard.Request at a time with a simguard.Decision. Every enforcement
// point (RADIUS, SMPP, Diameter, the gateway) asks it; no policy logic
// lives anywhere else.
//
// The package is pure: no I/O, no logger, no clock (the time of a decision
// is the request's), no package state. Evaluate allocates nothing. A
// Snapshot is never modified: WithSIM, WithoutSIM, WithGroup and
// WithoutGroup return a new one that shares what did not change, so
// readers may keep using the old one concurrently (hold the current one in
// an atomic.Pointer and swap it).
//
// # Decisions
//
// The checks run in this order; the first that fails decides the denial,
// with Decision.Reason and Decision.Rule as given. A decision about a
// known SIM always carries SIMID, TenantID, Group and StaticIP, and for
// SMS kinds the group's SMSPerMinute and SMSSourcePerMinute. On a denial,
// ValidUntil, LearnIMEI and QuotaAlert are zero.
//
//  0. Request: no Time, an unknown Kind, an imei_check without IMEI or a
//     flow without Flow.Remote → bad_request, rule "request".
//  1. Identity: by IMSI if set (exactly 15 digits), else MSISDN (E.164
//     digits, a leading "+" stripped), else IP (the SIM's static IP; an
//     IPv4-mapped address is its IPv4 address). No such SIM →
//     sim_unknown, "sim:identity".
//  2. State: inventory → sim_inactive, suspended → sim_suspended,
//     terminated → sim_terminated; "sim:state".
//  3. Activation: ActiveFrom set and Time < ActiveFrom → outside_window,
//     "sim:active_from"; ActiveUntil set and Time >= ActiveUntil →
//     outside_window, "sim:active_until". Otherwise ValidUntil starts as
//     ActiveUntil.
//  4. Service: data_session and flow need data, sms_mo and sms_mt their
//     service, attach any service, imei_check none. Not enabled →
//     service_disabled, "group:<name>/services". A SIM whose group is not
//     in the snapshot → service_disabled, "sim:group_missing" (any kind).
//  5. Windows (not for imei_check): the windows that apply to a service
//     are those that list it or list none. With none, the service is on
//     without end. Otherwise it is on inside one of them: From <= t <
//     Until (either open) and, with Daily "HH:MM-HH:MM" (UTC, may wrap
//     midnight), inside today's slot (start inclusive, end exclusive).
//     Outside → outside_window, "group:<name>/windows". Attach is on when
//     any enabled service is on. ValidUntil becomes the earlier of itself
//     and the end of the covering window (Until or the end of the daily
//     slot, whichever is first); when several windows (or, for attach,
//     services) cover t, the latest end counts.
//  6. IMEI lock ("sim:imei_lock"), unless its mode is off. With an IMEI
//     in the request (14 digits, 15 with a right Luhn digit, or an
//     IMEISV; only the first 14 digits are compared; anything else →
//     bad_request): an unbound learn lock passes with LearnIMEI; the
//     bound IMEI passes; another IMEI passes with LearnIMEI while
//     RepairUntil is after t, else imei_mismatch. Without an IMEI: an
//     unbound learn lock passes; otherwise data_session, attach and
//     imei_check → imei_missing; sms_mo and sms_mt (SMPP never carries an
//     IMEI) follow the lock's recorded state: mismatch → imei_mismatch;
//     flows pass (their session was checked).
//  7. Device models (Policy.DeviceTACs, "group:<name>/device_tacs"): the
//     request's IMEI must start with one of the prefixes, else
//     device_model_denied (a malformed IMEI → bad_request). Without an
//     IMEI: data_session, attach and imei_check → imei_missing; SMS and
//     flows skip the check.
//  8. Location (data_session and attach only; others carry none): listed
//     PLMNs need the request's PLMN among them ("location.plmns"; an
//     unreported PLMN fails too), then listed areas need (PLMN, Area)
//     ("location.areas"), then listed cells need (PLMN, Cell)
//     ("location.cells"), else location_denied. A 2-digit MNC is never a
//     3-digit MNC of the same value.
//  9. RATs (data_session and attach): the request's RAT must be listed,
//     else rat_denied, "group:<name>/rats".
//  10. APNs (data_session): the APN must be listed (case-insensitive),
//     else apn_denied, "group:<name>/apns".
//  11. Quotas ("group:<name>/quotas"): data_session, attach and flow use
//     the data quota, sms_mo and sms_mt the SMS quota. A quota is used up
//     when its limit is above 0, the SIM's Usage.PeriodStart is the start
//     of the period (UTC day or UTC month) containing t, and the usage
//     reached the limit. Usage of any other period counts as none. Used
//     up: "block" → quota_exceeded; "alert" → allowed with QuotaAlert.
//     Flows use the data quota so that Evaluate agrees with
//     SIMView.ServiceOn, which the gateway uses to open a SIM's address.
//  12. SMS. MT (Peer is the source, a leading "+" dropped): a prefix in
//     MT.Deny, or no prefix in a non-empty MT.Allow → sms_peer_denied
//     ("sms.mt"); a binary message needs Binary.Allow and, if
//     Binary.Sources is set, a matching source, else sms_binary_denied
//     ("sms.binary"); a silent message needs AllowSilent, else
//     sms_silent_denied ("sms.silent"). MO (Peer is the destination):
//     MO.Deny and MO.Allow the same way ("sms.mo"); binary and silent MO
//     messages are not filtered.
//  13. Flows: outbound (not Flow.Inbound) needs an Egress rule whose CIDR
//     holds Flow.Remote, whose proto matches (any; tcp 6; udp 17; icmp 1
//     or 58) and whose ports, if any, hold Flow.Port, else
//     destination_denied ("egress"); inbound the same with Inbound rules
//     (CIDR: the allowed sources), else inbound_denied ("inbound").
//  14. Otherwise: allowed, rule "group:<name>".
//
// Explain runs the very same code with a tracer and returns the decision
// with one simguard.Step per check considered ("pass", "fail" or "skip").
//
// # Layout
//
// SIM records are 96 bytes without pointers, kept in open-addressing
// tables (Robin Hood linear probing; 4096 shards keyed by IMSI) so that
// finding a SIM by IMSI costs one random memory access; secondary indexes
// map ID, MSISDN and static IP to the IMSI, so a lookup by them costs two.
// An update copies the 128 KiB shard arrays it touches and rebuilds the
// few shards it changes; WithSIMs and WithoutSIMs pay for the arrays once
// per batch. Groups live in a small slot table; a SIM refers to its
// group's slot, so a group change copies only that table and every SIM
// follows it at once.
package policy
