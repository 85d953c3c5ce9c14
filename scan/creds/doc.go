// Package creds audits devices for vendor default credentials over Telnet,
// SSH (password and keyboard-interactive) and HTTP basic auth, with a
// shipped list of default pairs (the Mirai list and common IoT defaults)
// that operators extend with their own file.
//
// The audit is bounded: a budget of attempts per host, one connection at a
// time per host, a pause between attempts, and it stops at the first sign
// of a lockout. It stops at the first pair that works per service: one is
// enough to make the finding critical.
package creds
