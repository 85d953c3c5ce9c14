// Package node is what a remote enforcement node ("simguard radius
// --server URL", and the like) needs to work away from the control plane:
// a Follower that mirrors the policy snapshot through the sync API, an
// event forwarder, and simguard.Feedback over the API.
//
// A node that loses the control plane keeps enforcing the last policy it
// had (fail static) and catches up when the control plane is back: by the
// change feed if it can, by a full resync otherwise.
package node
