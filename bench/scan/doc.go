// Package scanbench compares simguard's port sweep with nmap on a lab of
// four network-namespace hosts: all 65,535 TCP ports of each, both tools
// in one run, timed, with their open-port sets compared. Results and the
// exact commands are in RESULTS.md.
package scanbench
