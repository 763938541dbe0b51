package lab

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/ipcclab/ipcclab/controller/reporting"
	"github.com/ipcclab/ipcclab/scenarios"
)

// The interval records of a run add up to its report, and collecting them
// changes nothing in the report (events_processed included).
func TestIntervalsAddUpToTheReport(t *testing.T) {
	for _, tc := range []struct {
		name  string
		start time.Duration // scenario start, from midnight
		dur   time.Duration
		// want: the intervals' spans, in order, for every entity.
		want []string
	}{
		{"aligned", 8 * time.Hour, 2 * time.Hour, []string{"08:00-08:30", "08:30-09:00", "09:00-09:30", "09:30-10:00"}},
		// Off the boundaries: a partial first interval, named by its
		// half-hour (ICM's intervals start at xx:00 and xx:30) though its
		// figures start at 08:10, and a partial last one, to the end.
		{"partial", 8*time.Hour + 10*time.Minute, 65 * time.Minute, []string{"08:00-08:30", "08:30-09:00", "09:00-09:15"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sc := defaultScenario(t)
			sc.Start = scenarios.ClockTime(tc.start)
			var iv reporting.Intervals
			with, err := Simulate(context.Background(), SimOptions{Scenario: sc, Seed: 11, Duration: tc.dur, Intervals: &iv})
			if err != nil {
				t.Fatal(err)
			}
			without, err := Simulate(context.Background(), SimOptions{Scenario: sc, Seed: 11, Duration: tc.dur})
			if err != nil {
				t.Fatal(err)
			}
			with.WallSeconds, without.WallSeconds = 0, 0
			a, _ := json.Marshal(with)
			b, _ := json.Marshal(without)
			if string(a) != string(b) {
				t.Errorf("collecting intervals changed the report:\nwith    %s\nwithout %s", a, b)
			}
			checkIntervalsAddUp(t, with, &iv)
			spans := func(start, end time.Time) string { return start.Format("15:04") + "-" + end.Format("15:04") }
			var got []string
			for _, c := range iv.CallTypes {
				if c.CallTypeID == iv.CallTypes[0].CallTypeID {
					got = append(got, spans(c.Start, c.End))
				}
			}
			if len(got) != len(tc.want) {
				t.Fatalf("call type intervals %v, want %v", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Errorf("interval %d is %s, want %s", i, got[i], tc.want[i])
				}
			}
			n := len(tc.want)
			sg := len(sc.ICM.SkillGroups)
			if len(iv.CallTypes) != n*len(sc.ICM.CallTypes) || len(iv.SkillGroups) != n*sg || len(iv.Campaigns) != n {
				t.Errorf("%d call type, %d skill group, %d campaign rows; want %d, %d, %d (one per interval per entity)",
					len(iv.CallTypes), len(iv.SkillGroups), len(iv.Campaigns), n*len(sc.ICM.CallTypes), n*sg, n)
			}
		})
	}
}

// checkIntervalsAddUp compares the sums of the interval records with the
// run's report: per call type, overall, outbound; agents' time adds up to
// no more than the run.
func checkIntervalsAddUp(t *testing.T, rep *Report, iv *reporting.Intervals) {
	t.Helper()
	perType := map[string]*reporting.CallTypeInterval{}
	var all reporting.CallTypeInterval
	for _, c := range iv.CallTypes {
		if perType[c.CallType] == nil {
			perType[c.CallType] = &reporting.CallTypeInterval{}
		}
		perType[c.CallType].Add(c)
		all.Add(c)
	}
	for _, ct := range rep.Inbound.CallTypes {
		s := perType[ct.Name]
		if s == nil {
			t.Errorf("call type %s: no interval records", ct.Name)
			continue
		}
		if int(s.Offered) != ct.Offered || int(s.Answered) != ct.Answered || int(s.Abandoned) != ct.Abandoned {
			t.Errorf("call type %s: intervals sum to %d offered, %d answered, %d abandoned; report %d, %d, %d",
				ct.Name, s.Offered, s.Answered, s.Abandoned, ct.Offered, ct.Answered, ct.Abandoned)
		}
	}
	if int(all.Offered) != rep.Inbound.Offered || int(all.Answered) != rep.Inbound.Answered || int(all.Abandoned) != rep.Inbound.Abandoned {
		t.Errorf("inbound: intervals sum to %d/%d/%d, report %d/%d/%d", all.Offered, all.Answered, all.Abandoned,
			rep.Inbound.Offered, rep.Inbound.Answered, rep.Inbound.Abandoned)
	}
	if rep.Inbound.Offered == 0 {
		t.Error("no inbound traffic: the comparison proves nothing")
	}
	var out reporting.CampaignInterval
	for _, c := range iv.Campaigns {
		out.Add(c)
	}
	o := rep.Outbound
	if int(out.Attempts) != o.Attempts || int(out.Connects) != o.Connects || int(out.Abandoned) != o.Abandoned ||
		int(out.Busy) != o.Busy || int(out.NoAnswer) != o.NoAnswer {
		t.Errorf("outbound: intervals sum to %+v, report %+v", out, o)
	}
	if o.Attempts == 0 {
		t.Error("no outbound attempts: the comparison proves nothing")
	}
	run := time.Duration(rep.SimSeconds * float64(time.Second))
	var calls int64
	for _, a := range iv.Agents {
		calls += a.Calls
		if a.LoggedOnTime > a.End.Sub(a.Start) || a.Talk+a.Hold+a.WrapUp+a.Ready+a.NotReady > a.LoggedOnTime+time.Millisecond && a.LoggedOnTime > 0 {
			t.Errorf("agent %s %s: states %v exceed logged-on %v or the interval", a.AgentID, a.Start.Format("15:04"),
				a.Talk+a.Hold+a.WrapUp+a.Ready+a.NotReady, a.LoggedOnTime)
		}
		if a.LoggedOnTime > run {
			t.Errorf("agent %s logged on %v in a %v run", a.AgentID, a.LoggedOnTime, run)
		}
	}
	if calls < int64(rep.Inbound.Answered) {
		t.Errorf("agents took %d calls, fewer than the %d inbound calls answered", calls, rep.Inbound.Answered)
	}
}
