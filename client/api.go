package client

import (
	"context"
	"io"
	"net/url"
	"strconv"

	"github.com/simguard/simguard"
)

// Whoami describes the caller's token.
type Whoami struct {
	Actor    string        `json:"actor"`
	TenantID int64         `json:"tenant_id"`
	Role     simguard.Role `json:"role"`
	Provider bool          `json:"provider"`
}

// Whoami asks who the token belongs to.
func (c *Client) Whoami(ctx context.Context) (Whoami, error) {
	var w Whoami
	return w, c.call(ctx, "GET", "/api/v1/whoami", nil, &w)
}

type list[T any] struct {
	Items     []T   `json:"items"`
	NextAfter int64 `json:"next_after"`
}

// Tenants lists the tenants the caller may see.
func (c *Client) Tenants(ctx context.Context) ([]simguard.Tenant, error) {
	var l list[simguard.Tenant]
	return l.Items, c.call(ctx, "GET", "/api/v1/tenants", nil, &l)
}

// CreateTenant adds a tenant (provider admins).
func (c *Client) CreateTenant(ctx context.Context, name string) (simguard.Tenant, error) {
	var t simguard.Tenant
	return t, c.call(ctx, "POST", "/api/v1/tenants", map[string]string{"name": name}, &t)
}

// CreateToken makes a token; its Secret is set in the answer only.
func (c *Client) CreateToken(ctx context.Context, name string, role simguard.Role, tenantID int64) (simguard.Token, error) {
	var t simguard.Token
	in := map[string]any{"name": name, "role": role}
	if tenantID != 0 {
		in["tenant_id"] = tenantID
	}
	return t, c.call(ctx, "POST", "/api/v1/tokens", in, &t)
}

// Tokens lists the tenant's tokens.
func (c *Client) Tokens(ctx context.Context) ([]simguard.Token, error) {
	var l list[simguard.Token]
	return l.Items, c.call(ctx, "GET", "/api/v1/tokens", nil, &l)
}

// DeleteToken revokes a token.
func (c *Client) DeleteToken(ctx context.Context, id int64) error {
	return c.call(ctx, "DELETE", "/api/v1/tokens/"+strconv.FormatInt(id, 10), nil, nil)
}

// Groups lists the tenant's groups.
func (c *Client) Groups(ctx context.Context) ([]simguard.Group, error) {
	var l list[simguard.Group]
	return l.Items, c.call(ctx, "GET", "/api/v1/groups", nil, &l)
}

// Group reads one group.
func (c *Client) Group(ctx context.Context, name string) (simguard.Group, error) {
	var g simguard.Group
	return g, c.call(ctx, "GET", "/api/v1/groups/"+url.PathEscape(name), nil, &g)
}

// GroupPlan is what applying a group would change.
type GroupPlan struct {
	Exists  bool            `json:"exists"`
	Changed bool            `json:"changed"`
	Current *simguard.Group `json:"current"`
	Desired simguard.Group  `json:"desired"`
	Diff    string          `json:"diff"`
}

func groupInput(g simguard.Group) map[string]any {
	return map[string]any{"name": g.Name, "description": g.Description, "policy": g.Policy}
}

// PlanGroup validates g on the server and returns the diff against the
// stored group, changing nothing.
func (c *Client) PlanGroup(ctx context.Context, g simguard.Group) (GroupPlan, error) {
	var p GroupPlan
	b, err := jsonBody(groupInput(g))
	if err != nil {
		return p, err
	}
	_, err = c.do(ctx, request{method: "PUT", path: "/api/v1/groups/" + url.PathEscape(g.Name),
		query: url.Values{"dry_run": {"true"}}, body: b, contentType: "application/json"}, &p)
	return p, err
}

// ApplyGroup creates or replaces g; ifVersion guards the replacement.
func (c *Client) ApplyGroup(ctx context.Context, g simguard.Group, ifVersion int64) (simguard.Group, error) {
	var out simguard.Group
	b, err := jsonBody(groupInput(g))
	if err != nil {
		return out, err
	}
	_, err = c.do(ctx, request{method: "PUT", path: "/api/v1/groups/" + url.PathEscape(g.Name),
		body: b, contentType: "application/json", ifMatch: ifVersion}, &out)
	return out, err
}

// DeleteGroup removes an empty group.
func (c *Client) DeleteGroup(ctx context.Context, name string, ifVersion int64) error {
	_, err := c.do(ctx, request{method: "DELETE", path: "/api/v1/groups/" + url.PathEscape(name), ifMatch: ifVersion}, nil)
	return err
}

// SIM is a SIM as the API shows it.
type SIM struct {
	simguard.SIM
	IMEILockState simguard.IMEILockState `json:"imei_lock_state"`
}

// SIMPage is one page of a SIM listing.
type SIMPage struct {
	Items     []SIM `json:"items"`
	NextAfter int64 `json:"next_after"`
}

// SIMs lists one page of SIMs; pass NextAfter back as f.AfterID.
func (c *Client) SIMs(ctx context.Context, f simguard.SIMFilter) (SIMPage, error) {
	q := url.Values{}
	set := func(k, v string) {
		if v != "" {
			q.Set(k, v)
		}
	}
	set("state", string(f.State))
	set("group", f.Group)
	set("label", f.Label)
	set("q", f.Query)
	if f.AfterID > 0 {
		q.Set("after", strconv.FormatInt(f.AfterID, 10))
	}
	if f.Limit > 0 {
		q.Set("limit", strconv.Itoa(f.Limit))
	}
	var p SIMPage
	_, err := c.do(ctx, request{method: "GET", path: "/api/v1/sims", query: q}, &p)
	return p, err
}

// SIM reads one SIM by ICCID, IMSI or MSISDN.
func (c *Client) SIM(ctx context.Context, ref string) (SIM, error) {
	var s SIM
	return s, c.call(ctx, "GET", "/api/v1/sims/"+url.PathEscape(ref), nil, &s)
}

// ImportSIMs uploads CSV (contentType text/csv) or a JSON array
// (application/json). params may set group, state and imei_lock defaults.
func (c *Client) ImportSIMs(ctx context.Context, body io.Reader, contentType string, params url.Values) (int, error) {
	var out struct {
		Imported int `json:"imported"`
	}
	_, err := c.do(ctx, request{method: "POST", path: "/api/v1/sims/import", query: params, body: body, contentType: contentType}, &out)
	return out.Imported, err
}

// SIMAction runs a SIM action: activate, suspend, terminate, bind-imei,
// unbind-imei or repair. in holds the action's options ("for", "imei",
// "mode"); ifVersion guards it (0: no guard).
func (c *Client) SIMAction(ctx context.Context, ref, action string, in map[string]string, ifVersion int64) (SIM, error) {
	var s SIM
	b, err := jsonBody(in)
	if err != nil {
		return s, err
	}
	_, err = c.do(ctx, request{method: "POST", path: "/api/v1/sims/" + url.PathEscape(ref) + "/" + action,
		body: b, contentType: "application/json", ifMatch: ifVersion}, &s)
	return s, err
}

// PatchSIM changes some fields of a SIM.
func (c *Client) PatchSIM(ctx context.Context, ref string, patch map[string]any, ifVersion int64) (SIM, error) {
	var s SIM
	b, err := jsonBody(patch)
	if err != nil {
		return s, err
	}
	_, err = c.do(ctx, request{method: "PATCH", path: "/api/v1/sims/" + url.PathEscape(ref),
		body: b, contentType: "application/json", ifMatch: ifVersion}, &s)
	return s, err
}

// Check asks the policy engine what it would decide, and why. in uses the
// API's field names (kind, imsi, imei, plmn, apn, …).
func (c *Client) Check(ctx context.Context, in map[string]any) (simguard.Explanation, error) {
	var ex simguard.Explanation
	return ex, c.call(ctx, "POST", "/api/v1/policy/check", in, &ex)
}

// EventQuery selects events (see GET /api/v1/events).
type EventQuery struct {
	SIM, Type, Since, Until string
	After                   int64
	Limit                   int
}

// Events lists a page of events.
func (c *Client) Events(ctx context.Context, q EventQuery) ([]simguard.Event, int64, error) {
	v := url.Values{}
	for k, s := range map[string]string{"sim": q.SIM, "type": q.Type, "since": q.Since, "until": q.Until} {
		if s != "" {
			v.Set(k, s)
		}
	}
	if q.After > 0 {
		v.Set("after", strconv.FormatInt(q.After, 10))
	}
	if q.Limit > 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	var l list[simguard.Event]
	_, err := c.do(ctx, request{method: "GET", path: "/api/v1/events", query: v}, &l)
	return l.Items, l.NextAfter, err
}

// Audit lists a page of the tenant's audit log.
func (c *Client) Audit(ctx context.Context, object, action string, after int64, limit int) ([]simguard.AuditRecord, int64, error) {
	v := url.Values{}
	if object != "" {
		v.Set("object", object)
	}
	if action != "" {
		v.Set("action", action)
	}
	if after > 0 {
		v.Set("after", strconv.FormatInt(after, 10))
	}
	if limit > 0 {
		v.Set("limit", strconv.Itoa(limit))
	}
	var l list[simguard.AuditRecord]
	_, err := c.do(ctx, request{method: "GET", path: "/api/v1/audit", query: v}, &l)
	return l.Items, l.NextAfter, err
}

// AuditReport is the answer of the chain verification.
type AuditReport map[string]any

// VerifyAudit asks the server to verify the audit chain.
func (c *Client) VerifyAudit(ctx context.Context) (AuditReport, error) {
	var r AuditReport
	return r, c.call(ctx, "GET", "/api/v1/audit/verify", nil, &r)
}

// Stats returns fleet counts.
func (c *Client) Stats(ctx context.Context) (map[string]any, error) {
	var m map[string]any
	return m, c.call(ctx, "GET", "/api/v1/stats", nil, &m)
}
