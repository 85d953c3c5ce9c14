package notify

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/simguard/simguard"
)

// SignatureHeader carries "sha256=" and the hex HMAC-SHA256 of the body.
const SignatureHeader = "X-Simguard-Signature"

// WebhookConfig is one webhook receiver.
type WebhookConfig struct {
	// Name identifies the webhook in metrics, logs and dead letters.
	Name string
	// URL is where notices are POSTed (http or https).
	URL string
	// Secret signs every body; at least 16 characters.
	Secret string
	Filter Filter
	// Timeout bounds one attempt. Default 10s.
	Timeout time.Duration
	// MaxAttempts is how often a notice is tried before it becomes a dead
	// letter. Default 6.
	MaxAttempts int
	// Backoff is the wait before the first retry; it doubles with every
	// retry up to MaxBackoff. Defaults 1s and 5m.
	Backoff    time.Duration
	MaxBackoff time.Duration
	// QueueSize bounds notices waiting for delivery; beyond it a notice
	// goes straight to the dead letters. Default 1,000.
	QueueSize int
}

func (c *WebhookConfig) setDefaults() error {
	if !validName(c.Name) {
		return simguard.FieldError("webhook.name", "must be 1-63 of a-z, A-Z, 0-9, '-', '_', '.', got %q", c.Name)
	}
	u, err := url.Parse(c.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return simguard.FieldError("webhook.url", "must be an http:// or https:// URL, got %q", c.URL)
	}
	if len(c.Secret) < 16 {
		return simguard.FieldError("webhook.secret", "must be at least 16 characters (a random string shared with the receiver)")
	}
	if err := c.Filter.validate("webhook"); err != nil {
		return err
	}
	if c.Timeout < 0 || c.MaxAttempts < 0 || c.Backoff < 0 || c.MaxBackoff < 0 || c.QueueSize < 0 {
		return simguard.FieldError("webhook", "timeout, max_attempts, backoff, max_backoff and queue_size must not be negative")
	}
	if c.Timeout == 0 {
		c.Timeout = 10 * time.Second
	}
	if c.MaxAttempts == 0 {
		c.MaxAttempts = 6
	}
	if c.Backoff == 0 {
		c.Backoff = time.Second
	}
	if c.MaxBackoff == 0 {
		c.MaxBackoff = 5 * time.Minute
	}
	if c.QueueSize == 0 {
		c.QueueSize = 1000
	}
	return nil
}

// WebhookDeps are what a Webhook works with.
type WebhookDeps struct {
	// DeadLetters keeps deliveries that failed every attempt; without it
	// they are only logged.
	DeadLetters simguard.DeadLetterStore
	Client      *http.Client
	Logger      *slog.Logger
	Clock       func() time.Time
	Registerer  prometheus.Registerer
}

// Webhook delivers notices to one receiver.
type Webhook struct {
	cfg        WebhookConfig
	dead       simguard.DeadLetterStore
	client     *http.Client
	log        *slog.Logger
	clock      func() time.Time
	queue      chan delivery
	deliveries *prometheus.CounterVec
	sink       string
}

type delivery struct {
	body     []byte
	attempts int
	next     time.Time
	lastErr  string
}

// NewWebhook makes a Webhook; Run delivers.
func NewWebhook(cfg WebhookConfig, deps WebhookDeps) (*Webhook, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	if deps.Client == nil {
		deps.Client = &http.Client{}
	}
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.DiscardHandler)
	}
	if deps.Clock == nil {
		deps.Clock = time.Now
	}
	if deps.Registerer == nil {
		deps.Registerer = prometheus.NewRegistry()
	}
	d, err := deliveriesVec(deps.Registerer)
	if err != nil {
		return nil, fmt.Errorf("notify: metrics: %w", err)
	}
	return &Webhook{
		cfg: cfg, dead: deps.DeadLetters, client: deps.Client, log: deps.Logger, clock: deps.Clock,
		queue: make(chan delivery, cfg.QueueSize), deliveries: d, sink: "webhook:" + cfg.Name,
	}, nil
}

// webhookBody is what a receiver gets.
type webhookBody struct {
	// ID is the same for every attempt and replay of one notice.
	ID      string                   `json:"id"`
	Webhook string                   `json:"webhook"`
	Kind    simguard.AlertNoticeKind `json:"kind"`
	Time    time.Time                `json:"time"`
	Alert   simguard.Alert           `json:"alert"`
}

// Body encodes a notice as the webhook sends it.
func (w *Webhook) Body(n simguard.AlertNotice) ([]byte, error) {
	id := sha256.Sum256([]byte(fmt.Sprintf("%s\x00%s\x00%d\x00%d", w.cfg.Name, n.Kind, n.Alert.ID, n.Time.UnixNano())))
	return json.Marshal(webhookBody{ID: hex.EncodeToString(id[:12]), Webhook: w.cfg.Name, Kind: n.Kind, Time: n.Time, Alert: n.Alert})
}

// Sign returns the signature header value of body under secret.
func Sign(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// Verify checks a signature header value in constant time; receivers in Go
// can use it.
func Verify(secret string, body []byte, header string) bool {
	return hmac.Equal([]byte(Sign(secret, body)), []byte(header))
}

// Notify queues n for delivery. When the queue is full the notice is
// written to the dead letters at once, so that nothing is lost silently.
func (w *Webhook) Notify(ctx context.Context, n simguard.AlertNotice) error {
	if !w.cfg.Filter.Match(n) {
		return nil
	}
	body, err := w.Body(n)
	if err != nil {
		return fmt.Errorf("webhook %s: encode: %w", w.cfg.Name, err)
	}
	select {
	case w.queue <- delivery{body: body}:
		return nil
	default:
	}
	return w.bury(ctx, delivery{body: body, lastErr: "delivery queue full"})
}

// errPermanent marks answers that a retry cannot fix.
var errPermanent = errors.New("permanent")

// send makes one attempt.
func (w *Webhook) send(ctx context.Context, body []byte) error {
	ctx, cancel := context.WithTimeout(ctx, w.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.cfg.URL, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("%w: %v", errPermanent, err)
	}
	var b webhookBody
	_ = json.Unmarshal(body, &b)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "simguard-webhook/1")
	req.Header.Set(SignatureHeader, Sign(w.cfg.Secret, body))
	req.Header.Set("X-Simguard-Delivery", b.ID)
	req.Header.Set("X-Simguard-Event", "alert."+string(b.Kind))
	resp, err := w.client.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return nil
	case resp.StatusCode == http.StatusRequestTimeout || resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		return fmt.Errorf("receiver answered %s", resp.Status)
	}
	return fmt.Errorf("%w: receiver answered %s", errPermanent, resp.Status)
}

func (w *Webhook) backoff(attempts int) time.Duration {
	d := w.cfg.Backoff
	for i := 1; i < attempts && d < w.cfg.MaxBackoff; i++ {
		d *= 2
	}
	return min(d, w.cfg.MaxBackoff)
}

// Run delivers queued notices, one at a time in order of due time, until
// ctx is done. Deliveries still waiting then become dead letters (with
// the error "not delivered before shutdown") so that a replay sends them.
func (w *Webhook) Run(ctx context.Context) error {
	var pending []delivery // small: the queue bounds it
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		// Deliver what is due.
		now := time.Now()
		for i := 0; i < len(pending); {
			if pending[i].next.After(now) {
				i++
				continue
			}
			d := pending[i]
			pending = append(pending[:i], pending[i+1:]...)
			if done := w.attempt(ctx, &d); !done {
				pending = append(pending, d)
			}
			if ctx.Err() != nil {
				break
			}
			now = time.Now()
			i = 0
		}
		if ctx.Err() != nil {
			w.shutdown(pending)
			return nil
		}
		wait := time.Hour
		for _, d := range pending {
			wait = min(wait, time.Until(d.next))
		}
		timer.Reset(max(wait, 0))
		select {
		case <-ctx.Done():
		case d := <-w.queue:
			pending = append(pending, d)
		case <-timer.C:
		}
	}
}

// attempt tries d once; it reports whether d is finished (delivered or
// buried).
func (w *Webhook) attempt(ctx context.Context, d *delivery) bool {
	d.attempts++
	err := w.send(ctx, d.body)
	if err == nil {
		w.deliveries.WithLabelValues(w.sink, "delivered").Inc()
		return true
	}
	if ctx.Err() != nil {
		d.attempts-- // the shutdown cut it short; it was not the receiver's fault
		return false
	}
	d.lastErr = err.Error()
	if errors.Is(err, errPermanent) || d.attempts >= w.cfg.MaxAttempts {
		bctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := w.bury(bctx, *d); err != nil {
			w.log.Error("notify: dead letter lost", "webhook", w.cfg.Name, "err", err)
		}
		return true
	}
	w.deliveries.WithLabelValues(w.sink, "retry").Inc()
	d.next = time.Now().Add(w.backoff(d.attempts))
	w.log.Warn("notify: webhook delivery failed; retrying", "webhook", w.cfg.Name, "attempt", d.attempts, "in", w.backoff(d.attempts), "err", err)
	return false
}

func validName(s string) bool {
	return simguard.ValidateName(s) == nil
}
