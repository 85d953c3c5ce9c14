// Package diameter is simguard's Diameter enforcement point: an S13
// Equipment Identity Register and an S6a guard between MMEs and one HSS.
//
// MMEs connect over TCP and must be known peers (Origin-Host and source
// address, see simguard.DiameterPeer). ME-Identity-Check requests are
// answered from the policy (simguard.KindIMEICheck): WHITELISTED,
// BLACKLISTED or GREYLISTED. Update-Location requests are checked
// (simguard.KindAttach: Visited-PLMN-Id, RAT-Type, Terminal-Information,
// SIM state, and the MME's allowed networks); a denied one is answered by
// simguard with the matching result code, an allowed one is relayed to the
// HSS. Every other S6a command passes through in both directions.
//
// The codec is in the subpackage wire; this package holds no policy of its
// own: it decodes, asks the one evaluator, answers and emits an event.
package diameter
