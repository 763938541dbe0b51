package controller

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/ipcclab/ipcclab/controller/dialer"
	"github.com/ipcclab/ipcclab/internal/ctitcp"
	"github.com/ipcclab/ipcclab/internal/sim"
)

// Handle is a controller running in real time against a CTI Server.
type Handle struct {
	loop   *sim.Loop
	core   *Core
	cancel context.CancelFunc
	done   chan struct{}
	mu     sync.Mutex
	last   Status
}

// Start runs the controller in real time against the CTI Server at
// ctiAddrs (side A, then side B of a pair). It connects in the background,
// alternating between the sides until one answers, and reconnects the same
// way whenever the connection drops (§1.1).
func Start(ctx context.Context, cfg Config, ctiAddrs ...string) (*Handle, error) {
	if len(ctiAddrs) == 0 {
		return nil, errors.New("controller: no CTI Server address")
	}
	loop := sim.NewLoop(time.Now())
	core, err := NewCore(cfg, loop)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	h := &Handle{loop: loop, core: core, cancel: cancel, done: make(chan struct{})}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); _ = loop.RunRealtime(ctx, time.Now) }()
	go func() { defer wg.Done(); h.connectLoop(ctx, ctiAddrs, cfg) }()
	go func() { wg.Wait(); close(h.done) }()
	return h, nil
}

// sink forwards frames to the core, ignoring a connection the core has
// already replaced.
type sink struct {
	core *Core
	conn *ctitcp.Conn
	lost chan struct{}
	once sync.Once
}

func (s *sink) Receive(frame []byte) {
	if s.core.t == s.conn {
		s.core.Receive(frame)
	}
}

func (s *sink) FramingError(err error) {
	if s.core.t == s.conn {
		s.core.FramingError(err)
	}
	s.once.Do(func() { close(s.lost) })
}

func (s *sink) Closed() {
	if s.core.t == s.conn {
		s.core.Closed()
	}
	s.once.Do(func() { close(s.lost) })
}

func (h *Handle) connectLoop(ctx context.Context, addrs []string, cfg Config) {
	backoff := 100 * time.Millisecond
	for try := 0; ctx.Err() == nil; try++ {
		addr := addrs[try%len(addrs)]
		s := &sink{core: h.core, lost: make(chan struct{})}
		conn, err := ctitcp.Dial(ctx, addr, h.loop, s)
		if err != nil {
			if cfg.Logf != nil {
				cfg.Logf("controller: %v (retrying in %v)", err, backoff)
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, 5*time.Second)
			continue
		}
		s.conn = conn
		h.loop.Post(func(time.Time) { h.core.Start(conn) })
		began := time.Now()
		select {
		case <-ctx.Done():
			conn.Close()
			return
		case <-s.lost:
		}
		if time.Since(began) > 5*time.Second {
			backoff = 100 * time.Millisecond
			continue
		}
		// Refused or dropped at once (a standby side, a server refusing the
		// OPEN): wait before trying the next side, backing off.
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 5*time.Second)
	}
}

// Status returns a snapshot of the controller. It waits at most a second for
// the controller's loop; after Stop it returns the last snapshot.
func (h *Handle) Status() Status {
	ch := make(chan Status, 1)
	h.loop.Post(func(time.Time) { ch <- h.core.Status() })
	select {
	case st := <-ch:
		h.mu.Lock()
		h.last = st
		h.mu.Unlock()
		return st
	case <-h.done:
	case <-time.After(time.Second):
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.last
}

// UpdateCampaign applies new campaign limits on the controller's loop
// (Core.UpdateCampaign) and returns its verdict; it waits at most a second.
func (h *Handle) UpdateCampaign(l CampaignLimits) error {
	ch := make(chan error, 1)
	h.loop.Post(func(time.Time) { ch <- h.core.UpdateCampaign(l) })
	select {
	case err := <-ch:
		return err
	case <-h.done:
		return errors.New("controller: stopped")
	case <-time.After(time.Second):
		return errors.New("controller: the controller's loop did not answer")
	}
}

// Limits returns the campaign limits in force; it waits at most a second.
func (h *Handle) Limits() (CampaignLimits, error) {
	ch := make(chan CampaignLimits, 1)
	h.loop.Post(func(time.Time) { ch <- h.core.Limits() })
	select {
	case l := <-ch:
		return l, nil
	case <-h.done:
		return CampaignLimits{}, errors.New("controller: stopped")
	case <-time.After(time.Second):
		return CampaignLimits{}, errors.New("controller: the controller's loop did not answer")
	}
}

// PacingState returns what the pacing strategy has learned
// (Core.PacingState), read on the controller's loop; it waits at most a
// second.
func (h *Handle) PacingState() (dialer.PacingState, bool, error) {
	type answer struct {
		st dialer.PacingState
		ok bool
	}
	ch := make(chan answer, 1)
	h.loop.Post(func(time.Time) { st, ok := h.core.PacingState(); ch <- answer{st, ok} })
	select {
	case a := <-ch:
		return a.st, a.ok, nil
	case <-h.done:
		return dialer.PacingState{}, false, errors.New("controller: stopped")
	case <-time.After(time.Second):
		return dialer.PacingState{}, false, errors.New("controller: the controller's loop did not answer")
	}
}

// RecordsChanged tells the controller, on its loop, that records may have
// become callable (Core.RecordsChanged).
func (h *Handle) RecordsChanged() {
	h.loop.Post(func(time.Time) { h.core.RecordsChanged() })
}

// Stop disconnects and waits for the controller's goroutines to end.
func (h *Handle) Stop() {
	h.Status()
	h.cancel()
	<-h.done
}
