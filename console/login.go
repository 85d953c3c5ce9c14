package console

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/simguard/simguard"
	"github.com/simguard/simguard/control"
)

// loginCookie carries the login form's CSRF token (double submit): a
// cross-site form cannot read it, and SameSite=Strict keeps the browser
// from sending it with a cross-site POST, so nobody can log a victim into
// the attacker's account.
const loginCookie = "simguard_login"

type loginData struct {
	Next    string
	Error   string
	Message string
}

// safeNext keeps a post-login redirect inside the console: a path, never
// a URL of another site ("//evil.example" is a URL).
func safeNext(next string) string {
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil ||
		!strings.HasPrefix(next, basePath) || strings.ContainsAny(next, "\\\r\n\t") {
		return basePath
	}
	return next
}

func (c *Console) loginPage(w http.ResponseWriter, r *http.Request) {
	if ck, err := r.Cookie(sessionCookie); err == nil {
		if _, ok := c.sessions.get(ck.Value, true); ok {
			http.Redirect(w, r, safeNext(r.URL.Query().Get("next")), http.StatusSeeOther)
			return
		}
	}
	d := loginData{Next: safeNext(r.URL.Query().Get("next"))}
	if r.URL.Query().Get("out") == "1" {
		d.Message = "You are logged out."
	}
	c.renderLogin(w, r, http.StatusOK, d)
}

func (c *Console) renderLogin(w http.ResponseWriter, r *http.Request, status int, d loginData) {
	token := randomToken()
	http.SetCookie(w, c.cookie(r, loginCookie, token, basePath+"login", 3600))
	v := view{Title: "Log in", CSRF: token, Data: d}
	if err := c.write(w, status, "login", v); err != nil {
		c.log.Error("console: rendering the login page failed", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
	}
}

func (c *Console) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	next := safeNext(r.PostFormValue("next"))
	ck, err := r.Cookie(loginCookie)
	if err != nil || !sameToken(r.PostFormValue(csrfField), ck.Value) {
		c.metrics.logins.WithLabelValues("bad_form").Inc()
		c.renderLogin(w, r, http.StatusForbidden, loginData{Next: next,
			Error: "The login form expired or did not come from this console. Enter your token again."})
		return
	}
	secret := strings.TrimSpace(r.PostFormValue("token"))
	a, tok, err := c.svc.Authenticate(r.Context(), secret)
	if err != nil {
		result, status := "unknown_token", http.StatusUnauthorized
		msg := "That token is not known. Paste a whole API token (it starts with sgt_); 'simguard token create' makes one."
		if simguard.ErrorCode(err) != simguard.EUNAUTHORIZED {
			c.log.Error("console: authenticating a login failed", "err", err)
			result, status, msg = "error", http.StatusInternalServerError, "Logging in failed; see the server log."
		}
		c.metrics.logins.WithLabelValues(result).Inc()
		c.log.Info("console login refused", "remote", r.RemoteAddr, "result", result)
		c.renderLogin(w, r, status, loginData{Next: next, Error: msg})
		return
	}
	if tok.Role == simguard.RoleNode {
		c.metrics.logins.WithLabelValues("node_token").Inc()
		c.log.Info("console login refused: node token", "actor", a.Name, "remote", r.RemoteAddr)
		c.renderLogin(w, r, http.StatusForbidden, loginData{Next: next,
			Error: "Node tokens are for enforcement nodes and cannot use the console. Log in with an admin, operator or auditor token."})
		return
	}
	// A new session ID at every login: an ID planted before login is
	// worth nothing after it.
	if ck, err := r.Cookie(sessionCookie); err == nil {
		c.sessions.delete(ck.Value)
	}
	sid, _, err := c.sessions.create(control.HashSecret(secret), a)
	if err != nil {
		c.metrics.logins.WithLabelValues("refused").Inc()
		c.renderLogin(w, r, http.StatusServiceUnavailable, loginData{Next: next, Error: simguard.ErrorMessage(err)})
		return
	}
	c.metrics.logins.WithLabelValues("ok").Inc()
	c.log.Info("console login", "actor", a.Name, "role", a.Role, "remote", r.RemoteAddr)
	http.SetCookie(w, c.cookie(r, sessionCookie, sid, basePath, 0))
	http.SetCookie(w, c.cookie(r, loginCookie, "", basePath+"login", -1))
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (c *Console) logout(x *call) error {
	c.sessions.delete(x.sid)
	c.log.Info("console logout", "actor", x.s.actor.Name)
	http.SetCookie(x.w, c.cookie(x.r, sessionCookie, "", basePath, -1))
	http.Redirect(x.w, x.r, basePath+"login?out=1", http.StatusSeeOther)
	return nil
}
