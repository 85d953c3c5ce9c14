package smpp

import (
	"strings"

	"github.com/simguard/simguard"
)

// boundAccount is the account an ESME bound with, as it was at bind time:
// a changed account applies from the next bind.
type boundAccount struct {
	acct  simguard.SMPPAccount
	route *route
}

// scope hides SIMs of other tenants from the account: a message to one is
// refused as if the number were unknown, so an ESME learns nothing about
// other tenants' SIMs. The provider tenant's accounts see every SIM.
func (ba *boundAccount) scope(d simguard.Decision) simguard.Decision {
	if ba.acct.TenantID == simguard.ProviderTenantID || d.TenantID == 0 || d.TenantID == ba.acct.TenantID {
		return d
	}
	return simguard.Decision{Reason: simguard.ReasonSIMUnknown, Rule: "smpp:account-tenant", TenantID: ba.acct.TenantID}
}

// moMatch scores how well dest fits the account's MOPrefixes: the length
// of the longest matching prefix, 0 for an account without prefixes (it
// takes anything of its tenant), -1 when no prefix matches.
func (ba *boundAccount) moMatch(dest string) int {
	if len(ba.acct.MOPrefixes) == 0 {
		return 0
	}
	best := -1
	for _, p := range ba.acct.MOPrefixes {
		if len(p) > best && strings.HasPrefix(dest, p) {
			best = len(p)
		}
	}
	return best
}

// moTargets returns the receiving binds on route r that may take a device
// message of tenantID to dest: accounts of the SIM's tenant whose
// MOPrefixes match dest best (or that have none). The order rotates so
// that binds share the load.
func (s *Server) moTargets(r *route, dest string, tenantID int64) []*esmeSession {
	s.mu.Lock()
	defer s.mu.Unlock()
	best := -1
	var out []*esmeSession
	for _, list := range s.bound {
		for _, e := range list {
			ba := e.bound.Load()
			if ba.route != r || !e.canReceive() || ba.acct.TenantID != tenantID {
				continue
			}
			score := ba.moMatch(dest)
			if score < 0 || score < best {
				continue
			}
			if score > best {
				best, out = score, out[:0]
			}
			out = append(out, e)
		}
	}
	return s.rotate(out)
}

// receiptTargets returns the receiving binds for a delivery receipt: those
// of the account that submitted the message, or, when the message ID is
// not known (older than ReceiptTTL, or from before a restart), those of
// accounts with an MOPrefix matching the receipt's destination (the
// original sender address).
func (s *Server) receiptTargets(r *route, account, dest string) []*esmeSession {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*esmeSession
	if account != "" {
		// Known sender: its receipts wait (the SMSC retries) until it
		// binds a receiver, rather than going to anyone else.
		for _, e := range s.bound[account] {
			if e.canReceive() && e.bound.Load().route == r {
				out = append(out, e)
			}
		}
		return s.rotate(out)
	}
	best := 0
	for _, list := range s.bound {
		for _, e := range list {
			ba := e.bound.Load()
			if ba.route != r || !e.canReceive() {
				continue
			}
			score := ba.moMatch(dest)
			if score <= 0 || score < best {
				continue
			}
			if score > best {
				best, out = score, out[:0]
			}
			out = append(out, e)
		}
	}
	return s.rotate(out)
}

func (s *Server) rotate(out []*esmeSession) []*esmeSession {
	if n := len(out); n > 1 {
		k := int(s.rr.Add(1) % uint32(n))
		out = append(out[k:], out[:k]...)
	}
	return out
}
