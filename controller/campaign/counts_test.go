package campaign

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// openBoth opens a store of each backend: the counts are storage code,
// written twice.
func openBoth(t testing.TB, now time.Time) map[string]*Store {
	t.Helper()
	cfg := Config{Now: func() time.Time { return now }}
	file, err := Open(filepath.Join(t.TempDir(), "campaign.db"), cfg)
	if err != nil {
		t.Fatal(err)
	}
	mem, err := OpenMemory(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { file.Close(); mem.Close() })
	return map[string]*Store{"sqlite": file, "memory": mem}
}

func createTB(t testing.TB, s *Store, c Campaign) Campaign {
	t.Helper()
	c, err := s.CreateCampaign(c)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func importTB(t testing.TB, s *Store, id int64, csv string) {
	t.Helper()
	if rep, err := s.ImportCSV(id, strings.NewReader(csv)); err != nil || len(rep.Rejected) > 0 {
		t.Fatalf("import: %+v, %v", rep, err)
	}
}

// scanCounts is what the dashboard computed before CountRecords: every
// record read, and the recall of each pending one looked up.
func scanCounts(t testing.TB, s *Store, id int64) (RecordCounts, []Booked) {
	t.Helper()
	recs, err := s.Records(id)
	if err != nil {
		t.Fatal(err)
	}
	c := RecordCounts{Records: len(recs), ByStatus: map[Status]int{}}
	for _, st := range statuses {
		c.ByStatus[st] = 0
	}
	var booked []Booked
	for _, r := range recs {
		c.ByStatus[r.Status]++
		if r.Status != Pending {
			continue
		}
		rc, ok, err := s.Recall(r.ID)
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case ok:
			c.Recalls++
			booked = append(booked, Booked{Record: r, At: rc.At, Kind: BookedRecall, AgentID: rc.AgentID})
		case r.Callback:
			c.Callbacks++
			booked = append(booked, Booked{Record: r, At: r.NextAt, Kind: BookedCallback})
		}
	}
	slices.SortFunc(booked, func(a, b Booked) int { return cmp.Or(a.At.Compare(b.At), cmp.Compare(a.Record.ID, b.Record.ID)) })
	return c, booked
}

// fillEveryStatus gives a campaign records in every status, recalls (on
// pending records, on a record in flight, on a callback) and callbacks;
// another campaign has records of its own.
func fillEveryStatus(t testing.TB, s *Store, now time.Time) (id, other int64) {
	t.Helper()
	c := NewCampaign("spring", Progressive)
	c.MaxAttempts = 1
	c = createTB(t, s, c)
	o := createTB(t, s, NewCampaign("other", Predictive))
	if _, err := s.AddDNC(DNCEntry{Digits: "442079460099"}); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	b.WriteString("phone,time_zone\n")
	for i := range 20 {
		fmt.Fprintf(&b, "4420794600%02d,Europe/London\n", i)
	}
	b.WriteString("442079460099,Europe/London\n")
	importTB(t, s, c.ID, b.String())
	importTB(t, s, o.ID, "phone,time_zone\n442079461000,Europe/London\n442079461001,Europe/London\n")

	claimed, err := s.Next(c.ID, now, 8)
	if err != nil || len(claimed) != 8 {
		t.Fatalf("next: %d records, %v", len(claimed), err)
	}
	// Claimed 0–1 stay dialing (claimed); 2–3 are in flight; 4 answered
	// (done); 5 busy with one attempt allowed (exhausted); 6 answered
	// with a recall booked during the call (pending); 7 released.
	for i, r := range claimed[2:7] {
		a, err := s.BeginAttempt(r.ID, now)
		if err != nil {
			t.Fatal(err)
		}
		switch i + 2 {
		case 3:
			if err := s.ScheduleRecall(r.ID, now.Add(3*time.Hour), "1301"); err != nil { // in flight: not booked yet
				t.Fatal(err)
			}
		case 4:
			_, err = s.EndAttempt(a.ID, Answered, now.Add(time.Minute))
		case 5:
			_, err = s.EndAttempt(a.ID, Busy, now.Add(time.Minute))
		case 6:
			if err := s.ScheduleRecall(r.ID, now.Add(2*time.Hour), ""); err != nil {
				t.Fatal(err)
			}
			_, err = s.EndAttempt(a.ID, Answered, now.Add(time.Minute))
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Release(claimed[7].ID); err != nil {
		t.Fatal(err)
	}
	recs, err := s.Records(c.ID)
	if err != nil {
		t.Fatal(err)
	}
	// Recalls on two pending records, one of them soon.
	for i, at := range []time.Duration{time.Hour, 10 * time.Minute} {
		if err := s.ScheduleRecall(recs[15+i].ID, now.Add(at), ""); err != nil {
			t.Fatal(err)
		}
	}
	// Web callbacks: a new number, an existing one, and one that also
	// has a recall (a recall, then).
	for i, phone := range []string{"442079460050", "442079460017", "442079460051"} {
		r, err := s.AddCallback(c.ID, phone, "Europe/London", map[string]string{"name": "cb"}, now.Add(time.Duration(30+i)*time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		if i == 2 {
			if err := s.ScheduleRecall(r.ID, now.Add(5*time.Minute), "1302"); err != nil {
				t.Fatal(err)
			}
		}
	}
	// A failed write leaves the counts as they were (the memory store
	// undoes its counters with the rows).
	r := failingReader{strings.NewReader("phone,time_zone\n442079460060,Europe/London\n")}
	if _, err := s.ImportCSV(c.ID, r); err == nil {
		t.Fatal("an import from a failing reader succeeded")
	}
	return c.ID, o.ID
}

// CountRecords and Scheduled say what a full scan says, on both storages.
func TestCountRecordsEqualsAFullScan(t *testing.T) {
	for name, s := range openBoth(t, t0) {
		t.Run(name, func(t *testing.T) {
			id, other := fillEveryStatus(t, s, t0)
			for _, cid := range []int64{id, other} {
				want, booked := scanCounts(t, s, cid)
				got, err := s.CountRecords(cid)
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(got, want) {
					t.Errorf("campaign %d: counts %+v, a full scan %+v", cid, got, want)
				}
				for _, limit := range []int{1, 3, 1000} {
					sch, err := s.Scheduled(cid, limit)
					if err != nil {
						t.Fatal(err)
					}
					if w := booked[:min(limit, len(booked))]; !reflect.DeepEqual(sch, w) && !(len(sch) == 0 && len(w) == 0) {
						t.Errorf("campaign %d: Scheduled(%d)\n%+v\nfull scan\n%+v", cid, limit, sch, w)
					}
				}
			}
			got, _ := s.CountRecords(id)
			for _, st := range statuses {
				if got.ByStatus[st] == 0 {
					t.Errorf("no record %s: the test does not cover every status (%v)", st, got.ByStatus)
				}
			}
			if got.Recalls != 4 || got.Callbacks != 2 || got.Left() != got.ByStatus[Pending]+got.ByStatus[Dialing] {
				t.Errorf("counts %+v: want 4 recalls, 2 callbacks", got)
			}
			sch, _ := s.Scheduled(id, 2)
			if len(sch) != 2 || sch[0].Kind != BookedRecall || sch[0].AgentID != "1302" || !sch[0].At.Equal(t0.Add(5*time.Minute)) ||
				sch[1].Kind != BookedRecall || !sch[1].At.Equal(t0.Add(10*time.Minute)) {
				t.Errorf("the next two booked: %+v", sch)
			}
		})
	}
}

func TestCountRecordsBadInput(t *testing.T) {
	for name, s := range openBoth(t, t0) {
		if _, err := s.CountRecords(99); !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "campaign 99") {
			t.Errorf("%s: counts of an unknown campaign: %v", name, err)
		}
		if _, err := s.Scheduled(99, 5); !errors.Is(err, ErrNotFound) {
			t.Errorf("%s: scheduled of an unknown campaign: %v", name, err)
		}
		for _, limit := range []int{0, -1, 1001} {
			if _, err := s.Scheduled(1, limit); err == nil || !strings.Contains(err.Error(), fmt.Sprintf("limit %d", limit)) {
				t.Errorf("%s: Scheduled limit %d: %v", name, limit, err)
			}
		}
	}
}

// The dashboard's campaign panel on a list of 30,000 records: counting
// against reading every record (and each pending record's recall).
//
//	go test ./controller/campaign -run '^$' -bench Count -benchtime 20x
func BenchmarkCountRecords(b *testing.B) {
	now := t0
	for name, s := range openBoth(b, now) {
		c := createTB(b, s, NewCampaign("big", Predictive))
		var buf bytes.Buffer
		if err := GenerateCSV(&buf, GenerateConfig{Count: 30000, TimeZones: []string{"Europe/London", "America/New_York"}, Seed: 1}); err != nil {
			b.Fatal(err)
		}
		if rep, err := s.ImportCSV(c.ID, &buf); err != nil || rep.Imported != 30000 {
			b.Fatalf("import: %d, %v", rep.Imported, err)
		}
		// A day under way: records claimed, a few called, recalls and
		// callbacks booked.
		claimed, err := s.Next(c.ID, now, 2000)
		if err != nil {
			b.Fatal(err)
		}
		for i, r := range claimed[:100] {
			a, err := s.BeginAttempt(r.ID, now)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := s.EndAttempt(a.ID, []Outcome{Answered, Busy, NoAnswer}[i%3], now.Add(time.Minute)); err != nil {
				b.Fatal(err)
			}
			if i%4 == 0 {
				if err := s.ScheduleRecall(r.ID, now.Add(time.Duration(i)*time.Minute), ""); err != nil {
					b.Fatal(err)
				}
			}
		}
		for i := range 50 {
			if _, err := s.AddCallback(c.ID, fmt.Sprintf("4420794700%02d", i), "Europe/London", nil, now.Add(time.Duration(i)*time.Minute)); err != nil {
				b.Fatal(err)
			}
		}
		b.Run(name+"/count", func(b *testing.B) {
			for b.Loop() {
				if _, err := s.CountRecords(c.ID); err != nil {
					b.Fatal(err)
				}
				if _, err := s.Scheduled(c.ID, 20); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(name+"/scan", func(b *testing.B) {
			for b.Loop() {
				scanCounts(b, s, c.ID)
			}
		})
	}
}
