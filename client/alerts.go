package client

import (
	"context"
	"encoding/json"
	"net/url"
	"strconv"
	"time"

	"github.com/simguard/simguard"
)

// AlertQuery selects alerts; empty fields do not filter. State is a
// comma-separated list (open,acknowledged); Severity means that severity
// or higher; SIM is an ICCID, IMSI or MSISDN; Since a time or duration ago.
type AlertQuery struct {
	State, Rule, Severity, SIM, Since string
	After                             int64
	Limit                             int
}

// Alerts lists a page of the tenant's alerts, oldest first.
func (c *Client) Alerts(ctx context.Context, q AlertQuery) ([]simguard.Alert, int64, error) {
	v := url.Values{}
	for k, s := range map[string]string{"state": q.State, "rule": q.Rule, "severity": q.Severity, "sim": q.SIM, "since": q.Since} {
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
	var l list[simguard.Alert]
	_, err := c.do(ctx, request{method: "GET", path: "/api/v1/alerts", query: v}, &l)
	return l.Items, l.NextAfter, err
}

// Alert returns one alert with its events and actions.
func (c *Client) Alert(ctx context.Context, id int64) (simguard.Alert, error) {
	var a simguard.Alert
	return a, c.call(ctx, "GET", "/api/v1/alerts/"+strconv.FormatInt(id, 10), nil, &a)
}

// AcknowledgeAlert marks an alert as being looked at.
func (c *Client) AcknowledgeAlert(ctx context.Context, id int64, note string) (simguard.Alert, error) {
	var a simguard.Alert
	return a, c.call(ctx, "POST", "/api/v1/alerts/"+strconv.FormatInt(id, 10)+"/acknowledge", map[string]string{"note": note}, &a)
}

// ResolveAlert closes an alert; the next firing of its rule for its key
// opens a new one.
func (c *Client) ResolveAlert(ctx context.Context, id int64, note string) (simguard.Alert, error) {
	var a simguard.Alert
	return a, c.call(ctx, "POST", "/api/v1/alerts/"+strconv.FormatInt(id, 10)+"/resolve", map[string]string{"note": note}, &a)
}

// DeadLetter is a webhook delivery that failed every attempt; Body is the
// JSON that was signed and sent.
type DeadLetter struct {
	ID        int64           `json:"id"`
	Webhook   string          `json:"webhook"`
	Body      json.RawMessage `json:"body"`
	Attempts  int             `json:"attempts"`
	LastError string          `json:"last_error"`
	CreatedAt time.Time       `json:"created_at"`
}

// DeadLetters lists failed webhook deliveries ("" for every webhook).
func (c *Client) DeadLetters(ctx context.Context, webhook string, limit int) ([]DeadLetter, error) {
	v := url.Values{}
	if webhook != "" {
		v.Set("webhook", webhook)
	}
	if limit > 0 {
		v.Set("limit", strconv.Itoa(limit))
	}
	var l list[DeadLetter]
	_, err := c.do(ctx, request{method: "GET", path: "/api/v1/webhooks/dead-letters", query: v}, &l)
	return l.Items, err
}

// ReplayDeadLetters sends a webhook's dead letters again and says how
// many were delivered.
func (c *Client) ReplayDeadLetters(ctx context.Context, webhook string) (int, error) {
	var out struct {
		Delivered int `json:"delivered"`
	}
	return out.Delivered, c.call(ctx, "POST", "/api/v1/webhooks/"+url.PathEscape(webhook)+"/replay", nil, &out)
}
