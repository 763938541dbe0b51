package web

import (
	"context"
	"sync"
	"time"
)

// hub fans one snapshot per tick out to every event-stream client. One
// snapshot serves all clients (the centre is asked once per tick however
// many pages are open), and a client is given at most ClientSlot frames to
// fall behind by: publishing never waits for a client, a slow one is
// dropped.
type hub struct {
	every time.Duration
	slot  int
	frame func(context.Context) []byte
	logf  func(string, ...any)

	mu      sync.Mutex
	clients map[*client]struct{}
	pumping bool
	closed  bool
	stop    context.CancelFunc
	ctx     context.Context
}

type client struct {
	frames  chan []byte
	dropped chan struct{} // closed when the hub gives up on the client
}

func newHub(cfg Config, frame func(context.Context) []byte) *hub {
	ctx, stop := context.WithCancel(context.Background())
	return &hub{every: cfg.PushEvery, slot: cfg.ClientSlot, frame: frame, logf: cfg.Logf,
		clients: map[*client]struct{}{}, ctx: ctx, stop: stop}
}

// subscribe adds a client, starting the pump if it was idle; nil once the
// hub is closed.
func (h *hub) subscribe() *client {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil
	}
	c := &client{frames: make(chan []byte, h.slot), dropped: make(chan struct{})}
	h.clients[c] = struct{}{}
	if !h.pumping {
		h.pumping = true
		go h.pump()
	}
	return c
}

func (h *hub) unsubscribe(c *client) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.clients[c]; ok {
		delete(h.clients, c)
		close(c.dropped)
	}
}

// pump publishes a frame every tick while there are clients, and stops
// when the last one has gone (an idle dashboard costs the centre nothing).
func (h *hub) pump() {
	t := time.NewTicker(h.every)
	defer t.Stop()
	for {
		select {
		case <-h.ctx.Done():
			return
		case <-t.C:
		}
		h.mu.Lock()
		idle := len(h.clients) == 0
		if idle {
			h.pumping = false
		}
		h.mu.Unlock()
		if idle {
			return
		}
		h.publish(h.frame(h.ctx))
	}
}

// publish offers f to every client without waiting.
func (h *hub) publish(f []byte) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for c := range h.clients {
		select {
		case c.frames <- f:
		default:
			delete(h.clients, c)
			close(c.dropped)
			if h.logf != nil {
				h.logf("web: event stream client %d frames behind: dropped", h.slot)
			}
		}
	}
}

// close ends the pump and every stream.
func (h *hub) close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return
	}
	h.closed = true
	h.stop()
	for c := range h.clients {
		delete(h.clients, c)
		close(c.dropped)
	}
}

// clientCount is how many streams are subscribed (tests).
func (h *hub) clientCount() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.clients)
}
