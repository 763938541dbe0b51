package erlang

import (
	"container/heap"
	"fmt"
	"math/rand/v2"
)

// ThresholdDay is one day of the threshold-blending model of table D itself,
// simulated rather than solved: the policy that defines the frontier, run on
// one finite day of Poisson arrivals and exponential handling times. Table D
// is the model's long-run average; a day is a sample of it, and this is what
// tells how far one day's figures stray from the average for the optimal
// policy itself (issue 5's blended-run line is judged per day).
//
// The model, as in Threshold: s agents; inbound calls arrive Poisson at
// t.Rate and are served first come, first served, by any idle agent at once;
// outbound work is always at hand and starts, with an exponential handling
// time of the same mean, the instant more than r agents are idle and no
// inbound call waits; nobody abandons. No outbound work starts after the
// day's end; the calls in progress run to their end.
//
// The same arrivals and inbound handling times are also run with every agent
// on inbound (no outbound work), for the half hours that all the agents
// could hold.
type DayConfig struct {
	Agents    int     // s
	Reserve   int     // r
	Traffic   Traffic // inbound λ and mean handling time (outbound alike)
	Threshold float64 // the service-level threshold, seconds
	// Duration is the day's length and Interval the reporting interval,
	// seconds (8 h and 30 min).
	Duration, Interval float64
	Seed               uint64
}

// DayInterval is one reporting interval of a simulated day: the inbound
// calls that arrived in it and those answered within the threshold, under
// the threshold policy (InTime) and with every agent on inbound
// (AllInboundInTime).
type DayInterval struct {
	Offered, InTime, AllInboundInTime int
}

// DayResult is a simulated day.
type DayResult struct {
	Intervals []DayInterval
	// Offered and InTime are the day's inbound calls and those answered
	// within the threshold (threshold policy).
	Offered, InTime int
	// Outbound is the outbound jobs started.
	Outbound int
	// InboundBusy is the inbound handling time of the day's calls, seconds:
	// with Offered over Duration, the realised load.
	InboundBusy float64
}

// ServiceLevel is InTime over Offered (1 with no call).
func (d DayResult) ServiceLevel() float64 {
	if d.Offered == 0 {
		return 1
	}
	return float64(d.InTime) / float64(d.Offered)
}

// SimulateThresholdDay runs one day of the model with cfg.Seed. The same
// seed gives the same day.
func SimulateThresholdDay(cfg DayConfig) (DayResult, error) {
	s, r := cfg.Agents, cfg.Reserve
	if s < 1 || r < 0 || r > s {
		return DayResult{}, fmt.Errorf("erlang: threshold day: agents %d, reserve %d: want s ≥ 1, 0 ≤ r ≤ s", s, r)
	}
	if err := cfg.Traffic.valid(); err != nil {
		return DayResult{}, err
	}
	if !(cfg.Threshold >= 0) || !(cfg.Duration > 0) || !(cfg.Interval > 0) || cfg.Duration/cfg.Interval > 1e6 {
		return DayResult{}, fmt.Errorf("erlang: threshold day: threshold %v s, duration %v s, interval %v s: want ≥ 0, > 0, > 0 and at most a million intervals", cfg.Threshold, cfg.Duration, cfg.Interval)
	}
	if cfg.Traffic.Rate*cfg.Duration > 1e7 {
		return DayResult{}, fmt.Errorf("erlang: threshold day: %.0f expected calls: want at most ten million", cfg.Traffic.Rate*cfg.Duration)
	}
	// One stream for the inbound calls (both runs see the same ones), one
	// for the outbound handling times.
	in := rand.New(rand.NewPCG(cfg.Seed, 0x1b))
	out := rand.New(rand.NewPCG(cfg.Seed, 0x0b))
	var arrive, handle []float64
	if cfg.Traffic.Rate > 0 {
		for at := in.ExpFloat64() / cfg.Traffic.Rate; at < cfg.Duration; at += in.ExpFloat64() / cfg.Traffic.Rate {
			arrive = append(arrive, at)
			handle = append(handle, in.ExpFloat64()*cfg.Traffic.AHT)
		}
	}
	n := int(cfg.Duration / cfg.Interval)
	if float64(n)*cfg.Interval < cfg.Duration {
		n++
	}
	res := DayResult{Intervals: make([]DayInterval, n), Offered: len(arrive)}
	for i, at := range arrive {
		res.Intervals[int(at/cfg.Interval)].Offered++
		res.InboundBusy += handle[i]
	}
	waits, started := runDay(s, r, true, arrive, handle, cfg.Duration, cfg.Traffic.AHT, out)
	res.Outbound = started
	all, _ := runDay(s, s, false, arrive, handle, cfg.Duration, cfg.Traffic.AHT, nil)
	for i, at := range arrive {
		iv := &res.Intervals[int(at/cfg.Interval)]
		if waits[i] <= cfg.Threshold {
			iv.InTime++
			res.InTime++
		}
		if all[i] <= cfg.Threshold {
			iv.AllInboundInTime++
		}
	}
	return res, nil
}

// runDay is the event loop: each inbound call's wait, and the outbound jobs
// started (blend: outbound work above r idle agents).
func runDay(s, r int, blend bool, arrive, handle []float64, end, aht float64, out *rand.Rand) ([]float64, int) {
	waits := make([]float64, len(arrive))
	var q dayEvents
	for i, at := range arrive {
		q = append(q, dayEvent{at: at, call: i, arrival: true})
	}
	heap.Init(&q)
	busy, started := 0, 0
	var queue []int
	work := func(now float64) {
		for blend && now < end && len(queue) == 0 && s-busy > r {
			busy++
			started++
			heap.Push(&q, dayEvent{at: now + out.ExpFloat64()*aht, call: -1})
		}
	}
	serve := func(now float64, i int) {
		busy++
		waits[i] = now - arrive[i]
		heap.Push(&q, dayEvent{at: now + handle[i], call: i})
	}
	work(0)
	for q.Len() > 0 {
		e := heap.Pop(&q).(dayEvent)
		switch {
		case e.arrival && busy < s:
			serve(e.at, e.call)
		case e.arrival:
			queue = append(queue, e.call)
		default: // an agent frees
			busy--
			if len(queue) > 0 {
				i := queue[0]
				queue = queue[1:]
				serve(e.at, i)
			}
			work(e.at)
		}
	}
	return waits, started
}

type dayEvent struct {
	at      float64
	call    int // inbound call index; −1 for outbound work
	arrival bool
}

type dayEvents []dayEvent

func (q dayEvents) Len() int { return len(q) }
func (q dayEvents) Less(i, j int) bool {
	if q[i].at != q[j].at {
		return q[i].at < q[j].at
	}
	// A free before an arrival at the same instant: the agent serves it.
	return !q[i].arrival && q[j].arrival
}
func (q dayEvents) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *dayEvents) Push(x any)   { *q = append(*q, x.(dayEvent)) }
func (q *dayEvents) Pop() any {
	old := *q
	x := old[len(old)-1]
	*q = old[:len(old)-1]
	return x
}
