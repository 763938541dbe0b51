package main

import (
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ipcclab/ipcclab/controller/campaign"
	"github.com/ipcclab/ipcclab/controller/reporting"
	"github.com/ipcclab/ipcclab/internal/lab"
)

// attemptCSV is `ipcclab report --kind attempt --csv`, parsed.
type attemptCSV struct {
	col   map[string]int
	rows  [][]string          // the attempt rows
	total map[string][]string // campaign → its TOTAL row
	sums  map[string]int64    // count column → sum over the attempt rows
	count map[string]int64    // outcome → attempt rows
}

func readAttemptCSV(t *testing.T, args ...string) attemptCSV {
	t.Helper()
	out, err := run(t, append([]string{"report", "--kind", "attempt", "--csv"}, args...)...)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatalf("the CSV does not parse: %v\n%s", err, out)
	}
	if len(recs) == 0 || recs[0][0] != "start" {
		t.Fatalf("no header: %q", out[:min(len(out), 200)])
	}
	a := attemptCSV{col: map[string]int{}, total: map[string][]string{}, sums: map[string]int64{}, count: map[string]int64{}}
	calls := map[string]bool{}
	for i, h := range recs[0] {
		a.col[h] = i
	}
	for _, r := range recs[1:] {
		if r[a.col["total"]] == reporting.TotalLabel {
			a.total[r[a.col["campaign"]]] = r
			continue
		}
		a.rows = append(a.rows, r)
		a.count[r[a.col["outcome"]]]++
		if id := r[a.col["call_id"]]; id != "" {
			if calls[id] {
				t.Errorf("call %s has two attempt rows", id)
			}
			calls[id] = true
		}
		for _, h := range []string{"attempts", "answered", "abandoned", "busy", "no_answer", "machine", "failed", "other", reporting.InFlight} {
			n, err := strconv.ParseInt(r[a.col[h]], 10, 64)
			if err != nil {
				t.Fatalf("%s of %v: %v", h, r, err)
			}
			a.sums[h] += n
		}
	}
	return a
}

// get is a row's cell by column name.
func (a attemptCSV) get(r []string, col string) string { return r[a.col[col]] }

// n is a TOTAL row's count.
func (a attemptCSV) n(t *testing.T, campaignName, col string) int64 {
	t.Helper()
	r := a.total[campaignName]
	if r == nil {
		t.Fatalf("no TOTAL row for %s", campaignName)
	}
	v, err := strconv.ParseInt(r[a.col[col]], 10, 64)
	if err != nil {
		t.Fatalf("TOTAL %s %s: %v", campaignName, col, err)
	}
	return v
}

// liveAnswers counts the attempt rows a customer (or a machine) answered.
func (a attemptCSV) liveAnswers(t *testing.T) int64 {
	var n int64
	for _, r := range a.rows {
		d, err := strconv.ParseFloat(a.get(r, "time_to_answer_s"), 64)
		if err != nil {
			t.Fatal(err)
		}
		if d > 0 {
			n++
		}
	}
	return n
}

// simulateStoreWith runs simulate --store --json with extra arguments.
func simulateStoreWith(t *testing.T, args ...string) (string, lab.Report) {
	t.Helper()
	db := filepath.Join(t.TempDir(), "day.db")
	out, err := run(t, append([]string{"simulate", "--store", db, "--json"}, args...)...)
	if err != nil {
		t.Fatal(err)
	}
	var rep lab.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Outbound.Attempts == 0 {
		t.Fatalf("no outbound attempts to compare: %+v", rep.Outbound)
	}
	return db, rep
}

// withOutcomes writes the default scenario with SIT tones (vacant numbers)
// and answering machines in the mix.
func withOutcomes(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../../scenarios/default.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for old, repl := range map[string]string{"  machine: 0 ": "  machine: 0.1 ", "  vacant_number: 0 ": "  vacant_number: 0.05 "} {
		if !strings.Contains(s, old) {
			t.Fatalf("default.yaml has no %q any more", old)
		}
		s = strings.Replace(s, old, repl, 1)
	}
	path := filepath.Join(t.TempDir(), "outcomes.yaml")
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// Issue 7, item 3: the controller's per-attempt outbound records. After a
// seeded simulated day, the attempt rows' counts per outcome are the
// `simulate --json` outbound totals and the campaign interval TOTAL row:
// agent mode, pool mode (a call list, and synthetic numbers with
// safe-harbour abandons), preview, and a day with SIT tones and machines.
func TestReportAttemptsEqualTheSimulateJSONTotals(t *testing.T) {
	for _, tc := range []struct {
		name string
		args func(t *testing.T) []string
		mode string
	}{
		{"agent mode", func(*testing.T) []string { return []string{"--hours", "3", "--seed", "5"} }, "progressive"},
		{"SIT tones and machines", func(t *testing.T) []string {
			return []string{"--scenario", withOutcomes(t), "--hours", "2", "--seed", "3"}
		},
			"progressive"},
		{"pool mode", func(*testing.T) []string {
			return []string{"--scenario", "../../scenarios/outbound.yaml", "--hours", "2", "--seed", "1"}
		}, "pool/predictive"},
		{"call list", func(*testing.T) []string {
			return []string{"--scenario", "../../internal/lab/testdata/calllist.yaml", "--hours", "6", "--seed", "2"}
		}, "pool/predictive"},
		{"preview", func(*testing.T) []string {
			return []string{"--scenario", "../../scenarios/preview.yaml", "--hours", "2"}
		}, "preview"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db, rep := simulateStoreWith(t, tc.args(t)...)
			a := readAttemptCSV(t, "--store", db)
			o := rep.Outbound
			t.Logf("simulate --json outbound %+v; attempt rows per outcome %v", o, a.count)

			// Every attempt row is one dial the emulated PG received.
			if len(a.rows) != o.Attempts || a.n(t, "all", "attempts") != int64(o.Attempts) {
				t.Errorf("%d attempt rows (TOTAL %d), simulate --json %d attempts", len(a.rows), a.n(t, "all", "attempts"), o.Attempts)
			}
			for h, sum := range a.sums {
				if tot := a.n(t, "all", h); tot != sum {
					t.Errorf("%s: the attempt rows add up to %d, TOTAL all says %d", h, sum, tot)
				}
			}
			if got := a.n(t, "all", "busy"); got != int64(o.Busy) {
				t.Errorf("busy %d, simulate --json %d", got, o.Busy)
			}
			if got := a.n(t, "all", "no_answer"); got != int64(o.NoAnswer) {
				t.Errorf("no_answer %d, simulate --json %d", got, o.NoAnswer)
			}
			// Live answers (a person or a machine) are the PG's connects and
			// abandons.
			if got := a.liveAnswers(t); got != int64(o.Connects+o.Abandoned) {
				t.Errorf("%d rows answered by the customer, simulate --json %d connects + %d abandoned", got, o.Connects, o.Abandoned)
			}
			answered, abandoned := a.n(t, "all", "answered"), a.n(t, "all", "abandoned")
			switch {
			case o.Pool != nil:
				// A dialer port's customer is the PG's connect; the
				// controller's connect is the transfer to an agent within
				// the connect limit, its abandon the safe-harbour message.
				if abandoned != o.Pool.Abandoned || answered != o.Pool.LiveAnswered-o.Pool.Abandoned {
					t.Errorf("answered %d abandoned %d, simulate --json pool %d live answered, %d abandoned", answered, abandoned,
						o.Pool.LiveAnswered, o.Pool.Abandoned)
				}
			default:
				if answered != int64(o.Connects) || abandoned != int64(o.Abandoned) {
					t.Errorf("answered %d abandoned %d, simulate --json %d connects %d abandoned", answered, abandoned, o.Connects, o.Abandoned)
				}
			}
			if p := o.Preview; p != nil && (int64(p.Dialed) != a.n(t, "all", "attempts") || int64(p.Connects) != answered) {
				t.Errorf("preview: %d dialed %d connects, attempt rows %d, %d answered", p.Dialed, p.Connects, a.n(t, "all", "attempts"), answered)
			}
			// The rest failed (SIT tones, unobtainable) or was in flight
			// when the day ended; nothing on the CTI wire tells a machine
			// from a person, so machines are among the connects.
			failed := a.n(t, "all", "failed")
			rest := int64(o.Attempts) - int64(o.Busy) - int64(o.NoAnswer) - int64(o.Connects) - int64(o.Abandoned)
			if ringing := a.n(t, "all", reporting.InFlight) - answeredInFlight(a); failed+ringing != rest {
				t.Errorf("failed %d + %d in flight unanswered, want the %d attempts neither busy, unanswered nor answered", failed, ringing, rest)
			}
			if a.n(t, "all", "machine") != 0 || a.n(t, "all", "other") != 0 {
				t.Errorf("machine %d other %d: the wire tells neither", a.n(t, "all", "machine"), a.n(t, "all", "other"))
			}
			if tc.name == "SIT tones and machines" {
				sit := 0
				for _, r := range a.rows {
					if a.get(r, "outcome") == "failed" && a.get(r, "cause") == "CEC_DEST_NOT_OBTAINABLE" {
						sit++
					}
				}
				if sit == 0 || int64(sit) != failed {
					t.Errorf("%d SIT failures of %d failed rows: want all, and some", sit, failed)
				}
			}

			// The campaign's interval TOTAL row counts the same attempts.
			totals, _ := reportCSV(t, "--store", db, "--kind", "campaign")
			iv := totals["all"]
			if iv["attempts"] != int64(len(a.rows)) || iv["busy"] != a.n(t, "all", "busy") || iv["no_answer"] != a.n(t, "all", "no_answer") ||
				iv["connects"]+iv["abandoned"] != a.liveAnswers(t) {
				t.Errorf("campaign interval TOTAL %v, attempt TOTAL %v", iv, a.total["all"])
			}
			if o.Pool == nil && (iv["connects"] != answered || iv["abandoned"] != abandoned) {
				t.Errorf("campaign interval TOTAL %v, attempt TOTAL %v", iv, a.total["all"])
			}

			for _, r := range a.rows {
				if a.get(r, "mode") != tc.mode || a.get(r, "campaign") != "Renewals" {
					t.Fatalf("row %v: want mode %s, campaign Renewals", r, tc.mode)
				}
				list := a.get(r, "record_id") != ""
				if list != (tc.name == "call list") || list != (a.get(r, "attempt_number") != "") {
					t.Fatalf("row %v: record and attempt number only for a call list", r)
				}
				if tc.mode == "pool/predictive" && a.get(r, "port") == "" || tc.mode != "pool/predictive" && a.get(r, "agent_id") == "" {
					t.Fatalf("row %v: no port (pool) or agent", r)
				}
				if a.get(r, "outcome") == "answered" && (a.get(r, "agent_id") == "" || a.get(r, "talk_s") == "") {
					t.Fatalf("row %v: a connect without agent", r)
				}
			}
			if tc.name == "call list" {
				retried := 0
				for _, r := range a.rows {
					if n, _ := strconv.Atoi(a.get(r, "attempt_number")); n > 1 {
						retried++
					}
				}
				if retried == 0 || int64(o.List.Attempts) != a.n(t, "all", "attempts") {
					t.Errorf("%d retries among the rows; the journal holds %d attempts, the rows %d", retried, o.List.Attempts, len(a.rows))
				}
			}
		})
	}
}

// answeredInFlight counts the rows in flight that were answered (a dialer
// port's customer waiting for an agent).
func answeredInFlight(a attemptCSV) int64 {
	var n int64
	for _, r := range a.rows {
		if a.get(r, "outcome") == reporting.InFlight && a.get(r, "time_to_answer_s") != "0" {
			n++
		}
	}
	return n
}

// --from and --to select attempts by their start; the text table has the
// rows and a TOTAL per campaign.
func TestReportAttemptsRange(t *testing.T) {
	db, _ := simulateStoreWith(t, "--hours", "2", "--seed", "7")
	all := readAttemptCSV(t, "--store", db)
	from, to := time.Date(2026, 1, 5, 8, 30, 0, 0, time.UTC), time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	want := 0
	for _, r := range all.rows {
		s, err := time.Parse(time.RFC3339, all.get(r, "start"))
		if err != nil {
			t.Fatal(err)
		}
		if !s.Before(from) && s.Before(to) {
			want++
		}
	}
	sel := readAttemptCSV(t, "--store", db, "--from", "08:30", "--to", "2026-01-05T09:00:00Z")
	if len(sel.rows) != want || want == 0 || want == len(all.rows) {
		t.Errorf("[08:30, 09:00): %d rows, want %d of %d", len(sel.rows), want, len(all.rows))
	}
	for _, r := range sel.rows {
		s, _ := time.Parse(time.RFC3339, sel.get(r, "start"))
		if s.Before(from) || !s.Before(to) {
			t.Errorf("row starting %s selected", s)
		}
	}
	if sel.n(t, "all", "attempts") != int64(want) {
		t.Errorf("TOTAL all %d attempts, %d rows", sel.n(t, "all", "attempts"), want)
	}
	out, err := run(t, "report", "--store", db, "--kind", "attempt", "--from", "08:30", "--to", "08:31")
	if err != nil {
		t.Fatal(err)
	}
	rows := 0
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) > 0 && len(f[0]) == len("08:30:00") && f[0][2] == ':' {
			rows++
			if !strings.HasPrefix(f[0], "08:30:") {
				t.Errorf("--from 08:30 --to 08:31: a row starting %s", f[0])
			}
		}
	}
	if rows == 0 || !strings.Contains(out, "dialed_number") || !strings.Contains(out, "TOTAL  Renewals") || !strings.Contains(out, "TOTAL       all") {
		t.Errorf("--from 08:30 --to 08:31:\n%s", out)
	}
	out, err = run(t, "report", "--store", db, "--kind", "attempt", "--from", "12:00")
	if err != nil || out != "no attempts in the range\n" {
		t.Errorf("an empty range: %q, %v", out, err)
	}
}

// `report --kind attempt` on a campaign store prints its attempt journal.
func TestReportAttemptsOfACampaignStore(t *testing.T) {
	now := time.Date(2026, 6, 1, 15, 0, 0, 0, time.UTC)
	path := filepath.Join(t.TempDir(), "campaign.db")
	cs, err := campaign.Open(path, campaign.Config{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	c, err := cs.CreateCampaign(campaign.NewCampaign("Spring", campaign.Predictive))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cs.ImportCSV(c.ID, strings.NewReader("phone,time_zone\n442079460001,Europe/London\n442079460002,Europe/London\n")); err != nil {
		t.Fatal(err)
	}
	recs, err := cs.Next(c.ID, now, 2)
	if err != nil || len(recs) != 2 {
		t.Fatalf("next: %v, %v", recs, err)
	}
	for i, o := range []campaign.Outcome{campaign.Answered, campaign.Busy} {
		a, err := cs.BeginAttempt(recs[i].ID, now.Add(time.Duration(i)*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := cs.EndAttempt(a.ID, o, now.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	cs.Close()

	a := readAttemptCSV(t, "--store", path)
	if len(a.rows) != 2 || a.n(t, "Spring", "answered") != 1 || a.n(t, "Spring", "busy") != 1 {
		t.Fatalf("journal rows %v, totals %v", a.rows, a.total)
	}
	r := a.rows[0]
	if a.get(r, "dialed_number") != "442079460001" || a.get(r, "mode") != "predictive" || a.get(r, "attempt_number") != "1" ||
		a.get(r, "end") != "2026-06-01T15:01:00.000Z" || a.get(r, "agent_id") != "" {
		t.Errorf("first row %v", r)
	}
	_, err = run(t, "report", "--store", path, "--kind", "attempt", "--to", "15:00:30")
	if err == nil || !strings.Contains(err.Error(), "--to") {
		t.Errorf("--to 15:00:30: %v", err)
	}
	out, err := run(t, "report", "--store", path, "--kind", "attempt", "--to", "15:00")
	if err != nil || out != "no attempts in the range\n" {
		t.Errorf("--to 15:00: %q, %v", out, err)
	}
	_, err = run(t, "report", "--store", path, "--kind", "campaign")
	if err == nil || !strings.Contains(err.Error(), "--kind campaign") || !strings.Contains(err.Error(), "campaign store") {
		t.Errorf("--kind campaign of a campaign store: %v", err)
	}
}

func TestReportAttemptBadFlagsNameTheFlag(t *testing.T) {
	db := filepath.Join(t.TempDir(), "empty.db")
	s, err := reporting.Create(db)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"report", "--store", db, "--kind", "attempts"}, []string{"--kind", `"attempts"`, "attempt"}},
		{[]string{"report", "--kind", "attempt"}, []string{"--store", "required"}},
		{[]string{"report", "--store", db, "--kind", "attempt", "--from", "9am"}, []string{"--from", `"9am"`}},
		{[]string{"report", "--store", db, "--kind", "attempt", "--from", "10:00", "--to", "09:00"}, []string{"--from 10:00", "--to 09:00"}},
	} {
		_, err := run(t, tc.args...)
		if err == nil {
			t.Errorf("%v: no error", tc.args)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%v: error %q does not mention %q", tc.args, err, w)
			}
		}
	}
	out, err := run(t, "report", "--store", db, "--kind", "attempt")
	if err != nil || out != "no attempts in the range\n" {
		t.Errorf("empty store: %q, %v", out, err)
	}
}
