package dialer

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// Compliance is how a campaign's abandon rate is measured and limited
// (dialer-anchors.md §1.4, §3).
type Compliance struct {
	// AbandonLimit is the limit on the abandon rate, 0 < limit < 1 (0.03).
	AbandonLimit float64
	// UKOfcom measures the rate the UK way: the answering-machine adjusted
	// formula (Abandons.RateUK) over a rolling 24 h window (UKWindow)
	// instead of abandons over live answers (the predictive dialer: over
	// its AbandonWindow, 30 days).
	UKOfcom bool
}

// Validate reports an invalid limit, naming the field.
func (c Compliance) Validate() error {
	if !(c.AbandonLimit > 0 && c.AbandonLimit < 1) {
		return fmt.Errorf("dialer: Compliance.AbandonLimit %v: want 0 < limit < 1", c.AbandonLimit)
	}
	return nil
}

// WindowSetter is implemented by strategies that hold the plain abandon
// rate over a rolling window (Predictive's AbandonWindow) whose length can
// change while they run: 0 is the window the strategy was configured with,
// otherwise 1 h to MaxAbandonWindow.
type WindowSetter interface {
	SetAbandonWindow(time.Duration) error
}

// ComplianceSetter is implemented by strategies whose abandon limit and
// measurement can change while they run (a campaign edited in progress,
// dialer-anchors.md §2.5). The new setting holds from the next Decide.
type ComplianceSetter interface {
	SetCompliance(Compliance) error
}

// LevelSetter is implemented by strategies with a lines-per-agent level
// (Ratio) that can change while they run.
type LevelSetter interface {
	SetLevel(level float64) error
}

// UKWindow is Ofcom's measurement period: abandoned calls are counted over
// any 24 hours (dialer-anchors.md §3).
const UKWindow = 24 * time.Hour

// DefaultAbandonWindow is the FTC's and FCC's: 3 % of the live answers of
// a campaign over each 30 days (dialer-anchors.md §3).
const DefaultAbandonWindow = 30 * 24 * time.Hour

// MaxAbandonWindow bounds a configured window (a year).
const MaxAbandonWindow = 366 * 24 * time.Hour

// Machine records one answering machine dispositioned by an agent (the AM
// of the Ofcom formula). It is not a live answer.
func (a *Abandons) Machine() { a.Machines++ }

// Handled is H of the Ofcom formula: live answers an agent handled.
func (a Abandons) Handled() int64 { return a.LiveAnswered - a.Abandoned }

// RateUK is Ofcom's answering-machine adjusted abandon rate (VICIdial's
// ofcom_uk_drop_calc, dialer-anchors.md §1.4): some of the abandoned calls
// were machines nobody would have talked to, estimated in the proportion
// machines bear to the answers agents handled,
//
//	est  = D × AM / (AM + H)
//	rate = (D − est) / (H + D − est)
//
// with D = Abandoned, H = Handled, AM = Machines. D=29, H=9, AM=7 gives
// 16.3125 / 25.3125 = 64.44 %. With no machines it is the US rate,
// D / (H + D). It is 0 before any answer.
func (a Abandons) RateUK() float64 {
	d, h, am := float64(a.Abandoned), float64(a.Handled()), float64(a.Machines)
	var est float64
	if am+h > 0 {
		est = d * am / (am + h)
	}
	den := h + d - est
	if den <= 0 {
		return 0
	}
	return (d - est) / den
}

// windowBucket is the counts of one bucket of a rolling window.
type windowBucket struct {
	start time.Time
	n     Abandons
}

// AbandonWindow counts live answers, abandons and machines over a rolling
// window (UKWindow for Ofcom), in buckets of a 1440th of the window and at
// least a minute, so memory is bounded (1,440 buckets) and a count is exact
// to the bucket: the minute for 24 h, the half hour for 30 days. Events are
// expected in time order; one older than the newest bucket is counted in it.
// The zero value has a 24 h window.
type AbandonWindow struct {
	// Length is the window (0: UKWindow).
	Length  time.Duration
	buckets []windowBucket // oldest first
	head    int            // first live bucket
	sum     Abandons
}

// bucketLen is the window's bucket: a 1440th of it, at least a minute.
func (w *AbandonWindow) bucketLen() time.Duration {
	return max(time.Minute, w.length()/1440)
}

func (w *AbandonWindow) length() time.Duration {
	if w.Length <= 0 {
		return UKWindow
	}
	return w.Length
}

func (w *AbandonWindow) bucket(at time.Time) *Abandons {
	start := at.Truncate(w.bucketLen())
	if n := len(w.buckets); n > w.head && !start.After(w.buckets[n-1].start) {
		return &w.buckets[n-1].n
	}
	if w.head > 0 && w.head == len(w.buckets) {
		w.buckets, w.head = w.buckets[:0], 0
	} else if w.head > 1024 && w.head > len(w.buckets)/2 {
		w.buckets = append(w.buckets[:0], w.buckets[w.head:]...)
		w.head = 0
	}
	w.buckets = append(w.buckets, windowBucket{start: start})
	return &w.buckets[len(w.buckets)-1].n
}

// Answered records a live answer at at (see Abandons.Answered).
func (w *AbandonWindow) Answered(at time.Time, agentConnected bool) {
	w.evict(at)
	w.bucket(at).Answered(agentConnected)
	w.sum.Answered(agentConnected)
}

// Machine records an agent-dispositioned answering machine at at.
func (w *AbandonWindow) Machine(at time.Time) {
	w.evict(at)
	w.bucket(at).Machine()
	w.sum.Machine()
}

func (w *AbandonWindow) evict(now time.Time) {
	cut := now.Add(-w.length())
	for w.head < len(w.buckets) && !w.buckets[w.head].start.Add(w.bucketLen()).After(cut) {
		b := w.buckets[w.head].n
		w.sum.LiveAnswered -= b.LiveAnswered
		w.sum.Abandoned -= b.Abandoned
		w.sum.Machines -= b.Machines
		w.head++
	}
}

// resized is a window of length holding w's counts, each bucket's counts
// at its start (evicted as length requires when the next event or Counts
// comes).
func (w *AbandonWindow) resized(length time.Duration) AbandonWindow {
	n := AbandonWindow{Length: length}
	for _, b := range w.buckets[w.head:] {
		n.add(b.start, b.n)
	}
	return n
}

// Counts returns the counts of the window ending at now.
func (w *AbandonWindow) Counts(now time.Time) Abandons {
	w.evict(now)
	return w.sum
}

// SetAbandonWindow implements WindowSetter. The new window keeps the
// counts the old one holds that fall within it, re-bucketed: a shorter one
// drops the oldest at once; a longer one cannot count what the old one had
// already let go, and fills as the campaign dials. A pacing state is best
// resumed after the window is set, so that nothing it carries is dropped.
func (p *Predictive) SetAbandonWindow(d time.Duration) error {
	if d == 0 {
		d = p.configuredWindow
	}
	if d < time.Hour || d > MaxAbandonWindow {
		return fmt.Errorf("dialer: abandon window %v: want 0 (the configured %v) or 1h .. %v", d, p.configuredWindow, MaxAbandonWindow)
	}
	if d != p.cfg.AbandonWindow {
		p.rolling = p.rolling.resized(d)
		p.cfg.AbandonWindow = d
	}
	return nil
}

// SetCompliance implements ComplianceSetter: the new limit (and the aim, if
// it was the default 85 % of the limit, or if it is above the new limit) and
// measurement hold from the next Decide. λ is scaled with the aim, so the
// dialer starts from where the old one would have settled for the new aim
// and the feedback refines it.
func (p *Predictive) SetCompliance(c Compliance) error {
	if err := c.Validate(); err != nil {
		return err
	}
	old := p.cfg.Aim
	p.cfg.AbandonLimit = c.AbandonLimit
	if p.aimDefault || p.cfg.Aim > c.AbandonLimit {
		p.cfg.Aim = 0.85 * c.AbandonLimit
		p.aimDefault = true
	}
	if old > 0 && p.cfg.Aim != old {
		p.logLam = min(math.Log(0.5), max(math.Log(1e-9), p.logLam+math.Log(p.cfg.Aim/old)))
	}
	p.cfg.UKOfcom = c.UKOfcom
	return nil
}

// SetLevel implements LevelSetter: the fixed ratio dials at level from the
// next Decide, under the name ratio-<level>.
func (r *Ratio) SetLevel(level float64) error {
	if err := (RatioConfig{Level: level}).Validate(); err != nil {
		return err
	}
	if r.level != level {
		r.level, r.name = level, "ratio-"+formatLevel(level)
	}
	return nil
}

// SetConfig replaces the pacer's configuration from the next decision; the
// carried fraction of a line is kept.
func (p *Pacer) SetConfig(cfg Config) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	p.cfg = cfg
	return nil
}

var errNoLevel = errors.New("dialer: the strategy has no lines-per-agent level")

// SetStrategyLevel sets a strategy's lines-per-agent level, or fails naming
// the strategy when it has none.
func SetStrategyLevel(s Strategy, level float64) error {
	if ls, ok := s.(LevelSetter); ok {
		return ls.SetLevel(level)
	}
	return fmt.Errorf("%w (%s)", errNoLevel, s.Name())
}
