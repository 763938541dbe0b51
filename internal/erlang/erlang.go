// Package erlang holds the exact queueing formulas IPCC Lab uses as an oracle:
// Erlang B and C (M/M/c), Erlang A (M/M/c+M), the threshold-blending model of
// Bhulai–Koole / Gans–Zhou, the open-loop Erlang-B bound of a naive
// predictive dialer and the talk share of a progressive dialer
// (dialer-anchors.md §5.5 and §5.6 tables A–F).
//
// Role in the blending call flow: step (1) of the documented flow has the
// controller monitor the IPCC queues and decide whether service levels are met.
// The controller measures that from CTI counters; this package is what the
// measurement is checked against. Tests of controller/blend and of the
// simulated contact centre compare what they observe with these numbers (a
// blend controller must land on the Pareto frontier of table D, a predictive
// dialer must beat the bound of table E), and the controller may use
// StaffFor as its own staffing estimate.
//
// Units: rates are per second, times are in seconds, loads are in Erlangs.
// Everything here is a pure function of its arguments.
package erlang

import (
	"errors"
	"fmt"
	"math"
)

// Traffic is the inbound traffic offered to a group of agents.
type Traffic struct {
	Rate float64 // arrival rate λ, calls per second
	AHT  float64 // mean handling time 1/μ, seconds
}

// PerHour builds Traffic from the way contact centres quote it: calls per
// hour and average handling time in seconds.
func PerHour(callsPerHour, ahtSeconds float64) Traffic {
	return Traffic{Rate: callsPerHour / 3600, AHT: ahtSeconds}
}

// Load is the offered load a = λ/μ in Erlangs.
func (t Traffic) Load() float64 { return t.Rate * t.AHT }

func (t Traffic) valid() error {
	if !(t.Rate >= 0) || math.IsInf(t.Rate, 0) {
		return fmt.Errorf("erlang: Traffic.Rate %v: want a finite rate ≥ 0", t.Rate)
	}
	if !(t.AHT > 0) || math.IsInf(t.AHT, 0) {
		return fmt.Errorf("erlang: Traffic.AHT %v: want a finite handling time > 0", t.AHT)
	}
	return nil
}

// ErlangB is the blocking probability of an M/M/c/c loss system with c
// servers and offered load a, computed with the stable recursion
// B₀ = 1, B_k = a·B_{k−1}/(k + a·B_{k−1}) (§5.5). It returns NaN for c < 0 or
// a < 0.
func ErlangB(c int, a float64) float64 {
	if c < 0 || !(a >= 0) {
		return math.NaN()
	}
	b := 1.0
	for k := 1; k <= c; k++ {
		b = a * b / (float64(k) + a*b)
	}
	return b
}

// ErlangC is the probability that an arriving call waits, P(W>0), in an M/M/c
// queue, via C = c·B/(c − a(1−B)) (§5.5). An unstable queue (a ≥ c) waits with
// certainty, so it returns 1. It returns NaN for c < 1 or a < 0.
func ErlangC(c int, a float64) float64 {
	if c < 1 || !(a >= 0) {
		return math.NaN()
	}
	if a >= float64(c) {
		return 1
	}
	b := ErlangB(c, a)
	return float64(c) * b / (float64(c) - a*(1-b))
}

// ASA is the mean wait of all calls (average speed of answer) in seconds:
// P(W>0)/(cμ − λ). It is +Inf for an unstable queue and NaN for invalid input.
func ASA(c int, t Traffic) float64 {
	if t.valid() != nil || c < 1 {
		return math.NaN()
	}
	gap := float64(c)/t.AHT - t.Rate
	if gap <= 0 {
		return math.Inf(1)
	}
	return ErlangC(c, t.Load()) / gap
}

// ServiceLevel is the fraction of calls answered within threshold seconds:
// SL(t) = 1 − P(W>0)·e^{−(cμ−λ)t}. It is 0 for an unstable queue and NaN for
// invalid input.
func ServiceLevel(c int, t Traffic, threshold float64) float64 {
	if t.valid() != nil || c < 1 || !(threshold >= 0) {
		return math.NaN()
	}
	gap := float64(c)/t.AHT - t.Rate
	if gap <= 0 {
		return 0
	}
	return 1 - ErlangC(c, t.Load())*math.Exp(-gap*threshold)
}

// Occupancy is the share of agent time spent on calls, a/c, capped at 1
// (an overloaded group is fully occupied). NaN for c < 1 or a < 0.
func Occupancy(c int, a float64) float64 {
	if c < 1 || !(a >= 0) {
		return math.NaN()
	}
	return math.Min(1, a/float64(c))
}

// CResult gathers the Erlang C figures of one staffing level (table A/B row).
type CResult struct {
	PWait        float64 // P(W>0)
	ASA          float64 // seconds
	ServiceLevel float64 // fraction answered within the threshold
	Occupancy    float64 // a/c
}

// ErlangCResult evaluates an M/M/c queue at one staffing level.
func ErlangCResult(c int, t Traffic, threshold float64) (CResult, error) {
	if err := t.valid(); err != nil {
		return CResult{}, err
	}
	if c < 1 {
		return CResult{}, fmt.Errorf("erlang: agents %d: want ≥ 1", c)
	}
	if !(threshold >= 0) {
		return CResult{}, fmt.Errorf("erlang: threshold %v: want ≥ 0", threshold)
	}
	return CResult{
		PWait:        ErlangC(c, t.Load()),
		ASA:          ASA(c, t),
		ServiceLevel: ServiceLevel(c, t, threshold),
		Occupancy:    Occupancy(c, t.Load()),
	}, nil
}

// StaffFor is the smallest number of agents, at most maxAgents, whose Erlang C
// service level within threshold seconds reaches target. The blend controller
// can use it to estimate how many agents inbound needs from its observed
// arrival rate and handling time; it reports an error when even maxAgents
// fall short.
func StaffFor(t Traffic, threshold, target float64, maxAgents int) (int, error) {
	if err := t.valid(); err != nil {
		return 0, err
	}
	if !(target > 0 && target < 1) {
		return 0, fmt.Errorf("erlang: target %v: want 0 < target < 1", target)
	}
	if !(threshold >= 0) {
		return 0, fmt.Errorf("erlang: threshold %v: want ≥ 0", threshold)
	}
	// Below the load the queue is unstable, so start just above it.
	c := max(1, int(math.Floor(t.Load()))+1)
	for ; c <= maxAgents; c++ {
		if ServiceLevel(c, t, threshold) >= target {
			return c, nil
		}
	}
	return 0, fmt.Errorf("erlang: %d agents do not reach service level %v within %vs", maxAgents, target, threshold)
}

// AResult gathers the Erlang A figures of one staffing level (table C row).
type AResult struct {
	PWait     float64 // P(an arrival finds all agents busy)
	PAbandon  float64 // θ·E[queue]/λ
	MeanWait  float64 // mean wait of all callers in seconds, E[queue]/λ (Little)
	Occupancy float64 // E[busy agents]/c
}

// ErlangA evaluates the M/M/c+M queue (Garnett–Mandelbaum–Reiman 2002, §5.5):
// a birth–death chain with birth rate λ and death rate min(n,c)μ + (n−c)⁺θ,
// θ = 1/patience. Abandonment makes it stable at any load. The chain is
// summed until the terms no longer change the result in double precision.
func ErlangA(c int, t Traffic, patience float64) (AResult, error) {
	if err := t.valid(); err != nil {
		return AResult{}, err
	}
	if c < 1 {
		return AResult{}, fmt.Errorf("erlang: agents %d: want ≥ 1", c)
	}
	if !(patience > 0) || math.IsInf(patience, 0) {
		return AResult{}, fmt.Errorf("erlang: patience %v: want a finite mean patience > 0", patience)
	}
	if t.Rate == 0 {
		return AResult{}, nil
	}
	mu, theta := 1/t.AHT, 1/patience
	death := func(n int) float64 {
		return float64(min(n, c))*mu + float64(max(n-c, 0))*theta
	}
	// Unnormalised π(n), rescaled whenever it grows large so that big
	// centres (a in the hundreds) do not overflow.
	var sum, busy, queue, waiting float64
	p := 1.0
	for n := 0; ; n++ {
		if n > 0 {
			p *= t.Rate / death(n)
		}
		if p > 1e200 {
			const s = 1e-200
			p, sum, busy, queue, waiting = p*s, sum*s, busy*s, queue*s, waiting*s
		}
		sum += p
		busy += p * float64(min(n, c))
		queue += p * float64(max(n-c, 0))
		if n >= c {
			waiting += p
			// Past the mode the terms fall geometrically; stop once they
			// are negligible against everything summed so far.
			if t.Rate < death(n+1) && p*float64(n+1) < sum*1e-18 {
				break
			}
		}
		if n > c+10_000_000 {
			return AResult{}, errors.New("erlang: Erlang A chain did not converge")
		}
	}
	eq := queue / sum
	return AResult{
		PWait:     waiting / sum,
		PAbandon:  theta * eq / t.Rate,
		MeanWait:  eq / t.Rate,
		Occupancy: busy / sum / float64(c),
	}, nil
}

// ThresholdResult gathers the figures of one row of table D.
type ThresholdResult struct {
	PWait        float64 // P(an inbound arrival waits) = P(n ≥ s)
	ASA          float64 // seconds, P(wait)/(sμ − λ)
	ServiceLevel float64 // fraction of inbound answered within the threshold
	OutboundRate float64 // outbound jobs completed per second, (s−r)·μ·π(s−r)
	Occupancy    float64 // E[min(n,s)]/s, inbound and outbound work together
}

// OutboundPerHour is OutboundRate per hour, as table D prints it.
func (r ThresholdResult) OutboundPerHour() float64 { return r.OutboundRate * 3600 }

// Threshold evaluates threshold blending (§5.1, §5.2, table D): s agents,
// inbound Poisson traffic, an infinite backlog of outbound work with the same
// handling time, no abandonment; whenever more than r agents are idle an
// outbound job starts at once, so r agents are always held in reserve for
// inbound. States n = busy + queued ≥ s − r with π(n) ∝ Π λ/(min(k,s)μ).
// It needs λ < sμ (else inbound alone would swamp the agents).
func Threshold(s, r int, t Traffic, threshold float64) (ThresholdResult, error) {
	if err := t.valid(); err != nil {
		return ThresholdResult{}, err
	}
	if s < 1 {
		return ThresholdResult{}, fmt.Errorf("erlang: agents %d: want ≥ 1", s)
	}
	if r < 0 || r > s {
		return ThresholdResult{}, fmt.Errorf("erlang: reserve %d: want 0 ≤ r ≤ %d", r, s)
	}
	if !(threshold >= 0) {
		return ThresholdResult{}, fmt.Errorf("erlang: threshold %v: want ≥ 0", threshold)
	}
	mu := 1 / t.AHT
	rho := t.Load() / float64(s)
	// A load within rounding of s is unstable too (400/h × 180 s is 20 Erl
	// only up to the last bit).
	if rho >= 1-1e-12 {
		return ThresholdResult{}, fmt.Errorf("erlang: inbound load %.3g Erl needs more than %d agents", t.Load(), s)
	}
	lo := s - r
	// π(lo) = 1; below s each step multiplies by λ/(kμ); from s on the tail
	// is geometric with ratio ρ, summed in closed form.
	var sum, busy float64
	p := 1.0
	for n := lo; n < s; n++ {
		if n > lo {
			p *= t.Rate / (float64(n) * mu)
		}
		sum += p
		busy += p * float64(n)
	}
	ps := 1.0 // π(s)
	if lo < s {
		ps = p * t.Rate / (float64(s) * mu)
	}
	tail := ps / (1 - rho)
	sum += tail
	busy += tail * float64(s)
	pLo := 1 / sum
	pWait := tail / sum
	gap := float64(s)*mu - t.Rate
	return ThresholdResult{
		PWait:        pWait,
		ASA:          pWait / gap,
		ServiceLevel: 1 - pWait*math.Exp(-gap*threshold),
		OutboundRate: float64(lo) * mu * pLo,
		Occupancy:    busy / sum / float64(s),
	}, nil
}

// LoadAtBlocking solves ErlangB(n, a) = b for the offered load a. Erlang B is
// increasing in a, so bisection finds the unique root.
func LoadAtBlocking(n int, b float64) (float64, error) {
	if n < 1 {
		return 0, fmt.Errorf("erlang: agents %d: want ≥ 1", n)
	}
	if !(b > 0 && b < 1) {
		return 0, fmt.Errorf("erlang: blocking %v: want 0 < b < 1", b)
	}
	lo, hi := 0.0, float64(n)
	for ErlangB(n, hi) < b {
		hi *= 2
	}
	for range 200 {
		mid := (lo + hi) / 2
		if ErlangB(n, mid) < b {
			lo = mid
		} else {
			hi = mid
		}
	}
	return (lo + hi) / 2, nil
}

// OpenLoopOccupancy is the talk-time occupancy of a naive open-loop
// (Poisson) predictive dialer with n agents held at abandon rate b (table E):
// answered calls arrive Poisson, an answer finding all n agents busy is
// abandoned, so occ = a(1−b)/n with ErlangB(n, a) = b. Any state-aware dialer
// must beat this lower bound.
func OpenLoopOccupancy(n int, b float64) (float64, error) {
	a, err := LoadAtBlocking(n, b)
	if err != nil {
		return 0, err
	}
	return a * (1 - b) / float64(n), nil
}

// Progressive describes one progressive (one line per idle agent) campaign
// for table F. Times are in seconds.
type Progressive struct {
	ConnectRate float64 // p: share of dial attempts reaching a live party
	Fail        float64 // T_fail: time an agent waits on an attempt that fails
	Answer      float64 // T_answer: ringing time of an attempt that connects
	Talk        float64 // T_talk
	Wrap        float64 // T_wrap
}

// DialTimePerConnect is the agent time spent dialing per live connect,
// (1/p − 1)·T_fail + T_answer.
func (p Progressive) DialTimePerConnect() float64 {
	return (1/p.ConnectRate-1)*p.Fail + p.Answer
}

// TalkShare is the share of agent time spent talking,
// T_talk/(T_talk + T_wrap + dial time per connect) (table F).
func (p Progressive) TalkShare() (float64, error) {
	if !(p.ConnectRate > 0 && p.ConnectRate <= 1) {
		return 0, fmt.Errorf("erlang: Progressive.ConnectRate %v: want 0 < p ≤ 1", p.ConnectRate)
	}
	for _, f := range []struct {
		name string
		v    float64
	}{{"Fail", p.Fail}, {"Answer", p.Answer}, {"Talk", p.Talk}, {"Wrap", p.Wrap}} {
		if !(f.v >= 0) || math.IsInf(f.v, 0) {
			return 0, fmt.Errorf("erlang: Progressive.%s %v: want a finite time ≥ 0", f.name, f.v)
		}
	}
	total := p.Talk + p.Wrap + p.DialTimePerConnect()
	if total == 0 {
		return 0, errors.New("erlang: Progressive: all times are zero")
	}
	return p.Talk / total, nil
}
