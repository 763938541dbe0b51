package alerts

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 1, 5, 8, 0, 0, 0, time.UTC)

// step is one evaluation: minutes after t0, the figures, and the changes
// expected, each "raise|clear severity kind subject" (one line each).
type step struct {
	min  int
	f    Figures
	want string
}

func run(t *testing.T, cfg Config, steps []step) *Evaluator {
	t.Helper()
	e, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range steps {
		var got []string
		for _, c := range e.Evaluate(t0.Add(time.Duration(s.min)*time.Minute), s.f) {
			got = append(got, fmt.Sprintf("%s %s %s %s", c.Action, c.Severity, c.Kind, c.Subject))
		}
		if g := strings.Join(got, "\n"); g != s.want {
			t.Fatalf("step %d (+%d min): changes\n%s\nwant\n%s", i, s.min, g, s.want)
		}
	}
	return e
}

// only returns a config with one kind on.
func only(edit func(*Config)) Config {
	var c Config
	edit(&c)
	return c
}

func sl(half float64, n int) Figures {
	return Figures{Inbound: Inbound{ServiceLevelHalf: half, CountedHalf: n, ServiceLevelTo5: -1}}
}

func TestServiceLevel(t *testing.T) {
	cfg := only(func(c *Config) {
		c.ServiceLevel = ServiceLevel{Below: 0.6, ClearAt: 0.7, Windows: []string{WindowHalf}, MinCalls: 20, For: 10 * time.Minute}
	})
	tests := []struct {
		name  string
		steps []step
	}{
		{"raise after min duration, clear at the clear level", []step{
			{0, sl(0.9, 50), ""},
			{1, sl(0.5, 50), ""},
			{6, sl(0.55, 50), ""},
			{11, sl(0.5, 50), "raise critical service_level_half all"},
			{12, sl(0.62, 50), ""}, // above the raise level, below the clear level: held
			{13, sl(0.69, 50), ""},
			{14, sl(0.7, 50), "clear critical service_level_half all"},
		}},
		{"a dip shorter than the minimum duration does not raise", []step{
			{0, sl(0.5, 50), ""},
			{9, sl(0.5, 50), ""},
			{10, sl(0.61, 50), ""},
			{19, sl(0.5, 50), ""},
			{28, sl(0.5, 50), ""},
			{29, sl(0.5, 50), "raise critical service_level_half all"},
		}},
		{"too few calls is not judged, and does not clear", []step{
			{0, sl(0.1, 5), ""},
			{20, sl(0.1, 19), ""},
			{21, sl(0.5, 20), ""},
			{31, sl(0.5, 25), "raise critical service_level_half all"},
			{32, sl(1, 3), ""},  // a new half-hour with three calls
			{33, sl(-1, 0), ""}, // nothing counted yet
			{40, sl(0.8, 20), "clear critical service_level_half all"},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { run(t, cfg, tc.steps) })
	}
}

func TestServiceLevelPerCallTypeAndTo5(t *testing.T) {
	cfg := only(func(c *Config) {
		c.ServiceLevel = ServiceLevel{Below: 0.6, ClearAt: 0.7, Windows: []string{WindowTo5, WindowHalf}, MinCalls: 10, PerCallType: true}
	})
	f := func(to5, half, salesHalf float64) Figures {
		return Figures{
			Inbound:   Inbound{ServiceLevelTo5: to5, CountedTo5: 10, ServiceLevelHalf: half, CountedHalf: 40},
			CallTypes: []CallType{{Name: "Sales", Inbound: Inbound{ServiceLevelTo5: -1, ServiceLevelHalf: salesHalf, CountedHalf: 30}}},
		}
	}
	e := run(t, cfg, []step{
		{0, f(0.9, 0.9, 0.9), ""},
		{1, f(0.4, 0.8, 0.5), "raise critical service_level_half Sales\nraise critical service_level_to5 all"},
		{2, f(0.8, 0.8, 0.5), "clear critical service_level_to5 all"},
	})
	a := e.Active()
	if len(a) != 1 || a[0].Kind != KindServiceLevelHalf || a[0].Subject != "Sales" || a[0].Peak != 0.5 || !a[0].Raised.Equal(t0.Add(time.Minute)) {
		t.Fatalf("active %+v", a)
	}
}

func TestInboundAbandon(t *testing.T) {
	cfg := only(func(c *Config) {
		c.InboundAbandon = InboundAbandon{Above: 0.1, ClearAt: 0.07, Window: 30 * time.Minute, MinCalls: 30, For: 5 * time.Minute}
	})
	ab := func(offered, abandoned int) Figures {
		return Figures{Inbound: Inbound{Offered: offered, Abandoned: abandoned}}
	}
	run(t, cfg, []step{
		{0, ab(0, 0), ""},
		{10, ab(20, 10), ""}, // 50 %, but only 20 calls
		{15, ab(40, 12), ""}, // 30 %: pending from here
		{19, ab(50, 14), ""},
		{20, ab(60, 16), "raise critical inbound_abandon all"},
		// The window slides: the calls before +15 min drop out.
		{45, ab(150, 20), ""}, // (20-12)/(150-40) = 7.3 %: held
		{50, ab(200, 22), "clear critical inbound_abandon all"},
	})
}

func TestOutboundAbandon(t *testing.T) {
	cfg := only(func(c *Config) {
		c.OutboundAbandon = OutboundAbandon{On: true, WarnRatio: 0.8, ClearRatio: 0.9, MinCalls: 50, For: 2 * time.Minute}
	})
	out := func(rate float64, answers int) Figures {
		return Figures{Campaigns: []Campaign{{Name: "Renewals", AbandonRate: rate, AbandonTarget: 0.03, LiveAnswers: answers}}}
	}
	e := run(t, cfg, []step{
		{0, out(0.1, 10), ""}, // too few live answers
		{1, out(0.025, 60), ""},
		{3, out(0.03, 80), "raise warning outbound_abandon Renewals"},
		{5, out(0.031, 90), "raise critical outbound_abandon Renewals"},
		{6, out(0.028, 90), ""},
		{7, out(0.026, 90), "clear critical outbound_abandon Renewals"},
		{8, out(0.021, 90), "clear warning outbound_abandon Renewals"},
	})
	if len(e.Active()) != 0 {
		t.Fatalf("active %+v", e.Active())
	}
	// No target: not judged.
	run(t, cfg, []step{{0, Figures{Campaigns: []Campaign{{Name: "x", AbandonRate: 1, LiveAnswers: 100}}}, ""}})
}

func TestQueueWait(t *testing.T) {
	cfg := only(func(c *Config) {
		c.QueueWait = QueueWait{Above: 3 * time.Minute, ClearAt: time.Minute, For: time.Minute}
	})
	w := func(d time.Duration) Figures { return Figures{LongestWait: d} }
	run(t, cfg, []step{
		{0, w(4 * time.Minute), ""},
		{1, w(2 * time.Minute), ""}, // back under: pending ends
		{2, w(4 * time.Minute), ""},
		{3, w(5 * time.Minute), "raise critical queue_wait all"},
		{4, w(90 * time.Second), ""},
		{5, w(time.Minute), "clear critical queue_wait all"},
	})
}

func TestAgentReserved(t *testing.T) {
	cfg := only(func(c *Config) { c.Reserved = Reserved{Above: 30 * time.Second} })
	res := func(agents ...string) Figures {
		var f Figures
		for _, a := range agents {
			f.Reserved = append(f.Reserved, ReservedAgent{Agent: a, Since: t0})
		}
		return f
	}
	e := run(t, cfg, []step{
		{0, res("1001", "1002"), ""},
		{1, res("1001", "1002"), "raise warning agent_reserved 1001\nraise warning agent_reserved 1002"},
		{2, res("1002"), "clear warning agent_reserved 1001"},
	})
	if a := e.Active(); len(a) != 1 || a[0].Subject != "1002" || a[0].Value != 120 {
		t.Fatalf("active %+v", a)
	}
}

func TestList(t *testing.T) {
	cfg := only(func(c *Config) { c.List = List{Below: 100, ClearAt: 150, NoneDialable: true} })
	l := func(left, dialable int) Figures {
		return Figures{Campaigns: []Campaign{{Name: "Renewals", HasList: true, RecordsLeft: left, Dialable: dialable}}}
	}
	run(t, cfg, []step{
		{0, l(500, 500), ""},
		{1, l(99, 99), "raise warning list_low Renewals"},
		{2, l(120, 120), ""}, // more imported, not enough to clear
		{3, l(40, 0), "raise critical list_exhausted Renewals"},
		{4, l(40, -1), ""}, // dialable unknown: held
		{5, l(200, 3), "clear critical list_exhausted Renewals\nclear warning list_low Renewals"},
	})
	// A campaign without a list is not judged.
	run(t, cfg, []step{{0, Figures{Campaigns: []Campaign{{Name: "x"}}}, ""}})
}

func TestChangeFields(t *testing.T) {
	e, _ := New(only(func(c *Config) { c.QueueWait = QueueWait{Above: time.Minute, For: time.Minute} }))
	e.Evaluate(t0, Figures{LongestWait: 2 * time.Minute})
	ch := e.Evaluate(t0.Add(time.Minute), Figures{LongestWait: 5 * time.Minute})
	want := Change{Action: Raise, At: t0.Add(time.Minute), Severity: Critical, Kind: KindQueueWait, Subject: SubjectAll,
		Value: 300, Threshold: 60, Since: t0, Peak: 300}
	if len(ch) != 1 || ch[0] != want {
		t.Fatalf("got %+v\nwant %+v", ch, want)
	}
	if s := ch[0].String(); s != "raise critical queue_wait all: 5m0s (threshold 1m0s, since 08:00:00)" {
		t.Fatalf("String() = %q", s)
	}
	ch = e.Evaluate(t0.Add(2*time.Minute), Figures{})
	if len(ch) != 1 || ch[0].Action != Clear || ch[0].Peak != 300 || ch[0].Value != 0 {
		t.Fatalf("clear %+v", ch)
	}
}

func TestValidate(t *testing.T) {
	if err := Default().Validate(); err != nil {
		t.Fatalf("default: %v", err)
	}
	if err := (Config{}).Validate(); err != nil {
		t.Fatalf("all off: %v", err)
	}
	tests := []struct {
		field string
		edit  func(*Config)
	}{
		{"service_level.below", func(c *Config) { c.ServiceLevel.Below = 1.5 }},
		{"service_level.clear_at", func(c *Config) { c.ServiceLevel.ClearAt = 0.5 }},
		{"service_level.windows", func(c *Config) { c.ServiceLevel.Windows = nil }},
		{"service_level.windows[1]", func(c *Config) { c.ServiceLevel.Windows = []string{"half", "day"} }},
		{"service_level.windows[1]", func(c *Config) { c.ServiceLevel.Windows = []string{"half", "half"} }},
		{"service_level.min_calls", func(c *Config) { c.ServiceLevel.MinCalls = -1 }},
		{"service_level.for", func(c *Config) { c.ServiceLevel.For = -time.Second }},
		{"inbound_abandon.clear_at", func(c *Config) { c.InboundAbandon.ClearAt = 0.2 }},
		{"inbound_abandon.window", func(c *Config) { c.InboundAbandon.Window = 0 }},
		{"outbound_abandon.warn_ratio", func(c *Config) { c.OutboundAbandon.WarnRatio = 1 }},
		{"outbound_abandon.clear_ratio", func(c *Config) { c.OutboundAbandon.ClearRatio = 0 }},
		{"queue_wait.clear_at", func(c *Config) { c.QueueWait.ClearAt = c.QueueWait.Above }},
		{"reserved.above", func(c *Config) { c.Reserved.Above = -time.Second }},
		{"list.clear_at", func(c *Config) { c.List.ClearAt = 10 }},
		{"list.below", func(c *Config) { c.List.Below = -1 }},
	}
	for _, tc := range tests {
		t.Run(tc.field, func(t *testing.T) {
			c := Default()
			tc.edit(&c)
			err := c.Validate()
			var ce ConfigError
			if !errors.As(err, &ce) || len(ce) == 0 || ce[0].Field != tc.field {
				t.Fatalf("got %v, want an error naming %s", err, tc.field)
			}
			if _, err := New(c); err == nil {
				t.Fatal("New accepted a bad config")
			}
		})
	}
}

func TestAny(t *testing.T) {
	if (Config{}).Any() || !Default().Any() || !only(func(c *Config) { c.List.NoneDialable = true }).Any() {
		t.Fatal("Any")
	}
}

// BenchmarkEvaluate: a centre of 20 call types with every alert on, five
// agents reserved and a campaign, judged once a virtual second.
func BenchmarkEvaluate(b *testing.B) {
	cfg := Default()
	cfg.ServiceLevel.Windows = []string{WindowTo5, WindowHalf}
	e, err := New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	f := Figures{Inbound: Inbound{ServiceLevelTo5: 0.7, CountedTo5: 40, ServiceLevelHalf: 0.65, CountedHalf: 200}}
	for i := range 20 {
		f.CallTypes = append(f.CallTypes, CallType{Name: fmt.Sprintf("ct%d", i), Inbound: f.Inbound})
	}
	for i := range 5 {
		f.Reserved = append(f.Reserved, ReservedAgent{Agent: fmt.Sprint(1000 + i), Since: t0})
	}
	f.Campaigns = []Campaign{{Name: "c", AbandonRate: 0.02, AbandonTarget: 0.03, LiveAnswers: 500, HasList: true, RecordsLeft: 1000, Dialable: 10}}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		f.Inbound.Offered += 3
		e.Evaluate(t0.Add(time.Duration(i)*time.Second), f)
	}
}
