package alerts

import (
	"fmt"
	"sort"
	"time"
)

// Severity is how urgent an alert is.
type Severity string

// Severities.
const (
	Warning  Severity = "warning"
	Critical Severity = "critical"
)

// Kind is what an alert is about.
type Kind string

// Alert kinds.
const (
	KindServiceLevelTo5  Kind = "service_level_to5"
	KindServiceLevelHalf Kind = "service_level_half"
	KindInboundAbandon   Kind = "inbound_abandon"
	KindOutboundAbandon  Kind = "outbound_abandon"
	KindQueueWait        Kind = "queue_wait"
	KindAgentReserved    Kind = "agent_reserved"
	KindListLow          Kind = "list_low"
	KindListExhausted    Kind = "list_exhausted"
)

// SubjectAll is the subject of an alert on the whole centre (every call
// type together).
const SubjectAll = "all"

// Figures is the centre at one instant, as Evaluate judges it. Each part is
// optional: what is absent is not judged (and alerts on it stay as they
// are, except agents, whose alerts clear when they are no longer listed).
type Figures struct {
	// Inbound is every call type together; CallTypes each one.
	Inbound   Inbound
	CallTypes []CallType
	// LongestWait is the longest wait of a caller in queue now.
	LongestWait time.Duration
	// Reserved lists the agents in RESERVED now with the time they
	// entered it.
	Reserved  []ReservedAgent
	Campaigns []Campaign
}

// Inbound is a service-level picture: the service level of each window
// with the calls counted in it (-1 level or 0 calls: nothing counted yet),
// and the calls offered and abandoned since the start of the day (running
// totals: Evaluate takes the rate over InboundAbandon.Window from their
// history).
type Inbound struct {
	ServiceLevelTo5  float64
	CountedTo5       int
	ServiceLevelHalf float64
	CountedHalf      int
	Offered          int
	Abandoned        int
}

// CallType is one call type's figures.
type CallType struct {
	Name string
	Inbound
}

// ReservedAgent is an agent in RESERVED since Since.
type ReservedAgent struct {
	Agent string
	Since time.Time
}

// Campaign is an outbound campaign's figures.
type Campaign struct {
	Name string
	// AbandonRate is abandoned over live answers so far; AbandonTarget
	// the compliance target it is held to (0: not judged); LiveAnswers the
	// calls the rate is taken over.
	AbandonRate   float64
	AbandonTarget float64
	LiveAnswers   int
	// HasList: the campaign dials a call list, and RecordsLeft are its
	// records still to be dialed; Dialable those dialable now (-1:
	// unknown, not judged).
	HasList     bool
	RecordsLeft int
	Dialable    int
}

// Action says whether a Change raised or cleared an alert.
type Action string

// Actions.
const (
	Raise Action = "raise"
	Clear Action = "clear"
)

// Change is an alert raised or cleared by one Evaluate.
type Change struct {
	Action   Action    `json:"action"`
	At       time.Time `json:"at"`
	Severity Severity  `json:"severity"`
	Kind     Kind      `json:"kind"`
	// Subject is the call type, agent or campaign (SubjectAll: the whole
	// centre).
	Subject string `json:"subject"`
	// Value is the figure now; Threshold the level it crossed (the raise
	// level for a raise, the clear level for a clear).
	Value     float64 `json:"value"`
	Threshold float64 `json:"threshold"`
	// Since is when the figure first went beyond the raise level.
	Since time.Time `json:"since"`
	// Peak is the worst value while the alert was pending or active.
	Peak float64 `json:"peak"`
}

// String is the change for a log line.
func (c Change) String() string {
	return fmt.Sprintf("%s %s %s %s: %s (threshold %s, since %s)", c.Action, c.Severity, c.Kind, c.Subject,
		format(c.Kind, c.Value), format(c.Kind, c.Threshold), c.Since.Format("15:04:05"))
}

// format writes a value in the unit of its kind.
func format(k Kind, v float64) string {
	switch k {
	case KindQueueWait, KindAgentReserved:
		return (time.Duration(v) * time.Second).String()
	case KindListLow, KindListExhausted:
		return fmt.Sprintf("%.0f records", v)
	}
	return fmt.Sprintf("%.1f %%", 100*v)
}

// Alert is an active alert.
type Alert struct {
	Severity  Severity  `json:"severity"`
	Kind      Kind      `json:"kind"`
	Subject   string    `json:"subject"`
	Value     float64   `json:"value"`
	Peak      float64   `json:"peak"`
	Threshold float64   `json:"threshold"`
	Since     time.Time `json:"since"`
	Raised    time.Time `json:"raised"`
}

// String says what crossed which level, in the kind's unit.
func (a Alert) String() string {
	return fmt.Sprintf("%s: %s (threshold %s, since %s)", a.Kind, format(a.Kind, a.Value), format(a.Kind, a.Threshold), a.Since.Format("15:04:05"))
}

type key struct {
	kind     Kind
	subject  string
	severity Severity
}

// state is one alert's life: pending (beyond the raise level, not yet for
// long enough) or active.
type state struct {
	pending bool
	active  bool
	since   time.Time
	raised  time.Time
	value   float64
	peak    float64
	raise   float64
	clear   float64
	below   bool // a low value is bad (service level, records left)
}

// point is the inbound running totals at one evaluation.
type point struct {
	at                 time.Time
	offered, abandoned int
}

// Evaluator holds the alerts' state between evaluations. It is not safe for
// concurrent use: its owner serialises Evaluate and Active.
type Evaluator struct {
	cfg    Config
	states map[key]*state
	// history is the inbound totals per subject over the abandon window.
	history map[string][]point
	seen    map[key]bool
}

// New returns an Evaluator for cfg, or cfg's validation error.
func New(cfg Config) (*Evaluator, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Evaluator{cfg: cfg, states: map[key]*state{}, history: map[string][]point{}, seen: map[key]bool{}}, nil
}

// Evaluate judges the figures at now and returns the alerts raised and
// cleared, in a stable order (clears first, then by kind, subject,
// severity). now must not go back.
func (e *Evaluator) Evaluate(now time.Time, f Figures) []Change {
	clear(e.seen)
	var out []Change
	c := e.cfg
	if sl := c.ServiceLevel; sl.Below > 0 {
		subjects := []CallType{{Name: SubjectAll, Inbound: f.Inbound}}
		if sl.PerCallType {
			subjects = append(subjects, f.CallTypes...)
		}
		for _, ct := range subjects {
			for _, w := range sl.Windows {
				kind, level, n := KindServiceLevelHalf, ct.ServiceLevelHalf, ct.CountedHalf
				if w == WindowTo5 {
					kind, level, n = KindServiceLevelTo5, ct.ServiceLevelTo5, ct.CountedTo5
				}
				if level < 0 || n < sl.MinCalls || n == 0 {
					e.hold(key{kind, ct.Name, Critical})
					continue
				}
				out = e.judge(out, now, key{kind, ct.Name, Critical}, level, sl.Below, sl.ClearAt, true, sl.For)
			}
		}
	}
	if ia := c.InboundAbandon; ia.Above > 0 {
		// The centre as a whole: a call type's abandons are too few to
		// judge on their own in most half-hours.
		offered, abandoned := e.window(SubjectAll, now, f.Inbound.Offered, f.Inbound.Abandoned, ia.Window)
		k := key{KindInboundAbandon, SubjectAll, Critical}
		if offered < ia.MinCalls || offered <= 0 {
			e.hold(k)
		} else {
			out = e.judge(out, now, k, float64(abandoned)/float64(offered), ia.Above, ia.ClearAt, false, ia.For)
		}
	}
	if qw := c.QueueWait; qw.Above > 0 {
		out = e.judge(out, now, key{KindQueueWait, SubjectAll, Critical}, f.LongestWait.Seconds(),
			qw.Above.Seconds(), qw.ClearAt.Seconds(), false, qw.For)
	}
	if r := c.Reserved; r.Above > 0 {
		for _, a := range f.Reserved {
			// Clears as soon as the agent leaves RESERVED (not listed).
			out = e.judge(out, now, key{KindAgentReserved, a.Agent, Warning}, now.Sub(a.Since).Seconds(),
				r.Above.Seconds(), r.Above.Seconds()/2, false, 0)
		}
	}
	for _, cp := range f.Campaigns {
		if oa := c.OutboundAbandon; oa.On && cp.AbandonTarget > 0 {
			levels := []struct {
				sev   Severity
				raise float64
			}{{Critical, cp.AbandonTarget}}
			if oa.WarnRatio > 0 {
				levels = append(levels, struct {
					sev   Severity
					raise float64
				}{Warning, oa.WarnRatio * cp.AbandonTarget})
			}
			for _, l := range levels {
				k := key{KindOutboundAbandon, cp.Name, l.sev}
				if cp.LiveAnswers < oa.MinCalls || cp.LiveAnswers == 0 {
					e.hold(k)
					continue
				}
				// At the target is already out of compliance: the raise
				// is inclusive, judged a hair below the level.
				out = e.judge(out, now, k, cp.AbandonRate, l.raise*(1-1e-9), oa.ClearRatio*l.raise, false, oa.For)
			}
		}
		if l := c.List; cp.HasList {
			if l.Below > 0 {
				out = e.judge(out, now, key{KindListLow, cp.Name, Warning}, float64(cp.RecordsLeft),
					float64(l.Below), float64(l.ClearAt), true, l.For)
			}
			if k := (key{KindListExhausted, cp.Name, Critical}); l.NoneDialable {
				if cp.Dialable < 0 {
					e.hold(k)
				} else {
					// Raised at none, cleared at one.
					out = e.judge(out, now, k, float64(cp.Dialable), 0.5, 1, true, l.For)
				}
			}
		}
	}
	// Subjects no longer reported (an agent out of RESERVED, a campaign
	// gone) clear or stop pending.
	for k, s := range e.states {
		if e.seen[k] {
			continue
		}
		if s.active {
			out = append(out, e.change(Clear, now, k, s, s.clear))
		}
		delete(e.states, k)
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Action != b.Action {
			return a.Action == Clear
		}
		if a.Kind != b.Kind {
			return a.Kind < b.Kind
		}
		if a.Subject != b.Subject {
			return a.Subject < b.Subject
		}
		return a.Severity < b.Severity
	})
	return out
}

// hold keeps an alert as it is when its figure cannot be judged now (too
// few calls, nothing counted yet): neither raised nor cleared, and a
// pending one keeps its start.
func (e *Evaluator) hold(k key) { e.seen[k] = true }

// judge moves one alert along with its figure v: pending once v is beyond
// raise, raised once it has been for at least hold, cleared once v is back
// at or past clear. below says that a low value is bad.
func (e *Evaluator) judge(out []Change, now time.Time, k key, v, raise, clear float64, below bool, hold time.Duration) []Change {
	e.seen[k] = true
	s := e.states[k]
	beyond := v > raise
	back := v <= clear
	if below {
		beyond, back = v < raise, v >= clear
	}
	if s == nil {
		if !beyond {
			return out
		}
		s = &state{pending: true, since: now, peak: v, below: below}
		e.states[k] = s
	}
	s.value, s.raise, s.clear = v, raise, clear
	if below && v < s.peak || !below && v > s.peak {
		s.peak = v
	}
	switch {
	case s.active && back:
		out = append(out, e.change(Clear, now, k, s, clear))
		delete(e.states, k)
	case s.active:
	case !beyond:
		delete(e.states, k) // pending, but not for long enough
	case now.Sub(s.since) >= hold:
		s.pending, s.active, s.raised = false, true, now
		out = append(out, e.change(Raise, now, k, s, raise))
	}
	return out
}

func (e *Evaluator) change(a Action, now time.Time, k key, s *state, threshold float64) Change {
	return Change{Action: a, At: now, Severity: k.severity, Kind: k.kind, Subject: k.subject, Value: s.value,
		Threshold: threshold, Since: s.since, Peak: s.peak}
}

// window returns the calls offered and abandoned over the last w from the
// running totals, keeping the history it needs; until w has passed since
// the first evaluation it is the running totals themselves.
func (e *Evaluator) window(subject string, now time.Time, offered, abandoned int, w time.Duration) (int, int) {
	h := append(e.history[subject], point{now, offered, abandoned})
	// Keep the newest point at or before now-w as the base.
	// The points are in time order: only the oldest few can drop.
	cut := 0
	for cut+1 < len(h) && !h[cut+1].at.After(now.Add(-w)) {
		cut++
	}
	h = h[cut:]
	e.history[subject] = h
	base := h[0]
	if len(h) == 1 {
		return offered, abandoned
	}
	return offered - base.offered, abandoned - base.abandoned
}

// Active lists the active alerts by kind, subject and severity.
func (e *Evaluator) Active() []Alert {
	out := []Alert{}
	for k, s := range e.states {
		if s.active {
			out = append(out, Alert{Severity: k.severity, Kind: k.kind, Subject: k.subject, Value: s.value, Peak: s.peak,
				Threshold: s.raise, Since: s.since, Raised: s.raised})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Kind != b.Kind {
			return a.Kind < b.Kind
		}
		if a.Subject != b.Subject {
			return a.Subject < b.Subject
		}
		return a.Severity < b.Severity
	})
	return out
}
