package sim

import "time"

// Link is a simulated, ordered, reliable message link between two cores (the
// CTI Server and a CTI client, say) with a fixed one-way latency. It stands in
// for a TCP connection in virtual time: frames arrive in the order they were
// sent, after the latency, until either side closes it.
type Link struct {
	sched   Scheduler
	latency time.Duration
	ends    [2]linkEnd
	closed  bool
	frames  uint64
}

type linkEnd struct {
	deliver func(frame []byte)
	closed  func()
	// lastArrival keeps frames in order even if latency were to vary.
	lastArrival time.Time
}

// NewLink returns a link with the given one-way latency. Attach both ends
// with Side(0).OnReceive / Side(1).OnReceive before sending.
func NewLink(s Scheduler, latency time.Duration) *Link {
	return &Link{sched: s, latency: latency}
}

// LinkSide is one end of a Link.
type LinkSide struct {
	l    *Link
	side int
}

// Side returns end 0 or 1.
func (l *Link) Side(i int) *LinkSide { return &LinkSide{l: l, side: i} }

// Frames counts frames delivered in either direction.
func (l *Link) Frames() uint64 { return l.frames }

// OnReceive sets what runs when a frame arrives at this end, and what runs when
// the other end closes the link.
func (s *LinkSide) OnReceive(deliver func(frame []byte), closed func()) {
	s.l.ends[s.side].deliver = deliver
	s.l.ends[s.side].closed = closed
}

// Send queues a frame to the other end. The frame is copied, so the caller may
// reuse its buffer, as with a socket write.
func (s *LinkSide) Send(frame []byte) {
	l := s.l
	if l.closed {
		return
	}
	peer := &l.ends[1-s.side]
	at := l.sched.Now().Add(l.latency)
	if at.Before(peer.lastArrival) {
		at = peer.lastArrival
	}
	peer.lastArrival = at
	buf := append([]byte(nil), frame...)
	l.sched.At(at, func(time.Time) {
		if l.closed || peer.deliver == nil {
			return
		}
		l.frames++
		peer.deliver(buf)
	})
}

// Close ends the link; the other end's closed callback runs after the latency
// (frames already in flight are dropped, as with a TCP reset).
func (s *LinkSide) Close() {
	l := s.l
	if l.closed {
		return
	}
	l.closed = true
	peer := l.ends[1-s.side]
	l.sched.At(l.sched.Now().Add(l.latency), func(time.Time) {
		if peer.closed != nil {
			peer.closed()
		}
	})
}
