package erlang

import (
	"math"
	"strings"
	"testing"
)

// TestThresholdDayReproducesTableD: over a long enough "day" the simulated
// threshold policy lands on the exact model (§5.6 D, s = 20, 240/h, 180 s),
// and the all-inbound run on Erlang C (table A's load on 20 agents). The
// tolerances are about four standard errors of 2,000 simulated hours.
func TestThresholdDayReproducesTableD(t *testing.T) {
	if raceDetector {
		t.Skip("statistical, one goroutine: make test runs it without -race")
	}
	for _, tc := range []struct {
		r       int
		sl, out float64 // table D
	}{{0, 0.5889, 160.0}, {2, 0.8490, 139.6}, {5, 0.9569, 94.1}, {8, 0.9816, 50.7}} {
		const hours = 2000
		d, err := SimulateThresholdDay(DayConfig{Agents: 20, Reserve: tc.r, Traffic: PerHour(240, 180), Threshold: 20,
			Duration: hours * 3600, Interval: 1800, Seed: uint64(tc.r) + 1})
		if err != nil {
			t.Fatal(err)
		}
		if sl := d.ServiceLevel(); math.Abs(sl-tc.sl) > 0.01 {
			t.Errorf("r=%d: service level %.4f, table D %.4f", tc.r, sl, tc.sl)
		}
		if out := float64(d.Outbound) / hours; math.Abs(out-tc.out)/tc.out > 0.02 {
			t.Errorf("r=%d: outbound %.1f/h, table D %.1f/h", tc.r, out, tc.out)
		}
		all, in := 0, 0
		for _, iv := range d.Intervals {
			all += iv.Offered
			in += iv.AllInboundInTime
		}
		want := ServiceLevel(20, PerHour(240, 180), 20)
		if got := float64(in) / float64(all); math.Abs(got-want) > 0.005 {
			t.Errorf("r=%d: all-inbound service level %.4f, Erlang C %.4f", tc.r, got, want)
		}
		if load := d.InboundBusy / (hours * 3600); math.Abs(load-12) > 0.2 {
			t.Errorf("r=%d: realised load %.2f Erl, want about 12", tc.r, load)
		}
	}
}

// TestThresholdDaySeeded: the same seed gives the same day, another seed
// another one; the intervals add up to the day.
func TestThresholdDaySeeded(t *testing.T) {
	cfg := DayConfig{Agents: 20, Reserve: 3, Traffic: PerHour(240, 180), Threshold: 20, Duration: 8 * 3600, Interval: 1800, Seed: 7}
	a, err := SimulateThresholdDay(cfg)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := SimulateThresholdDay(cfg)
	cfg.Seed = 8
	c, _ := SimulateThresholdDay(cfg)
	if a.Offered != b.Offered || a.Outbound != b.Outbound || a.InTime != b.InTime {
		t.Fatalf("seed 7 twice: %+v, %+v", a, b)
	}
	if a.Offered == c.Offered && a.Outbound == c.Outbound {
		t.Fatalf("seeds 7 and 8 gave the same day")
	}
	if len(a.Intervals) != 16 {
		t.Fatalf("%d intervals, want 16", len(a.Intervals))
	}
	off, in := 0, 0
	for _, iv := range a.Intervals {
		off += iv.Offered
		in += iv.InTime
		if iv.InTime > iv.Offered || iv.AllInboundInTime > iv.Offered {
			t.Fatalf("interval %+v: more in time than offered", iv)
		}
	}
	if off != a.Offered || in != a.InTime {
		t.Fatalf("intervals add to %d/%d, day %d/%d", in, off, a.InTime, a.Offered)
	}
}

func TestThresholdDayBadInput(t *testing.T) {
	ok := DayConfig{Agents: 20, Reserve: 3, Traffic: PerHour(240, 180), Threshold: 20, Duration: 3600, Interval: 1800}
	for _, tc := range []struct {
		name string
		mod  func(*DayConfig)
		want string
	}{
		{"no agents", func(c *DayConfig) { c.Agents = 0 }, "agents 0"},
		{"reserve above s", func(c *DayConfig) { c.Reserve = 21 }, "reserve 21"},
		{"negative reserve", func(c *DayConfig) { c.Reserve = -1 }, "reserve -1"},
		{"no handling time", func(c *DayConfig) { c.Traffic.AHT = 0 }, "AHT"},
		{"NaN rate", func(c *DayConfig) { c.Traffic.Rate = math.NaN() }, "Rate"},
		{"no duration", func(c *DayConfig) { c.Duration = 0 }, "duration 0"},
		{"no interval", func(c *DayConfig) { c.Interval = 0 }, "interval 0"},
		{"too many calls", func(c *DayConfig) { c.Traffic.Rate = 1e6 }, "ten million"},
	} {
		c := ok
		tc.mod(&c)
		if _, err := SimulateThresholdDay(c); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one naming %q", tc.name, err, tc.want)
		}
	}
}
