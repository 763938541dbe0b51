package dialer

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"time"
)

// Predictive is our predictive pacing. It places a call when the chance
// that this call, if a live person answers it, finds no agent free is below
// a threshold λ, and it moves λ so that the abandon rate it measures sits at
// its aim: the Lagrangian form of "keep agents as busy as possible subject to
// abandons ≤ the limit".
//
// The field's algorithms look at the present: VICIdial's adaptive dialer
// (§1.3) integrates the balance of ready agents and waiting calls every 15 s;
// a fixed ratio dials lines per agent; the threshold dialer (§5.3) dials for
// the agents free now. None of them dials for the agent who hangs up in ten
// seconds, and none knows that two calls for one free agent are safe when
// most calls fail while five are not. Predictive keeps, from the calls it
// placed and the calls agents finished, the distributions it needs:
//
//   - the time from placing a call to a live answer (TTA), and for a call
//     still ringing after d seconds the chance it turns out live within the
//     next t seconds;
//   - each finished campaign call's talk and wrap-up time, so that an agent
//     e seconds into a call (or w into wrap-up) is free within t seconds with
//     a known probability.
//
// For the k-th new call it considers the times τ at which a live answer
// comes (five quantiles of TTA) and, at each, the free agents
// X = supply(τ + grace) − demand(τ) − (answers of the k−1 other new calls by τ),
// a sum of independent Bernoulli terms taken as normal (with ModelVariance
// added for the models' own error); the call's abandon
// chance is the mean over τ of P(X ≤ 0). It places calls while that chance is
// at most λ. After every live answer log λ moves by Gain × (Aim − 1 if that
// answer was abandoned else 0), so λ settles where the abandon rate is Aim.
// Aim defaults to 85 % of the limit so that the rate over the compliance
// window stays under it; λ starts at a tenth of the aim, and while the
// measured rate over the window is above the limit anyway the threshold is a
// hundred times stricter. It never places fewer calls than a progressive
// dialer would (one line per ready agent), except with a shared idle pool
// (Snapshot.Reserve, InboundRate), where an idle agent serves inbound.
//
// Until it has seen Warmup live answers and Warmup finished calls it dials
// as a progressive dialer, so a new campaign starts safely.
type Predictive struct {
	cfg PredictiveConfig

	// Settled calls, kept sorted by their duration so the conditional
	// live-share is two binary searches; a ring of the last Window calls.
	ring    []Settled
	next    int
	all     []float64 // durations (s) of the calls in ring, sorted
	live    []float64 // durations (s) of the live ones, sorted
	handled []handledCall
	hnext   int
	byTalk  []handledCall // sorted by talk
	wraps   []float64     // sorted
	logLam  float64
	window  Abandons // every call seen (Abandons)
	// rolling is the plain rate's window (AbandonWindow, 30 days: the
	// FTC's and FCC's period per campaign).
	rolling AbandonWindow
	// uk is the rolling 24 h count the UK measurement reads (kept in
	// either mode, so that SetCompliance can switch to it mid-run).
	uk         AbandonWindow
	aimDefault bool // Aim was left to its default, 85 % of the limit
	// configuredWindow is the AbandonWindow it was made with, which
	// SetAbandonWindow(0) returns to.
	configuredWindow time.Duration
}

// PredictiveConfig configures Predictive.
type PredictiveConfig struct {
	// AbandonLimit is the campaign's abandon-rate limit over its window
	// (0.03: FTC/FCC/Ofcom 3 %).
	AbandonLimit float64
	// Aim is the abandon rate λ is steered to (0: 85 % of AbandonLimit).
	Aim float64
	// Gain is how far one live answer moves log λ per unit of error (0:
	// 0.6).
	Gain float64
	// ModelVariance is added to the variance of the free-agent count: the
	// models' own error, about one agent (0: 1). Without it the normal
	// tail trusts near-certain counts, so the threshold swings between
	// "no risk" and "too much"; with it the dialer keeps a margin that
	// grows smoothly with the calls in flight (measured on the outbound
	// scenario: occupancy at 0.6 % abandon 76.6 % with 0.05, 78.9 % with 1).
	ModelVariance float64
	// Grace is how long a live answer may wait for an agent (0: 2 s, the
	// connect limit).
	Grace time.Duration
	// Window is how many settled calls (for the answer model) and handled
	// calls (for the handling model) are kept (0: 2000).
	Window int
	// Warmup is how many live answers and handled calls the models need
	// before they are trusted (0: 30).
	Warmup int
	// PriorLive is the live-answer rate assumed before Warmup (0: 0.3).
	PriorLive float64
	// PriorAnswer is the time to a live answer assumed before Warmup (0:
	// 10 s).
	PriorAnswer time.Duration
	// ReserveRisk (with a shared idle pool and a borrow, Snapshot.Borrow)
	// is the chance a new call's live answer may have of finding no agent
	// above the reserve (0: 0.5, the reserve kept in expectation: an
	// agent the dialer leaves idle above the reserve is lost to outbound
	// for the ~10 s a dial takes, one it borrows is back at the next free).
	ReserveRisk float64
	// AbandonWindow is how far back the plain abandon rate is measured
	// against the limit (0: 30 days, the FTC's and FCC's period per
	// campaign, dialer-anchors.md §3). A controller that resumes its
	// pacing (Resumable) carries it across restarts. UK mode measures over
	// 24 h regardless (Ofcom).
	AbandonWindow time.Duration
	// UKOfcom measures the abandon rate against the limit the UK way:
	// Abandons.RateUK over the last 24 h (dialer-anchors.md §1.4, §3)
	// instead of the plain rate over AbandonWindow.
	UKOfcom bool
}

// DefaultPredictive is a 3 % limit with the defaults above.
func DefaultPredictive() PredictiveConfig { return PredictiveConfig{AbandonLimit: 0.03} }

func (c *PredictiveConfig) fill() {
	if c.Aim == 0 {
		c.Aim = 0.85 * c.AbandonLimit
	}
	if c.Gain == 0 {
		c.Gain = 0.6
	}
	if c.Grace == 0 {
		c.Grace = 2 * time.Second
	}
	if c.ModelVariance == 0 {
		c.ModelVariance = 1
	}
	if c.Window == 0 {
		c.Window = 2000
	}
	if c.Warmup == 0 {
		c.Warmup = 30
	}
	if c.PriorLive == 0 {
		c.PriorLive = 0.3
	}
	if c.PriorAnswer == 0 {
		c.PriorAnswer = 10 * time.Second
	}
	if c.AbandonWindow == 0 {
		c.AbandonWindow = DefaultAbandonWindow
	}
	if c.ReserveRisk == 0 {
		c.ReserveRisk = 0.5
	}
}

// Validate reports every invalid field, each error naming it.
func (c PredictiveConfig) Validate() error {
	var errs []error
	if !(c.AbandonLimit > 0 && c.AbandonLimit < 1) {
		errs = append(errs, fmt.Errorf("dialer: PredictiveConfig.AbandonLimit %v: want 0 < limit < 1", c.AbandonLimit))
	}
	if c.Aim < 0 || (c.Aim > 0 && c.Aim > c.AbandonLimit) {
		errs = append(errs, fmt.Errorf("dialer: PredictiveConfig.Aim %v: want 0 (default) or 0 < aim ≤ AbandonLimit", c.Aim))
	}
	if c.Gain < 0 || c.Gain > 10 {
		errs = append(errs, fmt.Errorf("dialer: PredictiveConfig.Gain %v: want 0 ≤ gain ≤ 10", c.Gain))
	}
	if c.Grace < 0 || c.Grace > 2*time.Second {
		errs = append(errs, fmt.Errorf("dialer: PredictiveConfig.Grace %v: want 0 (2 s) .. 2 s", c.Grace))
	}
	if c.ModelVariance < 0 {
		errs = append(errs, fmt.Errorf("dialer: PredictiveConfig.ModelVariance %v: want ≥ 0", c.ModelVariance))
	}
	if c.Window < 0 || c.Warmup < 0 {
		errs = append(errs, fmt.Errorf("dialer: PredictiveConfig.Window %d / Warmup %d: want ≥ 0", c.Window, c.Warmup))
	}
	if c.PriorLive < 0 || c.PriorLive > 1 {
		errs = append(errs, fmt.Errorf("dialer: PredictiveConfig.PriorLive %v: want 0..1", c.PriorLive))
	}
	if c.ReserveRisk < 0 || c.ReserveRisk > 1 {
		errs = append(errs, fmt.Errorf("dialer: PredictiveConfig.ReserveRisk %v: want 0 (0.5) .. 1", c.ReserveRisk))
	}
	if c.PriorAnswer < 0 {
		errs = append(errs, fmt.Errorf("dialer: PredictiveConfig.PriorAnswer %v: want ≥ 0", c.PriorAnswer))
	}
	if c.AbandonWindow != 0 && (c.AbandonWindow < time.Hour || c.AbandonWindow > MaxAbandonWindow) {
		errs = append(errs, fmt.Errorf("dialer: PredictiveConfig.AbandonWindow %v: want 0 (30 days) or 1 h .. %v", c.AbandonWindow, MaxAbandonWindow))
	}
	return errors.Join(errs...)
}

// NewPredictive validates cfg and returns the strategy.
func NewPredictive(cfg PredictiveConfig) (*Predictive, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	aimDefault := cfg.Aim == 0
	cfg.fill()
	// λ starts at a tenth of the aim: a new campaign dials little
	// more than progressive until connects without abandons raise it.
	return &Predictive{cfg: cfg, logLam: math.Log(cfg.Aim / 10), aimDefault: aimDefault,
		rolling: AbandonWindow{Length: cfg.AbandonWindow}, configuredWindow: cfg.AbandonWindow}, nil
}

// Name implements Strategy.
func (p *Predictive) Name() string { return "predictive" }

// PacesReserve implements ReservePacer: Decide counts Snapshot.Reserve and
// Snapshot.InboundRate.
func (p *Predictive) PacesReserve() {}

// Lambda is the current threshold on a new call's abandon chance.
func (p *Predictive) Lambda() float64 { return math.Exp(p.logLam) }

// Abandons is the count over the calls seen so far.
func (p *Predictive) Abandons() Abandons { return p.window }

const nTau = 5

type handledCall struct{ talk, wrap float64 }

func insertSorted(s []float64, v float64) []float64 {
	i, _ := slices.BinarySearch(s, v)
	return slices.Insert(s, i, v)
}

func removeSorted(s []float64, v float64) []float64 {
	i, ok := slices.BinarySearch(s, v)
	if !ok {
		return s
	}
	return slices.Delete(s, i, i+1)
}

// countAbove returns how many values of sorted s are > v.
func countAbove(s []float64, v float64) int {
	i, ok := slices.BinarySearch(s, v)
	for ok && i < len(s) && s[i] == v {
		i++
	}
	return len(s) - i
}

// Settled implements Strategy.
func (p *Predictive) Settled(c Settled) {
	p.learn(c)
	if c.Outcome == Machine {
		p.window.Machine()
		p.rolling.Machine(c.At)
		p.uk.Machine(c.At)
	}
	if c.Outcome.Live() {
		abandoned := c.Outcome == Abandoned
		p.window.Answered(!abandoned)
		p.rolling.Answered(c.At, !abandoned)
		p.uk.Answered(c.At, !abandoned)
		miss := 0.0
		if abandoned {
			miss = 1
		}
		p.logLam = min(math.Log(0.5), max(math.Log(1e-9), p.logLam+p.cfg.Gain*(p.cfg.Aim-miss)))
	}
}

// learn adds c to the answer model (the ring of the last Window calls).
func (p *Predictive) learn(c Settled) {
	d := c.At.Sub(c.Placed).Seconds()
	if len(p.ring) < p.cfg.Window {
		p.ring = append(p.ring, c)
	} else {
		old := p.ring[p.next]
		od := old.At.Sub(old.Placed).Seconds()
		p.all = removeSorted(p.all, od)
		if old.Outcome.Live() {
			p.live = removeSorted(p.live, od)
		}
		p.ring[p.next] = c
		p.next = (p.next + 1) % p.cfg.Window
	}
	p.all = insertSorted(p.all, d)
	if c.Outcome.Live() {
		p.live = insertSorted(p.live, d)
	}
}

// Handled implements Strategy.
func (p *Predictive) Handled(talk, wrap time.Duration) {
	h := handledCall{talk: talk.Seconds(), wrap: wrap.Seconds()}
	if len(p.handled) < p.cfg.Window {
		p.handled = append(p.handled, h)
	} else {
		old := p.handled[p.hnext]
		i := slices.IndexFunc(p.byTalk, func(x handledCall) bool { return x == old })
		if i >= 0 {
			p.byTalk = slices.Delete(p.byTalk, i, i+1)
		}
		p.wraps = removeSorted(p.wraps, old.wrap)
		p.handled[p.hnext] = h
		p.hnext = (p.hnext + 1) % p.cfg.Window
	}
	i, _ := slices.BinarySearchFunc(p.byTalk, h.talk, func(x handledCall, t float64) int {
		switch {
		case x.talk < t:
			return -1
		case x.talk > t:
			return 1
		}
		return 0
	})
	p.byTalk = slices.Insert(p.byTalk, i, h)
	p.wraps = insertSorted(p.wraps, h.wrap)
}

// liveRate is the share of new calls that turn out live.
func (p *Predictive) liveRate() float64 {
	if len(p.live) < p.cfg.Warmup {
		// Blend the prior with what has been seen, weight Warmup.
		n := float64(len(p.all))
		w := float64(p.cfg.Warmup)
		return (p.cfg.PriorLive*w + float64(len(p.live))) / (w + n)
	}
	return float64(len(p.live)) / float64(len(p.all))
}

// liveWithin is P(a call unsettled after d seconds turns out live within
// the next t seconds).
func (p *Predictive) liveWithin(d, t float64) float64 {
	if len(p.live) < p.cfg.Warmup {
		if t >= p.cfg.PriorAnswer.Seconds()-d {
			return p.liveRate()
		}
		return 0
	}
	all := countAbove(p.all, d)
	if all == 0 {
		return 0
	}
	return float64(countAbove(p.live, d)-countAbove(p.live, d+t)) / float64(all)
}

// answerTimes are five quantiles of the time to a live answer.
func (p *Predictive) answerTimes() [nTau]float64 {
	var q [nTau]float64
	if len(p.live) < p.cfg.Warmup {
		for i := range q {
			q[i] = p.cfg.PriorAnswer.Seconds()
		}
		return q
	}
	for i := range q {
		q[i] = p.live[int((float64(i)+0.5)/nTau*float64(len(p.live)))]
	}
	return q
}

// freeFromTalk is P(an agent e seconds into a call is free within h).
func (p *Predictive) freeFromTalk(e, h float64) float64 {
	if len(p.byTalk) < p.cfg.Warmup {
		return 0
	}
	i, _ := slices.BinarySearchFunc(p.byTalk, e, func(x handledCall, t float64) int {
		if x.talk <= t {
			return -1
		}
		return 1
	})
	den := len(p.byTalk) - i
	if den == 0 {
		return 0 // longer than every call seen: do not count on it
	}
	num := 0
	for _, x := range p.byTalk[i:] {
		if x.talk > e+h {
			break
		}
		if x.talk+x.wrap <= e+h {
			num++
		}
	}
	return float64(num) / float64(den)
}

// freeFromWrap is P(an agent w seconds into wrap-up is free within h).
func (p *Predictive) freeFromWrap(w, h float64) float64 {
	if len(p.wraps) < p.cfg.Warmup {
		return 0
	}
	den := countAbove(p.wraps, w)
	if den == 0 {
		return 1
	}
	return 1 - float64(countAbove(p.wraps, w+h))/float64(den)
}

// phi is the standard normal CDF.
func phi(x float64) float64 { return 0.5 * math.Erfc(-x/math.Sqrt2) }

// overLimit reports whether the measured abandon rate is above the limit:
// over the last AbandonWindow (30 days), or in UK mode the AM-adjusted rate
// over the last 24 hours (Ofcom). Over the limit, Decide's threshold is a hundred times
// stricter until the rate is back under (its progressive floor still keeps
// ready agents dialing). The window must be long enough for the limit to
// mean something: at 0.15 % one abandon in the first 50 answers is not a
// breach yet.
func (p *Predictive) overLimit(now time.Time) bool {
	if p.cfg.UKOfcom {
		w := p.uk.Counts(now)
		return float64(w.LiveAnswered) >= max(50, 3/p.cfg.AbandonLimit) && w.RateUK() > p.cfg.AbandonLimit
	}
	w := p.rolling.Counts(now)
	enough := float64(w.LiveAnswered) >= max(50, 3/p.cfg.AbandonLimit)
	return enough && !w.Within(p.cfg.AbandonLimit)
}

// maxNewPerDecision bounds one decision's loop (MaxNew bounds it too).
const maxNewPerDecision = 1000

// Decide implements Strategy.
func (p *Predictive) Decide(s Snapshot) int {
	if len(s.Agents) == 0 {
		return 0
	}
	// Ready agents the blending keeps for inbound are not the campaign's
	// (Snapshot.Reserve; 0 outside the threshold policy).
	ready := s.Count(Ready) - s.Reserve
	over := p.overLimit(s.Now)
	progressive := max(0, ready-len(s.Dialing)-s.Waiting)
	if len(p.live) < p.cfg.Warmup || len(p.byTalk) < p.cfg.Warmup {
		// Until the models have seen enough calls, dial as a
		// progressive dialer: priors are no basis for a bet on a
		// customer's patience.
		return progressive
	}
	rate := p.liveRate()
	if rate <= 0 {
		return progressive
	}
	grace := p.cfg.Grace.Seconds()
	taus := p.answerTimes()
	// At each answer time τ: mean and variance of the free agents before
	// the new calls (supply by τ+grace minus demand by τ), and the share
	// of a new call's live answers that come by τ.
	type point struct{ mean, vari, frac float64 }
	var pts [nTau]point
	n := float64(len(p.live))
	for j, tau := range taus {
		m, v := float64(ready)-float64(s.Waiting), 0.0
		for _, a := range s.Agents {
			var q float64
			switch a.Phase {
			case Talking:
				q = p.freeFromTalk(a.InPhase.Seconds(), tau+grace)
			case WrapUp:
				q = p.freeFromWrap(a.InPhase.Seconds(), tau+grace)
			default:
				continue
			}
			m += q
			v += q * (1 - q)
		}
		for _, d := range s.Dialing {
			q := p.liveWithin(d.Seconds(), tau)
			m -= q
			v += q * (1 - q)
		}
		// Inbound callers arriving by τ take idle agents first
		// (Poisson: variance = mean).
		if in := s.InboundRate * tau; in > 0 {
			m -= in
			v += in
		}
		frac := 1.0
		if n >= float64(p.cfg.Warmup) {
			frac = float64(len(p.live)-countAbove(p.live, tau)) / n
		}
		pts[j] = point{m, v, frac}
	}
	lam := p.Lambda()
	if over {
		lam /= 100
	}
	limit := min(s.MaxNew, maxNewPerDecision)
	k := 0
	// With a reserve to borrow from (Snapshot.Borrow), an answer is
	// abandoned only when it finds no agent above Reserve − Borrow, and
	// the reserve is kept in expectation: the chance that an answer finds
	// no agent above the reserve is held at ReserveRisk.
	borrow := float64(min(s.Borrow, s.Reserve))
	for k < limit {
		// The (k+1)-th new call: the k others answer live by τ with
		// probability rate × frac each.
		pa, pr := 0.0, 0.0
		for _, pt := range pts {
			q := rate * pt.frac
			m := pt.mean - float64(k)*q
			sd := math.Sqrt(pt.vari + float64(k)*q*(1-q) + p.cfg.ModelVariance)
			pa += phi((0.5 - m - borrow) / sd)
			pr += phi((0.5 - m) / sd)
		}
		pa /= float64(len(pts))
		pr /= float64(len(pts))
		if pa > lam || (borrow > 0 && pr > p.cfg.ReserveRisk) {
			break
		}
		k++
	}
	// Never fewer than a progressive dialer: one line for each ready
	// agent not already covered by a call in flight. Not with a shared
	// idle pool: an idle agent there serves inbound meanwhile, and a
	// line per idle agent above the reserve is a bet that no caller
	// comes first.
	if s.Reserve > 0 || s.InboundRate > 0 {
		return k
	}
	return max(k, progressive)
}

// Config is the configuration in force, defaults filled in.
func (p *Predictive) Config() PredictiveConfig { return p.cfg }
