// Package client is the typed client of simguard's REST API. The CLI uses
// it, and so do remote enforcement nodes to follow the policy and report
// what they learn.
package client
