package http

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/simguard/simguard"
)

// WebhookService is what the webhook routes use: the dead letters kept in
// the store, and the configured webhooks to send them again.
type WebhookService interface {
	DeadLetters(ctx context.Context, webhook string, limit int) ([]simguard.DeadLetter, error)
	// ReplayDeadLetters sends the webhook's dead letters again and says
	// how many were delivered; ENOTFOUND for a webhook not configured.
	ReplayDeadLetters(ctx context.Context, webhook string) (int, error)
}

// HandleWebhooks adds the dead-letter routes. Webhooks are configured for
// the whole installation, so only the provider's admins use them.
func (s *Server) HandleWebhooks(ws WebhookService) {
	admin := func(fn func(http.ResponseWriter, *http.Request)) http.Handler {
		return s.authenticate(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if a, ok := simguard.ActorFrom(r.Context()); !ok || !a.Provider {
				s.writeError(w, r, simguard.Errorf(simguard.EFORBIDDEN, "webhooks belong to the installation: use a provider admin token"))
				return
			}
			fn(w, r)
		}))
	}
	s.mux.Handle("GET /api/v1/webhooks/dead-letters", admin(func(w http.ResponseWriter, r *http.Request) {
		limit, err := queryInt(r, "limit")
		if err != nil || limit < 0 || limit > 10000 {
			s.writeError(w, r, simguard.FieldError("limit", "must be 1 to 10000"))
			return
		}
		list, err := ws.DeadLetters(r.Context(), r.URL.Query().Get("webhook"), int(limit))
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		type view struct {
			ID        int64           `json:"id"`
			Webhook   string          `json:"webhook"`
			Body      json.RawMessage `json:"body"`
			Attempts  int             `json:"attempts"`
			LastError string          `json:"last_error"`
			CreatedAt time.Time       `json:"created_at"`
		}
		items := make([]view, 0, len(list))
		for _, d := range list {
			body := json.RawMessage(d.Body)
			if !json.Valid(body) {
				body, _ = json.Marshal(string(d.Body))
			}
			items = append(items, view{d.ID, d.Webhook, body, d.Attempts, d.LastError, d.CreatedAt})
		}
		writeJSON(w, http.StatusOK, map[string]any{"items": items})
	}))
	s.mux.Handle("POST /api/v1/webhooks/{name}/replay", admin(func(w http.ResponseWriter, r *http.Request) {
		n, err := ws.ReplayDeadLetters(r.Context(), r.PathValue("name"))
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]int{"delivered": n})
	}))
}
