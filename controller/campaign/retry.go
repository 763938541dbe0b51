package campaign

import (
	"errors"
	"fmt"
	"time"
)

// RetryRule says whether a record is dialed again after an outcome, and not
// before how long. MaxAttempts, when set, stops retries after this outcome
// once the record has had that many attempts in all (VICIdial's per-status
// lead recycling limit, dialer-anchors.md §1.5); 0 leaves it to the
// campaign's MaxAttempts.
type RetryRule struct {
	Retry       bool
	Delay       time.Duration
	MaxAttempts int `json:",omitempty"`
}

// RetryRules holds one rule per retryable outcome. Unknown (crash recovery)
// follows Abandoned: the call may have been answered and then dropped by the
// crash with no agent, which is an abandon, so the 72 h lockout applies
// (compliance first; a redial that was allowed is cheaper than one that
// was not).
type RetryRules struct {
	Busy, NoAnswer, Machine, Abandoned, Failed RetryRule
}

// MinRetryDelay is VICIdial's lower bound on a lead-recycle delay (§1.5):
// redialing sooner just hammers a busy line.
const MinRetryDelay = 2 * time.Minute

// AbandonLockout is Ofcom's rule that an abandoned number is not called again
// within 72 hours (§3). It is the floor for Abandoned.Delay in a UK campaign
// (Campaign.UKOfcom) and the default everywhere, so the default settings are
// compliant in both; elsewhere a campaign may set a shorter delay (at least
// MinRetryDelay).
const AbandonLockout = 72 * time.Hour

// DefaultRetryRules: busy again after 10 min, no answer after 1 h (Cisco's
// retryNoAnswerDelay default, dialer-anchors.md §2.3), a machine after 4 h,
// an abandoned call after the 72 h lockout, a failure after 15 min.
func DefaultRetryRules() RetryRules {
	return RetryRules{
		Busy:      RetryRule{Retry: true, Delay: 10 * time.Minute},
		NoAnswer:  RetryRule{Retry: true, Delay: time.Hour},
		Machine:   RetryRule{Retry: true, Delay: 4 * time.Hour},
		Abandoned: RetryRule{Retry: true, Delay: AbandonLockout},
		Failed:    RetryRule{Retry: true, Delay: 15 * time.Minute},
	}
}

// Validate checks the rules of a campaign under the UK rules (the strictest
// floors); Campaign.Validate checks them for the campaign's own rules.
func (r RetryRules) Validate() error { return r.validate(true) }

// validate checks the delays of the rules that retry and their attempt
// limits; uk makes the 72 h lockout the floor of Abandoned.Delay.
func (r RetryRules) validate(uk bool) error {
	var errs []error
	check := func(name string, rule RetryRule, floor time.Duration) {
		if rule.Retry && rule.Delay < floor {
			why := ""
			if floor == AbandonLockout {
				why = " (the UK 72 h lockout after an abandoned call)"
			}
			errs = append(errs, fmt.Errorf("campaign: Campaign.RetryRules.%s.Delay %v: want ≥ %v%s", name, rule.Delay, floor, why))
		}
		if rule.MaxAttempts < 0 || rule.MaxAttempts > 100 {
			errs = append(errs, fmt.Errorf("campaign: Campaign.RetryRules.%s.MaxAttempts %d: want 0 (the campaign's) or 1–100", name, rule.MaxAttempts))
		}
	}
	lockout := MinRetryDelay
	if uk {
		lockout = AbandonLockout
	}
	check("Busy", r.Busy, MinRetryDelay)
	check("NoAnswer", r.NoAnswer, MinRetryDelay)
	check("Machine", r.Machine, MinRetryDelay)
	check("Abandoned", r.Abandoned, lockout)
	check("Failed", r.Failed, MinRetryDelay)
	return errors.Join(errs...)
}

// rule returns the rule for a retryable outcome; ok is false for final ones.
func (r RetryRules) rule(o Outcome) (RetryRule, bool) {
	switch o {
	case Busy:
		return r.Busy, true
	case NoAnswer:
		return r.NoAnswer, true
	case Machine:
		return r.Machine, true
	case Abandoned, Unknown:
		return r.Abandoned, true
	case Failed:
		return r.Failed, true
	}
	return RetryRule{}, false
}

// Decision is what becomes of a record after an attempt.
type Decision struct {
	Status Status
	NextAt time.Time // when Status is Pending; otherwise now
}

// Decide applies a campaign's retry rules to an attempt that ended with
// outcome at now; attempts counts the attempts begun so far, this one
// included. Final outcomes end the record (Answered, Invalid → done;
// AskedDNC → dnc); a retryable outcome whose rule does not retry ends it as
// done; otherwise the record is exhausted once attempts reach MaxAttempts
// (or the rule's own MaxAttempts), else pending again at now + Delay.
func Decide(c Campaign, attempts int, outcome Outcome, now time.Time) (Decision, error) {
	if !outcome.Valid() {
		return Decision{}, fmt.Errorf("campaign: outcome %q: want one of answered, busy, no_answer, machine, abandoned, failed, dnc, invalid, unknown", outcome)
	}
	if outcome == AskedDNC {
		return Decision{DNC, now}, nil
	}
	rule, ok := c.RetryRules.rule(outcome)
	switch {
	case !ok || !rule.Retry:
		return Decision{Done, now}, nil
	case attempts >= c.MaxAttempts, rule.MaxAttempts > 0 && attempts >= rule.MaxAttempts:
		return Decision{Exhausted, now}, nil
	}
	return Decision{Pending, now.Add(rule.Delay)}, nil
}
