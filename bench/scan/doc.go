// Package scanbench compares simguard's port sweep with nmap on a lab of
// four network-namespace hosts: all 65,535 TCP ports of each, both tools
// in one run, timed (wall and CPU, median and best of the runs), with
// their open-port sets compared. Results and the exact commands are in
// docs/benchmarks.md ("Fleet exposure audit").
package scanbench
