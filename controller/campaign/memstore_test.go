package campaign

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// memoryMode is set when the package's tests run against OpenMemory
// (TestMemoryStorePassesTheSuite).
func memoryMode() bool { return os.Getenv("CAMPAIGN_TEST_STORE") == "memory" }

// TestMemoryStorePassesTheSuite runs every test of the package that uses
// openTest again with the in-memory store: the rules are the same code, and
// this shows the two storages keep the rows they are given alike.
func TestMemoryStorePassesTheSuite(t *testing.T) {
	if memoryMode() {
		t.Skip("already the memory run")
	}
	if testing.Short() {
		t.Skip("-short")
	}
	cmd := exec.Command(os.Args[0], "-test.count=1", "-test.skip=^(TestMemoryStorePassesTheSuite|TestCrash.*|Fuzz.*)$", "-test.v")
	cmd.Env = append(os.Environ(), "CAMPAIGN_TEST_STORE=memory")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the suite against OpenMemory failed: %v\n%s", err, out)
	}
	if n := bytes.Count(out, []byte("--- PASS")); n < 20 {
		t.Fatalf("only %d tests passed against OpenMemory:\n%s", n, out)
	}
}

// A failed import leaves nothing behind in memory either: the transaction
// is rolled back (SQLite does it; the memory store undoes its writes).
func TestImportFailureRollsBack(t *testing.T) {
	for _, mem := range []bool{false, true} {
		var s *Store
		var err error
		if mem {
			s, err = OpenMemory(Config{Now: func() time.Time { return t0 }})
		} else {
			s, err = Open(t.TempDir()+"/c.db", Config{Now: func() time.Time { return t0 }})
		}
		if err != nil {
			t.Fatal(err)
		}
		c := mustCampaign(t, s, NewCampaign("c", Predictive))
		r := failingReader{strings.NewReader("phone,time_zone\n442079460001,Europe/London\n442079460002,Europe/London\n")}
		if _, err := s.ImportCSV(c.ID, r); err == nil {
			t.Fatalf("memory=%v: import from a failing reader succeeded", mem)
		}
		if recs, _ := s.Records(c.ID); len(recs) != 0 {
			t.Errorf("memory=%v: %d records left by a failed import", mem, len(recs))
		}
		// The store still works.
		mustImport(t, s, c.ID, "phone,time_zone\n442079460001,Europe/London\n")
		if got, _ := s.Next(c.ID, t0, 5); len(got) != 1 {
			t.Errorf("memory=%v: Next after the failed import: %v", mem, phones(got))
		}
		s.Close()
	}
}

// failingReader returns its text, then an error.
type failingReader struct{ r *strings.Reader }

func (f failingReader) Read(p []byte) (int, error) {
	if f.r.Len() == 0 {
		return 0, errors.New("disk on fire")
	}
	return f.r.Read(p[:min(len(p), 40)])
}

// Selection cost does not grow with the list: claiming from a list of
// 5,000 records takes about what it takes from 100 (the store reads the
// records it returns, not the list). Against SQLite this was 30 ms a claim
// at 50,000 records before selection went by index.
func TestSelectionCostIndependentOfListSize(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	cost := func(n int) time.Duration {
		s, _ := openTest(t, t0)
		c := mustCampaign(t, s, NewCampaign(fmt.Sprint("c", n), Predictive))
		var b strings.Builder
		b.WriteString("phone,time_zone,priority\n")
		zones := []string{"Europe/London", "America/New_York", "Asia/Kolkata"}
		for i := range n {
			fmt.Fprintf(&b, "4420794%05d,%s,%d\n", i, zones[i%3], i%3)
		}
		mustImport(t, s, c.ID, b.String())
		const calls = 30
		start := time.Now()
		for range calls {
			recs, err := s.Next(c.ID, t0, 1)
			if err != nil || len(recs) != 1 {
				t.Fatal(err)
			}
			a, err := s.BeginAttempt(recs[0].ID, t0)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.EndAttempt(a.ID, NoAnswer, t0); err != nil {
				t.Fatal(err)
			}
		}
		return time.Since(start) / calls
	}
	small, large := cost(100), cost(5000)
	t.Logf("per claim+attempt: %v with 100 records, %v with 5000", small, large)
	if large > 5*small+time.Millisecond {
		t.Errorf("a claim costs %v with 5000 records, %v with 100: selection reads the list", large, small)
	}
}
