package icm

import (
	"fmt"
	"time"
)

// SLType is ServiceLevelType (ipcc-behaviour.md §1.1): how abandoned calls
// count in the service level.
type SLType int

// Service level types. 0 means "use the default" in configuration.
const (
	SLDefault          SLType = 0
	SLIgnoreAbandons   SLType = 1
	SLAbandonsNegative SLType = 2
	SLAbandonsPositive SLType = 3
)

func (t SLType) String() string {
	switch t {
	case SLIgnoreAbandons:
		return "ignore-abandons"
	case SLAbandonsNegative:
		return "abandons-negative"
	case SLAbandonsPositive:
		return "abandons-positive"
	}
	return fmt.Sprintf("SLType(%d)", int(t))
}

// ServiceLevelIgnoreAbandons is type 1: SLCalls / (SLOffered − SLAband).
func ServiceLevelIgnoreAbandons(slCalls, slOffered, slAband int64) float64 {
	return ratio(float64(slCalls), float64(slOffered-slAband))
}

// ServiceLevelAbandonsNegative is type 2: SLCalls / SLOffered.
func ServiceLevelAbandonsNegative(slCalls, slOffered, slAband int64) float64 {
	return ratio(float64(slCalls), float64(slOffered))
}

// ServiceLevelAbandonsPositive is type 3: (SLCalls + SLAband) / SLOffered.
func ServiceLevelAbandonsPositive(slCalls, slOffered, slAband int64) float64 {
	return ratio(float64(slCalls+slAband), float64(slOffered))
}

// ServiceLevel applies the formula of the given type (ipcc-behaviour.md
// §1.3). The result is a fraction 0..1; with nothing offered it is 0.
func ServiceLevel(t SLType, slCalls, slOffered, slAband int64) float64 {
	switch t {
	case SLIgnoreAbandons:
		return ServiceLevelIgnoreAbandons(slCalls, slOffered, slAband)
	case SLAbandonsPositive:
		return ServiceLevelAbandonsPositive(slCalls, slOffered, slAband)
	default:
		return ServiceLevelAbandonsNegative(slCalls, slOffered, slAband)
	}
}

func ratio(a, b float64) float64 {
	if b <= 0 {
		return 0
	}
	return a / b
}

// Counters are the accumulating statistics of a call type or skill group
// over one window (ipcc-behaviour.md §1.2–1.5).
type Counters struct {
	// CallsOffered: calls that entered the call type, or were queued or
	// routed to the skill group.
	CallsOffered int64
	// RouterQueueCalls: calls that had to wait in the router queue.
	RouterQueueCalls int64
	CallsAnswered    int64
	// AnswerWaitTime: call type — arrival to answer; skill group — queued
	// (or routed) to answer, including ring time.
	AnswerWaitTime time.Duration
	// Service-level events (§1.2).
	ServiceLevelCalls        int64
	ServiceLevelCallsOffered int64
	ServiceLevelAband        int64
	ServiceLevelRona         int64
	ServiceLevelDequeued     int64
	// Abandons that were not short calls.
	RouterCallsAbandQ       int64
	RouterCallsAbandToAgent int64
	// ShortCalls abandoned within the Abandon Call Wait Time; left out of
	// the service level and abandon counters (§1.1).
	ShortCalls int64
	// RedirectNoAns: routed calls taken back on RONA.
	RedirectNoAns             int64
	HandledCalls              int64
	HandledCallsTalkTime      time.Duration
	HandledCallsAfterCallTime time.Duration
	HandledCallsTime          time.Duration
}

// Add accumulates o into c.
func (c *Counters) Add(o Counters) {
	c.CallsOffered += o.CallsOffered
	c.RouterQueueCalls += o.RouterQueueCalls
	c.CallsAnswered += o.CallsAnswered
	c.AnswerWaitTime += o.AnswerWaitTime
	c.ServiceLevelCalls += o.ServiceLevelCalls
	c.ServiceLevelCallsOffered += o.ServiceLevelCallsOffered
	c.ServiceLevelAband += o.ServiceLevelAband
	c.ServiceLevelRona += o.ServiceLevelRona
	c.ServiceLevelDequeued += o.ServiceLevelDequeued
	c.RouterCallsAbandQ += o.RouterCallsAbandQ
	c.RouterCallsAbandToAgent += o.RouterCallsAbandToAgent
	c.ShortCalls += o.ShortCalls
	c.RedirectNoAns += o.RedirectNoAns
	c.HandledCalls += o.HandledCalls
	c.HandledCallsTalkTime += o.HandledCallsTalkTime
	c.HandledCallsAfterCallTime += o.HandledCallsAfterCallTime
	c.HandledCallsTime += o.HandledCallsTime
}

// Sub returns c − o (the counts between two snapshots of a growing window).
func (c Counters) Sub(o Counters) Counters {
	return Counters{
		CallsOffered: c.CallsOffered - o.CallsOffered, RouterQueueCalls: c.RouterQueueCalls - o.RouterQueueCalls,
		CallsAnswered: c.CallsAnswered - o.CallsAnswered, AnswerWaitTime: c.AnswerWaitTime - o.AnswerWaitTime,
		ServiceLevelCalls: c.ServiceLevelCalls - o.ServiceLevelCalls, ServiceLevelCallsOffered: c.ServiceLevelCallsOffered - o.ServiceLevelCallsOffered,
		ServiceLevelAband: c.ServiceLevelAband - o.ServiceLevelAband, ServiceLevelRona: c.ServiceLevelRona - o.ServiceLevelRona,
		ServiceLevelDequeued: c.ServiceLevelDequeued - o.ServiceLevelDequeued, RouterCallsAbandQ: c.RouterCallsAbandQ - o.RouterCallsAbandQ,
		RouterCallsAbandToAgent: c.RouterCallsAbandToAgent - o.RouterCallsAbandToAgent, ShortCalls: c.ShortCalls - o.ShortCalls,
		RedirectNoAns: c.RedirectNoAns - o.RedirectNoAns, HandledCalls: c.HandledCalls - o.HandledCalls,
		HandledCallsTalkTime: c.HandledCallsTalkTime - o.HandledCallsTalkTime, HandledCallsAfterCallTime: c.HandledCallsAfterCallTime - o.HandledCallsAfterCallTime,
		HandledCallsTime: c.HandledCallsTime - o.HandledCallsTime,
	}
}

// ServiceLevel computes the window's service level with the given type.
func (c Counters) ServiceLevel(t SLType) float64 {
	return ServiceLevel(t, c.ServiceLevelCalls, c.ServiceLevelCallsOffered, c.ServiceLevelAband)
}

// ASA is AnswerWaitTime / CallsAnswered (§1.3).
func (c Counters) ASA() time.Duration {
	if c.CallsAnswered == 0 {
		return 0
	}
	return c.AnswerWaitTime / time.Duration(c.CallsAnswered)
}

// Abandoned is every abandon including short calls.
func (c Counters) Abandoned() int64 {
	return c.RouterCallsAbandQ + c.RouterCallsAbandToAgent + c.ShortCalls
}

// Window names a statistics interval (ipcc-behaviour.md §1.4).
type Window int

// Windows.
const (
	// To5 is the rolling five minutes, kept in 10-second buckets as the
	// real-time tables are recomputed every 10 s.
	To5 Window = iota
	// ToHalf is the current half hour (xx:00–xx:29:59, xx:30–xx:59:59).
	ToHalf
	// Today is since midnight (Config.Location).
	Today
	// Run is since the router started; not an ICM window, used for reports.
	Run
)

const (
	bucketWidth = 10 * time.Second
	nBuckets    = 30 // 30 × 10 s = 5 min
)

type bucket struct {
	idx int64
	c   Counters
}

// windowed keeps one entity's counters in every window.
type windowed struct {
	today, half, run Counters
	day, halfIdx     int64
	buckets          [nBuckets]bucket
}

func (r *Router) indexes(t time.Time) (day, half, b int64) {
	lt := t.In(r.loc)
	y, m, d := lt.Date()
	day = time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400
	half = day*48 + int64(lt.Hour()*2+lt.Minute()/30)
	b = t.UnixNano() / int64(bucketWidth)
	return
}

func (r *Router) newWindowed() *windowed {
	w := &windowed{}
	w.day, w.halfIdx, _ = r.indexes(r.sched.Now())
	for i := range w.buckets {
		w.buckets[i].idx = -1
	}
	return w
}

// roll resets the windows whose interval has ended.
func (w *windowed) roll(day, half int64) {
	if day != w.day {
		w.today, w.day = Counters{}, day
	}
	if half != w.halfIdx {
		w.half, w.halfIdx = Counters{}, half
	}
}

func (r *Router) add(w *windowed, fn func(*Counters)) {
	day, half, b := r.indexes(r.sched.Now())
	w.roll(day, half)
	fn(&w.today)
	fn(&w.half)
	fn(&w.run)
	bk := &w.buckets[b%nBuckets]
	if bk.idx != b {
		bk.idx, bk.c = b, Counters{}
	}
	fn(&bk.c)
}

func (r *Router) window(w *windowed, which Window) Counters {
	day, half, b := r.indexes(r.sched.Now())
	w.roll(day, half)
	switch which {
	case ToHalf:
		return w.half
	case Today:
		return w.today
	case Run:
		return w.run
	}
	var sum Counters
	for _, bk := range w.buckets {
		if bk.idx > b-nBuckets && bk.idx <= b {
			sum.Add(bk.c)
		}
	}
	return sum
}
