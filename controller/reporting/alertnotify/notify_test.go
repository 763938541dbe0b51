package alertnotify

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ipcclab/ipcclab/controller/reporting/alerts"
)

// logBuf is a goroutine-safe log sink.
type logBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

var at = time.Date(2026, 1, 5, 10, 30, 0, 0, time.UTC)

func change(subject string) alerts.Change {
	return alerts.Change{Action: alerts.Raise, At: at, Severity: alerts.Critical, Kind: alerts.KindServiceLevelHalf,
		Subject: subject, Value: 0.5, Threshold: 0.6, Since: at.Add(-10 * time.Minute), Peak: 0.45}
}

func newNotifier(t *testing.T, cfg Config) (*Notifier, *logBuf) {
	t.Helper()
	lb := &logBuf{}
	cfg.Logger = slog.New(slog.NewTextHandler(lb, nil))
	n, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return n, lb
}

func TestWebhookOK(t *testing.T) {
	var mu sync.Mutex
	var got []Payload
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("%s with %q", r.Method, r.Header.Get("Content-Type"))
		}
		var p Payload
		if err := json.NewDecoder(r.Body).Decode(&p); err != nil {
			t.Error(err)
		}
		mu.Lock()
		got = append(got, p)
		mu.Unlock()
	}))
	defer srv.Close()
	n, lb := newNotifier(t, Config{Webhook: srv.URL, Source: "default"})
	n.Notify([]alerts.Change{change("all"), change("Sales")})
	n.Close(context.Background())
	if s := n.Stats(); s != (Stats{Delivered: 2}) {
		t.Fatalf("stats %+v", s)
	}
	if len(got) != 2 || got[0].Source != "default" || got[0].Change != change("all") || got[1].Subject != "Sales" {
		t.Fatalf("payloads %+v", got)
	}
	if l := lb.String(); strings.Count(l, "alert raise") != 2 || !strings.Contains(l, "subject=Sales") {
		t.Fatalf("log:\n%s", l)
	}
}

func TestWebhookFailingRetriesThenDrops(t *testing.T) {
	var mu sync.Mutex
	tries := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		tries++
		mu.Unlock()
		http.Error(w, "no", http.StatusInternalServerError)
	}))
	defer srv.Close()
	n, lb := newNotifier(t, Config{Webhook: srv.URL, Retries: 2, Backoff: time.Millisecond})
	n.Notify([]alerts.Change{change("all")})
	n.Close(context.Background())
	if s := n.Stats(); s != (Stats{Dropped: 1, Retried: 2}) || tries != 3 {
		t.Fatalf("stats %+v, %d tries", s, tries)
	}
	if l := lb.String(); !strings.Contains(l, "3 tries failed") || !strings.Contains(l, "500") || !strings.Contains(l, "dropped_total=1") {
		t.Fatalf("log:\n%s", l)
	}
}

func TestWebhookRecoversOnRetry(t *testing.T) {
	var mu sync.Mutex
	tries := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if tries++; tries == 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	defer srv.Close()
	n, _ := newNotifier(t, Config{Webhook: srv.URL, Backoff: time.Millisecond})
	n.Notify([]alerts.Change{change("all")})
	n.Close(context.Background())
	if s := n.Stats(); s != (Stats{Delivered: 1, Retried: 1}) {
		t.Fatalf("stats %+v", s)
	}
}

func TestWebhookDown(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close() // nothing listens there any more
	n, lb := newNotifier(t, Config{Webhook: url, Retries: 1, Backoff: time.Millisecond})
	n.Notify([]alerts.Change{change("all"), change("Sales")})
	n.Close(context.Background())
	if s := n.Stats(); s.Dropped != 2 || s.Delivered != 0 {
		t.Fatalf("stats %+v", s)
	}
	if l := lb.String(); !strings.Contains(l, "alert not delivered") {
		t.Fatalf("log:\n%s", l)
	}
}

// A receiver that does not answer: Notify still returns at once (the test
// would hang otherwise), the queue overflows into counted drops, each POST
// times out, and Close with a done context drops what is left.
func TestWebhookSlowNeverBlocks(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	n, lb := newNotifier(t, Config{Webhook: srv.URL, Queue: 2, Timeout: 20 * time.Millisecond, Retries: 1, Backoff: time.Millisecond})
	var batch []alerts.Change
	for i := range 20 {
		batch = append(batch, change(string(rune('A'+i))))
	}
	n.Notify(batch)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	n.Close(ctx)
	s := n.Stats()
	if s.Delivered != 0 || s.Dropped != 20 {
		t.Fatalf("stats %+v", s)
	}
	if !strings.Contains(lb.String(), "queue full") {
		t.Fatalf("log:\n%s", lb.String())
	}
	// After Close, changes are logged and dropped, not queued.
	n.Notify([]alerts.Change{change("late")})
	if n.Stats().Dropped != 21 {
		t.Fatalf("stats after close %+v", n.Stats())
	}
}

func TestLogOnly(t *testing.T) {
	n, lb := newNotifier(t, Config{})
	c := change("all")
	c.Action = alerts.Clear
	n.Notify([]alerts.Change{c})
	n.Close(context.Background())
	if s := n.Stats(); s != (Stats{}) {
		t.Fatalf("stats %+v", s)
	}
	if l := lb.String(); !strings.Contains(l, "level=INFO msg=\"alert clear\"") {
		t.Fatalf("log:\n%s", l)
	}
}

func TestBadConfig(t *testing.T) {
	for _, tc := range []struct {
		cfg  Config
		want string
	}{
		{Config{Webhook: "ftp://example.com/x"}, "webhook"},
		{Config{Webhook: "http://"}, "webhook"},
		{Config{Webhook: "::"}, "webhook"},
		{Config{Queue: -1}, "queue"},
		{Config{Timeout: -1}, "timeout"},
		{Config{Retries: -1}, "retries"},
		{Config{Backoff: -1}, "backoff"},
	} {
		tc.cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
		if _, err := New(tc.cfg); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: got %v, want an error naming %s", tc.cfg, err, tc.want)
		}
	}
}
