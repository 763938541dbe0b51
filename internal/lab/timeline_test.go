package lab

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func simulateTimeline(t testing.TB, hours float64, every time.Duration) (*Report, *Timeline) {
	t.Helper()
	tl := &Timeline{Every: every}
	rep, err := Simulate(context.Background(), SimOptions{Scenario: defaultScenario(t), Seed: 3,
		Duration: time.Duration(hours * float64(time.Hour)), Timeline: tl})
	if err != nil {
		t.Fatal(err)
	}
	return rep, tl
}

func TestTimelineSamplesAtTheRightVirtualTimes(t *testing.T) {
	for _, tc := range []struct {
		name  string
		hours float64
		every time.Duration
		want  int // samples: the start, every interval, the end
	}{
		{"default minute", 1, 0, 61},
		{"longer than a simulation step", 1, 25 * time.Minute, 4}, // 0, 25, 50, 60
		{"not dividing the hour", 0.5, 7 * time.Minute, 6},        // 0, 7, 14, 21, 28, 30
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, tl := simulateTimeline(t, tc.hours, tc.every)
			if len(tl.Samples) != tc.want {
				t.Fatalf("%d samples, want %d", len(tl.Samples), tc.want)
			}
			every := tc.every
			if every == 0 {
				every = DefaultSampleEvery
			}
			if tl.SampleSeconds != every.Seconds() {
				t.Errorf("sample_seconds %v, want %v", tl.SampleSeconds, every.Seconds())
			}
			for i, s := range tl.Samples[:len(tl.Samples)-1] {
				if want := tl.Start.Add(time.Duration(i) * every); !s.At.Equal(want) {
					t.Errorf("sample %d at %s, want %s", i, s.At.Format("15:04:05"), want.Format("15:04:05"))
				}
			}
			if last := tl.Samples[len(tl.Samples)-1]; !last.At.Equal(tl.End) || !tl.End.Equal(tl.Start.Add(time.Duration(tc.hours*float64(time.Hour)))) {
				t.Errorf("last sample at %s, end %s", last.At.Format("15:04:05"), tl.End.Format("15:04:05"))
			}
		})
	}
}

// The timeline's last sample and the report count the same day.
func TestTimelineAgreesWithTheReport(t *testing.T) {
	rep, tl := simulateTimeline(t, 3, time.Minute) // 08:00-11:00 covers the first peak
	last := tl.Samples[len(tl.Samples)-1]
	if last.Offered != rep.Inbound.Offered || last.Answered != rep.Inbound.Answered || last.Abandoned != rep.Inbound.Abandoned {
		t.Errorf("last sample offered/answered/abandoned %d/%d/%d, report %d/%d/%d", last.Offered, last.Answered, last.Abandoned,
			rep.Inbound.Offered, rep.Inbound.Answered, rep.Inbound.Abandoned)
	}
	if last.Answered+last.Abandoned > last.Offered {
		t.Errorf("answered %d + abandoned %d > offered %d", last.Answered, last.Abandoned, last.Offered)
	}
	busy := 0
	for i, s := range tl.Samples {
		a := s.Agents
		if sum := a.TalkingInbound + a.TalkingOutbound + a.Reserved + a.Ready + a.NotReady + a.WrapUp + a.OutboundIdle; sum != a.LoggedIn {
			t.Errorf("sample %d: states add up to %d, logged in %d", i, sum, a.LoggedIn)
		}
		if i > 0 && (s.Offered < tl.Samples[i-1].Offered || s.Answered < tl.Samples[i-1].Answered) {
			t.Errorf("sample %d: running totals went down", i)
		}
		if s.Dialing < 0 || s.OutboundAgents+s.Lent != 54 { // 30 blended + 24 outbound-only
			t.Errorf("sample %d: dialing %d, outbound agents %d + lent %d", i, s.Dialing, s.OutboundAgents, s.Lent)
		}
		if s.InQueue > 0 {
			busy++
		}
	}
	if want := rep.Agents.LoggedOn + rep.Agents.Lines; last.Agents.LoggedIn != want {
		t.Errorf("last sample: %d logged in, report %d ICM agents + %d lines", last.Agents.LoggedIn, rep.Agents.LoggedOn, rep.Agents.Lines)
	}
	if busy == 0 {
		t.Error("no sample has a call in queue over a peak: the queue is not sampled")
	}
	if last.Agents.TalkingOutbound == 0 || last.Dialing == 0 {
		t.Errorf("last sample: %d talking outbound, %d dialing: the campaign is not sampled", last.Agents.TalkingOutbound, last.Dialing)
	}
	var lends, returns int
	for i, m := range tl.Moves {
		switch m.Kind {
		case MoveLend:
			lends++
		case MoveReturn:
			returns++
		default:
			t.Errorf("move %d: kind %q", i, m.Kind)
		}
		if !strings.HasPrefix(m.Agent, "12") || m.At.Before(tl.Start) || m.At.After(tl.End) || (i > 0 && m.At.Before(tl.Moves[i-1].At)) {
			t.Errorf("move %d: %+v", i, m)
		}
	}
	if lends != rep.Blending.MovesToInbound || returns != rep.Blending.MovesToOutbound || lends == 0 {
		t.Errorf("timeline has %d lends and %d returns, report %d and %d", lends, returns, rep.Blending.MovesToInbound, rep.Blending.MovesToOutbound)
	}
	for i, h := range tl.HalfHours {
		if i < len(rep.Inbound.HalfHours) && (h.Start.Format("15:04") != rep.Inbound.HalfHours[i].Start || h.ServiceLevel != rep.Inbound.HalfHours[i].ServiceLevel) {
			t.Errorf("half hour %d: %+v, report %+v", i, h, rep.Inbound.HalfHours[i])
		}
	}
	if len(tl.HalfHours) != len(rep.Inbound.HalfHours) || tl.ServiceLevelTarget != 0.8 || tl.AbandonLimit != 0.03 || tl.LinesPerAgent != 1 {
		t.Errorf("half hours %d (report %d), target %v, abandon limit %v, lines per agent %v",
			len(tl.HalfHours), len(rep.Inbound.HalfHours), tl.ServiceLevelTarget, tl.AbandonLimit, tl.LinesPerAgent)
	}
}

// Sampling only reads between stretches of the event loop: the report of
// a run with a timeline is the report without one, and the timeline is a
// function of scenario and seed.
func TestTimelineChangesNothingAndIsDeterministic(t *testing.T) {
	render := func(v any) string {
		if r, ok := v.(*Report); ok {
			r.WallSeconds = 0
		}
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	plain := render(simulate(t, defaultScenario(t), 3, 1, false))
	rep1, tl1 := simulateTimeline(t, 1, 30*time.Second)
	rep2, tl2 := simulateTimeline(t, 1, 30*time.Second)
	if got := render(rep1); got != plain {
		t.Errorf("the timeline changed the report:\n%s\n%s", got, plain)
	}
	if render(rep2) != render(rep1) || render(tl1) != render(tl2) {
		t.Error("two runs with the same seed gave different timelines")
	}
}

func TestTimelineRefusesANegativeInterval(t *testing.T) {
	_, err := Simulate(context.Background(), SimOptions{Scenario: defaultScenario(t), Seed: 1, Duration: time.Hour,
		Timeline: &Timeline{Every: -time.Minute}})
	if err == nil || !strings.Contains(err.Error(), "sampling interval") || !strings.Contains(err.Error(), "-1m0s") {
		t.Fatalf("got %v, want an error naming the sampling interval and its value", err)
	}
}
