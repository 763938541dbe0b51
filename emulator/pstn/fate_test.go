package pstn

import (
	"fmt"
	"testing"
	"time"

	"github.com/ipcclab/ipcclab/internal/sim"
)

// fates dials the given numbers, one every gap, and returns per "number#k"
// (k-th dial of that number) what happened: the outcome, the time from
// the dial to it, and for answered calls the talk time (Connected at once,
// twice, to check that the second call is ignored).
func fates(t *testing.T, o OutboundConfig, pstnSeed uint64, gap time.Duration, numbers []string) (map[string]string, Stats) {
	t.Helper()
	loop := sim.NewLoop(start)
	p, err := New(Config{Scheduler: loop, Rand: sim.Stream(pstnSeed, "pstn"), Outbound: o})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	seen := map[string]int{}
	for i, n := range numbers {
		key := fmt.Sprintf("%s#%d", n, seen[n])
		seen[n]++
		sim.After(loop, time.Duration(i)*gap, func(at time.Time) {
			var c *Callee
			var answered time.Time
			c = p.Dial(n, 25*time.Second, DialHandler{
				Answered: func() {
					answered = loop.Now()
					out[key] = fmt.Sprintf("%v after %v", c.Outcome(), answered.Sub(at))
					c.Connected()
					c.Connected()
				},
				Failed: func(o Outcome) { out[key] = fmt.Sprintf("%v after %v", o, loop.Now().Sub(at)) },
				HungUp: func() { out[key] += fmt.Sprintf(", talked %v", loop.Now().Sub(answered)) },
			})
		})
	}
	loop.RunVirtual(start.Add(10 * time.Hour))
	return out, p.Stats()
}

// TestPerNumberFate: with PerNumberFate each number's k-th dial meets the
// same fate (outcome, setup, ring and talk time) whatever the order and
// timing of the dials and whatever the PSTN's own stream; a retry draws
// afresh; another FateSeed gives other fates.
func TestPerNumberFate(t *testing.T) {
	o := OutboundConfig{Answer: 0.4, Busy: 0.2, Fail: 0.05, Machine: 0.05, PerNumberFate: true, FateSeed: 9,
		SetupDelay: Dist{Shape: LogNormal, Mean: 2 * time.Second, CV: 0.3}, RingTime: Dist{Shape: Exponential, Mean: 8 * time.Second},
		Talk: Dist{Shape: Exponential, Mean: time.Minute}}
	var forward, backward []string
	for i := range 60 {
		forward = append(forward, fmt.Sprintf("1555%06d", i))
	}
	for i := range forward {
		backward = append(backward, forward[len(forward)-1-i])
		if i%3 == 0 {
			backward = append(backward, fmt.Sprintf("1666%06d", i)) // other traffic in between
		}
	}
	// Retries: the first 20 numbers again, in each run's own order.
	forward = append(forward, forward[:20]...)
	for i := 19; i >= 0; i-- {
		backward = append(backward, fmt.Sprintf("1555%06d", i))
	}
	a, sa := fates(t, o, 1, 7*time.Second, forward)
	b, sb := fates(t, o, 2, 13*time.Second, backward)
	if len(a) != 80 {
		t.Fatalf("%d fates for 80 dials", len(a))
	}
	answered, retryDiffers := 0, false
	for k, v := range a {
		if b[k] != v {
			t.Errorf("%s: %q in one run, %q in the other", k, v, b[k])
		}
		if len(v) > 6 && v[:6] == "answer" {
			answered++
		}
		var n string
		var i int
		fmt.Sscanf(k, "%10s#%d", &n, &i)
		if i == 1 && a[n+"#0"] != v {
			retryDiffers = true
		}
	}
	t.Logf("stats %+v", sa)
	if answered < 10 || answered > 50 || !retryDiffers {
		t.Fatalf("implausible fates: %d answered, a retry differs: %v\n%v", answered, retryDiffers, a)
	}
	if sa.Connected != sa.Answered+sa.Machine || sb.Connected != sb.Answered+sb.Machine {
		t.Fatalf("Connected counted more than once per call: %+v / %+v", sa, sb)
	}
	o.FateSeed = 10
	c, _ := fates(t, o, 1, 7*time.Second, forward)
	same := 0
	for k, v := range a {
		if c[k] == v {
			same++
		}
	}
	if same > 40 {
		t.Fatalf("FateSeed 10 gave %d of 80 fates of FateSeed 9", same)
	}
}

// TestStreamFateDependsOnOrder: without PerNumberFate the fates follow the
// dial order (the published default), so reordering the dials changes
// them.
func TestStreamFateDependsOnOrder(t *testing.T) {
	o := OutboundConfig{Answer: 0.4, Busy: 0.2, SetupDelay: Dist{Mean: 2 * time.Second},
		RingTime: Dist{Shape: Exponential, Mean: 8 * time.Second}, Talk: Dist{Shape: Exponential, Mean: time.Minute}}
	var forward, backward []string
	for i := range 30 {
		forward = append(forward, fmt.Sprintf("1555%06d", i))
		backward = append([]string{fmt.Sprintf("1555%06d", i)}, backward...)
	}
	a, _ := fates(t, o, 1, 7*time.Second, forward)
	b, _ := fates(t, o, 1, 7*time.Second, backward)
	differ := 0
	for k, v := range a {
		if b[k] != v {
			differ++
		}
	}
	if differ == 0 {
		t.Fatal("stream fates did not depend on the dial order")
	}
}
