package campaign

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// crashT0 is the child's clock: 14:00 in London, inside the default hours.
var crashT0 = time.Date(2026, 6, 1, 13, 0, 0, 0, time.UTC)

const crashRecords = 200

// TestCrashChild is the helper process of TestCrashRecovery, run by it with
// CAMPAIGN_CRASH_CHILD=1. It imports 200 records and works through them like
// a dialer with calls in flight: it claims records with Next, begins an
// attempt on each and prints "attempt <attempt ID> <record ID>" once
// BeginAttempt has returned, i.e. once the journal entry is committed; every
// other call is then answered and ended, the rest stay in flight. Each
// record is dialed at most once, so the parent can count attempt rows.
func TestCrashChild(t *testing.T) {
	if os.Getenv("CAMPAIGN_CRASH_CHILD") != "1" {
		t.Skip("helper process for TestCrashRecovery")
	}
	now := crashT0
	s, err := Open(os.Getenv("CAMPAIGN_CRASH_DB"), Config{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	c, err := s.CreateCampaign(NewCampaign("crash", Predictive))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	b.WriteString("phone,time_zone,name\n")
	for i := range crashRecords {
		fmt.Fprintf(&b, "4420794%05d,Europe/London,customer %d\n", i, i)
	}
	if rep, err := s.ImportCSV(c.ID, strings.NewReader(b.String())); err != nil || rep.Imported != crashRecords {
		t.Fatalf("import: %+v %v", rep, err)
	}
	for {
		recs, err := s.Next(c.ID, now, 4)
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) == 0 {
			break
		}
		for _, r := range recs {
			a, err := s.BeginAttempt(r.ID, now)
			if err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(os.Stdout, "attempt %d %d\n", a.ID, r.ID)
			if a.ID%2 == 0 {
				if _, err := s.EndAttempt(a.ID, Answered, now); err != nil {
					t.Fatal(err)
				}
			}
			time.Sleep(2 * time.Millisecond) // the INVITE would go out here
		}
	}
	fmt.Fprintln(os.Stdout, "finished")
	time.Sleep(time.Hour) // wait for the kill
}

func TestCrashRecovery(t *testing.T) {
	path := filepath.Join(t.TempDir(), "crash.db")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), "CAMPAIGN_CRASH_CHILD=1", "CAMPAIGN_CRASH_DB="+path)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	printed := map[int64]int64{} // attempt ID → record ID, as the child saw them committed
	killed := false
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		var a, r int64
		if n, _ := fmt.Sscanf(sc.Text(), "attempt %d %d", &a, &r); n == 2 {
			printed[a] = r
		} else if sc.Text() == "finished" && !killed {
			t.Fatal("the child finished before it was killed")
		}
		if len(printed) == 62 && !killed { // mid-batch: Next claims 4 at a time
			if err := syscall.Kill(cmd.Process.Pid, syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			killed = true
		}
	}
	werr := cmd.Wait()
	if !killed {
		t.Fatalf("child ended before 62 attempts: %v\n%s", werr, stderr.String())
	}
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("child was not killed by SIGKILL: %v\n%s", werr, stderr.String())
	}

	recoveredAt := crashT0.Add(time.Minute)
	s, err := Open(path, Config{Now: func() time.Time { return recoveredAt }})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	rec := s.Recovered()
	c, err := s.Campaigns()
	if err != nil || len(c) != 1 {
		t.Fatalf("campaigns %v %v", c, err)
	}
	recs, err := s.Records(c[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != crashRecords {
		t.Fatalf("%d records after the crash, want %d", len(recs), crashRecords)
	}
	recovered := map[int64]bool{}
	for _, id := range rec.Attempts {
		recovered[id] = true
	}
	released := map[int64]bool{}
	for _, id := range rec.Released {
		released[id] = true
	}
	journal := 0
	done := 0
	for _, r := range recs {
		atts, err := s.Attempts(r.ID)
		if err != nil {
			t.Fatal(err)
		}
		journal += len(atts)
		switch {
		case r.Status == Dialing:
			t.Errorf("record %d still dialing after recovery", r.ID)
		case len(atts) > 1:
			t.Errorf("record %d has %d attempt rows, want 1", r.ID, len(atts))
		case len(atts) == 0:
			if r.Status != Pending || r.Attempts != 0 {
				t.Errorf("undialed record %d: %s with %d attempts", r.ID, r.Status, r.Attempts)
			}
		case atts[0].Outcome == Answered:
			done++
			if r.Status != Done || recovered[atts[0].ID] {
				t.Errorf("answered record %d: %s", r.ID, r.Status)
			}
		default:
			a := atts[0]
			// The crash rule: unknown, closed at recovery, rescheduled by the
			// Abandoned rule (72 h lockout) with the attempt counted.
			if !recovered[a.ID] || a.Outcome != Unknown || !a.EndedAt.Equal(recoveredAt) ||
				r.Status != Pending || r.Attempts != 1 || !r.NextAt.Equal(recoveredAt.Add(AbandonLockout)) {
				t.Errorf("in-flight record %d after recovery: %+v, attempt %+v", r.ID, r, a)
			}
		}
		if released[r.ID] && len(atts) != 0 {
			t.Errorf("released record %d had an attempt", r.ID)
		}
	}
	for a, r := range printed {
		atts, _ := s.Attempts(r)
		if len(atts) != 1 || atts[0].ID != a {
			t.Errorf("printed attempt %d of record %d: journal has %+v", a, r, atts)
		}
	}
	// The child may have committed one attempt and died before printing it.
	if journal < len(printed) || journal > len(printed)+1 {
		t.Errorf("%d attempt rows for %d printed attempts", journal, len(printed))
	}
	if len(rec.Attempts) == 0 {
		t.Error("no attempt was in flight at the kill: the test proved nothing")
	}
	t.Logf("killed after %d printed attempts: %d rows, %d answered, %d recovered as unknown, %d claims released",
		len(printed), journal, done, len(rec.Attempts), len(rec.Released))

	// Recovery is done once: a clean reopen finds nothing.
	s.Close()
	s, err = Open(path, Config{Now: func() time.Time { return recoveredAt }})
	if err != nil {
		t.Fatal(err)
	}
	if r := s.Recovered(); len(r.Attempts)+len(r.Released) != 0 {
		t.Errorf("second recovery found %+v", r)
	}

	// Everything not answered is due again once the Failed delay has passed;
	// concurrent Next calls hand each record out exactly once.
	due := recoveredAt.Add(AbandonLockout + time.Minute)
	var mu sync.Mutex
	seen := map[int64]int{}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for {
				got, err := s.Next(c[0].ID, due, 9)
				if err != nil || len(got) == 0 {
					return
				}
				mu.Lock()
				for _, r := range got {
					seen[r.ID]++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(seen) != crashRecords-done {
		t.Errorf("%d records handed out after recovery, want %d", len(seen), crashRecords-done)
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("record %d handed out %d times", id, n)
		}
		if r, _ := s.Record(id); r.Status != Dialing {
			t.Errorf("handed-out record %d is %s, want dialing", id, r.Status)
		}
	}
}
