// Package radius is simguard's RADIUS AAA enforcement point for packet
// gateways (PGW, GGSN, or any NAS): Access-Request in, one policy decision,
// Access-Accept or Access-Reject out (RFC 2865), with the 3GPP vendor
// attributes of TS 29.061 §16 (IMSI, IMEISV, SGSN-MCC-MNC, RAT type, user
// location); accounting sessions kept durable before they are acknowledged
// (RFC 2866); and live sessions ended by Disconnect-Request (RFC 5176)
// when the policy stops allowing them.
//
// The server is an adapter: it decodes a packet into a simguard.Request,
// asks the simguard.Evaluator, and writes back what was learned (IMEI
// bindings, mismatches, usage) through simguard.Feedback. It keeps no
// policy of its own. Packets are authenticated with the NAS client's shared
// secret and, on Access-Request, with Message-Authenticator (RFC 3579),
// required by default (Blast-RADIUS); retransmissions are answered from a
// short cache without deciding again (RFC 5080).
package radius
