package campaign

import (
	"errors"
	"testing"
	"time"
)

func TestDNCExactAndPrefix(t *testing.T) {
	s, _ := openTest(t, t0)
	for _, tc := range []struct {
		in   string
		want DNCEntry
		ok   bool
	}{
		{"+1 (201) 555-0100", DNCEntry{"12015550100", false}, true},
		{"1201*", DNCEntry{"1201", true}, true},
		{"+44*", DNCEntry{"44", true}, true},
		{"*", DNCEntry{}, false},
		{"12a*", DNCEntry{}, false},
		{"12345", DNCEntry{}, false}, // too short for a number
	} {
		got, err := ParseDNC(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParseDNC(%q) = %+v, %v", tc.in, got, err)
		}
	}
	c := mustCampaign(t, s, NewCampaign("c", Preview))
	mustImport(t, s, c.ID, "phone,time_zone\n"+
		"12015550100,America/New_York\n"+ // exact entry
		"12015550177,America/New_York\n"+ // prefix 1201
		"12125550100,America/New_York\n") // not listed: 1212 ≠ 1201
	add := func(e string) int {
		d, err := ParseDNC(e)
		if err != nil {
			t.Fatal(err)
		}
		n, err := s.AddDNC(d)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := add("12015550100"); n != 1 {
		t.Errorf("exact entry marked %d records, want 1", n)
	}
	if n := add("1201*"); n != 1 {
		t.Errorf("prefix entry marked %d more records, want 1", n)
	}
	for phone, want := range map[string]DNCEntry{
		"12015550100": {"12015550100", false}, // exact wins over the prefix
		"12015559999": {"1201", true},
	} {
		if e, hit, err := s.CheckDNC(phone); err != nil || !hit || e != want {
			t.Errorf("CheckDNC(%s) = %+v %v %v, want %+v", phone, e, hit, err, want)
		}
	}
	if _, hit, _ := s.CheckDNC("12125550100"); hit {
		t.Error("1212… matched 1201*")
	}
	if _, hit, _ := s.CheckDNC("120"); hit {
		t.Error("a prefix longer than the number matched")
	}
	got, _ := s.Next(c.ID, t0, 10)
	if len(got) != 1 || got[0].Phone != "12125550100" {
		t.Errorf("Next = %v, want only the unlisted number", phones(got))
	}
	// A number listed after it was handed out is refused at the dial.
	add("1212*")
	if _, err := s.BeginAttempt(got[0].ID, t0); !errors.Is(err, ErrDNCListed) {
		t.Errorf("BeginAttempt on a number listed since: %v", err)
	}
	if r, _ := s.Record(got[0].ID); r.Status != DNC {
		t.Errorf("status %s, want dnc", r.Status)
	}
	if err := s.RemoveDNC(DNCEntry{"1201", true}); err != nil {
		t.Fatal(err)
	}
	if err := s.RemoveDNC(DNCEntry{"1201", true}); !errors.Is(err, ErrNotFound) {
		t.Errorf("removing twice: %v", err)
	}
	if _, hit, _ := s.CheckDNC("12015559999"); hit {
		t.Error("removed prefix still matches")
	}
	// A recall cannot be booked for a listed number, nor a web callback.
	if err := s.ScheduleRecall(got[0].ID, t0, ""); !errors.Is(err, ErrDNCListed) {
		t.Errorf("recall on a DNC number: %v", err)
	}
	if _, err := s.AddCallback(c.ID, "12125550999", "America/New_York", nil, time.Time{}); !errors.Is(err, ErrDNCListed) {
		t.Errorf("callback on a DNC prefix: %v", err)
	}
}

// TestCampaignChangeWhileRunning: the hours, the switch and the rules are
// read by every selection, so an edit applies at the next Next.
func TestCampaignChangeWhileRunning(t *testing.T) {
	s, _ := openTest(t, t0)
	c := mustCampaign(t, s, NewCampaign("c", Predictive))
	mustImport(t, s, c.ID, "phone,time_zone\n12125550100,America/New_York\n12125550101,America/New_York\n")
	at := t0.Add(30 * time.Minute) // 11:30 EDT, Monday
	got, _ := s.Next(c.ID, at, 1)
	if len(got) != 1 {
		t.Fatal("nothing selected at 11:30 with 08:00–21:00")
	}
	c.CallingHours = EveryDay(12*60, 21*60)
	if err := s.UpdateCampaign(c); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Next(c.ID, at, 1); len(got) != 0 {
		t.Error("selected at 11:30 after the hours became 12:00–21:00")
	}
	if got, _ := s.Next(c.ID, at.Add(30*time.Minute), 1); len(got) != 1 {
		t.Error("nothing selected at 12:00")
	}
	mustImport(t, s, c.ID, "phone,time_zone\n12125550102,America/New_York\n")
	c.Enabled = false
	s.UpdateCampaign(c)
	if got, _ := s.Next(c.ID, at.Add(time.Hour), 1); len(got) != 0 {
		t.Error("a disabled campaign handed out a record")
	}
}
