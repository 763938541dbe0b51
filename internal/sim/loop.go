// Package sim holds the event loop that every core of IPCC Lab runs on.
//
// Cores (the emulated ICM, PG, CTI Server, callers and agents, and the
// controller's policies) never read the wall clock, never sleep and never start
// goroutines. They receive a Scheduler, ask it for the current time and arm
// timers at absolute deadlines. Two drivers implement the Scheduler with the same
// time-ordered event heap:
//
//   - RunVirtual pops events in (time, sequence) order and jumps the clock, so a
//     contact-centre day runs in seconds and is a pure function of the seed.
//   - RunRealtime waits for the wall clock to reach each deadline and also runs
//     functions posted from socket goroutines, so the same cores serve real TCP,
//     one event at a time on one goroutine.
//
// Determinism rule: events scheduled for the same instant run in the order they
// were scheduled.
package sim

import (
	"container/heap"
	"context"
	"sync"
	"time"
)

// Timer identifies an armed timer so that it can be cancelled. The zero Timer
// is never returned by At and cancelling it is a no-op.
type Timer uint64

// Scheduler is what a core sees of time: the current instant and timers at
// absolute deadlines. Callbacks run on the loop's single goroutine.
type Scheduler interface {
	Now() time.Time
	At(t time.Time, fn func(now time.Time)) Timer
	Cancel(Timer)
}

// After arms fn d after the scheduler's current time.
func After(s Scheduler, d time.Duration, fn func(now time.Time)) Timer {
	return s.At(s.Now().Add(d), fn)
}

type event struct {
	at  time.Time
	seq uint64
	fn  func(now time.Time)
	idx int
}

type eventHeap []*event

func (h eventHeap) Len() int { return len(h) }
func (h eventHeap) Less(i, j int) bool {
	if !h[i].at.Equal(h[j].at) {
		return h[i].at.Before(h[j].at)
	}
	return h[i].seq < h[j].seq
}
func (h eventHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].idx = i
	h[j].idx = j
}
func (h *eventHeap) Push(x any) {
	e := x.(*event)
	e.idx = len(*h)
	*h = append(*h, e)
}
func (h *eventHeap) Pop() any {
	old := *h
	n := len(old)
	e := old[n-1]
	old[n-1] = nil
	e.idx = -1
	*h = old[:n-1]
	return e
}

// Loop is a time-ordered event heap with a clock. It implements Scheduler.
// Its methods other than Post are meant for the loop goroutine only (in the
// virtual driver there is no other goroutine).
type Loop struct {
	now       time.Time
	seq       uint64
	events    eventHeap
	live      map[Timer]*event
	processed uint64

	// Real-time driver state: functions posted from other goroutines.
	mu     sync.Mutex
	posted []func(now time.Time)
	wake   chan struct{}
}

// NewLoop returns a loop whose clock starts at start.
func NewLoop(start time.Time) *Loop {
	return &Loop{now: start, live: make(map[Timer]*event), wake: make(chan struct{}, 1)}
}

// Now is the loop's current time: virtual in RunVirtual, the wall clock as of the
// running event in RunRealtime.
func (l *Loop) Now() time.Time { return l.now }

// At arms fn at t. A deadline in the past runs at the current time, after the
// events already due.
func (l *Loop) At(t time.Time, fn func(now time.Time)) Timer {
	if t.Before(l.now) {
		t = l.now
	}
	l.seq++
	e := &event{at: t, seq: l.seq, fn: fn}
	heap.Push(&l.events, e)
	id := Timer(l.seq)
	l.live[id] = e
	return id
}

// Cancel disarms a timer; cancelling a fired or unknown timer does nothing.
func (l *Loop) Cancel(id Timer) {
	e, ok := l.live[id]
	if !ok {
		return
	}
	delete(l.live, id)
	if e.idx >= 0 {
		heap.Remove(&l.events, e.idx)
	}
}

// Processed counts the events run so far.
func (l *Loop) Processed() uint64 { return l.processed }

// Pending reports how many timers are armed.
func (l *Loop) Pending() int { return len(l.events) }

func (l *Loop) runNext() {
	e := heap.Pop(&l.events).(*event)
	delete(l.live, Timer(e.seq))
	if e.at.After(l.now) {
		l.now = e.at
	}
	l.processed++
	e.fn(l.now)
}

// RunVirtual runs every event due at or before until, jumping the clock from
// one event to the next, and leaves the clock at until.
func (l *Loop) RunVirtual(until time.Time) {
	for len(l.events) > 0 && !l.events[0].at.After(until) {
		l.runNext()
	}
	if until.After(l.now) {
		l.now = until
	}
}

// Post queues fn to run on the loop goroutine as soon as possible. It is the
// only method safe to call from other goroutines; socket readers use it to
// hand decoded input to the cores.
func (l *Loop) Post(fn func(now time.Time)) {
	l.mu.Lock()
	l.posted = append(l.posted, fn)
	l.mu.Unlock()
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

// RunRealtime drives the loop from the wall clock (clock() is time.Now in
// production) until ctx is done. Timers fire when the wall clock reaches their
// deadline; posted functions run in the order they were posted.
func (l *Loop) RunRealtime(ctx context.Context, clock func() time.Time) error {
	// The wake-up timer is re-armed only when the earliest deadline moves
	// earlier, and then as a fresh timer rather than with Reset. Resetting
	// one timer to an earlier time on every wake marks it "modified
	// earlier" in the runtime's timer heap, and the runtime then walks the
	// whole heap when that time comes (runtime.(*timers).adjust). Under SIP
	// load the heap holds tens of thousands of sipgo transaction timers, so
	// that walk, once per scheduled event, cost about a fifth of the
	// emulator's CPU in `ipcclab bench sip`. A deadline that moved later
	// keeps the armed timer: its early wake-up finds nothing due and
	// re-arms.
	var (
		timer *time.Timer
		armed time.Time // deadline of timer; zero when none is armed
	)
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	var fired <-chan time.Time
	for {
		l.now = clock()
		l.mu.Lock()
		posted := l.posted
		l.posted = nil
		l.mu.Unlock()
		for _, fn := range posted {
			l.processed++
			fn(l.now)
		}
		for len(l.events) > 0 && !l.events[0].at.After(l.now) {
			l.runNext()
			l.now = clock()
		}
		if len(l.events) > 0 {
			next := l.events[0].at
			if armed.IsZero() || next.Before(armed) {
				if timer != nil {
					timer.Stop()
				}
				timer = time.NewTimer(next.Sub(l.now))
				armed, fired = next, timer.C
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-l.wake:
		case <-fired:
			armed, fired = time.Time{}, nil
		}
	}
}
