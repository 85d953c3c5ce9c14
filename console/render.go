package console

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"reflect"
	"strings"
	"time"

	"github.com/simguard/simguard"
)

//go:embed templates/*.html
var templateFS embed.FS

// pages holds one template set per page: the layout and partials, and
// the page's own "content".
type pages struct {
	m map[string]*template.Template
}

func loadPages(a *assets) (*pages, error) {
	funcs := template.FuncMap{
		"asset":   a.url,
		"utc":     formatTime,
		"utcp":    formatTimePtr,
		"bytes":   formatBytes,
		"imei":    simguard.IMEIWithCheckDigit,
		"join":    joinList,
		"json":    prettyJSON,
		"diff":    diffLines,
		"add":     func(a, b int) int { return a + b },
		"percent": percent,
		"bars":    newBars,
		"rule":    formatRule,
		"when":    formatWhen,
		"plural":  plural,
	}
	base, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/partials.html")
	if err != nil {
		return nil, fmt.Errorf("console templates: %w", err)
	}
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	p := &pages{m: map[string]*template.Template{}}
	for _, n := range names {
		name := strings.TrimSuffix(path.Base(n), ".html")
		if name == "layout" || name == "partials" {
			continue
		}
		t, err := template.Must(base.Clone()).ParseFS(templateFS, n)
		if err != nil {
			return nil, fmt.Errorf("console template %s: %w", name, err)
		}
		p.m[name] = t
	}
	return p, nil
}

// view is what every page template gets.
type view struct {
	Title    string
	Nav      string
	NavItems []navItem
	User     *userView // nil on the login page
	CSRF     string
	Flash    string
	FlashBad bool
	Refresh  int // seconds between live updates
	Data     any
}

type userView struct {
	Name     string
	Role     simguard.Role
	CanWrite bool
}

// page renders a page of a logged-in user.
func (c *Console) page(x *call, status int, name, title, nav string, data any) error {
	v := view{Title: title, Nav: nav, NavItems: c.nav, CSRF: x.s.csrf, Data: data, Refresh: int(c.cfg.Refresh / time.Second)}
	v.User = &userView{Name: x.s.actor.Name, Role: x.s.actor.Role, CanWrite: x.s.actor.Role.CanWrite()}
	v.Flash, v.FlashBad = c.sessions.takeFlash(x.sid)
	return c.write(x.w, status, name, v)
}

// write executes a page into a buffer first, so that a template error
// becomes a clean 500 rather than half a page.
func (c *Console) write(w http.ResponseWriter, status int, name string, v view) error {
	t, ok := c.pages.m[name]
	if !ok {
		return fmt.Errorf("console: no template %q", name)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout.html", v); err != nil {
		return fmt.Errorf("console: render %s: %w", name, err)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, err := w.Write(buf.Bytes())
	if err != nil {
		c.log.Debug("console: writing a page failed", "err", err)
	}
	return nil
}

// formErrorStatus is the status of a form shown again with its errors
// next to the fields. It is a page that worked: browsers log every 4xx
// document as an error in the console, which would drown real ones.
const formErrorStatus = http.StatusOK

var statusByCode = map[string]int{
	simguard.EINVALID:      http.StatusBadRequest,
	simguard.ENOTFOUND:     http.StatusNotFound,
	simguard.ECONFLICT:     http.StatusConflict,
	simguard.EPRECONDITION: http.StatusPreconditionFailed,
	simguard.EUNAUTHORIZED: http.StatusUnauthorized,
	simguard.EFORBIDDEN:    http.StatusForbidden,
	simguard.EUNAVAILABLE:  http.StatusServiceUnavailable,
	simguard.EINTERNAL:     http.StatusInternalServerError,
}

func notFound(format string, args ...any) error {
	return simguard.Errorf(simguard.ENOTFOUND, format, args...)
}

// writeError shows err as a page (or JSON) with its status. Errors
// without a code are internal: logged, and shown as "internal error".
func (c *Console) writeError(x *call, jsonOut bool, err error) {
	code := simguard.ErrorCode(err)
	status, ok := statusByCode[code]
	if !ok {
		status = http.StatusInternalServerError
	}
	if status >= 500 {
		c.log.Error("console request failed", "method", x.r.Method, "path", x.r.URL.Path, "err", err)
	}
	msg := simguard.ErrorMessage(err)
	if jsonOut {
		x.w.Header().Set("Content-Type", "application/json")
		x.w.WriteHeader(status)
		_ = json.NewEncoder(x.w).Encode(map[string]any{"error": map[string]string{"code": code, "message": msg}})
		return
	}
	data := struct {
		Status  int
		Code    string
		Message string
	}{status, code, msg}
	v := view{Title: http.StatusText(status), NavItems: c.nav, CSRF: x.s.csrf, Data: data}
	if x.s.actor.Name != "" {
		v.User = &userView{Name: x.s.actor.Name, Role: x.s.actor.Role, CanWrite: x.s.actor.Role.CanWrite()}
	}
	if werr := c.write(x.w, status, "error", v); werr != nil {
		c.log.Error("console: rendering an error page failed", "err", werr)
		http.Error(x.w, msg, status)
	}
}

func formatTime(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2006-01-02 15:04:05") + " UTC"
}

// formatWhen is formatTime for table cells whose header says UTC.
func formatWhen(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2006-01-02 15:04:05")
}

// plural writes a count with its noun: "1 host", "2 hosts".
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

func formatTimePtr(t *time.Time) string {
	if t == nil {
		return "—"
	}
	return formatTime(*t)
}

func formatBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 4; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTP"[exp])
}

// percent is used/limit in whole percent, capped at 100 for meters.
func percent(used, limit int64) int64 {
	if limit <= 0 {
		return 0
	}
	return min(used*100/limit, 100)
}

// barsView is a bar list with the longest bar's count.
type barsView struct {
	Items []topItem
	Max   int64
}

func newBars(items []topItem) barsView {
	v := barsView{Items: items}
	for _, it := range items {
		v.Max = max(v.Max, it.Count)
	}
	return v
}

// joinList joins a slice of strings or string-like values with ", ".
func joinList(v any) string {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Slice {
		return fmt.Sprint(v)
	}
	parts := make([]string, rv.Len())
	for i := range parts {
		parts[i] = fmt.Sprint(rv.Index(i).Interface())
	}
	return strings.Join(parts, ", ")
}

func prettyJSON(raw json.RawMessage) string {
	if len(raw) == 0 {
		return ""
	}
	var buf bytes.Buffer
	if err := json.Indent(&buf, raw, "", "  "); err != nil {
		return string(raw)
	}
	return buf.String()
}

// diffLine is one line of a diff as the templates show it.
type diffLine struct {
	Kind string // "add", "del" or "same"
	Text string
}

func diffLines(d string) []diffLine {
	var out []diffLine
	for _, l := range strings.Split(strings.TrimSuffix(d, "\n"), "\n") {
		if l == "" {
			continue
		}
		kind := "same"
		switch l[0] {
		case '+':
			kind = "add"
		case '-':
			kind = "del"
		}
		out = append(out, diffLine{Kind: kind, Text: l})
	}
	return out
}

// errorField returns the field path of a *simguard.Error, "" for others.
func errorField(err error) string {
	var se *simguard.Error
	if errors.As(err, &se) {
		return se.Field
	}
	return ""
}

// asError is errors.As for *simguard.Error.
func asError(err error, se **simguard.Error) bool { return errors.As(err, se) }

// formatRule writes a flow rule as an operator reads it:
// "from 192.0.2.0/28 tcp 22, 8080".
func formatRule(r simguard.FlowRule) string {
	proto := r.Proto
	if proto == "" {
		proto = "any"
	}
	ports := "every port"
	if len(r.Ports) > 0 {
		ports = joinList(r.Ports)
	}
	if proto == "icmp" {
		ports = ""
	}
	return strings.TrimSpace("from " + r.CIDR.String() + " " + proto + " " + ports)
}
