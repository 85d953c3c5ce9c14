// Package wire is simguard's Diameter codec (RFC 6733): message headers,
// AVPs, grouped AVPs and a table-driven dictionary of the base protocol,
// S6a/S6d and S13 (3GPP TS 29.272).
//
// The decoder is strict: every length is checked against the buffer it
// claims to describe, a malformed message is an error (never a panic), and
// allocation is bounded by the size of the input. Decoded AVPs alias the
// input buffer, so a caller that keeps a message must keep the buffer.
package wire
