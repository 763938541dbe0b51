package dialer

import (
	"strings"
	"testing"
	"time"
)

func TestVicidialConfigValidate(t *testing.T) {
	for _, c := range []struct {
		name  string
		cfg   VicidialConfig
		field string // "" = valid
	}{
		{"defaults", VicidialConfig{Method: AdaptHardLimit}, ""},
		{"all set", VicidialConfig{Method: AdaptTapered, StartLevel: 2, DropPercent: 1.5, MaxLevel: 4, LatestServerTime: 1730, Intensity: -40, DiffTarget: -1}, ""},
		{"2400 is a time", VicidialConfig{Method: AdaptAverage, LatestServerTime: 2400}, ""},
		{"no method", VicidialConfig{}, "Method"},
		{"method out of range", VicidialConfig{Method: 4}, "Method"},
		{"start below 1", VicidialConfig{Method: AdaptAverage, StartLevel: 0.5}, "StartLevel"},
		{"start above 100", VicidialConfig{Method: AdaptAverage, StartLevel: 101}, "StartLevel"},
		{"negative drop %", VicidialConfig{Method: AdaptAverage, DropPercent: -1}, "DropPercent"},
		{"drop % above 100", VicidialConfig{Method: AdaptAverage, DropPercent: 101}, "DropPercent"},
		{"max below 1", VicidialConfig{Method: AdaptAverage, MaxLevel: 0.9}, "MaxLevel"},
		{"minutes ≥ 60", VicidialConfig{Method: AdaptTapered, LatestServerTime: 1860}, "LatestServerTime"},
		{"after 2400", VicidialConfig{Method: AdaptTapered, LatestServerTime: 2401}, "LatestServerTime"},
		{"negative time", VicidialConfig{Method: AdaptTapered, LatestServerTime: -100}, "LatestServerTime"},
		{"intensity 41", VicidialConfig{Method: AdaptTapered, Intensity: 41}, "Intensity"},
		{"intensity −41", VicidialConfig{Method: AdaptTapered, Intensity: -41}, "Intensity"},
	} {
		err := c.cfg.Validate()
		_, nerr := NewVicidial(c.cfg)
		if c.field == "" {
			if err != nil || nerr != nil {
				t.Errorf("%s: Validate = %v, NewVicidial err = %v, want valid", c.name, err, nerr)
			}
			continue
		}
		if err == nil || nerr == nil {
			t.Errorf("%s: Validate = %v, NewVicidial err = %v, want an error naming %s", c.name, err, nerr, c.field)
			continue
		}
		if !strings.Contains(err.Error(), "VicidialConfig."+c.field) {
			t.Errorf("%s: error %q does not name %s", c.name, err, c.field)
		}
	}
	// Every bad field is reported.
	err := VicidialConfig{StartLevel: 0.5, MaxLevel: 0.5, Intensity: 99}.Validate()
	for _, f := range []string{"Method", "StartLevel", "MaxLevel", "Intensity"} {
		if err == nil || !strings.Contains(err.Error(), "VicidialConfig."+f) {
			t.Errorf("joined error %v does not name %s", err, f)
		}
	}
}

func TestVicidialDefaults(t *testing.T) {
	want := VicidialConfig{Method: AdaptTapered, StartLevel: 1, DropPercent: 3, MaxLevel: 3,
		LatestServerTime: 2100, Location: time.UTC}
	if got := DefaultVicidial(AdaptTapered); got != want {
		t.Errorf("DefaultVicidial = %+v, want %+v", got, want)
	}
	v, err := NewVicidial(VicidialConfig{Method: AdaptTapered})
	if err != nil {
		t.Fatal(err)
	}
	if v.Config() != want || v.Level() != 1 {
		t.Errorf("zero fields: Config = %+v, Level = %v; want %+v, 1", v.Config(), v.Level(), want)
	}
	for m, name := range map[VicidialMethod]string{AdaptHardLimit: "vicidial-hard", AdaptTapered: "vicidial-tapered", AdaptAverage: "vicidial-average"} {
		v, err := NewVicidial(VicidialConfig{Method: m})
		if err != nil {
			t.Fatal(err)
		}
		if v.Name() != name {
			t.Errorf("%v: Name = %q, want %q", m, v.Name(), name)
		}
	}
}

// TestVicidialAdapt checks the level update of §1.3 / §8.1 against expected
// values computed independently by running the Perl of AST_VDadapt.pl's
// calculate_dial_level (copied statement by statement, then interpolated and
// cut to the VARCHAR(6) column) under perl 5.
func TestVicidialAdapt(t *testing.T) {
	overLimit := VicidialStats{CallsToday: 51, DropPercentToday: 3.01}
	for _, c := range []struct {
		name                       string
		method                     VicidialMethod
		level, agents, diff        float64
		diffTarget, intensity, max int // max 0 = 3.0
		hhmm                       int
		stats                      VicidialStats
		want                       float64
	}{
		// The worked example of §1.3: 20 agents, avg 3 ready, avg 1 waiting.
		{name: "worked example, 3 ready 1 waiting", level: 2, agents: 20, diff: 3 - 1, want: 2.2},
		{name: "worked example, 1 ready 3 waiting", level: 2, agents: 20, diff: 1 - 3, want: 1.8},
		// Intensity is asymmetric: +20 ⇒ ×1.2 up, ×0.8 down; −20 the reverse.
		{name: "intensity +20 up", level: 2, agents: 20, diff: 2, intensity: 20, want: 2.24},
		{name: "intensity +20 down", level: 2, agents: 20, diff: -2, intensity: 20, want: 1.84},
		{name: "intensity −20 up", level: 2, agents: 20, diff: 2, intensity: -20, want: 2.16},
		{name: "intensity −20 down", level: 2, agents: 20, diff: -2, intensity: -20, want: 1.76},
		{name: "intensity +40 up", level: 2, agents: 20, diff: 2, intensity: 40, want: 2.28},
		{name: "intensity −40 down", level: 2, agents: 20, diff: -2, intensity: -40, want: 1.72},
		{name: "diff target −1", level: 2, agents: 20, diff: 2, diffTarget: -1, want: 2.1},
		{name: "diff target +1 cancels", level: 2, agents: 20, diff: -1, diffTarget: 1, want: 2},
		{name: "no agents: no change", level: 2, agents: 0, diff: 2, want: 2},
		// sprintf("%.3f"): 1.7 × (1 + 1/7) = 1.942857… → 1.943.
		{name: "three decimals", level: 1.7, agents: 7, diff: 1, want: 1.943},
		{name: "three decimals, fractional averages", level: 2, agents: 19.6, diff: 37.0 / 15, want: 2.252},
		{name: "max cap", level: 2.9, agents: 20, diff: 2, want: 3},
		{name: "max cap 5", level: 2.9, agents: 20, diff: 20, max: 5, want: 5},
		{name: "floor 1.0", level: 1, agents: 10, diff: -5, want: 1},
		// Last-minute panic: > 20 calls and > 50 % of them dropped ⇒ ÷ 2.
		{name: "panic", level: 2, agents: 20, diff: 2, stats: VicidialStats{CallsLastMinute: 21, DropPercentLastMinute: 52.38}, want: 1.1},
		{name: "panic needs > 20 calls", level: 2, agents: 20, diff: 2, stats: VicidialStats{CallsLastMinute: 20, DropPercentLastMinute: 100}, want: 2.2},
		{name: "panic needs > 50 %", level: 2, agents: 20, diff: 2, stats: VicidialStats{CallsLastMinute: 40, DropPercentLastMinute: 50}, want: 2.2},
		// Today's drop % over the limit (3 %), with > 50 calls today.
		{name: "hard limit", level: 2, agents: 20, diff: 2, stats: overLimit, want: 1},
		{name: "hard limit needs > 50 calls", level: 2, agents: 20, diff: 2, stats: VicidialStats{CallsToday: 50, DropPercentToday: 90}, want: 2.2},
		{name: "hard limit needs > limit", level: 2, agents: 20, diff: 2, stats: VicidialStats{CallsToday: 500, DropPercentToday: 3}, want: 2.2},
		{name: "average halves", method: AdaptAverage, level: 2, agents: 20, diff: 2, stats: overLimit, want: 1.1},
		{name: "average floor", method: AdaptAverage, level: 1.8, agents: 20, diff: 0, stats: overLimit, want: 1},
		// Taper: (2100 − 1330)/1000 = 0.77 ⇒ 2.2 × 0.77.
		{name: "taper at 13:30", method: AdaptTapered, level: 2, agents: 20, diff: 2, hhmm: 1330, stats: overLimit, want: 1.694},
		{name: "taper, 11 h left", method: AdaptTapered, level: 2, agents: 20, diff: 2, hhmm: 1000, stats: overLimit, want: 2.2},
		{name: "taper, exactly 1000 left", method: AdaptTapered, level: 2, agents: 20, diff: 2, hhmm: 1100, stats: overLimit, want: 2.2},
		{name: "taper, 999 left", method: AdaptTapered, level: 2, agents: 20, diff: 2, hhmm: 1101, stats: overLimit, want: 2.1978},
		{name: "taper at stop time", method: AdaptTapered, level: 2, agents: 20, diff: 2, hhmm: 2100, stats: overLimit, want: 1},
		{name: "taper past stop time", method: AdaptTapered, level: 2, agents: 20, diff: 2, hhmm: 2101, stats: overLimit, want: 1},
		{name: "taper, 41 HHMM units left", method: AdaptTapered, level: 2, agents: 20, diff: 2, hhmm: 2059, stats: overLimit, want: 1},
		{name: "taper under the limit", method: AdaptTapered, level: 2, agents: 20, diff: 2, hhmm: 1330, stats: VicidialStats{CallsToday: 51, DropPercentToday: 2.99}, want: 2.2},
		// 2.857 × 0.77 = 2.19989, stored in the VARCHAR(6) as "2.1998".
		{name: "taper, stored in 6 characters", method: AdaptTapered, level: 2.857, agents: 20, diff: 0, hhmm: 1330, stats: overLimit, want: 2.1998},
		{name: "panic then average", method: AdaptAverage, level: 4.4, agents: 20, max: 5, stats: VicidialStats{CallsLastMinute: 21, DropPercentLastMinute: 60, CallsToday: 51, DropPercentToday: 10}, want: 1.1},
		{name: "panic then hard", level: 4.4, agents: 20, max: 5, stats: VicidialStats{CallsLastMinute: 21, DropPercentLastMinute: 60, CallsToday: 51, DropPercentToday: 10}, want: 1},
	} {
		m := c.method
		if m == 0 {
			m = AdaptHardLimit
		}
		cfg := VicidialConfig{Method: m, MaxLevel: float64(c.max), Intensity: c.intensity, DiffTarget: c.diffTarget}.filled()
		hhmm := c.hhmm
		if hhmm == 0 {
			hhmm = 1200
		}
		got := vdStoreLevel(cfg.adapt(vdAdaptInput{level: c.level, agentsAvg: c.agents, differential: c.diff, hhmm: hhmm, stats: c.stats}))
		if got != c.want {
			t.Errorf("%s: new level %v, want %v", c.name, got, c.want)
		}
	}
}

// history feeds v one sample a second from start and returns the Decide
// results.
func history(v *Vicidial, start time.Time, loads ...load) []int {
	out := make([]int, len(loads))
	for i, l := range loads {
		out[i] = v.Decide(l.at(start.Add(time.Duration(i) * time.Second)))
	}
	return out
}

// TestVicidialHistory drives the worked example of §1.3 through Decide: the
// level is first recomputed at the 16th sample, from samples 2–16.
func TestVicidialHistory(t *testing.T) {
	for _, c := range []struct {
		name    string
		samples []load // 15 samples, 20 agents each
		want    float64
	}{
		// avg 3 ready, avg 1 waiting.
		{"3 ready, 1 waiting", repeat(5, load{ready: 3, talking: 17, waiting: 1}, load{ready: 1, talking: 19, waiting: 2}, load{ready: 5, talking: 15}), 2.2},
		// avg 1 ready, avg 3 waiting.
		{"1 ready, 3 waiting", repeat(15, load{ready: 1, talking: 18, wrap: 1, waiting: 3}), 1.8},
		{"balanced", repeat(15, load{ready: 2, talking: 18, waiting: 2}), 2},
	} {
		v, err := NewVicidial(VicidialConfig{Method: AdaptHardLimit, StartLevel: 2})
		if err != nil {
			t.Fatal(err)
		}
		// Sample 1 is far off; it has left the window by sample 16.
		first := load{ready: 20}
		history(v, t0, append([]load{first}, c.samples[:14]...)...)
		if v.Level() != 2 {
			t.Errorf("%s: level %v after 15 samples, want 2 (no update yet)", c.name, v.Level())
		}
		last := c.samples[14]
		n := v.Decide(last.at(t0.Add(15 * time.Second)))
		if v.Level() != c.want {
			t.Errorf("%s: level %v after 16 samples, want %v", c.name, v.Level(), c.want)
		}
		// The new level is used at once: goal = sprintf("%.0f", level × (ready + talking)).
		agents := last.ready + last.talking
		want := max(int(perlSprintf0(c.want*float64(agents)))-(last.dialing+last.waiting+last.talking), 0)
		if n != want {
			t.Errorf("%s: Decide = %d, want %d", c.name, n, want)
		}
		// No further update until sample 31.
		history(v, t0.Add(16*time.Second), repeat(14, load{ready: 20})...)
		if v.Level() != c.want {
			t.Errorf("%s: level %v at sample 30, want %v", c.name, v.Level(), c.want)
		}
		v.Decide(load{ready: 20}.at(t0.Add(30 * time.Second)))
		if v.Level() == c.want {
			t.Errorf("%s: level not updated at sample 31", c.name)
		}
	}
}

func repeat(n int, ls ...load) []load {
	var out []load
	for range n {
		out = append(out, ls...)
	}
	return out
}

// TestVicidialNoAgentsDefersUpdates: while the agents average is 0 VICIdial
// neither refreshes the statistics nor updates the level; both happen at the
// first sample with agents, overdue.
func TestVicidialNoAgentsDefersUpdates(t *testing.T) {
	v, _ := NewVicidial(VicidialConfig{Method: AdaptHardLimit, StartLevel: 2})
	history(v, t0, repeat(20, load{})...) // no agents: counters run on, nothing computed
	if !v.Stats().At.IsZero() || v.Level() != 2 {
		t.Fatalf("with no agents: stats at %v, level %v; want none and 2", v.Stats().At, v.Level())
	}
	// Sample 21 has agents: the 15-sample window holds 14 empty samples and
	// this one (20 agents, 20 ready): avg agents 20/15, differential 20/15,
	// mul = 1 ⇒ level 2 × 2 = 4, capped at 3.
	v.Decide(load{ready: 20}.at(t0.Add(20 * time.Second)))
	if got := v.Stats().At; !got.Equal(t0.Add(20 * time.Second)) {
		t.Errorf("stats refreshed at %v, want the first sample with agents", got)
	}
	if v.Level() != 3 {
		t.Errorf("level %v, want 3", v.Level())
	}
}

func settle(v *Vicidial, placed time.Time, n int, o Outcome) {
	for range n {
		v.Settled(Settled{Placed: placed, At: placed.Add(10 * time.Second), Outcome: o})
	}
}

func TestVicidialDropStats(t *testing.T) {
	v, _ := NewVicidial(VicidialConfig{Method: AdaptHardLimit})
	now := t0.Add(time.Hour)
	// Earlier today: 80 calls, 30 answered, 3 dropped.
	settle(v, t0, 40, NotAnswered)
	settle(v, t0, 10, Machine)
	settle(v, t0, 27, Connected)
	settle(v, t0, 3, Abandoned)
	settle(v, now.Add(-59*time.Second), 4, NotAnswered)
	settle(v, now.Add(-30*time.Second), 2, Abandoned) // last minute: 2 / 6 = 33.33 %
	settle(v, now.Add(-time.Minute), 5, Abandoned)    // exactly 60 s ago: not in the last minute
	settle(v, t0.Add(-24*time.Hour), 9, Abandoned)    // yesterday
	v.Decide(load{ready: 1}.at(now))
	// Today: 91 calls, 37 answered, 10 dropped: 10/37 = 27.027 % → 27.03.
	want := VicidialStats{At: now, CallsToday: 91, AnswersToday: 37, DropsToday: 10, DropPercentToday: 27.03,
		CallsLastMinute: 6, DropsLastMinute: 2, DropPercentLastMinute: 33.33}
	if got := v.Stats(); got != want {
		t.Errorf("Stats = %+v\nwant    %+v", got, want)
	}
}

// TestVicidialOverridesThroughDecide checks that the drop statistics reach
// the level update: the refresh at sample 1 feeds the update at sample 16.
func TestVicidialOverridesThroughDecide(t *testing.T) {
	steady := repeat(16, load{ready: 3, talking: 17, waiting: 1}) // ⇒ 2.2 from 2.0
	for _, c := range []struct {
		name   string
		method VicidialMethod
		start  time.Time
		prime  func(v *Vicidial, now time.Time)
		want   float64
	}{
		{"clean", AdaptHardLimit, t0, func(*Vicidial, time.Time) {}, 2.2},
		{"panic", AdaptHardLimit, t0, func(v *Vicidial, now time.Time) {
			settle(v, now.Add(-30*time.Second), 10, Connected)
			settle(v, now.Add(-20*time.Second), 11, Abandoned) // 21 calls, 52.38 %
		}, 1.1},
		{"hard", AdaptHardLimit, t0, func(v *Vicidial, now time.Time) {
			settle(v, t0.Add(-time.Hour), 40, Connected)
			settle(v, t0.Add(-time.Hour), 11, Abandoned) // 51 calls, 11/51 = 21.57 % of answers
		}, 1},
		{"average", AdaptAverage, t0, func(v *Vicidial, now time.Time) {
			settle(v, t0.Add(-time.Hour), 40, Connected)
			settle(v, t0.Add(-time.Hour), 11, Abandoned)
		}, 1.1},
		{"tapered at 13:30", AdaptTapered, time.Date(2026, 3, 2, 13, 29, 45, 0, time.UTC), func(v *Vicidial, now time.Time) {
			settle(v, t0, 40, Connected)
			settle(v, t0, 11, Abandoned)
		}, 1.694},
		{"under the limit", AdaptHardLimit, t0, func(v *Vicidial, now time.Time) {
			settle(v, t0.Add(-time.Hour), 500, Connected)
			settle(v, t0.Add(-time.Hour), 15, Abandoned) // 15/515 = 2.91 %
		}, 2.2},
	} {
		v, _ := NewVicidial(VicidialConfig{Method: c.method, StartLevel: 2})
		c.prime(v, c.start)
		history(v, c.start, steady...)
		if v.Level() != c.want {
			t.Errorf("%s: level %v, want %v (stats %+v)", c.name, v.Level(), c.want, v.Stats())
		}
	}
}

// TestVicidialMidnightReset: "today" is the campaign's local day. Over the
// limit before midnight (HARD ⇒ 1.0); the refresh after local midnight
// starts a new day and the level climbs again.
func TestVicidialMidnightReset(t *testing.T) {
	ny := time.FixedZone("UTC-5", -5*3600)
	v, err := NewVicidial(VicidialConfig{Method: AdaptHardLimit, StartLevel: 2, Location: ny})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 3, 2, 23, 59, 0, 0, ny) // 04:59 UTC on the 3rd
	settle(v, time.Date(2026, 3, 2, 20, 0, 0, 0, ny), 40, Connected)
	settle(v, time.Date(2026, 3, 2, 20, 0, 0, 0, ny), 20, Abandoned) // 60 calls, 33.33 %
	busy := load{ready: 3, talking: 17, waiting: 1}                  // differential +2 of 20
	got := history(v, start, repeat(16, busy)...)
	if st := v.Stats(); st.CallsToday != 60 || st.DropPercentToday != 33.33 {
		t.Fatalf("before midnight: %+v, want 60 calls at 33.33 %%", st)
	}
	if v.Level() != 1 {
		t.Fatalf("before midnight: level %v, want 1 (hard limit)", v.Level())
	}
	if got[15] != int(perlSprintf0(1*20))-(1+17) {
		t.Errorf("at level 1.0: Decide = %d, want %d", got[15], 20-18)
	}
	// Samples 17–60: the updates at 31 and 46 still see yesterday's
	// statistics.
	history(v, start.Add(16*time.Second), repeat(44, busy)...)
	if v.Level() != 1 {
		t.Errorf("level %v at sample 60, want 1 (still over the limit)", v.Level())
	}
	// Sample 61 (00:00:00 local) refreshes the statistics for the new day,
	// then updates the level: 1.0 × 1.1; sample 76: 1.1 × 1.1.
	history(v, start.Add(60*time.Second), busy)
	if st := v.Stats(); !st.At.Equal(start.Add(60*time.Second)) || st.CallsToday != 0 || st.DropPercentToday != 0 {
		t.Errorf("after midnight: %+v, want a refresh at 00:00:00 with no calls today", st)
	}
	if v.Level() != 1.1 {
		t.Errorf("level %v at sample 61, want 1.1", v.Level())
	}
	history(v, start.Add(61*time.Second), repeat(15, busy)...)
	if v.Level() != 1.21 {
		t.Errorf("level %v at sample 76, want 1.21", v.Level())
	}
	// A call placed yesterday (local) and settled today does not count today.
	settle(v, start, 100, Abandoned)
	history(v, start.Add(76*time.Second), repeat(60, busy)...)
	if st := v.Stats(); st.CallsToday != 0 {
		t.Errorf("yesterday's calls counted today: %+v", st)
	}
}

func TestVicidialDiffTargetCallsPlaced(t *testing.T) {
	for _, c := range []struct {
		placed bool
		target int
		want   int
	}{
		{false, -1, 6}, // ADAPT_CALC_ONLY: agents = 6
		{true, -1, 5},  // CALLS_PLACED: agents = 6 − 1
		{true, 2, 8},
		{true, -10, 0},
	} {
		v, _ := NewVicidial(VicidialConfig{Method: AdaptAverage, DiffTarget: c.target, DiffTargetCallsPlaced: c.placed})
		if got := v.Decide(load{ready: 6, wrap: 2}.at(t0)); got != c.want {
			t.Errorf("CallsPlaced=%v target %d: Decide = %d, want %d", c.placed, c.target, got, c.want)
		}
	}
}

func TestVdStoreLevel(t *testing.T) {
	for _, c := range []struct{ in, want float64 }{
		{2.2, 2.2}, {1, 1}, {2.2 * 0.77, 1.694}, {2.857 * 0.77, 2.1998}, {1.1725, 1.1725},
		{12.34567, 12.345}, {100, 100}, {99.9999, 99.999},
	} {
		if got := vdStoreLevel(c.in); got != c.want {
			t.Errorf("vdStoreLevel(%v) = %v, want %v", c.in, got, c.want)
		}
	}
}
