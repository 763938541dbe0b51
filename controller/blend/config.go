package blend

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// ServiceLevelType says how abandoned calls count in the service level, as
// ICM's Service.ServiceLevelType does (ipcc-behaviour.md §1.1, §1.3).
type ServiceLevelType int

const (
	// IgnoreAbandons (type 1): SLCalls / (SLOffered − SLAband).
	IgnoreAbandons ServiceLevelType = 1
	// AbandonsNegative (type 2): SLCalls / SLOffered.
	AbandonsNegative ServiceLevelType = 2
	// AbandonsPositive (type 3): (SLCalls + SLAband) / SLOffered.
	AbandonsPositive ServiceLevelType = 3
)

// Compute applies the §1.3 formula to service-level counters. ok is false
// when the denominator is not positive (no service-level event in the
// window), so the service level is unknown rather than 0 or 100 %.
// denominator is the number of calls the figure is based on.
func (t ServiceLevelType) Compute(calls, offered, aband int64) (sl float64, denominator int64, ok bool) {
	num, den := calls, offered
	switch t {
	case IgnoreAbandons:
		den = offered - aband
	case AbandonsNegative:
	case AbandonsPositive:
		num = calls + aband
	default:
		return 0, 0, false
	}
	if den <= 0 {
		return 0, max(den, 0), false
	}
	return min(1, max(0, float64(num)/float64(den))), den, true
}

func (t ServiceLevelType) String() string {
	switch t {
	case IgnoreAbandons:
		return "ignore-abandons"
	case AbandonsNegative:
		return "abandons-negative"
	case AbandonsPositive:
		return "abandons-positive"
	}
	return fmt.Sprintf("ServiceLevelType(%d)", int(t))
}

// WindowSource says where the service-level window figures come from.
type WindowSource int

const (
	// WindowSliding: the snapshot counters are cumulative (Today, or ToHalf,
	// which restarts at each half hour) and the policy keeps its own sliding
	// window of WindowLength from the deltas between polls. To5 is refreshed
	// only every 10 s and spans five minutes (ipcc-behaviour.md §1.4), which
	// is too slow for short conformance runs; a sliding window of, say, 60 s
	// reacts within one window length.
	WindowSliding WindowSource = iota + 1
	// WindowSupplied: the snapshot counters already cover a window (the CTI
	// To5 or ToHalf families) and are used as they are.
	WindowSupplied
)

func (w WindowSource) String() string {
	switch w {
	case WindowSliding:
		return "sliding"
	case WindowSupplied:
		return "supplied"
	}
	return fmt.Sprintf("WindowSource(%d)", int(w))
}

// Config is the blending policy's configuration. Build it from
// DefaultConfig and override fields; New validates it.
//
// Hysteresis (call-flow step 6). Inbound is behind when any trigger fires:
// the window service level is below ServiceLevelTarget, or the calls in queue
// reach QueueTrigger, or the longest wait reaches LongestWaitTrigger. Lent
// agents go back to outbound only when all of these hold at once:
//
//   - the window service level is at least ServiceLevelTarget × ReturnRatio
//     (or unknown because too few calls were offered in the window);
//   - the calls in queue are at most QueueLowWater;
//   - the longest wait is at most LongestWaitLowWater.
//
// In between, the policy holds: it neither lends nor returns and the pacing
// factor stays where it is. ReturnRatio is ≥ 1 so the return level is above
// the trigger level (0.80 × 1.10 = 0.88): a ratio below 1 would return agents
// while still behind and the policy would flap. The brief's "service levels
// back at the configured ratio" is read this way, as a multiplier on the
// target, not a fraction of it, which is the only reading that gives a dead
// band; and the queue must also have drained, because a window service level
// lags the queue by up to a window length.
type Config struct {
	// SkillGroups are the monitored inbound skill groups (SkillGroupNumber).
	// The blended agents serve all of them, so the decision pools them: the
	// service level over the summed window counters, the calls in queue
	// summed, the longest wait the maximum.
	SkillGroups []int

	// ServiceLevelTarget is the fraction of calls to answer within the
	// threshold, 0 < target ≤ 1 (e.g. 0.80).
	ServiceLevelTarget float64
	// ServiceLevelThreshold is the ICM ServiceLevelThreshold the counters
	// were built with (e.g. 20 s). Informational: ICM applies it when it
	// counts; the policy only reports it.
	ServiceLevelThreshold time.Duration
	// ServiceLevelType is how abandons count (§1.3, types 1–3).
	ServiceLevelType ServiceLevelType

	// Window says whether the policy keeps a sliding window or reads the
	// supplied To5/ToHalf counters as they are.
	Window WindowSource
	// WindowLength is the sliding window's span (WindowSliding only).
	WindowLength time.Duration
	// MinSample is the number of calls (the formula's denominator) the window
	// needs before its service level is trusted; with fewer the service
	// level is unknown, so one slow call out of one cannot fire the trigger.
	MinSample int64

	// QueueTrigger: inbound is behind when the summed RouterCallsQNow is at
	// least this. 0 disables the trigger.
	QueueTrigger int
	// LongestWaitTrigger: inbound is behind when the longest
	// LongestRouterCallQNow is at least this. 0 disables the trigger.
	LongestWaitTrigger time.Duration

	// ReturnRatio ≥ 1: lent agents may return once the service level is at
	// least ServiceLevelTarget × ReturnRatio, which must not exceed 1.
	ReturnRatio float64
	// QueueLowWater: lent agents may return only when the summed calls in
	// queue are at most this (0 = queue empty). Below QueueTrigger.
	QueueLowWater int
	// LongestWaitLowWater: lent agents may return only when the longest wait
	// is at most this. Below LongestWaitTrigger when that is enabled.
	LongestWaitLowWater time.Duration

	// MinMoveInterval is the least time between two moves of the same agent
	// (Avaya POM's "thrash interval", dialer-anchors.md §2.8).
	MinMoveInterval time.Duration
	// MaxMovesPerDecision caps the lends or returns of one decision (≥ 1), so
	// the policy steps instead of jumping.
	MaxMovesPerDecision int
	// ReturnReasonCode is the Not Ready reason code the adapter sets when it
	// takes an agent back to outbound (§2.6). It must be a site code, not 0
	// and not one of ICM's system codes (§2.4), so reports can tell blending
	// from RONA or desktop failures.
	ReturnReasonCode uint16

	// PacingBehind is the outbound pacing factor (0..1) applied at once
	// while inbound is behind: slowing the dialer is the cheapest lever, it
	// leaves agents idle on outbound, and idle agents are the ones that can
	// be lent.
	PacingBehind float64
	// PacingRampStep is how much the factor rises per decision once inbound
	// is met again (0 < step ≤ 1), so outbound resumes smoothly rather than
	// launching a burst that would tie every agent up at once.
	PacingRampStep float64
	// LendAfter is how long inbound must stay behind before agents are lent
	// (0 = lend on the first behind decision). Pacing slows at once.
	LendAfter time.Duration
	// ConfirmTimeout is how long the policy waits for the wire to show a
	// move it issued before it believes the wire over its own record (a
	// rejected SET_AGENT_STATE_REQ, a supervisor's change).
	ConfirmTimeout time.Duration
}

// DefaultConfig is a reasonable configuration for the given monitored skill
// groups: 80 % in 20 s, abandons counting against the service level, a 5 min
// sliding window (like To5), triggers at 3 calls in queue or 30 s longest
// wait, return at 88 % with an empty queue, at most 2 moves a decision and a
// 60 s thrash interval, pacing halved while behind and ramped back 0.1 per
// decision.
func DefaultConfig(skillGroups ...int) Config {
	return Config{
		SkillGroups:           append([]int(nil), skillGroups...),
		ServiceLevelTarget:    0.80,
		ServiceLevelThreshold: 20 * time.Second,
		ServiceLevelType:      AbandonsNegative,
		Window:                WindowSliding,
		WindowLength:          5 * time.Minute,
		MinSample:             5,
		QueueTrigger:          3,
		LongestWaitTrigger:    30 * time.Second,
		ReturnRatio:           1.10,
		QueueLowWater:         0,
		LongestWaitLowWater:   0,
		MinMoveInterval:       60 * time.Second,
		MaxMovesPerDecision:   2,
		ReturnReasonCode:      100,
		PacingBehind:          0.5,
		PacingRampStep:        0.1,
		LendAfter:             0,
		ConfirmTimeout:        15 * time.Second,
	}
}

// systemReasonCodes are ICM's own Not Ready reason codes (ipcc-behaviour.md
// §2.4); blending must not masquerade as one of them.
var systemReasonCodes = map[uint16]string{
	999: "supervisor-initiated", 20003: "system", 32767: "RONA", 50002: "CTI/desktop failure",
	50005: "non-ACD call", 50006: "system", 50010: "missed consecutive calls", 50041: "system", 51004: "system",
}

// ReturnLevel is the service level at or above which lent agents may return.
func (c Config) ReturnLevel() float64 { return c.ServiceLevelTarget * c.ReturnRatio }

// Validate reports every invalid field, each error naming it.
func (c Config) Validate() error {
	var errs []error
	bad := func(field string, v any, want string) {
		errs = append(errs, fmt.Errorf("blend: Config.%s %v: %s", field, v, want))
	}
	if len(c.SkillGroups) == 0 {
		bad("SkillGroups", c.SkillGroups, "want at least one monitored skill group")
	}
	seen := map[int]bool{}
	for _, sg := range c.SkillGroups {
		if sg < 0 {
			bad("SkillGroups", sg, "want skill group numbers ≥ 0")
		}
		if seen[sg] {
			bad("SkillGroups", sg, "listed twice")
		}
		seen[sg] = true
	}
	if !(c.ServiceLevelTarget > 0 && c.ServiceLevelTarget <= 1) {
		bad("ServiceLevelTarget", c.ServiceLevelTarget, "want 0 < target ≤ 1")
	}
	if c.ServiceLevelThreshold <= 0 {
		bad("ServiceLevelThreshold", c.ServiceLevelThreshold, "want > 0")
	}
	switch c.ServiceLevelType {
	case IgnoreAbandons, AbandonsNegative, AbandonsPositive:
	default:
		bad("ServiceLevelType", int(c.ServiceLevelType), "want 1 (ignore abandons), 2 (negative) or 3 (positive)")
	}
	switch c.Window {
	case WindowSliding:
		if c.WindowLength <= 0 {
			bad("WindowLength", c.WindowLength, "want > 0 for a sliding window")
		}
	case WindowSupplied:
	default:
		bad("Window", int(c.Window), "want WindowSliding or WindowSupplied")
	}
	if c.MinSample < 1 {
		bad("MinSample", c.MinSample, "want ≥ 1")
	}
	if c.QueueTrigger < 0 {
		bad("QueueTrigger", c.QueueTrigger, "want ≥ 0 (0 disables)")
	}
	if c.LongestWaitTrigger < 0 {
		bad("LongestWaitTrigger", c.LongestWaitTrigger, "want ≥ 0 (0 disables)")
	}
	if !(c.ReturnRatio >= 1) || math.IsInf(c.ReturnRatio, 0) {
		bad("ReturnRatio", c.ReturnRatio, "want ≥ 1 (below 1 agents would return while still behind)")
	} else if c.ReturnLevel() > 1 {
		bad("ReturnRatio", c.ReturnRatio, fmt.Sprintf("target × ratio = %.4g exceeds 1, so agents could never return", c.ReturnLevel()))
	}
	if c.QueueLowWater < 0 {
		bad("QueueLowWater", c.QueueLowWater, "want ≥ 0")
	} else if c.QueueTrigger > 0 && c.QueueLowWater >= c.QueueTrigger {
		bad("QueueLowWater", c.QueueLowWater, fmt.Sprintf("want below QueueTrigger %d for a dead band", c.QueueTrigger))
	}
	if c.LongestWaitLowWater < 0 {
		bad("LongestWaitLowWater", c.LongestWaitLowWater, "want ≥ 0")
	} else if c.LongestWaitTrigger > 0 && c.LongestWaitLowWater >= c.LongestWaitTrigger {
		bad("LongestWaitLowWater", c.LongestWaitLowWater, fmt.Sprintf("want below LongestWaitTrigger %v for a dead band", c.LongestWaitTrigger))
	}
	if c.MinMoveInterval < 0 {
		bad("MinMoveInterval", c.MinMoveInterval, "want ≥ 0")
	}
	if c.MaxMovesPerDecision < 1 {
		bad("MaxMovesPerDecision", c.MaxMovesPerDecision, "want ≥ 1")
	}
	if c.ReturnReasonCode == 0 {
		bad("ReturnReasonCode", c.ReturnReasonCode, "want a site-defined Not Ready reason code, not 0")
	} else if what, ok := systemReasonCodes[c.ReturnReasonCode]; ok {
		bad("ReturnReasonCode", c.ReturnReasonCode, "is ICM's system code for "+what)
	}
	if !(c.PacingBehind >= 0 && c.PacingBehind <= 1) {
		bad("PacingBehind", c.PacingBehind, "want 0 ≤ factor ≤ 1")
	}
	if !(c.PacingRampStep > 0 && c.PacingRampStep <= 1) {
		bad("PacingRampStep", c.PacingRampStep, "want 0 < step ≤ 1")
	}
	if c.LendAfter < 0 {
		bad("LendAfter", c.LendAfter, "want ≥ 0")
	}
	if c.ConfirmTimeout <= 0 {
		bad("ConfirmTimeout", c.ConfirmTimeout, "want > 0")
	}
	return errors.Join(errs...)
}
