package centre

import (
	"time"

	"github.com/ipcclab/ipcclab/emulator/icm"
	"github.com/ipcclab/ipcclab/emulator/pg"
)

// Report is what the centre measured since Start.
type Report struct {
	Start      time.Time
	End        time.Time
	SimSeconds float64
	// EventsProcessed counts PG events emitted.
	EventsProcessed uint64
	Inbound         InboundReport
	Outbound        OutboundCounters
	Agents          AgentsReport
}

// InboundReport covers the calls routed by ICM.
type InboundReport struct {
	Offered   int64
	Answered  int64
	Abandoned int64
	// ShortCalls are the abandons within the Abandon Call Wait Time
	// (included in Abandoned).
	ShortCalls int64
	// ServiceLevel combines the call types, each with its own
	// ServiceLevelType (ipcc-behaviour.md §1.3), as a fraction 0..1.
	ServiceLevel float64
	ASASeconds   float64
	CallTypes    []CallTypeReport
	HalfHours    []IntervalReport
}

// CallTypeReport is one call type over the run.
type CallTypeReport struct {
	ID           uint32
	Name         string
	Type         icm.SLType
	Counters     icm.Counters
	ServiceLevel float64
	ASASeconds   float64
}

// IntervalReport is one completed half hour over all call types.
type IntervalReport struct {
	Start        time.Time
	Offered      int64
	Answered     int64
	Abandoned    int64
	ServiceLevel float64
}

// AgentsReport covers the agents.
type AgentsReport struct {
	// LoggedOn counts ICM agents logged on.
	LoggedOn int
	// Occupancy covers the ICM agents (inbound and blended) only: their
	// (talking + hold + wrap-up time) over their (logged-on time not spent
	// Not Ready or logging in). Outbound-only agents have no state in ICM
	// and are not in it.
	Occupancy float64
	// Lines counts the outbound-only agents (CallManager lines without an
	// ICM agent). LineOccupancy is their talk time on predictive calls over
	// Lines × the time since Start (they are at their phones throughout).
	// Dialer ports (Config.DialerPorts) are not counted.
	Lines         int
	LineOccupancy float64
}

// slParts returns numerator and denominator of the service level of c per
// type t, so call types of different types can be combined.
func slParts(t icm.SLType, c icm.Counters) (num, den float64) {
	switch t {
	case icm.SLIgnoreAbandons:
		return float64(c.ServiceLevelCalls), float64(c.ServiceLevelCallsOffered - c.ServiceLevelAband)
	case icm.SLAbandonsPositive:
		return float64(c.ServiceLevelCalls + c.ServiceLevelAband), float64(c.ServiceLevelCallsOffered)
	default:
		return float64(c.ServiceLevelCalls), float64(c.ServiceLevelCallsOffered)
	}
}

func frac(a, b float64) float64 {
	if b <= 0 {
		return 0
	}
	return a / b
}

// Report summarises the run so far.
func (c *Centre) Report() Report {
	now := c.sched.Now()
	r := Report{Start: c.start, End: now, SimSeconds: now.Sub(c.start).Seconds(), EventsProcessed: c.pg.EventsEmitted(),
		Outbound: c.out}
	var num, den float64
	var wait time.Duration
	types := map[uint32]icm.SLType{}
	for _, info := range c.router.CallTypes() {
		k, _ := c.router.CallTypeCounters(info.ID, icm.Run)
		types[info.ID] = info.ServiceLevelType
		n, d := slParts(info.ServiceLevelType, k)
		num += n
		den += d
		wait += k.AnswerWaitTime
		r.Inbound.Offered += k.CallsOffered
		r.Inbound.Answered += k.CallsAnswered
		r.Inbound.Abandoned += k.Abandoned()
		r.Inbound.ShortCalls += k.ShortCalls
		r.Inbound.CallTypes = append(r.Inbound.CallTypes, CallTypeReport{ID: info.ID, Name: info.Name, Type: info.ServiceLevelType,
			Counters: k, ServiceLevel: k.ServiceLevel(info.ServiceLevelType), ASASeconds: k.ASA().Seconds()})
	}
	r.Inbound.ServiceLevel = frac(num, den)
	if r.Inbound.Answered > 0 {
		r.Inbound.ASASeconds = wait.Seconds() / float64(r.Inbound.Answered)
	}
	// Half hours: the router keeps one interval per call type per boundary.
	type acc struct {
		iv       IntervalReport
		num, den float64
	}
	var order []time.Time
	halves := map[time.Time]*acc{}
	for _, iv := range c.router.History() {
		if iv.Start.Before(c.start.Add(-30 * time.Minute)) {
			continue
		}
		a := halves[iv.Start]
		if a == nil {
			a = &acc{iv: IntervalReport{Start: iv.Start}}
			halves[iv.Start] = a
			order = append(order, iv.Start)
		}
		a.iv.Offered += iv.Counters.CallsOffered
		a.iv.Answered += iv.Counters.CallsAnswered
		a.iv.Abandoned += iv.Counters.Abandoned()
		n, d := slParts(types[iv.CallTypeID], iv.Counters)
		a.num += n
		a.den += d
	}
	for _, t := range order {
		a := halves[t]
		a.iv.ServiceLevel = frac(a.num, a.den)
		r.Inbound.HalfHours = append(r.Inbound.HalfHours, a.iv)
	}
	var busy, avail time.Duration
	for _, st := range c.pg.Agents() {
		if st.LoggedOn {
			r.Agents.LoggedOn++
		}
		t := st.Times
		busy += t.InState[pg.StateTalking] + t.InState[pg.StateHold] + t.InState[pg.StateWorkReady] + t.InState[pg.StateWorkNotReady]
		avail += t.LoggedOn - t.InState[pg.StateNotReady] - t.InState[pg.StateLogin]
	}
	r.Agents.Occupancy = frac(float64(busy), float64(avail))
	var talk time.Duration
	for _, l := range c.pg.Lines() {
		if c.ports[l.Extension] {
			continue // a dialer port, nobody's phone
		}
		r.Agents.Lines++
		talk += l.Talk
	}
	r.Agents.LineOccupancy = frac(float64(talk), float64(r.Agents.Lines)*float64(now.Sub(c.start)))
	return r
}
