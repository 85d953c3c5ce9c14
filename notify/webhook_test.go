package notify

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/simguard/simguard"
)

const secret = "0123456789abcdef-test-secret"

// receiver is a webhook endpoint on loopback that answers with the
// statuses it is given, in order (then 200), and keeps what it got.
type receiver struct {
	srv      *httptest.Server
	mu       sync.Mutex
	statuses []int
	got      []http.Header
	bodies   [][]byte
}

func newReceiver(t *testing.T, statuses ...int) *receiver {
	r := &receiver{statuses: statuses}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		defer r.mu.Unlock()
		r.got = append(r.got, req.Header.Clone())
		r.bodies = append(r.bodies, body)
		code := http.StatusOK
		if len(r.statuses) > 0 {
			code, r.statuses = r.statuses[0], r.statuses[1:]
		}
		w.WriteHeader(code)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.bodies)
}

type webhookHarness struct {
	w      *Webhook
	dead   *memDead
	reg    *prometheus.Registry
	cancel context.CancelFunc
	done   chan struct{}
}

func startWebhook(t *testing.T, cfg WebhookConfig) *webhookHarness {
	t.Helper()
	h := &webhookHarness{dead: &memDead{}, reg: prometheus.NewRegistry(), done: make(chan struct{})}
	if cfg.Name == "" {
		cfg.Name = "ops"
	}
	if cfg.Secret == "" {
		cfg.Secret = secret
	}
	if cfg.Backoff == 0 {
		cfg.Backoff = 5 * time.Millisecond
	}
	w, err := NewWebhook(cfg, WebhookDeps{DeadLetters: h.dead, Registerer: h.reg, Clock: func() time.Time { return t0 }})
	if err != nil {
		t.Fatal(err)
	}
	h.w = w
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	go func() { defer close(h.done); _ = w.Run(ctx) }()
	t.Cleanup(h.stop)
	return h
}

func (h *webhookHarness) stop() {
	h.cancel()
	<-h.done
}

func TestWebhookBodyGolden(t *testing.T) {
	w, err := NewWebhook(WebhookConfig{Name: "ops", URL: "http://127.0.0.1:1/x", Secret: secret}, WebhookDeps{})
	if err != nil {
		t.Fatal(err)
	}
	body, err := w.Body(notice(simguard.NoticeOpened, simguard.SeverityHigh))
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "webhook_body.json", append(body, '\n'))
	golden(t, "webhook_signature.txt", []byte(Sign(secret, body)+"\n"))
}

func TestWebhookDeliversSigned(t *testing.T) {
	r := newReceiver(t)
	h := startWebhook(t, WebhookConfig{URL: r.srv.URL + "/hook"})
	n := notice(simguard.NoticeOpened, simguard.SeverityHigh)
	if err := h.w.Notify(context.Background(), n); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the delivery", func() bool { return r.count() == 1 })
	r.mu.Lock()
	hdr, body := r.got[0], r.bodies[0]
	r.mu.Unlock()
	sig := hdr.Get(SignatureHeader)
	if !Verify(secret, body, sig) || !strings.HasPrefix(sig, "sha256=") {
		t.Errorf("signature %q does not verify", sig)
	}
	if Verify("another-secret-0123456", body, sig) {
		t.Error("the signature verifies under another secret")
	}
	var got struct {
		ID    string
		Kind  string
		Alert simguard.Alert
	}
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatal(err)
	}
	if got.Kind != "opened" || got.Alert.ID != 7 || got.Alert.Key != "sim=42" || len(got.Alert.Events) != 1 ||
		hdr.Get("X-Simguard-Delivery") != got.ID || hdr.Get("X-Simguard-Event") != "alert.opened" || hdr.Get("Content-Type") != "application/json" {
		t.Errorf("body %+v headers %v", got, hdr)
	}
	// The receiver answers before the sender counts the delivery.
	eventually(t, "the delivered metric", func() bool {
		return testutil.ToFloat64(h.w.deliveries.WithLabelValues("webhook:ops", "delivered")) == 1
	})
}

func TestWebhookRetries(t *testing.T) {
	cases := []struct {
		name      string
		statuses  []int
		attempts  int
		requests  int
		dead      int
		lastError string
	}{
		{"recovers after 5xx and 429", []int{500, 429, 503}, 6, 4, 0, ""},
		{"gives up after max attempts", []int{500, 502, 503, 504}, 3, 3, 1, "receiver answered 503 Service Unavailable"},
		{"4xx is permanent", []int{400}, 6, 1, 1, "permanent: receiver answered 400 Bad Request"},
		{"408 is retried", []int{408}, 6, 2, 0, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := newReceiver(t, c.statuses...)
			h := startWebhook(t, WebhookConfig{URL: r.srv.URL, MaxAttempts: c.attempts})
			if err := h.w.Notify(context.Background(), notice(simguard.NoticeOpened, simguard.SeverityHigh)); err != nil {
				t.Fatal(err)
			}
			eventually(t, "the requests", func() bool { return r.count() == c.requests && len(h.dead.list()) == c.dead })
			h.stop()
			if r.count() != c.requests {
				t.Errorf("%d requests, want %d", r.count(), c.requests)
			}
			r.mu.Lock()
			for i := 1; i < len(r.bodies); i++ {
				if string(r.bodies[i]) != string(r.bodies[0]) {
					t.Error("a retry sent another body")
				}
			}
			r.mu.Unlock()
			if dl := h.dead.list(); len(dl) != c.dead || c.dead == 1 && (dl[0].LastError != c.lastError || dl[0].Webhook != "ops" || !dl[0].CreatedAt.Equal(t0)) {
				t.Errorf("dead letters %+v", dl)
			}
		})
	}
}

func TestWebhookBackoff(t *testing.T) {
	w, err := NewWebhook(WebhookConfig{Name: "x", URL: "http://127.0.0.1:1", Secret: secret, Backoff: time.Second, MaxBackoff: 10 * time.Second}, WebhookDeps{})
	if err != nil {
		t.Fatal(err)
	}
	want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 10 * time.Second, 10 * time.Second}
	for i, d := range want {
		if got := w.backoff(i + 1); got != d {
			t.Errorf("backoff after attempt %d: %v, want %v", i+1, got, d)
		}
	}
}

func TestWebhookDeadLetterReplay(t *testing.T) {
	r := newReceiver(t, 500, 500)
	h := startWebhook(t, WebhookConfig{URL: r.srv.URL, MaxAttempts: 1})
	_ = h.w.Notify(context.Background(), notice(simguard.NoticeOpened, simguard.SeverityHigh))
	_ = h.w.Notify(context.Background(), notice(simguard.NoticeResolved, simguard.SeverityHigh))
	eventually(t, "two dead letters", func() bool { return len(h.dead.list()) == 2 })
	first := string(h.dead.list()[0].Body)

	n, err := h.w.ReplayDeadLetters(context.Background())
	if err != nil || n != 2 {
		t.Fatalf("replayed %d: %v", n, err)
	}
	if len(h.dead.list()) != 0 {
		t.Error("replayed dead letters are still stored")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.bodies) != 4 || string(r.bodies[2]) != first || !Verify(secret, r.bodies[2], r.got[2].Get(SignatureHeader)) {
		t.Errorf("replay did not resend the same signed body")
	}
}

func TestWebhookReplayStopsWhileReceiverDown(t *testing.T) {
	r := newReceiver(t, 500, 500, 500)
	h := startWebhook(t, WebhookConfig{URL: r.srv.URL, MaxAttempts: 1})
	_ = h.w.Notify(context.Background(), notice(simguard.NoticeOpened, simguard.SeverityHigh))
	_ = h.w.Notify(context.Background(), notice(simguard.NoticeResolved, simguard.SeverityHigh))
	eventually(t, "two dead letters", func() bool { return len(h.dead.list()) == 2 })
	n, err := h.w.ReplayDeadLetters(context.Background())
	if err == nil || n != 0 || len(h.dead.list()) != 2 {
		t.Errorf("replay against a failing receiver: %d, %v, %d left", n, err, len(h.dead.list()))
	}
}

func TestWebhookShutdownKeepsPending(t *testing.T) {
	r := newReceiver(t, 500, 500, 500, 500, 500)
	h := startWebhook(t, WebhookConfig{URL: r.srv.URL, Backoff: time.Hour})
	_ = h.w.Notify(context.Background(), notice(simguard.NoticeOpened, simguard.SeverityHigh))
	eventually(t, "the first attempt", func() bool { return r.count() == 1 })
	h.stop()
	dl := h.dead.list()
	if len(dl) != 1 || dl[0].Attempts != 1 || !strings.Contains(dl[0].LastError, "500") {
		t.Errorf("dead letters after shutdown %+v", dl)
	}
}

func TestWebhookQueueFullGoesToDeadLetters(t *testing.T) {
	dead := &memDead{}
	w, err := NewWebhook(WebhookConfig{Name: "q", URL: "http://127.0.0.1:1", Secret: secret, QueueSize: 1}, WebhookDeps{DeadLetters: dead})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	_ = w.Notify(ctx, notice(simguard.NoticeOpened, simguard.SeverityHigh))
	if err := w.Notify(ctx, notice(simguard.NoticeResolved, simguard.SeverityHigh)); err != nil {
		t.Fatal(err)
	}
	if dl := dead.list(); len(dl) != 1 || dl[0].LastError != "delivery queue full" {
		t.Errorf("dead letters %+v", dl)
	}
}

func TestWebhookFilter(t *testing.T) {
	r := newReceiver(t)
	h := startWebhook(t, WebhookConfig{URL: r.srv.URL, Filter: Filter{Kinds: []simguard.AlertNoticeKind{simguard.NoticeOpened}, MinSeverity: simguard.SeverityHigh}})
	ctx := context.Background()
	_ = h.w.Notify(ctx, notice(simguard.NoticeOpened, simguard.SeverityLow))
	_ = h.w.Notify(ctx, notice(simguard.NoticeResolved, simguard.SeverityCritical))
	_ = h.w.Notify(ctx, notice(simguard.NoticeOpened, simguard.SeverityCritical))
	eventually(t, "one delivery", func() bool { return r.count() == 1 })
	h.stop()
	if r.count() != 1 {
		t.Errorf("%d deliveries, want only the critical opened one", r.count())
	}
}

func TestWebhookConfigErrors(t *testing.T) {
	cases := []struct {
		name string
		cfg  WebhookConfig
		want string
	}{
		{"name", WebhookConfig{Name: "a b", URL: "http://x", Secret: secret}, "webhook.name"},
		{"url", WebhookConfig{Name: "a", URL: "ftp://x", Secret: secret}, "webhook.url: must be an http:// or https:// URL"},
		{"secret", WebhookConfig{Name: "a", URL: "https://x", Secret: "short"}, "webhook.secret: must be at least 16 characters"},
		{"kind", WebhookConfig{Name: "a", URL: "https://x", Secret: secret, Filter: Filter{Kinds: []simguard.AlertNoticeKind{"closed"}}}, "webhook.kinds[0]"},
		{"severity", WebhookConfig{Name: "a", URL: "https://x", Secret: secret, Filter: Filter{MinSeverity: "huge"}}, "webhook.min_severity"},
		{"negative", WebhookConfig{Name: "a", URL: "https://x", Secret: secret, MaxAttempts: -1}, "must not be negative"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := NewWebhook(c.cfg, WebhookDeps{})
			if err == nil || !strings.Contains(err.Error(), c.want) || simguard.ErrorCode(err) != simguard.EINVALID {
				t.Errorf("error %v, want %q", err, c.want)
			}
		})
	}
}
