package dialer

import (
	"fmt"
	"time"
)

// RatioConfig configures the fixed-ratio dialer.
type RatioConfig struct {
	// Level is VICIdial's auto_dial_level for dial_method RATIO
	// (dialer-anchors.md §1.1): the lines kept up per counted agent, from
	// 1.0 (power/progressive dialing) to 100.
	Level float64
}

// Validate reports an invalid Level, naming the field.
func (c RatioConfig) Validate() error {
	if !(c.Level >= 1 && c.Level <= 100) {
		return fmt.Errorf("dialer: RatioConfig.Level %v: want 1 ≤ level ≤ 100", c.Level)
	}
	return nil
}

// Ratio is VICIdial's RATIO dial method (dialer-anchors.md §1.1), the field's
// fixed lines-per-agent baseline: progressive dialing when the level is 1.0,
// "power" dialing above. Every Decide is one pass of VICIdial's placement
// loop (§1.2, AST_VDauto_dial.pl):
//
//	agents   = Ready + Talking agents           (§1.2 step 1: "dead" agents,
//	                                              those dispositioning, i.e.
//	                                              WrapUp, are not counted)
//	goal     = sprintf("%.0f", level × agents)  (§1.2 step 4)
//	existing = len(Dialing) + Waiting + Talking (§1.2 step 5: calls SENT,
//	                                              RINGING, LIVE, XFER, CLOSER)
//	new      = max(0, goal − existing)          (§1.2 step 6)
//
// The rounding is Perl's sprintf("%.0f"), which rounds half to even (1.5 × 3
// agents = 4.5 → 4 lines, 2.5 × 3 = 7.5 → 8), not Go's math.Round; see
// perlSprintf0. The options VICIdial layers on top (available_only_ratio_tally,
// dial_level_threshold, in-group calls counted as existing lines,
// inbound_queue_no_dial) are not modelled: the controller owns blending and
// the line limits.
//
// Ratio keeps no state; Settled and Handled are ignored.
type Ratio struct {
	level float64
	name  string
}

var _ Strategy = (*Ratio)(nil)

// NewRatio returns the fixed-ratio dialer named "ratio-<level>"
// ("ratio-1.0", "ratio-2.5").
func NewRatio(cfg RatioConfig) (*Ratio, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Ratio{level: cfg.Level, name: "ratio-" + formatLevel(cfg.Level)}, nil
}

// NewProgressive returns the fixed-ratio dialer at level 1.0 under the name
// "progressive": one line per available or talking agent (§1.1, RATIO at 1.0).
func NewProgressive() *Ratio { return &Ratio{level: 1, name: "progressive"} }

// Name is "ratio-<level>", or "progressive" for NewProgressive.
func (r *Ratio) Name() string { return r.name }

// Level is the fixed dial level.
func (r *Ratio) Level() float64 { return r.level }

// Decide places goal − existing calls (see Ratio).
func (r *Ratio) Decide(s Snapshot) int {
	return vdPlacement(r.level, vdAgents(s), vdExisting(s))
}

// Settled is ignored: the ratio does not learn.
func (r *Ratio) Settled(Settled) {}

// Handled is ignored: the ratio does not learn.
func (r *Ratio) Handled(talk, wrap time.Duration) {}
