// Package simguard holds the domain of the simguard control plane: SIMs,
// groups and their policy, requests and decisions, events, audit records,
// error codes and the service interfaces that the adapters implement.
//
// It imports only the standard library. Every other package depends on it;
// it depends on none of them.
package simguard
