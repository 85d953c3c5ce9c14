package creds

import (
	"context"
	"crypto/tls"
	"io"
	"net/http"
	"strings"
	"time"
)

// httpAttempter tries HTTP basic auth on the path that asked for it.
type httpAttempter struct {
	url    string
	client *http.Client
}

func newHTTPAttempter(t Target, timeout time.Duration) *httpAttempter {
	scheme := "http"
	if t.TLS {
		scheme = "https"
	}
	path := t.Path
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	tr := &http.Transport{
		// We audit devices, we do not trust them: any certificate will do.
		TLSClientConfig:   &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS10},
		DisableKeepAlives: true,
		Proxy:             nil,
	}
	return &httpAttempter{
		url: scheme + "://" + t.Addr.String() + path,
		client: &http.Client{
			Transport: tr,
			Timeout:   timeout,
			// A redirect after a good login is a success; do not follow it.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}
}

func (h *httpAttempter) close() { h.client.CloseIdleConnections() }

func (h *httpAttempter) try(ctx context.Context, p Pair) (outcome, string, string) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, h.url, nil)
	if err != nil {
		return unsupported, "", "bad URL: " + err.Error()
	}
	req.SetBasicAuth(p.Username, p.Password)
	req.Header.Set("User-Agent", "simguard-audit/1")
	resp, err := h.client.Do(req)
	if err != nil {
		return connError, "", errText(err)
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusTooManyRequests, resp.StatusCode == http.StatusLocked,
		resp.StatusCode == http.StatusServiceUnavailable && resp.Header.Get("Retry-After") != "":
		return lockedOut, "", "HTTP " + resp.Status
	case resp.StatusCode == http.StatusUnauthorized:
		if !strings.HasPrefix(strings.ToLower(resp.Header.Get("WWW-Authenticate")), "basic") {
			return unsupported, "", "the server no longer asks for basic auth"
		}
		return failed, "", ""
	case resp.StatusCode == http.StatusForbidden:
		return failed, "", ""
	case resp.StatusCode < 500:
		return succeeded, "basic", ""
	}
	return connError, "", "HTTP " + resp.Status
}
