package http

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/simguard/simguard"
)

const maxJSONBody = 1 << 20

// decodeJSON reads one JSON object strictly: unknown fields, trailing data
// and oversized bodies are errors that say what is wrong.
func decodeJSON(r *http.Request, v any) error {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxJSONBody+1))
	if err != nil {
		return simguard.Errorf(simguard.EINVALID, "reading the body: %v", err)
	}
	if len(body) > maxJSONBody {
		return simguard.Errorf(simguard.EINVALID, "the JSON body is larger than 1 MiB")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		if strings.HasPrefix(err.Error(), "json: unknown field ") {
			if p := unknownFieldPath(body, reflect.TypeOf(v)); p != "" {
				return simguard.FieldError(p, "unknown field")
			}
		}
		if p, perr := badValuePath(body, reflect.TypeOf(v)); p != "" {
			return simguard.FieldError(p, "%s", strings.TrimPrefix(perr.Error(), "json: "))
		}
		return jsonError(err)
	}
	if dec.More() {
		return simguard.Errorf(simguard.EINVALID, "the body holds more than one JSON value")
	}
	return nil
}

// decodeOptionalJSON is decodeJSON for bodies that may be empty.
func decodeOptionalJSON(r *http.Request, v any) error {
	b, err := io.ReadAll(io.LimitReader(r.Body, maxJSONBody+1))
	if err != nil {
		return simguard.Errorf(simguard.EINVALID, "reading the body: %v", err)
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return nil
	}
	r.Body = io.NopCloser(bytes.NewReader(b))
	return decodeJSON(r, v)
}

// parseAddr reads an IP address field.
func parseAddr(field, s string) (netip.Addr, error) {
	ip, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, simguard.FieldError(field, "%q is not an IP address", s)
	}
	return ip, nil
}

func jsonError(err error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	var ute interface{ Unwrap() error }
	switch {
	case errors.Is(err, io.EOF):
		return simguard.Errorf(simguard.EINVALID, "the body is empty; send a JSON object")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return simguard.Errorf(simguard.EINVALID, "the JSON body is cut short (or larger than 1 MiB)")
	case errors.As(err, &se):
		return simguard.Errorf(simguard.EINVALID, "invalid JSON at byte %d: %v", se.Offset, se)
	case errors.As(err, &te):
		return simguard.FieldError(te.Field, "must be a %s", te.Type)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		f := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return simguard.FieldError(f, "unknown field")
	case errors.As(err, &ute):
		// Values with their own parsers (netip, ports, times) say why.
		return simguard.Errorf(simguard.EINVALID, "%s", strings.TrimPrefix(err.Error(), "json: "))
	}
	return simguard.Errorf(simguard.EINVALID, "invalid JSON: %s", strings.TrimPrefix(err.Error(), "json: "))
}

// ifMatch reads If-Match: "<version>" (or a bare number). 0: none sent.
func ifMatch(r *http.Request) (int64, error) {
	h := strings.TrimSpace(r.Header.Get("If-Match"))
	if h == "" || h == "*" {
		return 0, nil
	}
	h = strings.TrimPrefix(h, "W/")
	v, err := strconv.ParseInt(strings.Trim(h, `"`), 10, 64)
	if err != nil || v <= 0 {
		return 0, simguard.FieldError("If-Match", "must be the ETag of the object, like \"3\"")
	}
	return v, nil
}

func etag(version int64) string { return fmt.Sprintf(`"%d"`, version) }

// queryInt reads an optional non-negative integer query parameter.
func queryInt(r *http.Request, name string) (int64, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return 0, simguard.FieldError(name, "must be a non-negative integer")
	}
	return n, nil
}

// queryTime reads an optional RFC 3339 time, or a duration ago like "15m".
func queryTime(r *http.Request, name string, now time.Time) (time.Time, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return time.Time{}, nil
	}
	if d, err := time.ParseDuration(v); err == nil && d >= 0 {
		return now.Add(-d), nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, simguard.FieldError(name, "must be an RFC 3339 time (2026-01-02T15:04:05Z) or a duration ago (15m, 24h)")
	}
	return t, nil
}

// parseDuration reads durations such as "2h", "90m" or "7d".
func parseDuration(field, s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	if n, ok := strings.CutSuffix(s, "d"); ok {
		days, err := strconv.Atoi(n)
		if err == nil && days >= 0 && days <= 3660 {
			return time.Duration(days) * 24 * time.Hour, nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, simguard.FieldError(field, "must be a duration like 2h, 90m or 7d, got %q", s)
	}
	return d, nil
}

// parseTime reads an optional RFC 3339 time ("" is the zero time).
func parseTime(field, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, simguard.FieldError(field, "must be an RFC 3339 time like 2026-01-02T15:04:05Z, got %q", clipQuery(s))
	}
	return t, nil
}
