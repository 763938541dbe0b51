package campaign

import (
	"strings"
	"testing"
	"time"
)

func TestDecide(t *testing.T) {
	c := NewCampaign("c", Predictive) // MaxAttempts 3, DefaultRetryRules
	noMachine := c
	noMachine.RetryRules.Machine = RetryRule{Retry: false}
	for _, tc := range []struct {
		name     string
		c        Campaign
		attempts int
		outcome  Outcome
		status   Status
		after    time.Duration // NextAt − now
	}{
		{"busy retries after 10 min", c, 1, Busy, Pending, 10 * time.Minute},
		{"no answer after 1 h", c, 1, NoAnswer, Pending, time.Hour},
		{"machine after 4 h", c, 2, Machine, Pending, 4 * time.Hour},
		{"abandoned: 72 h lockout", c, 1, Abandoned, Pending, 72 * time.Hour},
		{"failed after 15 min", c, 1, Failed, Pending, 15 * time.Minute},
		{"unknown (crash) follows abandoned: the 72 h lockout", c, 1, Unknown, Pending, AbandonLockout},
		{"last attempt busy: exhausted", c, 3, Busy, Exhausted, 0},
		{"past the limit: exhausted", c, 4, NoAnswer, Exhausted, 0},
		{"answered is final", c, 1, Answered, Done, 0},
		{"invalid number is final", c, 1, Invalid, Done, 0},
		{"customer asked DNC", c, 1, AskedDNC, DNC, 0},
		{"rule says no retry: done", noMachine, 1, Machine, Done, 0},
		{"no retry wins over exhausted", noMachine, 3, Machine, Done, 0},
	} {
		d, err := Decide(tc.c, tc.attempts, tc.outcome, t0)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if d.Status != tc.status || !d.NextAt.Equal(t0.Add(tc.after)) {
			t.Errorf("%s: %s at +%v, want %s at +%v", tc.name, d.Status, d.NextAt.Sub(t0), tc.status, tc.after)
		}
	}
	if _, err := Decide(c, 1, "hung_up", t0); err == nil || !strings.Contains(err.Error(), "hung_up") {
		t.Errorf("unknown outcome: %v", err)
	}
}

// TestRetryThroughTheStore runs one record through busy, no answer and a
// final busy: rescheduled by each rule, then exhausted, and Next honours
// NextAt.
func TestRetryThroughTheStore(t *testing.T) {
	s, _ := openTest(t, t0)
	c := mustCampaign(t, s, NewCampaign("c", Progressive))
	mustImport(t, s, c.ID, "phone,time_zone\n442079460001,Europe/London\n")
	now := t0
	for i, step := range []struct {
		outcome Outcome
		status  Status
		after   time.Duration
	}{
		{Busy, Pending, 10 * time.Minute},
		{NoAnswer, Pending, time.Hour},
		{Busy, Exhausted, 0},
	} {
		got, err := s.Next(c.ID, now, 5)
		if err != nil || len(got) != 1 {
			t.Fatalf("step %d: Next %v %v", i, got, err)
		}
		a, err := s.BeginAttempt(got[0].ID, now)
		if err != nil {
			t.Fatal(err)
		}
		end := now.Add(30 * time.Second)
		r, err := s.EndAttempt(a.ID, step.outcome, end)
		if err != nil {
			t.Fatal(err)
		}
		if r.Status != step.status || r.Attempts != i+1 || (step.status == Pending && !r.NextAt.Equal(end.Add(step.after))) {
			t.Fatalf("step %d: %+v, want %s at +%v", i, r, step.status, step.after)
		}
		if step.status == Pending {
			if early, _ := s.Next(c.ID, r.NextAt.Add(-time.Second), 5); len(early) != 0 {
				t.Fatalf("step %d: handed out before NextAt", i)
			}
			now = r.NextAt
		}
	}
	if got, _ := s.Next(c.ID, now.Add(365*24*time.Hour), 5); len(got) != 0 {
		t.Error("an exhausted record was handed out")
	}
	// Lowering MaxAttempts while running exhausts records that reached it.
	mustImport(t, s, c.ID, "phone,time_zone\n442079460002,Europe/London\n")
	got, _ := s.Next(c.ID, now, 1)
	a, _ := s.BeginAttempt(got[0].ID, now)
	s.EndAttempt(a.ID, Busy, now)
	c.MaxAttempts = 1
	if err := s.UpdateCampaign(c); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Next(c.ID, now.Add(time.Hour), 5); len(got) != 0 {
		t.Errorf("handed out past the lowered MaxAttempts: %v", phones(got))
	}
	if r, _ := s.Record(a.RecordID); r.Status != Exhausted {
		t.Errorf("record %s, want exhausted", r.Status)
	}
}

func TestAskedDNCAddsTheNumber(t *testing.T) {
	s, _ := openTest(t, t0)
	c := mustCampaign(t, s, NewCampaign("c", Preview))
	other := mustCampaign(t, s, NewCampaign("other", Preview))
	mustImport(t, s, c.ID, "phone,time_zone\n442079460001,Europe/London\n")
	mustImport(t, s, other.ID, "phone,time_zone\n442079460001,Europe/London\n")
	got, _ := s.Next(c.ID, t0, 1)
	a, _ := s.BeginAttempt(got[0].ID, t0)
	if r, err := s.EndAttempt(a.ID, AskedDNC, t0); err != nil || r.Status != DNC {
		t.Fatalf("%+v %v", r, err)
	}
	if _, hit, _ := s.CheckDNC("+44 20 7946 0001"); !hit {
		t.Error("number not on the DNC list")
	}
	if got, _ := s.Next(other.ID, t0, 1); len(got) != 0 {
		t.Error("the other campaign still dials a number that asked not to be called")
	}
}
