package sim

import (
	"context"
	"testing"
	"time"
)

var epoch = time.Date(2026, 11, 24, 8, 0, 0, 0, time.UTC)

func TestRunVirtualOrdersByTimeThenSchedulingOrder(t *testing.T) {
	l := NewLoop(epoch)
	var got []string
	l.At(epoch.Add(2*time.Second), func(time.Time) { got = append(got, "b") })
	l.At(epoch.Add(time.Second), func(time.Time) { got = append(got, "a1") })
	l.At(epoch.Add(time.Second), func(time.Time) { got = append(got, "a2") })
	cancelled := l.At(epoch.Add(time.Second), func(time.Time) { got = append(got, "never") })
	l.Cancel(cancelled)
	l.At(epoch.Add(3*time.Second), func(now time.Time) {
		got = append(got, "c")
		// A timer armed in the past runs at the current time, after what is due.
		l.At(epoch, func(time.Time) { got = append(got, "late") })
	})
	l.RunVirtual(epoch.Add(10 * time.Second))
	want := []string{"a1", "a2", "b", "c", "late"}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("got %v, want %v", got, want)
		}
	}
	if !l.Now().Equal(epoch.Add(10 * time.Second)) {
		t.Fatalf("clock %v, want until", l.Now())
	}
	if l.Processed() != 5 {
		t.Fatalf("processed %d, want 5", l.Processed())
	}
}

func TestRunVirtualStopsAtUntil(t *testing.T) {
	l := NewLoop(epoch)
	fired := false
	l.At(epoch.Add(time.Minute), func(time.Time) { fired = true })
	l.RunVirtual(epoch.Add(59 * time.Second))
	if fired || l.Pending() != 1 {
		t.Fatalf("event beyond until ran (fired=%v pending=%d)", fired, l.Pending())
	}
	l.RunVirtual(epoch.Add(time.Minute))
	if !fired {
		t.Fatal("event at until did not run")
	}
}

func TestRunRealtimeRunsPostedAndTimers(t *testing.T) {
	l := NewLoop(time.Now())
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	done := make(chan []string, 1)
	var got []string
	l.Post(func(now time.Time) {
		got = append(got, "posted")
		After(l, 10*time.Millisecond, func(time.Time) {
			got = append(got, "timer")
			done <- got
			cancel()
		})
	})
	err := l.RunRealtime(ctx, time.Now)
	if err == nil {
		t.Fatal("RunRealtime returned nil error after cancel")
	}
	select {
	case g := <-done:
		if len(g) != 2 || g[0] != "posted" || g[1] != "timer" {
			t.Fatalf("got %v", g)
		}
	default:
		t.Fatal("timer never fired within the 5 s bound")
	}
}

func TestStreamsAreIndependentAndReproducible(t *testing.T) {
	a1, a2, b := Stream(7, "pstn"), Stream(7, "pstn"), Stream(7, "agents")
	same, differ := true, false
	for i := 0; i < 100; i++ {
		x, y, z := a1.Uint64(), a2.Uint64(), b.Uint64()
		if x != y {
			same = false
		}
		if x != z {
			differ = true
		}
	}
	if !same || !differ {
		t.Fatalf("same=%v differ=%v", same, differ)
	}
}

func TestLogNormalMean(t *testing.T) {
	r := Stream(1, "lognormal")
	const n = 200000
	var sum float64
	for i := 0; i < n; i++ {
		sum += float64(LogNormal(r, 180*time.Second, 0.8))
	}
	mean := time.Duration(sum / n)
	if mean < 177*time.Second || mean > 183*time.Second {
		t.Fatalf("mean %v, want 180s ±1.7%%", mean)
	}
}
