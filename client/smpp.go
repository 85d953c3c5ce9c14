package client

import (
	"context"
	"fmt"
	"net/url"

	"github.com/simguard/simguard"
)

// SMPPAccountInput is a new ESME account; Password is 1-8 characters.
type SMPPAccountInput struct {
	SystemID   string   `json:"system_id"`
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
	Password   *string   `json:"password,omitempty"`
}

func smppPath(systemID string) string { return "/api/v1/smpp/accounts/" + url.PathEscape(systemID) }

// SMPPAccounts lists the tenant's ESME accounts.
func (c *Client) SMPPAccounts(ctx context.Context) ([]simguard.SMPPAccount, error) {
	var l list[simguard.SMPPAccount]
	return l.Items, c.call(ctx, "GET", "/api/v1/smpp/accounts", nil, &l)
}

// SMPPAccount reads one account by system_id.
func (c *Client) SMPPAccount(ctx context.Context, systemID string) (simguard.SMPPAccount, error) {
	var a simguard.SMPPAccount
	return a, c.call(ctx, "GET", smppPath(systemID), nil, &a)
}

// CreateSMPPAccount adds an ESME account (admins).
func (c *Client) CreateSMPPAccount(ctx context.Context, in SMPPAccountInput) (simguard.SMPPAccount, error) {
	var a simguard.SMPPAccount
	return a, c.call(ctx, "POST", "/api/v1/smpp/accounts", in, &a)
}

// UpdateSMPPAccount applies p; ifVersion guards it (0: no guard).
func (c *Client) UpdateSMPPAccount(ctx context.Context, systemID string, ifVersion int64, p SMPPAccountPatch) (simguard.SMPPAccount, error) {
	var a simguard.SMPPAccount
	b, err := jsonBody(p)
	if err != nil {
		return a, err
	}
	_, err = c.do(ctx, request{method: "PATCH", path: smppPath(systemID), body: b, contentType: "application/json", ifMatch: ifVersion}, &a)
	return a, err
}

// DeleteSMPPAccount removes an account; ifVersion guards it (0: no guard).
func (c *Client) DeleteSMPPAccount(ctx context.Context, systemID string, ifVersion int64) error {
	_, err := c.do(ctx, request{method: "DELETE", path: smppPath(systemID), ifMatch: ifVersion}, nil)
	return err
}

// AuthenticateSMPP asks the control plane to check an ESME bind (node
// tokens). Wrong credentials come back as a *simguard.Error with code
// EUNAUTHORIZED and Field "system_id" (unknown) or "password" (wrong), as
// the SMS firewall's Authenticator expects; anything else means the check
// could not be made.
func (c *Client) AuthenticateSMPP(ctx context.Context, systemID, password string) (simguard.SMPPAccount, error) {
	var out struct {
		Result  string                `json:"result"`
		Account *simguard.SMPPAccount `json:"account"`
	}
	if err := c.call(ctx, "POST", "/api/v1/sync/smpp/auth", map[string]string{"system_id": systemID, "password": password}, &out); err != nil {
		return simguard.SMPPAccount{}, err
	}
	switch {
	case out.Result == "ok" && out.Account != nil:
		return *out.Account, nil
	case out.Result == "unknown_system_id":
		return simguard.SMPPAccount{}, &simguard.Error{Code: simguard.EUNAUTHORIZED, Field: "system_id", Message: "unknown system_id"}
	case out.Result == "bad_password":
		return simguard.SMPPAccount{}, &simguard.Error{Code: simguard.EUNAUTHORIZED, Field: "password", Message: "wrong password"}
	}
	return simguard.SMPPAccount{}, fmt.Errorf("smpp bind check: unexpected answer %q", out.Result)
}

// SMPPAccountBySystemID reads an account of any tenant (node tokens), so
// that a remote SMS firewall can re-check the binds it holds; it
// implements smpp.AccountStore.
func (c *Client) SMPPAccountBySystemID(ctx context.Context, systemID string) (simguard.SMPPAccount, error) {
	var a simguard.SMPPAccount
	return a, c.call(ctx, "GET", "/api/v1/sync/smpp/accounts/"+url.PathEscape(systemID), nil, &a)
}
