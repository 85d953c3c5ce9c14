package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/simguard/simguard"
)

// Client talks to one simguard control plane.
type Client struct {
	base  *url.URL
	token string
	http  *http.Client
}

// New makes a client for the server at base (e.g. http://127.0.0.1:8080)
// authenticating with token.
func New(base, token string, hc *http.Client) (*Client, error) {
	u, err := url.Parse(strings.TrimSuffix(base, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("server %q: want a URL like http://127.0.0.1:8080", base)
	}
	if hc == nil {
		hc = &http.Client{Timeout: 5 * time.Minute}
	}
	return &Client{base: u, token: token, http: hc}, nil
}

// Error is an API error: the server's code, field and message, plus the
// HTTP status and, for bulk imports, the rejected rows.
type Error struct {
	Status int
	Err    simguard.Error
}

func (e *Error) Error() string {
	msg := e.Err.Message
	if e.Err.Field != "" {
		msg = e.Err.Field + ": " + msg
	}
	return fmt.Sprintf("%s (HTTP %d %s)", msg, e.Status, e.Err.Code)
}

// Unwrap lets simguard.ErrorCode see the code.
func (e *Error) Unwrap() error { return &e.Err }

// request is one API call.
type request struct {
	method, path string
	query        url.Values
	body         io.Reader
	contentType  string
	ifMatch      int64
}

func newRequest(ctx context.Context, method, u, token string) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, method, u, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	return req, nil
}

func (c *Client) do(ctx context.Context, rq request, out any) (*http.Response, error) {
	u := *c.base
	u.Path += rq.path
	u.RawQuery = rq.query.Encode()
	req, err := http.NewRequestWithContext(ctx, rq.method, u.String(), rq.body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Accept", "application/json")
	if rq.contentType != "" {
		req.Header.Set("Content-Type", rq.contentType)
	}
	if rq.ifMatch > 0 {
		req.Header.Set("If-Match", strconv.Quote(strconv.FormatInt(rq.ifMatch, 10)))
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", rq.method, rq.path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 400 {
		return resp, decodeError(resp)
	}
	if out != nil && resp.StatusCode != http.StatusNoContent {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			return resp, fmt.Errorf("%s %s: reading the answer: %w", rq.method, rq.path, err)
		}
	}
	return resp, nil
}

func decodeError(resp *http.Response) error {
	var body struct {
		Error struct {
			Code    string              `json:"code"`
			Field   string              `json:"field"`
			Message string              `json:"message"`
			Rows    []simguard.RowError `json:"rows"`
		} `json:"error"`
	}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 32<<20))
	if err := json.Unmarshal(b, &body); err != nil || body.Error.Code == "" {
		return &Error{Status: resp.StatusCode, Err: simguard.Error{Code: codeForStatus(resp.StatusCode),
			Message: strings.TrimSpace(string(b[:min(len(b), 200)]))}}
	}
	e := body.Error
	return &Error{Status: resp.StatusCode, Err: simguard.Error{Code: e.Code, Field: e.Field, Message: e.Message, Rows: e.Rows}}
}

func codeForStatus(status int) string {
	switch status {
	case 400:
		return simguard.EINVALID
	case 401:
		return simguard.EUNAUTHORIZED
	case 403:
		return simguard.EFORBIDDEN
	case 404:
		return simguard.ENOTFOUND
	case 409:
		return simguard.ECONFLICT
	case 412:
		return simguard.EPRECONDITION
	case 503:
		return simguard.EUNAVAILABLE
	}
	return simguard.EINTERNAL
}

func jsonBody(v any) (io.Reader, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return bytes.NewReader(b), nil
}

func (c *Client) call(ctx context.Context, method, path string, in, out any) error {
	rq := request{method: method, path: path}
	if in != nil {
		b, err := jsonBody(in)
		if err != nil {
			return err
		}
		rq.body, rq.contentType = b, "application/json"
	}
	_, err := c.do(ctx, rq, out)
	return err
}
