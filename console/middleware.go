package console

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/simguard/simguard"
)

const (
	sessionCookie = "simguard_session"
	csrfField     = "csrf"
	csrfHeader    = "X-CSRF-Token"
)

// csp allows scripts, styles, images and fetches from the console's own
// origin only, and nothing inline: the pages carry no inline script or
// style, so no nonce is needed. Data for the charts travels in a
// non-executable application/json block.
const csp = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
	"form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// headers sets the console's security headers. The API server in front
// already sets nosniff, no-store and X-Frame-Options; these are the
// browser-page specific ones.
func (c *Console) headers(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", csp)
		// same-origin (not no-referrer) so that same-origin POSTs carry a
		// real Origin header, which the CSRF check compares.
		h.Set("Referrer-Policy", "same-origin")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Cross-Origin-Resource-Policy", "same-origin")
		h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()")
		if h.Get("Cache-Control") == "" {
			h.Set("Cache-Control", "no-store")
		}
		next.ServeHTTP(w, r)
	})
}

// call is one authenticated request.
type call struct {
	w   http.ResponseWriter
	r   *http.Request
	ctx context.Context // carries the actor for the control service
	sid string
	s   session
}

// handler serves an authenticated request; an error is shown as an
// error page (or JSON for data endpoints).
type handler func(x *call) error

// authed resolves the session cookie into the request's actor, re-checks
// the token behind it, and enforces CSRF on every method but GET/HEAD.
func (c *Console) authed(h handler, jsonOut bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		x := &call{w: w, r: r}
		var ok bool
		if ck, err := r.Cookie(sessionCookie); err == nil {
			x.sid = ck.Value
			x.s, ok = c.sessions.get(x.sid, !jsonOut)
		}
		if ok {
			ok = c.recheck(x)
		}
		if !ok {
			if jsonOut || r.Method != http.MethodGet {
				c.writeError(x, jsonOut, simguard.Errorf(simguard.EUNAUTHORIZED, "your console session has ended; log in again"))
				return
			}
			next := url.Values{"next": {r.URL.RequestURI()}}
			http.Redirect(w, r, basePath+"login?"+next.Encode(), http.StatusSeeOther)
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			if err := c.checkCSRF(x); err != nil {
				c.metrics.csrfRejected.Inc()
				c.log.Warn("console request refused: CSRF check failed", "method", r.Method, "path", r.URL.Path,
					"actor", x.s.actor.Name, "remote", r.RemoteAddr, "why", err.Error())
				c.writeError(x, jsonOut, err)
				return
			}
		}
		x.ctx = simguard.WithActor(r.Context(), x.s.actor)
		if err := h(x); err != nil {
			c.writeError(x, jsonOut, err)
		}
	})
}

// recheck confirms that the session's token still exists (it may have
// been revoked) and refreshes the actor from it.
func (c *Console) recheck(x *call) bool {
	tok, err := c.svc.Store().TokenBySecretHash(x.r.Context(), x.s.tokenHash)
	if err != nil {
		if simguard.ErrorCode(err) == simguard.ENOTFOUND {
			c.log.Info("console session ended: its token was revoked", "actor", x.s.actor.Name)
		} else {
			c.log.Error("console: re-checking a session's token failed", "err", err)
		}
		c.sessions.delete(x.sid)
		return false
	}
	x.s.actor = simguard.TokenActor(tok)
	return true
}

var errCSRF = simguard.Errorf(simguard.EFORBIDDEN, "the form has expired or did not come from this console; reload the page and try again")

// checkCSRF compares the request's synchronizer token with the session's
// and refuses requests whose Origin is another site.
func (c *Console) checkCSRF(x *call) error {
	if o := x.r.Header.Get("Origin"); o != "" && o != "null" {
		u, err := url.Parse(o)
		if err != nil || !strings.EqualFold(u.Host, x.r.Host) {
			return errCSRF
		}
	}
	got := x.r.Header.Get(csrfHeader)
	if got == "" {
		if strings.HasPrefix(x.r.Header.Get("Content-Type"), "multipart/form-data") {
			x.r.Body = http.MaxBytesReader(x.w, x.r.Body, c.cfg.MaxImportBytes)
			if err := x.r.ParseMultipartForm(1 << 20); err != nil {
				var mbe *http.MaxBytesError
				if errors.As(err, &mbe) {
					return simguard.Errorf(simguard.EINVALID, "the upload is larger than %d MiB; split the file", c.cfg.MaxImportBytes>>20)
				}
				return simguard.Errorf(simguard.EINVALID, "the upload could not be read: %v", err)
			}
		} else {
			x.r.Body = http.MaxBytesReader(x.w, x.r.Body, 4<<20)
		}
		got = x.r.PostFormValue(csrfField)
	}
	if !sameToken(got, x.s.csrf) {
		return errCSRF
	}
	return nil
}

// cookie makes the session cookie: host-only, HttpOnly, SameSite=Strict,
// scoped to the console, Secure when the request came over TLS (or the
// operator says a proxy terminates TLS).
func (c *Console) cookie(r *http.Request, name, value, path string, maxAge int) *http.Cookie {
	return &http.Cookie{
		Name: name, Value: value, Path: path, MaxAge: maxAge,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil || c.cfg.SecureCookie,
	}
}

// redirect answers a form POST with 303 See Other, leaving a flash
// message for the next page.
func (c *Console) redirect(x *call, to, flash string, bad bool) error {
	if flash != "" {
		c.sessions.update(x.sid, func(s *session) { s.flash, s.flashBad = flash, bad })
	}
	http.Redirect(x.w, x.r, to, http.StatusSeeOther)
	return nil
}
