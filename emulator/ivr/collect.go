// IP-IVR's "Get Digit String" step as a state machine with no I/O: the
// adapter (ivr.go) runs it under its mutex with wall-clock timers, the
// simulation driver's switching fabric (emulator/fabric) on the centre's
// scheduler, so both collect the same digits.

package ivr

import "time"

// Script is the queue treatment and collect-digits step.
type Script struct {
	// DigitCount is how many digits are collected (a '#' ends early).
	DigitCount int
	// FirstDigitTimeout bounds the wait for the first digit after the
	// announcement; InterDigitTimeout the wait after each digit.
	FirstDigitTimeout time.Duration
	InterDigitTimeout time.Duration
	// Announcement is the welcome prompt's length.
	Announcement time.Duration
}

// WithDefaults fills zero fields: 8 digits, 6 s, 3 s, a 2 s announcement.
func (s Script) WithDefaults() Script {
	if s.DigitCount <= 0 {
		s.DigitCount = 8
	}
	if s.FirstDigitTimeout <= 0 {
		s.FirstDigitTimeout = 6 * time.Second
	}
	if s.InterDigitTimeout <= 0 {
		s.InterDigitTimeout = 3 * time.Second
	}
	if s.Announcement <= 0 {
		s.Announcement = 2 * time.Second
	}
	return s
}

// FirstWait is how long after answering the step gives up if no digit came:
// the announcement, then the first-digit timeout.
func (s Script) FirstWait() time.Duration { return s.Announcement + s.FirstDigitTimeout }

// Collector collects one caller's digits. Arm its timer for FirstWait when
// the call is answered; feed each received digit to Digit and the timer's
// expiry to Timeout.
type Collector struct {
	s      Script
	digits []byte
	done   bool
}

// NewCollector starts collecting with s (WithDefaults applied).
func NewCollector(s Script) *Collector { return &Collector{s: s.WithDefaults()} }

// Step is what the collector asks of its owner after an input.
type Step struct {
	// Done: collection is over; Digits (possibly empty: nothing to
	// report) is the result, and the timer must be stopped.
	Done   bool
	Digits string
	// Rearm, when positive, restarts the timer with this wait.
	Rearm time.Duration
}

// Digit takes one received DTMF digit. Digits after the end are ignored
// (a zero Step).
func (c *Collector) Digit(d byte) Step {
	if c.done {
		return Step{}
	}
	if d != '#' {
		c.digits = append(c.digits, d)
	}
	if d == '#' || len(c.digits) >= c.s.DigitCount {
		return c.finish()
	}
	return Step{Rearm: c.s.InterDigitTimeout}
}

// Timeout ends collection with what was keyed so far (ignored after the
// end).
func (c *Collector) Timeout() Step {
	if c.done {
		return Step{}
	}
	return c.finish()
}

// Finished reports whether collection is over.
func (c *Collector) Finished() bool { return c.done }

func (c *Collector) finish() Step {
	c.done = true
	return Step{Done: true, Digits: string(c.digits)}
}
