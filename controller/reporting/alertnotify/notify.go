// Package alertnotify tells people about alert changes (package alerts):
// every change is logged with log/slog, and posted as JSON to a webhook
// URL when one is configured. Posting happens on a goroutine of its own
// behind a bounded queue, so the caller — the centre's loop — never waits
// for a slow or dead receiver: when the queue is full, or a change could
// not be delivered after its retries, the change is dropped, counted and
// warned about.
package alertnotify

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ipcclab/ipcclab/controller/reporting/alerts"
)

// Defaults of Config.
const (
	DefaultQueue   = 256
	DefaultTimeout = 5 * time.Second
	DefaultRetries = 3
	DefaultBackoff = 500 * time.Millisecond
)

// Config configures a Notifier. Zero values take the defaults.
type Config struct {
	// Webhook is the URL changes are POSTed to (http or https); empty:
	// log only.
	Webhook string
	// Logger receives one line per change and the delivery warnings
	// (nil: slog.Default()).
	Logger *slog.Logger
	// Queue is how many changes may wait for delivery.
	Queue int
	// Timeout bounds one POST.
	Timeout time.Duration
	// Retries is how many times a failed POST is tried again, waiting
	// Backoff, then twice as long each time.
	Retries int
	Backoff time.Duration
	// Client sends the POSTs (nil: a client of its own).
	Client *http.Client
	// Source names the sender in the payload (e.g. the scenario).
	Source string
}

// Payload is the JSON body of one POST: one change.
type Payload struct {
	Source string `json:"source,omitempty"`
	alerts.Change
}

// Stats counts the webhook deliveries.
type Stats struct {
	Delivered uint64 `json:"delivered"`
	// Dropped: the queue was full, or every try failed, or the notifier
	// closed before the change was sent.
	Dropped uint64 `json:"dropped"`
	// Retried counts failed tries that were tried again.
	Retried uint64 `json:"retried"`
}

// Notifier logs alert changes and posts them to the webhook.
type Notifier struct {
	cfg    Config
	log    *slog.Logger
	queue  chan alerts.Change
	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}
	closed atomic.Bool
	mu     sync.Mutex // serialises Notify's send against Close's close

	delivered, dropped, retried atomic.Uint64
}

// New validates cfg and, with a webhook, starts the delivery goroutine;
// Close stops it.
func New(cfg Config) (*Notifier, error) {
	if cfg.Webhook != "" {
		u, err := url.Parse(cfg.Webhook)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("alertnotify: webhook: must be an http or https URL with a host, got %q", cfg.Webhook)
		}
	}
	switch {
	case cfg.Queue < 0:
		return nil, fmt.Errorf("alertnotify: queue: must not be negative, got %d", cfg.Queue)
	case cfg.Timeout < 0:
		return nil, fmt.Errorf("alertnotify: timeout: must not be negative, got %v", cfg.Timeout)
	case cfg.Retries < 0:
		return nil, fmt.Errorf("alertnotify: retries: must not be negative, got %d", cfg.Retries)
	case cfg.Backoff < 0:
		return nil, fmt.Errorf("alertnotify: backoff: must not be negative, got %v", cfg.Backoff)
	}
	if cfg.Queue == 0 {
		cfg.Queue = DefaultQueue
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.Retries == 0 {
		cfg.Retries = DefaultRetries
	}
	if cfg.Backoff == 0 {
		cfg.Backoff = DefaultBackoff
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{}
	}
	n := &Notifier{cfg: cfg, log: cfg.Logger, done: make(chan struct{})}
	if n.log == nil {
		n.log = slog.Default()
	}
	n.ctx, n.cancel = context.WithCancel(context.Background())
	if cfg.Webhook == "" {
		close(n.done)
		return n, nil
	}
	n.queue = make(chan alerts.Change, cfg.Queue)
	go n.deliver()
	return n, nil
}

// Notify logs the changes and queues them for the webhook. It never
// blocks: a change that finds the queue full is dropped and counted.
func (n *Notifier) Notify(changes []alerts.Change) {
	for _, c := range changes {
		level := slog.LevelWarn
		if c.Action == alerts.Clear {
			level = slog.LevelInfo
		}
		n.log.Log(context.Background(), level, "alert "+string(c.Action), "severity", c.Severity, "kind", c.Kind,
			"subject", c.Subject, "value", c.Value, "threshold", c.Threshold, "since", c.Since, "at", c.At)
		if n.queue == nil {
			continue
		}
		n.mu.Lock()
		if n.closed.Load() {
			n.mu.Unlock()
			n.drop(c, "notifier closed")
			continue
		}
		select {
		case n.queue <- c:
			n.mu.Unlock()
		default:
			n.mu.Unlock()
			n.drop(c, "queue full (the webhook receiver is slow or down)")
		}
	}
}

func (n *Notifier) drop(c alerts.Change, why string) {
	d := n.dropped.Add(1)
	n.log.Warn("alert not delivered to the webhook", "reason", why, "kind", c.Kind, "subject", c.Subject,
		"action", c.Action, "dropped_total", d)
}

// Stats returns the delivery counters so far.
func (n *Notifier) Stats() Stats {
	return Stats{Delivered: n.delivered.Load(), Dropped: n.dropped.Load(), Retried: n.retried.Load()}
}

// Close stops taking changes and gives the queued ones until ctx is done to
// be delivered; those left are dropped. It waits for the delivery goroutine.
func (n *Notifier) Close(ctx context.Context) {
	n.mu.Lock()
	if n.closed.Swap(true) {
		n.mu.Unlock()
		<-n.done
		return
	}
	if n.queue != nil {
		close(n.queue)
	}
	n.mu.Unlock()
	select {
	case <-n.done:
	case <-ctx.Done():
		n.cancel()
		<-n.done
	}
	n.cancel()
}

func (n *Notifier) deliver() {
	defer close(n.done)
	for c := range n.queue {
		if n.ctx.Err() != nil {
			n.drop(c, "notifier closed")
			continue
		}
		if err := n.post(c); err != nil {
			n.drop(c, err.Error())
			continue
		}
		n.delivered.Add(1)
	}
}

// post sends one change, retrying with backoff.
func (n *Notifier) post(c alerts.Change) error {
	body, err := json.Marshal(Payload{Source: n.cfg.Source, Change: c})
	if err != nil {
		return err
	}
	wait := n.cfg.Backoff
	for try := 0; ; try++ {
		err = n.postOnce(body)
		if err == nil {
			return nil
		}
		if try == n.cfg.Retries {
			return fmt.Errorf("%d tries failed, last: %w", try+1, err)
		}
		n.retried.Add(1)
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-n.ctx.Done():
			t.Stop()
			return fmt.Errorf("notifier closed while retrying: %w", err)
		}
		wait *= 2
	}
}

func (n *Notifier) postOnce(body []byte) error {
	ctx, cancel := context.WithTimeout(n.ctx, n.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, n.cfg.Webhook, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := n.cfg.Client.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("webhook answered %s", resp.Status)
	}
	return nil
}
