package dialer

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"
)

// ThresholdPreset is one of the dialer policies of the ContactCenters library
// (DialerPolicyType, dialer-anchors.md §5.3) built on ThresholdDialerPolicy.
type ThresholdPreset int

const (
	// DialXFree (DIALXFREE) dials round(κ·free) + c with κ and c configured.
	DialXFree ThresholdPreset = iota + 1
	// Dial1XFree (DIAL1XFREE) is DIALXFREE with κ = 1, c = 1.
	Dial1XFree
	// Dial2XFree (DIAL2XFREE) is DIALXFREE with κ = 2, c = 0.
	Dial2XFree
	// DialOne (DIALONE) is DIALXFREE with κ = 0, c = 1.
	DialOne
)

func (p ThresholdPreset) String() string {
	switch p {
	case DialXFree:
		return "DIALXFREE"
	case Dial1XFree:
		return "DIAL1XFREE"
	case Dial2XFree:
		return "DIAL2XFREE"
	case DialOne:
		return "DIALONE"
	}
	return fmt.Sprintf("ThresholdPreset(%d)", int(p))
}

// kappaC is the preset's (κ, c); ok is false for DIALXFREE.
func (p ThresholdPreset) kappaC() (kappa float64, c int, ok bool) {
	switch p {
	case Dial1XFree:
		return 1, 1, true
	case Dial2XFree:
		return 2, 0, true
	case DialOne:
		return 0, 1, true
	}
	return 0, 0, false
}

// ThresholdConfig configures the threshold dialer.
type ThresholdConfig struct {
	// Preset is DialXFree, Dial1XFree, Dial2XFree or DialOne (required).
	Preset ThresholdPreset
	// Kappa (κ, any finite number) and C (c ≥ 0, "c ∈ ℕ") are the
	// multiplicative and additive constants of DIALXFREE. The other presets
	// fix them; there they must be left zero or equal the preset's values.
	Kappa float64
	C     int
	// MinFreeTest is s_t, the (inclusive) minimum of free agents in the
	// test set, and MinFreeTarget s_d, the minimum in the target set; both
	// ≥ 0. Here both sets are the campaign's agents, so the policy dials
	// when free ≥ max(s_t, s_d). ContactCenters' short constructor uses
	// s_d = 1; with s_d = 0 a policy with c > 0 dials with no agent free.
	MinFreeTest, MinFreeTarget int
	// CountInProgress subtracts a, the calls already in progress
	// (len(Snapshot.Dialing) + Snapshot.Waiting): ContactCenters'
	// Dialer.isUsingNumActionsEvents. Off, a = 0, and because Decide runs
	// every second, not only when an agent frees up as in ContactCenters,
	// the policy then dials round(κ·free) + c more calls every second while
	// agents stay free.
	CountInProgress bool
}

// Validate reports every invalid field, each error naming it.
func (c ThresholdConfig) Validate() error {
	var errs []error
	bad := func(field string, v any, want string) {
		errs = append(errs, fmt.Errorf("dialer: ThresholdConfig.%s %v: want %s", field, v, want))
	}
	if k, cc, ok := c.Preset.kappaC(); ok {
		if c.Kappa != 0 && c.Kappa != k {
			bad("Kappa", c.Kappa, fmt.Sprintf("0 or %v (fixed by %v)", k, c.Preset))
		}
		if c.C != 0 && c.C != cc {
			bad("C", c.C, fmt.Sprintf("0 or %d (fixed by %v)", cc, c.Preset))
		}
	} else if c.Preset == DialXFree {
		if math.IsNaN(c.Kappa) || math.IsInf(c.Kappa, 0) {
			bad("Kappa", c.Kappa, "a finite number")
		}
		if c.C < 0 {
			bad("C", c.C, "≥ 0")
		}
	} else {
		bad("Preset", int(c.Preset), "DialXFree, Dial1XFree, Dial2XFree or DialOne")
	}
	if c.MinFreeTest < 0 {
		bad("MinFreeTest", c.MinFreeTest, "≥ 0")
	}
	if c.MinFreeTarget < 0 {
		bad("MinFreeTarget", c.MinFreeTarget, "≥ 0")
	}
	return errors.Join(errs...)
}

// Threshold is the dialer policy of the call-blending literature
// (Pichitlamken et al. 2003, Deslauriers et al. 2007; dialer-anchors.md §5.3)
// as implemented by ThresholdDialerPolicy.getNumDials in the ContactCenters
// library:
//
//	free = Ready agents                  (test set = target set = campaign agents)
//	if free < s_t or free < s_d: dial 0
//	a    = len(Dialing) + Waiting        (0 unless CountInProgress)
//	dial max(Math.round(κ·free) + c − a, 0)
//
// Math.round is Java's: ties round up (κ·free = 2.5 → 3), see javaRound.
// ContactCenters evaluates the policy whenever the dialer is triggered (an
// agent becomes free); here it is evaluated once per second. Threshold keeps
// no state; Settled and Handled are ignored.
type Threshold struct {
	kappa      float64
	c          int
	minFree    int
	inProgress bool
	name       string
}

var _ Strategy = (*Threshold)(nil)

// NewThreshold returns the threshold dialer named "threshold-dial1xfree",
// "threshold-dial2xfree", "threshold-dialone" or, for DIALXFREE,
// "threshold-dialxfree-k<κ>-c<c>" (e.g. "threshold-dialxfree-k1.5-c0").
func NewThreshold(cfg ThresholdConfig) (*Threshold, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	t := &Threshold{
		kappa:      cfg.Kappa,
		c:          cfg.C,
		minFree:    max(cfg.MinFreeTest, cfg.MinFreeTarget),
		inProgress: cfg.CountInProgress,
	}
	switch cfg.Preset {
	case Dial1XFree:
		t.name = "threshold-dial1xfree"
	case Dial2XFree:
		t.name = "threshold-dial2xfree"
	case DialOne:
		t.name = "threshold-dialone"
	default:
		t.name = "threshold-dialxfree-k" + strconv.FormatFloat(cfg.Kappa, 'f', -1, 64) + "-c" + strconv.Itoa(cfg.C)
	}
	if k, c, ok := cfg.Preset.kappaC(); ok {
		t.kappa, t.c = k, c
	}
	return t, nil
}

// Name is the policy's name (see NewThreshold).
func (t *Threshold) Name() string { return t.name }

// Decide applies the policy to the free agents now (see Threshold).
func (t *Threshold) Decide(s Snapshot) int {
	free := s.Count(Ready)
	if free < t.minFree {
		return 0
	}
	a := 0
	if t.inProgress {
		a = len(s.Dialing) + s.Waiting
	}
	return max(javaRound(t.kappa*float64(free))+t.c-a, 0)
}

// Settled is ignored: the policy does not learn.
func (t *Threshold) Settled(Settled) {}

// Handled is ignored: the policy does not learn.
func (t *Threshold) Handled(talk, wrap time.Duration) {}
