package controller

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ipcclab/ipcclab/controller/dialer"
	"github.com/ipcclab/ipcclab/protocol/cti"
)

// Records is where the campaign's calls come from when Config.Records is
// set: a call list with its compliance rules (controller/campaign's store
// implements it). Agent mode and pool mode ask it for a record before each
// call and dial the record's number instead of a synthetic one.
//
// The core calls it synchronously from its event loop, the one exception to
// its purity: an implementation takes time as an argument (the core passes
// its scheduler's now, virtual time in simulation), starts no goroutines and
// reads no clock, so the core stays deterministic; it may block on its
// storage (a SQLite transaction), which holds up the loop for that long.
type Records interface {
	// Next claims up to n records callable at now: inside the campaign's
	// calling hours in the customer's local time, not on the do-not-call
	// list, due (retry delay or lockout past), recalls and web callbacks
	// first, then by priority. agentID != "" also admits the recalls
	// reserved for that agent (personal recalls), first. A claimed record
	// must go to Begin or back with Release.
	Next(now time.Time, n int, agentID string) ([]Record, error)
	// Begin journals an attempt on a claimed record BEFORE its dial
	// request leaves (crash safety): only after it returns may the number
	// be dialed. On an error the core does not dial and calls Release,
	// which must accept a record Begin already released or closed (a
	// window that shut, a number listed DNC meanwhile).
	Begin(rec Record, now time.Time) (AttemptID, error)
	// End records how the attempt ended and applies the campaign's retry
	// rules (busy, no answer, abandoned lockout, …).
	End(id AttemptID, outcome Outcome, now time.Time) error
	// Release returns a claimed record that was not dialed.
	Release(rec Record) error
}

// Record is one customer to call.
type Record struct {
	ID    int64
	Phone string // the number dialed (DialedNumber)
	// Fields are the customer fields of the call list (name, account, …).
	Fields map[string]string
}

// AttemptID names a journaled attempt.
type AttemptID int64

// Outcome is how an attempt ended, as the controller sees it on the wire.
type Outcome uint8

// Attempt outcomes.
const (
	// OutcomeConnected: a live answer was connected to an agent.
	OutcomeConnected Outcome = iota + 1
	// OutcomeAbandoned: a live answer found no agent within the connect
	// limit (or hung up waiting): the abandoned-call rule applies (the UK
	// 72 h lockout).
	OutcomeAbandoned
	// OutcomeBusy: CALL_FAILED with CEC_BUSY.
	OutcomeBusy
	// OutcomeNoAnswer: CALL_FAILED with CEC_CALL_NOT_ANSWERED or
	// CEC_TIME_OUT, or the call ended while still ringing.
	OutcomeNoAnswer
	// OutcomeMachine: an answering machine answered.
	OutcomeMachine
	// OutcomeFailed: the network or the CTI Server refused or failed the
	// call (CALL_FAILED with another cause, FAILURE_CONF or
	// CONTROL_FAILURE_CONF to the dial request).
	OutcomeFailed
	// OutcomeUnknown: the controller lost sight of the call (the CTI
	// connection dropped): it may have been answered.
	OutcomeUnknown
)

var outcomeNames = [...]string{"", "connected", "abandoned", "busy", "no-answer", "machine", "failed", "unknown"}

func (o Outcome) String() string {
	if int(o) < len(outcomeNames) && o != 0 {
		return outcomeNames[o]
	}
	return fmt.Sprintf("Outcome(%d)", int(o))
}

// failedOutcome maps CALL_FAILED's cause as the report counts it.
func failedOutcome(cause cti.EventCause) Outcome {
	switch cause {
	case cti.CECBusy:
		return OutcomeBusy
	case cti.CECCallNotAnswered, cti.CECTimeOut:
		return OutcomeNoAnswer
	}
	return OutcomeFailed
}

// attempt is one journaled attempt in flight.
type attempt struct {
	rec   Record
	id    AttemptID
	ended bool
}

// recordsBackoff is how long the core waits before asking Records again
// after it found nothing callable (a list worked through, everyone outside
// the calling hours): the pacer ticks every second and must not turn into a
// query loop. UpdateCampaign and RecordsChanged end the wait.
const recordsBackoff = 30 * time.Second

// claim asks Records for up to n records; nothing on an error (logged) or
// during the back-off.
func (c *Core) claim(now time.Time, n int, agentID string) []Record {
	if n <= 0 || now.Before(c.recIdle) {
		return nil
	}
	recs, err := c.cfg.Records.Next(now, n, agentID)
	if err != nil {
		c.report.RecordErrors++
		c.logf("controller: no records: %v", err)
		c.recIdle = now.Add(recordsBackoff)
		return nil
	}
	if len(recs) == 0 {
		c.recIdle = now.Add(recordsBackoff)
	}
	return recs
}

// nextDial returns the number to dial now for agentID ("" in pool mode)
// and its journaled attempt: a synthetic NumberPrefix + sequence number
// without Records; with Records a claimed record, begun. ok is false when
// there is nothing to dial.
func (c *Core) nextDial(now time.Time, agentID string) (number string, att *attempt, ok bool) {
	if c.cfg.Records == nil {
		c.dialSeq++
		return fmt.Sprintf("%s%07d", c.cfg.NumberPrefix, c.dialSeq), nil, true
	}
	recs := c.claim(now, 1, agentID)
	if len(recs) == 0 {
		return "", nil, false
	}
	att = c.beginAttempt(recs[0], now)
	if att == nil {
		return "", nil, false
	}
	return att.rec.Phone, att, true
}

// beginAttempt journals rec before its dial; nil (record released, error
// logged) when the journal refuses.
func (c *Core) beginAttempt(rec Record, now time.Time) *attempt {
	id, err := c.cfg.Records.Begin(rec, now)
	if err != nil {
		c.report.RecordErrors++
		c.logf("controller: record %d not dialed: %v", rec.ID, err)
		if rerr := c.cfg.Records.Release(rec); rerr != nil {
			c.logf("controller: record %d: release: %v", rec.ID, rerr)
		}
		return nil
	}
	return &attempt{rec: rec, id: id}
}

// endAttempt records an attempt's outcome once.
func (c *Core) endAttempt(a *attempt, o Outcome, now time.Time) {
	if a == nil || a.ended || c.cfg.Records == nil {
		return
	}
	a.ended = true
	if err := c.cfg.Records.End(a.id, o, now); err != nil {
		c.report.RecordErrors++
		c.logf("controller: record %d, attempt %d: ending it %v: %v", a.rec.ID, a.id, o, err)
	}
}

// endLostDials ends the attempts of dial requests still unanswered when
// the connection is lost: the calls may exist, nobody will report them.
func (c *Core) endLostDials(now time.Time) {
	for inv, p := range c.wait {
		if p.att != nil {
			c.endAttempt(p.att, OutcomeUnknown, now)
			delete(c.wait, inv)
		}
	}
}

// setCallVars puts the record on the call for the agent's screen pop:
// CallVariable1 stays the campaign, CallVariable2 is the record ID,
// CallVariable3 the customer's account and CallVariable4 the name, when
// the list has them.
func (a *attempt) setCallVars(req *cti.MakePredictiveCallReq) {
	if a == nil {
		return
	}
	req.CallVariable2 = strconv.FormatInt(a.rec.ID, 10)
	req.CallVariable3 = callVar(field(a.rec.Fields, "account"))
	req.CallVariable4 = callVar(field(a.rec.Fields, "name"))
}

// field reads a customer field by case-insensitive name.
func field(fields map[string]string, name string) string {
	if v, ok := fields[name]; ok {
		return v
	}
	for k, v := range fields {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}

// callVar fits a value in a call variable (STRING 41: 40 bytes), cut at a
// rune boundary.
func callVar(s string) string {
	if len(s) <= 40 {
		return s
	}
	s = s[:40]
	for len(s) > 0 {
		if r, size := utf8.DecodeLastRuneInString(s); r != utf8.RuneError || size > 1 {
			break
		}
		s = s[:len(s)-1]
	}
	return s
}

// RecordsChanged tells the core that records may have become callable
// (a list imported, a callback added) so it asks Records at its next
// decision instead of waiting out the back-off.
func (c *Core) RecordsChanged() { c.recIdle = time.Time{} }

// CampaignLimits are the pacing settings of the running campaign that can
// change while the controller runs (a campaign edited in progress,
// dialer-anchors.md §2.5). Zero and nil fields keep the current value,
// except AbandonWindow, where nil keeps it and 0 is the configured window.
type CampaignLimits struct {
	// AbandonLimit is the campaign's abandon-rate limit, 0 < limit < 1:
	// the pool report's limit and the strategy's, if it has one.
	AbandonLimit float64
	// MaxInFlight caps the calls dialing (and, in pool mode, waiting) at
	// once, ≥ 1: the progressive pacer's MaxLinesInFlight in agent mode,
	// Pool.MaxInFlight in pool mode.
	MaxInFlight int
	// LinesPerAgent is the progressive pacer's lines per idle agent in
	// agent mode, the fixed-ratio strategy's level in pool mode, 1–100.
	LinesPerAgent float64
	// UKOfcom switches the UK measurement on or off (nil keeps it): the
	// pool report's rate and the strategy's limit use Abandons.RateUK over
	// the last 24 h.
	UKOfcom *bool
	// AbandonWindow is how far back the strategy holds the plain abandon
	// rate to the limit (a dialer.WindowSetter: the predictive dialer's
	// PredictiveConfig.AbandonWindow; UK mode measures over 24 h
	// regardless): nil keeps it, 0 returns to the configured window,
	// otherwise 1 h to a year. Only a pool whose strategy holds a window
	// takes one; elsewhere 0 is accepted and does nothing.
	AbandonWindow *time.Duration
}

// LimitError is a CampaignLimits field the core cannot apply.
type LimitError struct {
	Field string // CampaignLimits field name
	Err   error
}

func (e *LimitError) Error() string {
	return fmt.Sprintf("controller: CampaignLimits.%s: %v", e.Field, e.Err)
}

func (e *LimitError) Unwrap() error { return e.Err }

// UpdateCampaign applies new campaign limits from the next decision (the
// next pool tick or pacing run) without a restart. Call it on the core's
// loop (Handle.UpdateCampaign does). It checks every field first and
// changes nothing when one is invalid. The calling hours and lists live in
// Records, which reads them afresh at every Next; this ends the back-off so
// a widened window is seen at once.
func (c *Core) UpdateCampaign(l CampaignLimits) error {
	var errs []error
	bad := func(field string, err error) { errs = append(errs, &LimitError{field, err}) }
	if l.AbandonLimit != 0 && !(l.AbandonLimit > 0 && l.AbandonLimit < 1) {
		bad("AbandonLimit", fmt.Errorf("%v: want 0 < limit < 1", l.AbandonLimit))
	}
	if w := l.AbandonWindow; w != nil && *w != 0 {
		_, holds := c.windowSetter()
		switch {
		case *w < time.Hour || *w > dialer.MaxAbandonWindow:
			bad("AbandonWindow", fmt.Errorf("%v: want 0 (the configured window) or 1h .. %v", *w, dialer.MaxAbandonWindow))
		case !holds && c.pool != nil:
			bad("AbandonWindow", fmt.Errorf("strategy %s holds no abandon window (predictive does)", c.pool.cfg.Strategy.Name()))
		case !holds:
			bad("AbandonWindow", errors.New("only a predictive dialing pool holds an abandon window (controller.pacing.mode pool)"))
		}
	}
	if l.MaxInFlight < 0 {
		bad("MaxInFlight", fmt.Errorf("%d: want ≥ 1", l.MaxInFlight))
	}
	if l.LinesPerAgent != 0 && !(l.LinesPerAgent >= 1 && l.LinesPerAgent <= 100) {
		bad("LinesPerAgent", fmt.Errorf("%v: want 1 ≤ lines ≤ 100", l.LinesPerAgent))
	}
	if c.pool != nil && l.LinesPerAgent != 0 {
		if _, ok := c.pool.cfg.Strategy.(dialer.LevelSetter); !ok {
			bad("LinesPerAgent", fmt.Errorf("strategy %s has no lines-per-agent level", c.pool.cfg.Strategy.Name()))
		}
	}
	if c.pool == nil && c.pacer == nil {
		if l.MaxInFlight != 0 {
			bad("MaxInFlight", errors.New("the controller runs no pacer (outbound disabled or preview mode)"))
		}
		if l.LinesPerAgent != 0 {
			bad("LinesPerAgent", errors.New("the controller runs no pacer (outbound disabled or preview mode)"))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	switch {
	case c.pool != nil:
		p := c.pool
		if l.MaxInFlight != 0 {
			p.cfg.MaxInFlight = l.MaxInFlight
		}
		if l.AbandonLimit != 0 {
			p.cfg.AbandonLimit = l.AbandonLimit
		}
		if l.UKOfcom != nil {
			p.cfg.UKOfcom = *l.UKOfcom
		}
		if ws, ok := c.windowSetter(); ok && l.AbandonWindow != nil {
			if err := ws.SetAbandonWindow(*l.AbandonWindow); err != nil {
				return &LimitError{"AbandonWindow", err}
			}
		}
		if cs, ok := p.cfg.Strategy.(dialer.ComplianceSetter); ok && (l.AbandonLimit != 0 || l.UKOfcom != nil) {
			if err := cs.SetCompliance(dialer.Compliance{AbandonLimit: p.cfg.AbandonLimit, UKOfcom: p.cfg.UKOfcom}); err != nil {
				return &LimitError{"AbandonLimit", err}
			}
		}
		if l.LinesPerAgent != 0 {
			if err := dialer.SetStrategyLevel(p.cfg.Strategy, l.LinesPerAgent); err != nil {
				return &LimitError{"LinesPerAgent", err}
			}
		}
	case c.pacer != nil:
		pc := c.pacer.Config()
		if l.MaxInFlight != 0 {
			pc.MaxLinesInFlight = l.MaxInFlight
		}
		if l.LinesPerAgent != 0 {
			pc.LinesPerAgent = l.LinesPerAgent
		}
		if err := c.pacer.SetConfig(pc); err != nil {
			return &LimitError{"LinesPerAgent", err}
		}
	}
	if l.AbandonLimit != 0 {
		c.limits.AbandonLimit = l.AbandonLimit
	}
	if l.UKOfcom != nil {
		uk := *l.UKOfcom
		c.limits.UKOfcom = &uk
	}
	c.recIdle = time.Time{}
	c.logf("controller: campaign limits now %s", c.Limits())
	return nil
}

// windowSetter is the pool's strategy when it holds an abandon window.
func (c *Core) windowSetter() (dialer.WindowSetter, bool) {
	if c.pool == nil {
		return nil, false
	}
	ws, ok := c.pool.cfg.Strategy.(dialer.WindowSetter)
	return ws, ok
}

// Limits returns the campaign limits in force.
func (c *Core) Limits() CampaignLimits {
	l := c.limits
	switch {
	case c.pool != nil:
		uk := c.pool.cfg.UKOfcom
		l.AbandonLimit, l.MaxInFlight, l.UKOfcom = c.pool.cfg.AbandonLimit, c.pool.cfg.MaxInFlight, &uk
		if r, ok := c.pool.cfg.Strategy.(interface{ Level() float64 }); ok {
			l.LinesPerAgent = r.Level()
		}
		if p, ok := c.pool.cfg.Strategy.(*dialer.Predictive); ok {
			w := p.Config().AbandonWindow
			l.AbandonWindow = &w
		}
	case c.pacer != nil:
		pc := c.pacer.Config()
		l.MaxInFlight, l.LinesPerAgent = pc.MaxLinesInFlight, pc.LinesPerAgent
	}
	if l.UKOfcom == nil {
		f := false
		l.UKOfcom = &f
	}
	return l
}

func (l CampaignLimits) String() string {
	uk := l.UKOfcom != nil && *l.UKOfcom
	s := fmt.Sprintf("abandon limit %g, max in flight %d, lines per agent %g, UK Ofcom %v", l.AbandonLimit, l.MaxInFlight, l.LinesPerAgent, uk)
	if l.AbandonWindow != nil {
		s += fmt.Sprintf(", abandon window %v", *l.AbandonWindow)
		if uk {
			s += " (UK: measured over 24h)"
		}
	}
	return s
}
