package dialer

import (
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

func at(sec int) time.Time { return t0.Add(time.Duration(sec) * time.Second) }

func agents(ids ...string) []Agent {
	var out []Agent
	for i, id := range ids {
		out = append(out, Agent{ID: id, Instrument: "4" + id, IdleSince: at(i)})
	}
	return out
}

func ids(p Plan) string {
	var s []string
	for _, l := range p.Launches {
		s = append(s, l.AgentID)
	}
	return strings.Join(s, ",")
}

func TestConfigValidation(t *testing.T) {
	for _, c := range []struct {
		cfg   Config
		field string
	}{
		{Config{LinesPerAgent: 0.5, MaxLinesInFlight: 1}, "LinesPerAgent"},
		{Config{LinesPerAgent: 101, MaxLinesInFlight: 1}, "LinesPerAgent"},
		{Config{LinesPerAgent: 1, MaxLinesInFlight: 0}, "MaxLinesInFlight"},
	} {
		if _, err := NewPacer(c.cfg); err == nil || !strings.Contains(err.Error(), "Config."+c.field+" ") {
			t.Errorf("%+v: %v", c.cfg, err)
		}
	}
	if _, err := NewPacer(DefaultConfig()); err != nil {
		t.Error(err)
	}
}

// Each row is a sequence of decisions on one pacer.
func TestPace(t *testing.T) {
	type step struct {
		idle     []Agent
		inFlight int
		factor   float64
		want     string // agent IDs launched, in order
		carry    float64
		capped   bool
	}
	for _, c := range []struct {
		name  string
		cfg   Config
		steps []step
	}{
		{"one line per idle agent, idle longest first", Config{1, 10}, []step{
			{agents("7", "3", "5"), 0, 1, "7,3,5", 0, false},
			{nil, 3, 1, "", 0, false},
		}},
		{"ties on idle time broken by numeric agent ID", Config{1, 10}, []step{
			{[]Agent{{ID: "10"}, {ID: "9"}, {ID: "100"}}, 0, 1, "9,10,100", 0, false},
		}},
		{"1.5 lines for one agent alternate 1 and 2", Config{1.5, 10}, []step{
			{agents("1"), 0, 1, "1", 0.5, false},
			{agents("1"), 0, 1, "1,1", 0, false},
			{agents("1"), 0, 1, "1", 0.5, false},
		}},
		{"1.5 lines for two agents: three calls, round the agents", Config{1.5, 10}, []step{
			{agents("1", "2"), 0, 1, "1,2,1", 0, false},
		}},
		{"pacing factor halves the lines, remainder carried", Config{1, 10}, []step{
			{agents("1"), 0, 0.5, "", 0.5, false},
			{agents("1"), 0, 0.5, "1", 0, false},
			{agents("1", "2", "3"), 0, 0.5, "1", 0.5, false},
		}},
		{"factor 0 stops outbound", Config{2, 10}, []step{
			{agents("1", "2"), 0, 0, "", 0, false},
		}},
		{"max lines in flight caps, carry stays below one line", Config{1.5, 4}, []step{
			{agents("1", "2", "3"), 1, 1, "1,2,3", 0.5, true},
			{agents("4", "5"), 4, 1, "", 0.5, true},
			{agents("4", "5"), 0, 1, "4,5,4", 0.5, false},
		}},
		{"rounding: 1.0 × 0.7 × 10 is 7 lines", Config{1, 100}, []step{
			{agents("0", "1", "2", "3", "4", "5", "6", "7", "8", "9"), 0, 0.7, "0,1,2,3,4,5,6", 0, false},
		}},
		{"no idle agents keeps the carry", Config{1.3, 10}, []step{
			{agents("1"), 0, 1, "1", 0.3, false},
			{nil, 1, 1, "", 0.3, false},
			{agents("1", "2"), 0, 1, "1,2", 0.9, false},
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			p, err := NewPacer(c.cfg)
			if err != nil {
				t.Fatal(err)
			}
			for i, s := range c.steps {
				plan, err := p.Pace(Input{Now: at(i * 5), IdleAgents: s.idle, CallsInFlight: s.inFlight, PacingFactor: s.factor})
				if err != nil {
					t.Fatal(err)
				}
				if ids(plan) != s.want || plan.Capped != s.capped || plan.Carry < s.carry-1e-9 || plan.Carry > s.carry+1e-9 {
					t.Errorf("step %d: %s, want launch [%s] carry %.3f capped %v", i, plan, s.want, s.carry, s.capped)
				}
				for _, l := range plan.Launches {
					if l.Instrument != "" && l.Instrument != "4"+l.AgentID {
						t.Errorf("step %d: instrument %q for agent %s", i, l.Instrument, l.AgentID)
					}
				}
			}
		})
	}
}

func TestPaceInputErrors(t *testing.T) {
	p, _ := NewPacer(DefaultConfig())
	if _, err := p.Pace(Input{Now: at(10), PacingFactor: 1}); err != nil {
		t.Fatal(err)
	}
	for name, in := range map[string]Input{
		"time backwards":    {Now: at(9), PacingFactor: 1},
		"factor above 1":    {Now: at(10), PacingFactor: 1.1},
		"factor NaN":        {Now: at(10), PacingFactor: nan()},
		"negative inflight": {Now: at(10), PacingFactor: 1, CallsInFlight: -1},
		"repeated agent":    {Now: at(10), PacingFactor: 1, IdleAgents: agents("1", "1")},
	} {
		if _, err := p.Pace(in); err == nil {
			t.Errorf("%s: want an error", name)
		}
	}
}

func nan() float64 { var z float64; return z / z }

func TestAbandons(t *testing.T) {
	var a Abandons
	if a.Rate() != 0 || !a.Within(0.03) {
		t.Error("zero value: rate 0")
	}
	for i := range 100 {
		a.Answered(i%25 != 0) // 4 of 100 found no agent
	}
	if a.LiveAnswered != 100 || a.Abandoned != 4 || a.Rate() != 0.04 || a.Within(0.03) {
		t.Errorf("%+v rate %v", a, a.Rate())
	}
	a.Add(Abandons{LiveAnswered: 100, Abandoned: 2})
	if a.Rate() != 0.03 || !a.Within(0.03) {
		t.Errorf("merged: %+v rate %v", a, a.Rate())
	}
}
