package control

import (
	"context"
	"fmt"
	"strings"

	"golang.org/x/crypto/bcrypt"

	"github.com/simguard/simguard"
)

// TopicSMPPAccounts is published after every change to an ESME account;
// the SMS firewall re-checks the binds it holds.
const TopicSMPPAccounts = "smpp.accounts"

// SMPPAccountInput is what an admin sets on a new ESME account.
type SMPPAccountInput struct {
	SystemID string `json:"system_id"`
	// Password is 1 to 8 printable characters (SMPP 3.4); only its bcrypt
	// hash is stored.
	Password   string   `json:"password"`
	Upstream   string   `json:"upstream,omitempty"`
	MOPrefixes []string `json:"mo_prefixes,omitempty"`
	MaxBinds   int      `json:"max_binds,omitempty"`
	Disabled   bool     `json:"disabled,omitempty"`
}

// SMPPAccountPatch changes some fields of an account; nil fields stay.
type SMPPAccountPatch struct {
	Upstream   *string   `json:"upstream,omitempty"`
	MOPrefixes *[]string `json:"mo_prefixes,omitempty"`
	MaxBinds   *int      `json:"max_binds,omitempty"`
	Disabled   *bool     `json:"disabled,omitempty"`
	// Password sets a new password.
	Password *string `json:"password,omitempty"`
}

// smppHashCost is bcrypt's default: about 50-100 ms per bind on a small
// machine, which is what makes a stolen database slow to crack.
const smppHashCost = bcrypt.DefaultCost

// dummySMPPHash is compared against when a system_id is unknown, so that
// an unknown account takes as long to refuse as a wrong password. It is
// the hash, at smppHashCost, of a password nobody has.
const dummySMPPHash = "$2a$10$YPmNHOzcdm9WjoDOlXWei.tMvZKrKmKuy/cfErBiRJzupGf1lqRcq"

func hashSMPPPassword(pw string) (string, error) {
	if len(pw) == 0 || len(pw) > 8 || strings.IndexFunc(pw, func(r rune) bool { return r < 0x21 || r > 0x7e }) >= 0 {
		return "", simguard.FieldError("password", "must be 1-8 printable ASCII characters without spaces (SMPP 3.4 allows 8)")
	}
	h, err := bcrypt.GenerateFromPassword([]byte(pw), smppHashCost)
	if err != nil {
		return "", fmt.Errorf("hash smpp password: %w", err)
	}
	return string(h), nil
}

// withoutHash is what leaves the control plane: never the hash.
func withoutHash(a simguard.SMPPAccount) simguard.SMPPAccount {
	a.PasswordHash = ""
	return a
}

// ListSMPPAccounts lists the caller's tenant's ESME accounts. Every role
// of the tenant may read them: they hold no secret.
func (s *Service) ListSMPPAccounts(ctx context.Context) ([]simguard.SMPPAccount, error) {
	a, err := reader(ctx)
	if err != nil {
		return nil, err
	}
	list, err := s.store.ListSMPPAccounts(ctx, a.TenantID)
	if err != nil {
		return nil, err
	}
	for i := range list {
		list[i] = withoutHash(list[i])
	}
	return list, nil
}

// GetSMPPAccount returns an account of the caller's tenant by system_id.
func (s *Service) GetSMPPAccount(ctx context.Context, systemID string) (simguard.SMPPAccount, error) {
	a, err := reader(ctx)
	if err != nil {
		return simguard.SMPPAccount{}, err
	}
	acct, err := s.smppAccountOf(ctx, a, systemID)
	return withoutHash(acct), err
}

// smppAccountOf finds an account by system_id in the actor's tenant. An
// account of another tenant reads as absent.
func (s *Service) smppAccountOf(ctx context.Context, a simguard.Actor, systemID string) (simguard.SMPPAccount, error) {
	acct, err := s.store.SMPPAccountBySystemID(ctx, systemID)
	if err == nil && acct.TenantID != a.TenantID {
		err = &simguard.Error{Code: simguard.ENOTFOUND, Field: "system_id", Message: fmt.Sprintf("no SMPP account %q", systemID)}
	}
	if err != nil {
		return simguard.SMPPAccount{}, err
	}
	return acct, nil
}

// CreateSMPPAccount adds an ESME account to the caller's tenant (admins
// only). ECONFLICT when the system_id is taken in any tenant.
func (s *Service) CreateSMPPAccount(ctx context.Context, in SMPPAccountInput) (simguard.SMPPAccount, error) {
	a, err := admin(ctx)
	if err != nil {
		return simguard.SMPPAccount{}, err
	}
	acct := simguard.SMPPAccount{TenantID: a.TenantID, SystemID: in.SystemID, Upstream: in.Upstream,
		MOPrefixes: in.MOPrefixes, MaxBinds: in.MaxBinds, Disabled: in.Disabled}
	if err := acct.Validate(); err != nil { // before the slow hash
		return simguard.SMPPAccount{}, err
	}
	if acct.PasswordHash, err = hashSMPPPassword(in.Password); err != nil {
		return simguard.SMPPAccount{}, err
	}
	created, err := s.store.CreateSMPPAccount(ctx, acct, simguard.Change{Actor: a, Action: "smpp_account.create"})
	if err != nil {
		return simguard.SMPPAccount{}, err
	}
	s.Publish(TopicSMPPAccounts)
	return withoutHash(created), nil
}

// UpdateSMPPAccount applies p to an account of the caller's tenant
// (admins only). A new password is audited as "smpp_account.password",
// anything else as "smpp_account.update". ifVersion guards it (0: none).
func (s *Service) UpdateSMPPAccount(ctx context.Context, systemID string, ifVersion int64, p SMPPAccountPatch) (simguard.SMPPAccount, error) {
	a, err := admin(ctx)
	if err != nil {
		return simguard.SMPPAccount{}, err
	}
	var hash string
	if p.Password != nil {
		if hash, err = hashSMPPPassword(*p.Password); err != nil {
			return simguard.SMPPAccount{}, err
		}
	}
	cur, err := s.smppAccountOf(ctx, a, systemID)
	if err != nil {
		return simguard.SMPPAccount{}, err
	}
	action := "smpp_account.update"
	if p.Password != nil && p.Upstream == nil && p.MOPrefixes == nil && p.MaxBinds == nil && p.Disabled == nil {
		action = "smpp_account.password"
	}
	updated, err := s.store.UpdateSMPPAccount(ctx, a.TenantID, cur.ID, ifVersion, simguard.Change{Actor: a, Action: action},
		func(acct *simguard.SMPPAccount) error {
			if p.Upstream != nil {
				acct.Upstream = *p.Upstream
			}
			if p.MOPrefixes != nil {
				acct.MOPrefixes = append([]string(nil), *p.MOPrefixes...)
			}
			if p.MaxBinds != nil {
				acct.MaxBinds = *p.MaxBinds
			}
			if p.Disabled != nil {
				acct.Disabled = *p.Disabled
			}
			if hash != "" {
				acct.PasswordHash = hash
			}
			return nil
		})
	if err != nil {
		return simguard.SMPPAccount{}, err
	}
	s.Publish(TopicSMPPAccounts)
	return withoutHash(updated), nil
}

// DeleteSMPPAccount removes an account of the caller's tenant (admins
// only); the SMS firewall unbinds its sessions.
func (s *Service) DeleteSMPPAccount(ctx context.Context, systemID string, ifVersion int64) error {
	a, err := admin(ctx)
	if err != nil {
		return err
	}
	cur, err := s.smppAccountOf(ctx, a, systemID)
	if err != nil {
		return err
	}
	if err := s.store.DeleteSMPPAccount(ctx, a.TenantID, cur.ID, ifVersion, simguard.Change{Actor: a, Action: "smpp_account.delete"}); err != nil {
		return err
	}
	s.Publish(TopicSMPPAccounts)
	return nil
}

// AuthenticateSMPP checks the credentials of an ESME bind and returns the
// account (without its hash; Disabled is for the caller to enforce). Only
// node tokens, and the in-process SMS firewall acting as a node, may ask:
// not even provider admins, for whom it would be a password oracle.
//
// Wrong credentials are EUNAUTHORIZED, with Field "system_id" for an
// unknown account and "password" for a wrong password: the SMS firewall
// counts the two apart, and answers the ESME the same for both. Either
// way one bcrypt comparison runs, so timing does not tell them apart.
func (s *Service) AuthenticateSMPP(ctx context.Context, systemID, password string) (simguard.SMPPAccount, error) {
	a, err := actor(ctx)
	if err != nil {
		return simguard.SMPPAccount{}, err
	}
	if a.Role != simguard.RoleNode {
		return simguard.SMPPAccount{}, simguard.Errorf(simguard.EFORBIDDEN, "only SMS firewall nodes (node tokens) may check ESME passwords")
	}
	acct, err := s.store.SMPPAccountBySystemID(ctx, systemID)
	switch simguard.ErrorCode(err) {
	case "":
	case simguard.ENOTFOUND:
		_ = bcrypt.CompareHashAndPassword([]byte(dummySMPPHash), []byte(password))
		return simguard.SMPPAccount{}, &simguard.Error{Code: simguard.EUNAUTHORIZED, Field: "system_id", Message: "unknown system_id or wrong password"}
	default:
		return simguard.SMPPAccount{}, err
	}
	if bcrypt.CompareHashAndPassword([]byte(acct.PasswordHash), []byte(password)) != nil {
		return simguard.SMPPAccount{}, &simguard.Error{Code: simguard.EUNAUTHORIZED, Field: "password", Message: "unknown system_id or wrong password"}
	}
	return withoutHash(acct), nil
}

// SMPPAccountForNode returns an account of any tenant, without its hash,
// for a remote SMS firewall node re-checking the binds it holds.
func (s *Service) SMPPAccountForNode(ctx context.Context, systemID string) (simguard.SMPPAccount, error) {
	if _, err := node(ctx); err != nil {
		return simguard.SMPPAccount{}, err
	}
	acct, err := s.store.SMPPAccountBySystemID(ctx, systemID)
	return withoutHash(acct), err
}

// SMPPNodeActor is the actor of the SMS firewall running inside the
// control plane: it authenticates binds as a remote node would.
func SMPPNodeActor() simguard.Actor {
	return simguard.Actor{TenantID: simguard.ProviderTenantID, Role: simguard.RoleNode, Name: "system:smpp"}
}
