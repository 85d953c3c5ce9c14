//go:build unix

package console

import (
	"net/http"
	"net/http/httptest"
	"syscall"
	"testing"
	"time"

	"github.com/simguard/simguard"
	"github.com/simguard/simguard/control"
	"github.com/simguard/simguard/demo"
)

// BenchmarkPages measures what one page view costs the server, store
// queries included, with 2,000 decisions in the last hour. The overview's
// short cache is defeated (a real clock and a 2 ns refresh), so the
// overview figures are its full cost; with the cache, viewers of one
// tenant share one computation per half refresh period.
func BenchmarkPages(b *testing.B) {
	e := newEnv(b, func(c *Config) { c.Now = time.Now; c.Refresh = 2 })
	now := time.Now()
	var evs []simguard.Event
	for i := range 2000 {
		ev := deny(e.sim(i%30).ID, simguard.ReasonDestinationDenied, "198.18.0.66")
		if i%3 == 0 {
			ev.Decision, ev.Reason, ev.Attrs = "allow", simguard.ReasonAllowed, nil
		}
		ev.Time = now.Add(-time.Duration(i) * time.Second)
		ev.TenantID = simguard.ProviderTenantID
		evs = append(evs, ev)
	}
	if err := e.db.AppendEvents(b.Context(), evs); err != nil {
		b.Fatal(err)
	}
	sid, _, err := e.con.sessions.create(hashOf(e.admin), simguard.Actor{})
	if err != nil {
		b.Fatal(err)
	}
	mux := http.NewServeMux()
	e.con.Mount(mux)
	for _, p := range []string{"/console/api/overview", "/console/", "/console/sims", "/console/sims/" + demo.ICCID(1),
		"/console/groups/smart-meters", "/console/events", "/console/audit"} {
		b.Run(p, func(b *testing.B) {
			cpu := cpuTime()
			for b.Loop() {
				req := httptest.NewRequest(http.MethodGet, p, nil)
				req.AddCookie(&http.Cookie{Name: sessionCookie, Value: sid})
				w := httptest.NewRecorder()
				mux.ServeHTTP(w, req)
				if w.Code != http.StatusOK {
					b.Fatalf("%s: %d", p, w.Code)
				}
			}
			b.ReportMetric(float64((cpuTime()-cpu).Microseconds())/1000/float64(b.N), "cpu-ms/op")
		})
	}
}

func hashOf(secret string) string { return control.HashSecret(secret) }

// cpuTime is the process's user and system CPU time: on a shared machine
// it measures this process, where wall time measures the neighbours too.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
