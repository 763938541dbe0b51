package dialer

import (
	"fmt"
	"math"
	"strings"
	"testing"
	"time"
)

// load is a campaign snapshot for the baseline tests: ready, talking and
// wrap-up agents, calls being dialed and answered calls waiting.
type load struct{ ready, talking, wrap, dialing, waiting int }

func (l load) at(now time.Time) Snapshot {
	s := Snapshot{Now: now, Waiting: l.waiting, MaxNew: 1000}
	add := func(n int, p Phase) {
		for range n {
			s.Agents = append(s.Agents, AgentLoad{ID: fmt.Sprintf("a%d", len(s.Agents)), Phase: p})
		}
	}
	add(l.ready, Ready)
	add(l.talking, Talking)
	add(l.wrap, WrapUp)
	for i := range l.dialing {
		s.Dialing = append(s.Dialing, time.Duration(i)*time.Second)
	}
	return s
}

func TestPerlSprintf0(t *testing.T) {
	for _, c := range []struct{ in, want float64 }{
		{0, 0}, {0.49, 0}, {0.5, 0}, {0.51, 1}, {1.5, 2}, {2.5, 2}, {3.5, 4}, {4.5, 4},
		{7.49, 7}, {7.5, 8}, {1.1 * 5, 6}, {2.2 * 20, 44}, {-2.5, -2}, {-3.5, -4},
	} {
		if got := perlSprintf0(c.in); got != c.want {
			t.Errorf("perlSprintf0(%v) = %v, want %v", c.in, got, c.want)
		}
	}
}

func TestRatioConfigValidate(t *testing.T) {
	for _, c := range []struct {
		level float64
		ok    bool
	}{
		{1, true}, {2.5, true}, {100, true},
		{0, false}, {0.99, false}, {100.01, false}, {math.NaN(), false}, {math.Inf(1), false},
	} {
		err := RatioConfig{Level: c.level}.Validate()
		if (err == nil) != c.ok {
			t.Errorf("Level %v: err = %v, want ok=%v", c.level, err, c.ok)
		}
		if err != nil && !strings.Contains(err.Error(), "RatioConfig.Level") {
			t.Errorf("Level %v: error %q does not name the field", c.level, err)
		}
		if _, nerr := NewRatio(RatioConfig{Level: c.level}); (nerr == nil) != c.ok {
			t.Errorf("NewRatio(Level %v): err = %v, want ok=%v", c.level, nerr, c.ok)
		}
	}
}

func TestRatioNames(t *testing.T) {
	for _, c := range []struct {
		level float64
		want  string
	}{{1, "ratio-1.0"}, {2, "ratio-2.0"}, {2.5, "ratio-2.5"}, {1.25, "ratio-1.25"}} {
		r, err := NewRatio(RatioConfig{Level: c.level})
		if err != nil {
			t.Fatal(err)
		}
		if r.Name() != c.want {
			t.Errorf("level %v: Name() = %q, want %q", c.level, r.Name(), c.want)
		}
	}
	if p := NewProgressive(); p.Name() != "progressive" || p.Level() != 1 {
		t.Errorf("NewProgressive() = %q at %v, want progressive at 1", p.Name(), p.Level())
	}
}

func TestRatioDecide(t *testing.T) {
	for _, c := range []struct {
		name  string
		level float64
		load  load
		want  int
	}{
		{"progressive fills idle agents", 1, load{ready: 5}, 5},
		{"progressive counts talking agents' calls", 1, load{ready: 3, talking: 2, wrap: 1, dialing: 2, waiting: 1}, 0},
		{"progressive, one line short", 1, load{ready: 3, talking: 2, dialing: 1, waiting: 1}, 1},
		// agents 3+2 = 5, goal 10, existing 1 dialing + 0 waiting + 2 talking.
		{"power 2.0", 2, load{ready: 3, talking: 2, wrap: 1, dialing: 1}, 7},
		{"wrap-up agents are not counted", 1, load{wrap: 5}, 0},
		{"wrap-up agents do not count at level 3", 3, load{ready: 1, wrap: 4}, 3},
		{"more lines up than the goal", 1.5, load{ready: 2, dialing: 9}, 0},
		{"waiting calls are existing lines", 2, load{ready: 2, waiting: 3}, 1},
		// sprintf("%.0f") rounds half to even: 4.5 → 4, 7.5 → 8, 1.5 → 2, 2.5 → 2.
		{"1.5 × 3 = 4.5 → 4", 1.5, load{ready: 3}, 4},
		{"2.5 × 3 = 7.5 → 8", 2.5, load{ready: 3}, 8},
		{"1.5 × 1 = 1.5 → 2", 1.5, load{ready: 1}, 2},
		{"2.5 × 1 = 2.5 → 2", 2.5, load{ready: 1}, 2},
		{"1.3 × 3 = 3.9 → 4", 1.3, load{ready: 2, talking: 1}, 3},
		{"no agents", 3, load{}, 0},
	} {
		r, err := NewRatio(RatioConfig{Level: c.level})
		if err != nil {
			t.Fatal(err)
		}
		if got := r.Decide(c.load.at(t0)); got != c.want {
			t.Errorf("%s: Decide = %d, want %d", c.name, got, c.want)
		}
	}
}

func TestRatioIgnoresFeedback(t *testing.T) {
	r, _ := NewRatio(RatioConfig{Level: 2})
	s := load{ready: 4, talking: 1}.at(t0)
	before := r.Decide(s)
	for range 100 {
		r.Settled(Settled{Placed: t0, At: t0, Outcome: Abandoned})
		r.Handled(time.Minute, time.Second)
	}
	if after := r.Decide(s); after != before || before != 9 {
		t.Errorf("Decide = %d then %d, want 9 both times", before, after)
	}
}
