// Package reporting keeps the historical statistics of a contact centre:
// half-hour interval records in the manner of ICM's Call_Type_Half_Hour,
// Skill_Group_Half_Hour and Agent_Half_Hour tables, plus the campaign's
// dialing outcomes, stored in SQLite and printed as tables or CSV.
//
// Records hold raw sums (counts, milliseconds, the service-level parts)
// rather than ratios, so that any range of intervals adds up exactly and
// the service level, ASA and handle time of a range are computed from its
// sums, as ICM's reports do from the half-hour tables.
package reporting

import (
	"fmt"
	"strings"
	"time"
)

// IntervalLength is ICM's historical interval: half-hour rows start at
// xx:00 and xx:30 peripheral time. A row is named by the half-hour it
// belongs to: a run that starts at 16:01 has its first row start at 16:00
// (its figures from 16:01), and its last row ends when the run did.
const IntervalLength = 30 * time.Minute

// Kind names one of the interval tables.
type Kind string

// The kinds of interval records.
const (
	KindCallType   Kind = "calltype"
	KindSkillGroup Kind = "skillgroup"
	KindAgent      Kind = "agent"
	KindCampaign   Kind = "campaign"
)

// Kinds lists every kind in the order reports present them.
var Kinds = []Kind{KindCallType, KindSkillGroup, KindAgent, KindCampaign}

// ParseKind accepts a kind's name; anything else is an error listing the
// names.
func ParseKind(s string) (Kind, error) {
	for _, k := range Kinds {
		if string(k) == s {
			return k, nil
		}
	}
	names := make([]string, len(Kinds))
	for i, k := range Kinds {
		names[i] = string(k)
	}
	return "", fmt.Errorf("unknown kind %q: want one of %s", s, strings.Join(names, ", "))
}

// Span is an interval's time: [Start, End).
type Span struct {
	Start time.Time
	End   time.Time
}

// CallTypeInterval is one call type over one interval (Call_Type_Half_Hour).
type CallTypeInterval struct {
	Span
	CallType   string
	CallTypeID uint32
	// ServiceLevelType is ICM's 1 (ignore abandons), 2 (abandons count
	// negatively) or 3 (abandons count positively); ipcc-behaviour.md §1.1.
	ServiceLevelType int
	Offered          int64
	Answered         int64
	// Abandoned includes the short calls, as the run's report does.
	Abandoned int64
	// The service-level events (ipcc-behaviour.md §1.2): SLCalls are the
	// calls answered within the threshold, SLAband those abandoned within
	// it, SLOffered every call whose service-level event happened here.
	SLCalls, SLOffered, SLAband int64
	// AnswerWait is arrival to answer over the answered calls (ASA's sum).
	AnswerWait time.Duration
	// Handled calls ended their after-call work in the interval;
	// HandleTime is their talk plus after-call time.
	Handled    int64
	HandleTime time.Duration
}

// Add accumulates o's counts into c (the span and names are c's).
func (c *CallTypeInterval) Add(o CallTypeInterval) {
	c.Offered += o.Offered
	c.Answered += o.Answered
	c.Abandoned += o.Abandoned
	c.SLCalls += o.SLCalls
	c.SLOffered += o.SLOffered
	c.SLAband += o.SLAband
	c.AnswerWait += o.AnswerWait
	c.Handled += o.Handled
	c.HandleTime += o.HandleTime
}

// ServiceLevel is the fraction 0..1 per ServiceLevelType (§1.3); 0 with
// no service-level events.
func (c CallTypeInterval) ServiceLevel() float64 {
	num, den := c.SLParts()
	return ratio(num, den)
}

// SLParts returns the numerator and denominator of the service level, so
// that call types with different ServiceLevelTypes can be combined.
func (c CallTypeInterval) SLParts() (num, den float64) {
	switch c.ServiceLevelType {
	case 1:
		return float64(c.SLCalls), float64(c.SLOffered - c.SLAband)
	case 3:
		return float64(c.SLCalls + c.SLAband), float64(c.SLOffered)
	default:
		return float64(c.SLCalls), float64(c.SLOffered)
	}
}

// ASA is AnswerWait over Answered.
func (c CallTypeInterval) ASA() time.Duration { return per(c.AnswerWait, c.Answered) }

// AHT is the average handle time of the handled calls.
func (c CallTypeInterval) AHT() time.Duration { return per(c.HandleTime, c.Handled) }

// SkillGroupInterval is one skill group over one interval
// (Skill_Group_Half_Hour).
type SkillGroupInterval struct {
	Span
	SkillGroup string
	Number     uint32
	// Handled calls and their talk time (ICM's HandledCallsTalkTime).
	Handled  int64
	TalkTime time.Duration
	// The member agents' time available (ready), not ready, and logged on;
	// an agent in several skill groups counts in each, as in ICM.
	ReadyTime    time.Duration
	NotReadyTime time.Duration
	LoggedOnTime time.Duration
	// AgentsLoggedOn is the member agents logged on at the interval's end.
	AgentsLoggedOn int
	// AgentsAnyGroup is the distinct agents logged on in any skill group
	// at the interval's end, the same in every group's row of an
	// interval: an agent in several groups counts once here and in each
	// group's AgentsLoggedOn. The "all" row of a report shows its peak
	// (0 in a store written before it was kept: the largest group's
	// peak is shown instead).
	AgentsAnyGroup int
}

// Add accumulates o into s; AgentsLoggedOn and AgentsAnyGroup become the
// larger (a headcount does not add up over time: a range's figure is its
// peak).
func (s *SkillGroupInterval) Add(o SkillGroupInterval) {
	s.Handled += o.Handled
	s.TalkTime += o.TalkTime
	s.ReadyTime += o.ReadyTime
	s.NotReadyTime += o.NotReadyTime
	s.LoggedOnTime += o.LoggedOnTime
	s.AgentsLoggedOn = max(s.AgentsLoggedOn, o.AgentsLoggedOn)
	s.AgentsAnyGroup = max(s.AgentsAnyGroup, o.AgentsAnyGroup)
}

// AgentInterval is one agent over one interval (Agent_Half_Hour).
// Outbound-only agents (lines without an ICM agent) have calls and talk
// time only: ICM keeps no state for them.
type AgentInterval struct {
	Span
	AgentID string
	Group   string
	// Calls connected to the agent in the interval.
	Calls                         int64
	Talk, Hold, WrapUp            time.Duration
	Ready, NotReady, LoggedOnTime time.Duration
}

// Add accumulates o into a.
func (a *AgentInterval) Add(o AgentInterval) {
	a.Calls += o.Calls
	a.Talk += o.Talk
	a.Hold += o.Hold
	a.WrapUp += o.WrapUp
	a.Ready += o.Ready
	a.NotReady += o.NotReady
	a.LoggedOnTime += o.LoggedOnTime
}

// CampaignInterval is one outbound campaign's dialing over one interval.
type CampaignInterval struct {
	Span
	Campaign string
	Attempts int64
	// Connects are answered calls connected to an agent; Abandoned
	// answered with no agent free.
	Connects  int64
	Abandoned int64
	Busy      int64
	NoAnswer  int64
	// Machines answered by an answering machine.
	Machines int64
}

// Add accumulates o into c.
func (c *CampaignInterval) Add(o CampaignInterval) {
	c.Attempts += o.Attempts
	c.Connects += o.Connects
	c.Abandoned += o.Abandoned
	c.Busy += o.Busy
	c.NoAnswer += o.NoAnswer
	c.Machines += o.Machines
}

// AbandonRate is abandons over answered calls (connects + abandons).
func (c CampaignInterval) AbandonRate() float64 {
	return ratio(float64(c.Abandoned), float64(c.Connects+c.Abandoned))
}

// Intervals are a run's interval records, oldest first within each kind.
type Intervals struct {
	CallTypes   []CallTypeInterval
	SkillGroups []SkillGroupInterval
	Agents      []AgentInterval
	Campaigns   []CampaignInterval
}

// Len counts the records of every kind.
func (iv *Intervals) Len() int {
	return len(iv.CallTypes) + len(iv.SkillGroups) + len(iv.Agents) + len(iv.Campaigns)
}

func ratio(a, b float64) float64 {
	if b <= 0 {
		return 0
	}
	return a / b
}

func per(d time.Duration, n int64) time.Duration {
	if n <= 0 {
		return 0
	}
	return d / time.Duration(n)
}

// ParseTime reads a report range bound: RFC 3339, or a clock time "15:04"
// on day's date in day's location (a simulated day's intervals are on one
// date; the store's first interval gives it).
func ParseTime(s string, day time.Time) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	c, err := time.Parse("15:04", s)
	if err != nil {
		return time.Time{}, fmt.Errorf("time %q: want HH:MM or RFC 3339 (2026-01-05T09:00:00Z)", s)
	}
	y, m, d := day.Date()
	return time.Date(y, m, d, c.Hour(), c.Minute(), 0, 0, day.Location()), nil
}
