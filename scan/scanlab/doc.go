// Package scanlab builds throwaway network labs for the scanner's
// acceptance tests and benchmarks: one namespace for the scanner and one
// per lab host, each host joined to the scanner by its own veth pair, all
// addresses in 198.18.0.0/16 (RFC 2544's benchmarking range) and visible
// only inside the lab. Everything — processes, namespaces, /etc/netns
// overlays — is removed by t.Cleanup, also when the test fails.
//
// Scanner and helper servers run as children of the test binary itself,
// re-executed inside a namespace ("ip netns exec NS /proc/self/exe"):
// a Go process cannot move all its threads into a namespace, but a child
// can be born in one. A test binary that uses the lab must call RunChild
// first thing in TestMain.
package scanlab
