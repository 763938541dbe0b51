// Package alerts decides when the centre's figures deserve a supervisor's
// attention: thresholds on service level, abandon rates, queue wait, agents
// stuck in RESERVED and the call list running dry, each raised only after
// it has held for a while and cleared only once the figure is back past a
// separate clear level, so that an alert does not flap around its
// threshold.
//
// The package is a pure core: Evaluate is given the time and the figures
// and answers with the changes; it keeps no clock, goroutine or socket of
// its own. The Notifier (notify.go) is the adapter that logs the changes
// and posts them to a webhook.
package alerts

import (
	"fmt"
	"strings"
	"time"
)

// Config holds the thresholds of every alert kind. A kind whose raise level
// is zero is off. Durations are how long a figure must stay beyond its
// raise level before the alert is raised (0: at the first evaluation that
// sees it).
type Config struct {
	ServiceLevel    ServiceLevel    `json:"service_level"`
	InboundAbandon  InboundAbandon  `json:"inbound_abandon"`
	OutboundAbandon OutboundAbandon `json:"outbound_abandon"`
	QueueWait       QueueWait       `json:"queue_wait"`
	Reserved        Reserved        `json:"reserved"`
	List            List            `json:"list"`
}

// Service-level windows (ServiceLevel.Windows).
const (
	// WindowTo5 is ICM's rolling five minutes: quick to react, noisy on a
	// small queue.
	WindowTo5 = "to5"
	// WindowHalf is the current half-hour interval, the figure a centre is
	// managed and reported on.
	WindowHalf = "half"
)

// ServiceLevel raises a critical alert when the service level (fraction of
// calls answered within the threshold) falls below Below, overall and, with
// PerCallType, for each call type.
type ServiceLevel struct {
	Below float64 `json:"below"`
	// ClearAt is the level at or above which the alert clears; it must be
	// above Below.
	ClearAt float64 `json:"clear_at"`
	// Windows are the service-level windows judged, WindowTo5 and/or
	// WindowHalf.
	Windows []string `json:"windows"`
	// MinCalls is how many calls must have counted in the window before
	// its service level is judged at all: two calls answered late out of
	// three is not a service problem yet.
	MinCalls    int           `json:"min_calls"`
	For         time.Duration `json:"for"`
	PerCallType bool          `json:"per_call_type"`
}

// InboundAbandon raises a critical alert when the share of inbound calls
// offered over the last Window that abandoned is above Above.
type InboundAbandon struct {
	Above   float64       `json:"above"`
	ClearAt float64       `json:"clear_at"` // at or below: cleared; under Above
	Window  time.Duration `json:"window"`
	// MinCalls is the calls offered in the window before the rate counts.
	MinCalls int           `json:"min_calls"`
	For      time.Duration `json:"for"`
}

// OutboundAbandon raises a critical alert when a campaign's abandon rate
// reaches its compliance target (Figures' Campaign.AbandonTarget, the
// regulator's limit), and a warning when it reaches WarnRatio × target, so
// that the supervisor can slow the pacing before the campaign is out of
// compliance.
type OutboundAbandon struct {
	On bool `json:"on"`
	// WarnRatio (0 < r < 1) places the warning level; 0: no warning.
	WarnRatio float64 `json:"warn_ratio"`
	// ClearRatio (0 < r < 1): an alert clears at or below ClearRatio × its
	// raise level.
	ClearRatio float64 `json:"clear_ratio"`
	// MinCalls is the live answers before the rate counts.
	MinCalls int           `json:"min_calls"`
	For      time.Duration `json:"for"`
}

// QueueWait raises a critical alert when the longest queued caller has
// waited more than Above.
type QueueWait struct {
	Above   time.Duration `json:"above"`
	ClearAt time.Duration `json:"clear_at"` // at or below: cleared; under Above
	For     time.Duration `json:"for"`
}

// Reserved raises a warning for each agent in RESERVED for longer than
// Above: a call offered and never answered or withdrawn, the agent lost to
// routing. It clears when the agent leaves RESERVED.
type Reserved struct {
	Above time.Duration `json:"above"`
}

// List raises a warning when a campaign's call list has fewer than Below
// records left to dial, and a critical alert when none is dialable now.
type List struct {
	Below int `json:"below"`
	// ClearAt is the records left at or above which the warning clears
	// (more were imported); it must be above Below.
	ClearAt int `json:"clear_at"`
	// NoneDialable raises the critical alert.
	NoneDialable bool          `json:"none_dialable"`
	For          time.Duration `json:"for"`
}

// Default is a real centre's starting point, sized on an 80/20 service
// level target: the half-hour's service level below 60 % with at least 20
// calls for ten minutes (cleared at 70 %), more than 10 % of the last half
// hour's callers abandoning (cleared at 7 %), a caller waiting over three
// minutes, an agent reserved for over 30 s (ring-no-answer is 15 s), the
// outbound abandon rate at 80 % of the compliance target (warning) or at it
// (critical), under 100 records left.
func Default() Config {
	return Config{
		ServiceLevel: ServiceLevel{Below: 0.6, ClearAt: 0.7, Windows: []string{WindowHalf}, MinCalls: 20,
			For: 10 * time.Minute, PerCallType: true},
		InboundAbandon:  InboundAbandon{Above: 0.1, ClearAt: 0.07, Window: 30 * time.Minute, MinCalls: 30, For: 5 * time.Minute},
		OutboundAbandon: OutboundAbandon{On: true, WarnRatio: 0.8, ClearRatio: 0.9, MinCalls: 50, For: 5 * time.Minute},
		QueueWait:       QueueWait{Above: 3 * time.Minute, ClearAt: time.Minute, For: time.Minute},
		Reserved:        Reserved{Above: 30 * time.Second},
		List:            List{Below: 100, ClearAt: 150, NoneDialable: true, For: 5 * time.Minute},
	}
}

// FieldError is one bad setting; Field is its key as in the scenario file
// below controller.alerts, e.g. "service_level.clear_at".
type FieldError struct {
	Field string
	Msg   string
}

func (e FieldError) Error() string { return e.Field + ": " + e.Msg }

// ConfigError lists every bad setting of a Config.
type ConfigError []FieldError

func (e ConfigError) Error() string {
	s := make([]string, len(e))
	for i, f := range e {
		s[i] = "alerts: " + f.Error()
	}
	return strings.Join(s, "\n")
}

// Validate checks every threshold; the error is a ConfigError naming each
// bad field.
func (c Config) Validate() error {
	var errs ConfigError
	bad := func(field, format string, args ...any) {
		errs = append(errs, FieldError{Field: field, Msg: fmt.Sprintf(format, args...)})
	}
	fraction := func(field string, v float64) bool {
		if v < 0 || v > 1 {
			bad(field, "must be a fraction between 0 and 1, got %v", v)
			return false
		}
		return true
	}
	nonNeg := func(field string, d time.Duration) {
		if d < 0 {
			bad(field, "must not be negative, got %v", d)
		}
	}
	sl := c.ServiceLevel
	if fraction("service_level.below", sl.Below) && fraction("service_level.clear_at", sl.ClearAt) && sl.Below > 0 && sl.ClearAt <= sl.Below {
		bad("service_level.clear_at", "must be above service_level.below (%v) so the alert does not flap, got %v", sl.Below, sl.ClearAt)
	}
	if sl.Below > 0 && len(sl.Windows) == 0 {
		bad("service_level.windows", "at least one of %s, %s is required", WindowTo5, WindowHalf)
	}
	seen := map[string]bool{}
	for i, w := range sl.Windows {
		if w != WindowTo5 && w != WindowHalf || seen[w] {
			bad(fmt.Sprintf("service_level.windows[%d]", i), "must be %s or %s, each once, got %q", WindowTo5, WindowHalf, w)
		}
		seen[w] = true
	}
	if sl.MinCalls < 0 {
		bad("service_level.min_calls", "must not be negative, got %d", sl.MinCalls)
	}
	nonNeg("service_level.for", sl.For)

	ia := c.InboundAbandon
	if fraction("inbound_abandon.above", ia.Above) && fraction("inbound_abandon.clear_at", ia.ClearAt) && ia.Above > 0 && ia.ClearAt >= ia.Above {
		bad("inbound_abandon.clear_at", "must be below inbound_abandon.above (%v) so the alert does not flap, got %v", ia.Above, ia.ClearAt)
	}
	if ia.Above > 0 && ia.Window <= 0 {
		bad("inbound_abandon.window", "must be positive, got %v", ia.Window)
	}
	if ia.MinCalls < 0 {
		bad("inbound_abandon.min_calls", "must not be negative, got %d", ia.MinCalls)
	}
	nonNeg("inbound_abandon.for", ia.For)

	oa := c.OutboundAbandon
	if oa.WarnRatio < 0 || oa.WarnRatio >= 1 {
		bad("outbound_abandon.warn_ratio", "must be at least 0 and below 1 (a share of the compliance target), got %v", oa.WarnRatio)
	}
	if oa.On && (oa.ClearRatio <= 0 || oa.ClearRatio >= 1) {
		bad("outbound_abandon.clear_ratio", "must be above 0 and below 1 (a share of the raise level), got %v", oa.ClearRatio)
	}
	if oa.MinCalls < 0 {
		bad("outbound_abandon.min_calls", "must not be negative, got %d", oa.MinCalls)
	}
	nonNeg("outbound_abandon.for", oa.For)

	qw := c.QueueWait
	nonNeg("queue_wait.above", qw.Above)
	nonNeg("queue_wait.clear_at", qw.ClearAt)
	if qw.Above > 0 && qw.ClearAt >= qw.Above {
		bad("queue_wait.clear_at", "must be below queue_wait.above (%v) so the alert does not flap, got %v", qw.Above, qw.ClearAt)
	}
	nonNeg("queue_wait.for", qw.For)

	nonNeg("reserved.above", c.Reserved.Above)

	l := c.List
	if l.Below < 0 {
		bad("list.below", "must not be negative, got %d", l.Below)
	}
	if l.Below > 0 && l.ClearAt <= l.Below {
		bad("list.clear_at", "must be above list.below (%d) so the alert does not flap, got %d", l.Below, l.ClearAt)
	}
	nonNeg("list.for", l.For)
	if len(errs) > 0 {
		return errs
	}
	return nil
}

// Any reports whether any alert kind is on.
func (c Config) Any() bool {
	return c.ServiceLevel.Below > 0 || c.InboundAbandon.Above > 0 || c.OutboundAbandon.On || c.QueueWait.Above > 0 ||
		c.Reserved.Above > 0 || c.List.Below > 0 || c.List.NoneDialable
}
