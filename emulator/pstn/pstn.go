package pstn

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/ipcclab/ipcclab/internal/sim"
)

// Profile is a piecewise-constant arrival rate: PerHour[i] calls per hour
// during segment i (each Segment long) after the start of the day; the last
// value holds for the rest of the run. A single value is a stationary rate.
type Profile struct {
	Segment time.Duration
	PerHour []float64
}

// Validate checks the profile; field is the path used in the error.
func (p Profile) Validate(field string) error {
	if len(p.PerHour) == 0 {
		return fmt.Errorf("%s.per_hour: at least one rate is required", field)
	}
	if len(p.PerHour) > 1 && p.Segment <= 0 {
		return fmt.Errorf("%s.segment: must be positive when several rates are given, got %v", field, p.Segment)
	}
	for i, r := range p.PerHour {
		if r < 0 || math.IsNaN(r) || math.IsInf(r, 0) {
			return fmt.Errorf("%s.per_hour[%d]: must be a finite rate >= 0, got %v", field, i, r)
		}
	}
	return nil
}

// segment returns the rate (per second) at offset off from the start of the
// day and where that segment ends (ok=false: the rate holds forever).
func (p Profile) segment(off time.Duration) (perSecond float64, end time.Duration, ok bool) {
	if off < 0 {
		off = 0
	}
	i := 0
	if p.Segment > 0 {
		i = int(off / p.Segment)
	}
	if i >= len(p.PerHour)-1 {
		return p.PerHour[len(p.PerHour)-1] / 3600, 0, false
	}
	return p.PerHour[i] / 3600, time.Duration(i+1) * p.Segment, true
}

// Stream is the inbound traffic of one ICM call type.
type Stream struct {
	CallTypeID   uint32
	Name         string
	DialedNumber string
	// DNIS defaults to DialedNumber.
	DNIS     string
	Arrivals Profile
}

// OutboundConfig describes the customers outbound calls reach.
type OutboundConfig struct {
	// Outcome probabilities; what is left over is "no answer".
	Answer float64
	Busy   float64
	// Fail is the share of calls that fail in the network (unobtainable,
	// SIT tones).
	Fail float64
	// Machine and Fax are the shares answered by an answering machine and
	// by a fax machine (OutcomeMachine, OutcomeFax): they ring and answer
	// like live customers (RingTime, within the ring timeout) and the
	// Answered callback fires; what the dialer hears tells them apart.
	Machine float64
	Fax     float64
	// VacantNumber, NoCircuit and Reorder are the shares that fail after
	// setup like Fail, with their own outcome (SIT intercept, no circuit,
	// reorder; OutcomeVacantNumber, OutcomeNoCircuit, OutcomeReorder).
	VacantNumber float64
	NoCircuit    float64
	Reorder      float64
	// SetupDelay is the time from dialing to alerting (or to busy/fail).
	SetupDelay Dist
	// RingTime is how long an answering customer lets the phone ring.
	RingTime Dist
	// Talk is the conversation time once connected to an agent; the
	// customer hangs up when it ends.
	Talk Dist
	// PerNumberFate makes a dialed customer's fate a function of the
	// number rather than of the order of the dials: each Dial draws its
	// outcome, setup delay, ring time and the talk time Connected uses from
	// a generator seeded with (FateSeed, number, n), n being how many times
	// this PSTN dialed the number before. The k-th dial of a number meets
	// the same fate in every run with the same FateSeed, however the calls
	// are paced, and a retry of a busy number draws afresh. Off (the
	// default), every draw comes from the PSTN's one outbound stream in dial
	// order.
	PerNumberFate bool
	FateSeed      uint64
}

func (o OutboundConfig) total() float64 {
	return o.Answer + o.Busy + o.Fail + o.Machine + o.Fax + o.VacantNumber + o.NoCircuit + o.Reorder
}

// Config configures the outside world.
type Config struct {
	Scheduler sim.Scheduler
	// Rand is the component's seeded stream (sim.Stream(seed, "pstn")).
	Rand *rand.Rand
	// Start is when segment 0 of every arrival profile begins; the zero
	// time means the scheduler's time at construction.
	Start   time.Time
	Streams []Stream
	// Patience is how long a caller waits unanswered (in the IVR queue or
	// ringing at an agent) before hanging up; a zero mean is infinite
	// patience.
	Patience Dist
	// ANIPrefix and ANIDigits shape generated caller numbers
	// (default "617555" followed by 4 random digits).
	ANIPrefix string
	ANIDigits int
	Outbound  OutboundConfig
	// OnArrival is called for every new inbound caller.
	OnArrival func(*Caller)
	// OnAbandon is called when a caller's patience runs out before
	// Answered was called.
	OnAbandon func(*Caller)
}

func (c *Config) validate() error {
	if c.Scheduler == nil {
		return errors.New("scheduler: required")
	}
	if c.Rand == nil {
		return errors.New("rand: required")
	}
	for i, s := range c.Streams {
		f := fmt.Sprintf("streams[%d]", i)
		if s.DialedNumber == "" {
			return fmt.Errorf("%s.dialed_number: required", f)
		}
		if err := s.Arrivals.Validate(f + ".arrivals"); err != nil {
			return err
		}
	}
	if err := c.Patience.Validate("patience"); err != nil {
		return err
	}
	if c.ANIDigits < 0 || c.ANIDigits > 15 {
		return fmt.Errorf("ani_digits: must be 0..15, got %d", c.ANIDigits)
	}
	o := c.Outbound
	for _, p := range []struct {
		n string
		v float64
	}{{"answer", o.Answer}, {"busy", o.Busy}, {"fail", o.Fail}, {"machine", o.Machine}, {"fax", o.Fax},
		{"vacant_number", o.VacantNumber}, {"no_circuit", o.NoCircuit}, {"reorder", o.Reorder}} {
		if p.v < 0 || p.v > 1 || math.IsNaN(p.v) {
			return fmt.Errorf("outbound.%s: probability must be within 0..1, got %v", p.n, p.v)
		}
	}
	if sum := o.total(); sum > 1+1e-9 {
		names := "answer+busy+fail"
		for _, p := range []struct {
			n string
			v float64
		}{{"machine", o.Machine}, {"fax", o.Fax}, {"vacant_number", o.VacantNumber}, {"no_circuit", o.NoCircuit}, {"reorder", o.Reorder}} {
			if p.v != 0 {
				names += "+" + p.n
			}
		}
		return fmt.Errorf("outbound: %s must not exceed 1, got %v", names, sum)
	}
	for _, d := range []struct {
		n string
		d Dist
	}{{"outbound.setup_delay", o.SetupDelay}, {"outbound.ring_time", o.RingTime}, {"outbound.talk", o.Talk}} {
		if err := d.d.Validate(d.n); err != nil {
			return err
		}
	}
	return nil
}

// Stats counts what the outside world did. Answered counts live answers
// only and Failed the generic OutcomeFail only; the other outcomes have
// their own counters.
type Stats struct {
	Arrivals     int
	Abandons     int
	Dials        int
	Answered     int
	Busy         int
	NoAnswer     int
	Failed       int
	Machine      int
	Fax          int
	VacantNumber int
	NoCircuit    int
	Reorder      int
	Connected    int
	Dropped      int
}

// PSTN is the outside world.
type PSTN struct {
	cfg      Config
	sched    sim.Scheduler
	start    time.Time
	arrRand  []*rand.Rand
	patRand  *rand.Rand
	aniRand  *rand.Rand
	outRand  *rand.Rand
	nextID   uint64
	started  bool
	stats    Stats
	timers   []sim.Timer
	prefix   string
	aniWidth int
	// dialed counts the dials per number (PerNumberFate).
	dialed map[string]uint64
}

// New validates cfg and returns the outside world; call Start to begin the
// arrivals.
func New(cfg Config) (*PSTN, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	p := &PSTN{cfg: cfg, sched: cfg.Scheduler, start: cfg.Start, prefix: cfg.ANIPrefix, aniWidth: cfg.ANIDigits,
		dialed: map[string]uint64{}}
	if p.start.IsZero() {
		p.start = cfg.Scheduler.Now()
	}
	if p.prefix == "" && p.aniWidth == 0 {
		p.prefix, p.aniWidth = "617555", 4
	}
	// Sub-streams are drawn in a fixed order so that each purpose has its
	// own deterministic sequence.
	for range cfg.Streams {
		p.arrRand = append(p.arrRand, substream(cfg.Rand))
	}
	p.patRand = substream(cfg.Rand)
	p.aniRand = substream(cfg.Rand)
	p.outRand = substream(cfg.Rand)
	p.timers = make([]sim.Timer, len(cfg.Streams))
	return p, nil
}

// Stats returns the counters so far.
func (p *PSTN) Stats() Stats { return p.stats }

// Start begins the inbound arrival processes.
func (p *PSTN) Start() {
	if p.started {
		return
	}
	p.started = true
	for i := range p.cfg.Streams {
		p.scheduleArrival(i, p.sched.Now())
	}
}

// Stop ends the arrival processes (callers already present stay).
func (p *PSTN) Stop() {
	for i, t := range p.timers {
		p.sched.Cancel(t)
		p.timers[i] = 0
	}
	p.started = false
}

// NextArrival returns the next arrival time after from for a piecewise-
// constant Poisson process with the given profile starting at start. Within a
// segment the gap is exponential with that segment's rate; when the draw
// crosses the segment's end, the process restarts at the boundary with the
// next segment's rate, which is exact because the exponential is memoryless.
// ok is false when no arrival will ever come.
func NextArrival(r *rand.Rand, prof Profile, start, from time.Time) (time.Time, bool) {
	t := from
	for {
		rate, end, bounded := prof.segment(t.Sub(start))
		if rate <= 0 {
			if !bounded {
				return time.Time{}, false
			}
			t = start.Add(end)
			continue
		}
		gap := time.Duration(r.ExpFloat64() / rate * float64(time.Second))
		if !bounded || t.Add(gap).Before(start.Add(end)) {
			return t.Add(gap), true
		}
		t = start.Add(end)
	}
}

func (p *PSTN) scheduleArrival(i int, from time.Time) {
	s := p.cfg.Streams[i]
	at, ok := NextArrival(p.arrRand[i], s.Arrivals, p.start, from)
	if !ok {
		return
	}
	p.timers[i] = p.sched.At(at, func(now time.Time) {
		p.timers[i] = 0
		p.arrive(i, now)
		p.scheduleArrival(i, now)
	})
}

func (p *PSTN) ani() string {
	var b strings.Builder
	b.WriteString(p.prefix)
	for range p.aniWidth {
		b.WriteByte(byte('0' + p.aniRand.IntN(10)))
	}
	return b.String()
}

// Caller is one inbound customer.
type Caller struct {
	ID           uint64
	CallTypeID   uint32
	StreamName   string
	DialedNumber string
	DNIS         string
	ANI          string
	Arrived      time.Time
	// Patience is how long the caller waits unanswered; 0 = forever.
	Patience time.Duration
	// CallID is free for the owner (the centre stores the CallManager call
	// id here).
	CallID uint32

	p        *PSTN
	timer    sim.Timer
	answered bool
	gone     bool
}

// Answered stops the caller's patience clock: an agent picked up.
func (c *Caller) Answered() {
	c.answered = true
	c.p.sched.Cancel(c.timer)
	c.timer = 0
}

// Gone ends the caller (the call was cleared from the network side).
func (c *Caller) Gone() {
	c.gone = true
	c.p.sched.Cancel(c.timer)
	c.timer = 0
}

// Waiting reports whether the caller is still waiting for an answer.
func (c *Caller) Waiting() bool { return !c.answered && !c.gone }

// Arrive injects one caller now (tests and scripted scenarios); the normal
// source is the arrival process started by Start.
func (p *PSTN) Arrive(streamIndex int) *Caller {
	return p.arrive(streamIndex, p.sched.Now())
}

func (p *PSTN) arrive(i int, now time.Time) *Caller {
	s := p.cfg.Streams[i]
	p.nextID++
	dnis := s.DNIS
	if dnis == "" {
		dnis = s.DialedNumber
	}
	c := &Caller{ID: p.nextID, CallTypeID: s.CallTypeID, StreamName: s.Name, DialedNumber: s.DialedNumber,
		DNIS: dnis, ANI: p.ani(), Arrived: now, p: p}
	if !p.cfg.Patience.IsZero() {
		c.Patience = p.cfg.Patience.Draw(p.patRand)
		if c.Patience <= 0 {
			c.Patience = time.Nanosecond
		}
	}
	p.stats.Arrivals++
	if p.cfg.OnArrival != nil {
		p.cfg.OnArrival(c)
	}
	if c.Patience > 0 && c.Waiting() {
		c.timer = p.sched.At(now.Add(c.Patience), func(time.Time) {
			c.timer = 0
			if !c.Waiting() {
				return
			}
			c.gone = true
			p.stats.Abandons++
			if p.cfg.OnAbandon != nil {
				p.cfg.OnAbandon(c)
			}
		})
	}
	return c
}

// Outcome is what an outbound call attempt met.
type Outcome int

// Outbound outcomes.
const (
	OutcomePending Outcome = iota
	OutcomeAnswer
	OutcomeBusy
	OutcomeNoAnswer
	OutcomeFail
)

func (o Outcome) String() string {
	switch o {
	case OutcomeAnswer:
		return "answer"
	case OutcomeBusy:
		return "busy"
	case OutcomeNoAnswer:
		return "no-answer"
	case OutcomeFail:
		return "fail"
	case OutcomeMachine:
		return "machine"
	case OutcomeFax:
		return "fax"
	case OutcomeVacantNumber:
		return "vacant-number"
	case OutcomeVacantCode:
		return "vacant-code"
	case OutcomeNoCircuit:
		return "no-circuit"
	case OutcomeReorder:
		return "reorder"
	}
	return "pending"
}

// DialHandler receives the progress of an outbound call. Every field may be
// nil.
type DialHandler struct {
	// Alerting: the far end is ringing.
	Alerting func()
	// Answered: the customer (or an answering machine or fax machine —
	// see Callee.Outcome) picked up.
	Answered func()
	// Failed: busy, no answer (ring timeout reached) or network failure
	// (OutcomeFail, OutcomeVacantNumber, OutcomeNoCircuit, OutcomeReorder).
	Failed func(Outcome)
	// HungUp: a connected customer ended the conversation.
	HungUp func()
}

// Callee is the customer side of one outbound call.
type Callee struct {
	Number  string
	outcome Outcome
	p       *PSTN
	h       DialHandler
	timers  []sim.Timer
	done    bool
	// connected: Connected was called (the conversation clock runs).
	connected bool
	// talk is the conversation time drawn at Dial (PerNumberFate).
	talk    time.Duration
	hasFate bool
}

// Outcome is the drawn (or, before it is known, pending) outcome.
func (c *Callee) Outcome() Outcome { return c.outcome }

func (c *Callee) after(d time.Duration, fn func()) {
	c.timers = append(c.timers, sim.After(c.p.sched, d, func(time.Time) {
		if !c.done {
			fn()
		}
	}))
}

func (c *Callee) stop() {
	c.done = true
	for _, t := range c.timers {
		c.p.sched.Cancel(t)
	}
	c.timers = nil
}

// Dial places an outbound call to number; ringTimeout is how long the network
// lets it ring before giving up (0 = 30 s).
func (p *PSTN) Dial(number string, ringTimeout time.Duration, h DialHandler) *Callee {
	if ringTimeout <= 0 {
		ringTimeout = 30 * time.Second
	}
	p.stats.Dials++
	o := p.cfg.Outbound
	c := &Callee{Number: number, p: p, h: h}
	r := p.outRand
	if o.PerNumberFate {
		r = p.fate(number)
	}
	u := r.Float64()
	setup := o.SetupDelay.Draw(r)
	ring := o.RingTime.Draw(r)
	if o.PerNumberFate {
		c.talk, c.hasFate = o.Talk.Draw(r), true
	}
	// One uniform draw picks the outcome: busy, fail, live answer, then
	// the rarer outcomes, each taking the next slice of [0, 1); the rest is
	// no answer. The order of the first three is fixed so that the random
	// stream and results do not change when the others are zero.
	cut := o.Busy
	if u < cut {
		p.fail(c, setup, OutcomeBusy)
		return c
	}
	if cut += o.Fail; u < cut {
		p.fail(c, setup, OutcomeFail)
		return c
	}
	outcome := OutcomeNoAnswer
	for _, f := range []struct {
		share   float64
		outcome Outcome
	}{{o.Answer, OutcomeAnswer}, {o.Machine, OutcomeMachine}, {o.Fax, OutcomeFax},
		{o.VacantNumber, OutcomeVacantNumber}, {o.NoCircuit, OutcomeNoCircuit}, {o.Reorder, OutcomeReorder}} {
		if cut += f.share; u < cut {
			outcome = f.outcome
			break
		}
	}
	switch outcome {
	case OutcomeVacantNumber, OutcomeNoCircuit, OutcomeReorder:
		p.fail(c, setup, outcome)
		return c
	}
	answers := outcome != OutcomeNoAnswer && ring < ringTimeout
	c.after(setup, func() {
		if h.Alerting != nil {
			h.Alerting()
		}
	})
	if answers {
		c.after(setup+ring, func() {
			c.outcome = outcome
			switch outcome {
			case OutcomeMachine:
				p.stats.Machine++
			case OutcomeFax:
				p.stats.Fax++
			default:
				p.stats.Answered++
			}
			if h.Answered != nil {
				h.Answered()
			}
		})
	} else {
		c.after(setup+ringTimeout, func() {
			c.outcome = OutcomeNoAnswer
			p.stats.NoAnswer++
			c.stop()
			if h.Failed != nil {
				h.Failed(OutcomeNoAnswer)
			}
		})
	}
	return c
}

// fail ends c with a network outcome (busy or a failure) after setup.
func (p *PSTN) fail(c *Callee, setup time.Duration, o Outcome) {
	c.after(setup, func() {
		c.outcome = o
		switch o {
		case OutcomeBusy:
			p.stats.Busy++
		case OutcomeVacantNumber:
			p.stats.VacantNumber++
		case OutcomeNoCircuit:
			p.stats.NoCircuit++
		case OutcomeReorder:
			p.stats.Reorder++
		default:
			p.stats.Failed++
		}
		c.stop()
		if c.h.Failed != nil {
			c.h.Failed(o)
		}
	})
}

// fate returns the generator of the next dial of number (PerNumberFate):
// seeded with FateSeed, the number and how often it was dialed before.
func (p *PSTN) fate(number string) *rand.Rand {
	n := p.dialed[number]
	p.dialed[number] = n + 1
	return sim.Stream(p.cfg.Outbound.FateSeed, fmt.Sprintf("fate\x00%s\x00%d", number, n))
}

// Connected tells the customer an agent is on the line: the conversation
// starts and the customer hangs up when it ends. Only the first call counts
// (a customer connected to a dialer port first and transferred to an agent
// later talks once).
func (c *Callee) Connected() {
	if c.done || c.connected {
		return
	}
	c.connected = true
	c.p.stats.Connected++
	talk := c.talk
	if !c.hasFate {
		talk = c.p.cfg.Outbound.Talk.Draw(c.p.outRand)
	}
	c.after(talk, func() {
		c.stop()
		if c.h.HungUp != nil {
			c.h.HungUp()
		}
	})
}

// Drop ends the call from the network side (dialer abandon, agent hung up,
// call cleared); no further callbacks arrive.
func (c *Callee) Drop() {
	if c.done {
		return
	}
	if _, answered := c.outcome.AnsweredSound(); answered {
		c.p.stats.Dropped++
	}
	c.stop()
}
