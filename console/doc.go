// Package console is simguard's web console: server-rendered pages
// (html/template) over the control service, for operators and auditors
// who do not live in a terminal.
//
// It calls control.Service in-process with the actor of the browser's
// session, so every page is subject to the same role checks and tenant
// scoping as the REST API. Everything it serves is embedded in the
// binary (templates, CSS, a little dependency-free JavaScript that polls
// for live data and draws the charts as SVG); it loads nothing from any
// other origin and works offline.
//
// Security model, in short: a user logs in with an API token, posted in a
// form body, never in a URL. The console keeps a server-side session (a
// random ID in an HttpOnly, SameSite=Strict cookie, Secure on TLS) that
// refers to the token by its hash and is re-checked on every request, so a
// revoked token ends its sessions. Every state-changing request carries a
// per-session synchronizer token (CSRF). Pages send a strict Content
// Security Policy (no inline scripts or styles, frame-ancestors 'none').
// Read-only roles see no controls that change anything, and the control
// service refuses such changes anyway.
//
// Live sessions (RADIUS) and alerts (detection) are optional sources
// (SessionSource, AlertSource); their panels hide themselves until a
// source is wired. The exposure pages read the fleet auditor's scans and
// findings from the control service; Config.Scan, set when the auditor
// runs, adds the start-a-scan form.
package console
