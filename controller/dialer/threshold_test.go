package dialer

import (
	"math"
	"strings"
	"testing"
	"time"
)

func TestJavaRound(t *testing.T) {
	for _, c := range []struct {
		in   float64
		want int
	}{
		{0, 0}, {0.49999999999999994, 0}, {0.5, 1}, {1.5, 2}, {2.5, 3}, {2.4, 2}, {-0.5, 0}, {-2.5, -2}, {-2.6, -3},
	} {
		if got := javaRound(c.in); got != c.want {
			t.Errorf("javaRound(%v) = %d, want %d", c.in, got, c.want)
		}
	}
}

func TestThresholdConfigValidate(t *testing.T) {
	for _, c := range []struct {
		name  string
		cfg   ThresholdConfig
		field string // "" = valid
	}{
		{"dialxfree", ThresholdConfig{Preset: DialXFree, Kappa: 1.5, C: 2, MinFreeTest: 1, MinFreeTarget: 1}, ""},
		{"dial1xfree, constants left zero", ThresholdConfig{Preset: Dial1XFree}, ""},
		{"dial1xfree, constants repeated", ThresholdConfig{Preset: Dial1XFree, Kappa: 1, C: 1}, ""},
		{"dial2xfree", ThresholdConfig{Preset: Dial2XFree, Kappa: 2}, ""},
		{"dialone", ThresholdConfig{Preset: DialOne, C: 1}, ""},
		{"no preset", ThresholdConfig{}, "Preset"},
		{"unknown preset", ThresholdConfig{Preset: 9}, "Preset"},
		{"dialone with κ", ThresholdConfig{Preset: DialOne, Kappa: 1}, "Kappa"},
		{"dial2xfree with c", ThresholdConfig{Preset: Dial2XFree, C: 1}, "C"},
		{"dialxfree c < 0", ThresholdConfig{Preset: DialXFree, Kappa: 1, C: -1}, "C"},
		{"dialxfree κ NaN", ThresholdConfig{Preset: DialXFree, Kappa: math.NaN()}, "Kappa"},
		{"dialxfree κ +Inf", ThresholdConfig{Preset: DialXFree, Kappa: math.Inf(1)}, "Kappa"},
		{"s_t < 0", ThresholdConfig{Preset: Dial1XFree, MinFreeTest: -1}, "MinFreeTest"},
		{"s_d < 0", ThresholdConfig{Preset: Dial1XFree, MinFreeTarget: -1}, "MinFreeTarget"},
	} {
		err := c.cfg.Validate()
		_, nerr := NewThreshold(c.cfg)
		if c.field == "" {
			if err != nil || nerr != nil {
				t.Errorf("%s: Validate = %v, NewThreshold err = %v, want valid", c.name, err, nerr)
			}
			continue
		}
		if err == nil || nerr == nil {
			t.Errorf("%s: Validate = %v, NewThreshold err = %v, want an error naming %s", c.name, err, nerr, c.field)
			continue
		}
		if !strings.Contains(err.Error(), "ThresholdConfig."+c.field+" ") {
			t.Errorf("%s: error %q does not name %s", c.name, err, c.field)
		}
	}
}

func TestThresholdNames(t *testing.T) {
	for _, c := range []struct {
		cfg  ThresholdConfig
		want string
	}{
		{ThresholdConfig{Preset: Dial1XFree}, "threshold-dial1xfree"},
		{ThresholdConfig{Preset: Dial2XFree}, "threshold-dial2xfree"},
		{ThresholdConfig{Preset: DialOne}, "threshold-dialone"},
		{ThresholdConfig{Preset: DialXFree, Kappa: 1.5}, "threshold-dialxfree-k1.5-c0"},
		{ThresholdConfig{Preset: DialXFree, Kappa: 3, C: 2}, "threshold-dialxfree-k3-c2"},
	} {
		th, err := NewThreshold(c.cfg)
		if err != nil {
			t.Fatal(err)
		}
		if th.Name() != c.want {
			t.Errorf("%v: Name = %q, want %q", c.cfg.Preset, th.Name(), c.want)
		}
	}
}

func TestThresholdDecide(t *testing.T) {
	for _, c := range []struct {
		name string
		cfg  ThresholdConfig
		load load
		want int
	}{
		// DIAL1XFREE: round(1·free) + 1.
		{"dial1xfree", ThresholdConfig{Preset: Dial1XFree}, load{ready: 4, talking: 6}, 5},
		{"dial1xfree, no agent free, s_d = 0", ThresholdConfig{Preset: Dial1XFree}, load{talking: 6}, 1},
		{"dial1xfree, no agent free, s_d = 1", ThresholdConfig{Preset: Dial1XFree, MinFreeTarget: 1}, load{talking: 6}, 0},
		{"dial1xfree ignores in-progress calls by default", ThresholdConfig{Preset: Dial1XFree}, load{ready: 4, dialing: 3, waiting: 1}, 5},
		{"dial1xfree minus in-progress calls", ThresholdConfig{Preset: Dial1XFree, CountInProgress: true}, load{ready: 4, dialing: 3, waiting: 1}, 1},
		{"in-progress calls beyond the target", ThresholdConfig{Preset: Dial1XFree, CountInProgress: true}, load{ready: 2, dialing: 9}, 0},
		// DIAL2XFREE: round(2·free).
		{"dial2xfree", ThresholdConfig{Preset: Dial2XFree}, load{ready: 3, wrap: 2}, 6},
		{"dial2xfree, in progress", ThresholdConfig{Preset: Dial2XFree, CountInProgress: true}, load{ready: 3, dialing: 2}, 4},
		// DIALONE: one call whenever the thresholds pass.
		{"dialone", ThresholdConfig{Preset: DialOne, MinFreeTarget: 1}, load{ready: 7}, 1},
		{"dialone, one in progress", ThresholdConfig{Preset: DialOne, MinFreeTarget: 1, CountInProgress: true}, load{ready: 7, dialing: 1}, 0},
		// Thresholds: s_t and s_d are both on the campaign's free agents.
		{"below s_t", ThresholdConfig{Preset: Dial1XFree, MinFreeTest: 3}, load{ready: 2}, 0},
		{"at s_t", ThresholdConfig{Preset: Dial1XFree, MinFreeTest: 3}, load{ready: 3}, 4},
		{"below s_d", ThresholdConfig{Preset: Dial1XFree, MinFreeTest: 1, MinFreeTarget: 3}, load{ready: 2}, 0},
		{"at s_d", ThresholdConfig{Preset: Dial1XFree, MinFreeTest: 1, MinFreeTarget: 3}, load{ready: 3}, 4},
		{"talking and wrap-up agents are not free", ThresholdConfig{Preset: Dial1XFree, MinFreeTest: 2}, load{ready: 1, talking: 5, wrap: 5}, 0},
		// DIALXFREE with Java's Math.round: 0.5·5 = 2.5 → 3, 0.5·3 = 1.5 → 2.
		{"dialxfree κ = 0.5, 5 free", ThresholdConfig{Preset: DialXFree, Kappa: 0.5}, load{ready: 5}, 3},
		{"dialxfree κ = 0.5, 3 free", ThresholdConfig{Preset: DialXFree, Kappa: 0.5}, load{ready: 3}, 2},
		{"dialxfree κ = 1.2, c = 2", ThresholdConfig{Preset: DialXFree, Kappa: 1.2, C: 2}, load{ready: 4}, 7},
		{"dialxfree κ = 0.3, c = 0, 1 free", ThresholdConfig{Preset: DialXFree, Kappa: 0.3}, load{ready: 1}, 0},
		{"dialxfree κ < 0 floors at 0", ThresholdConfig{Preset: DialXFree, Kappa: -1, C: 1}, load{ready: 4}, 0},
	} {
		th, err := NewThreshold(c.cfg)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if got := th.Decide(c.load.at(t0)); got != c.want {
			t.Errorf("%s: Decide = %d, want %d", c.name, got, c.want)
		}
		th.Settled(Settled{Placed: t0, At: t0, Outcome: Abandoned})
		th.Handled(time.Minute, time.Second)
		if got := th.Decide(c.load.at(t0.Add(time.Second))); got != c.want {
			t.Errorf("%s: Decide after feedback = %d, want %d (stateless)", c.name, got, c.want)
		}
	}
}
