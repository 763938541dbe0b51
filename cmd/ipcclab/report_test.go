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

	"github.com/ipcclab/ipcclab/controller/reporting"
	"github.com/ipcclab/ipcclab/internal/lab"
)

// simulateToStore runs the default scenario with --store and returns the
// store's path and the --json report.
func simulateToStore(t *testing.T) (string, lab.Report) {
	t.Helper()
	db := filepath.Join(t.TempDir(), "day.db")
	out, err := run(t, "simulate", "--hours", "3", "--seed", "5", "--store", db, "--json")
	if err != nil {
		t.Fatal(err)
	}
	var rep lab.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Inbound.Offered == 0 || rep.Outbound.Attempts == 0 {
		t.Fatalf("no traffic to compare: %+v", rep)
	}
	return db, rep
}

// reportCSV runs `ipcclab report --csv` and returns its rows keyed by
// column name; totals[entity] are the TOTAL rows, sums[entity] the sums
// of the interval rows.
func reportCSV(t *testing.T, args ...string) (totals, sums map[string]map[string]int64) {
	t.Helper()
	out, err := run(t, append([]string{"report", "--csv"}, args...)...)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	head := recs[0]
	totals, sums = map[string]map[string]int64{}, map[string]map[string]int64{}
	for _, r := range recs[1:] {
		into := sums
		if r[2] == reporting.TotalLabel {
			into = totals
		}
		m := into[r[3]]
		if m == nil {
			m = map[string]int64{}
			into[r[3]] = m
		}
		for i := 4; i < len(r); i++ {
			if n, err := strconv.ParseInt(r[i], 10, 64); err == nil {
				m[head[i]] += n
			}
		}
	}
	return totals, sums
}

// The acceptance of issue 7: `ipcclab report` on a finished simulated day
// gives half-hour rows whose totals equal the `simulate --json` totals.
func TestReportTotalsEqualTheSimulateJSONTotals(t *testing.T) {
	db, rep := simulateToStore(t)

	totals, sums := reportCSV(t, "--store", db, "--kind", "calltype")
	check := func(what string, got map[string]int64, offered, answered, abandoned int) {
		t.Helper()
		if got["offered"] != int64(offered) || got["answered"] != int64(answered) || got["abandoned"] != int64(abandoned) {
			t.Errorf("%s: offered/answered/abandoned %d/%d/%d, simulate --json %d/%d/%d", what, got["offered"], got["answered"],
				got["abandoned"], offered, answered, abandoned)
		}
	}
	for _, ct := range rep.Inbound.CallTypes {
		check("TOTAL "+ct.Name, totals[ct.Name], ct.Offered, ct.Answered, ct.Abandoned)
		check("interval rows of "+ct.Name, sums[ct.Name], ct.Offered, ct.Answered, ct.Abandoned)
	}
	check("TOTAL all", totals["all"], rep.Inbound.Offered, rep.Inbound.Answered, rep.Inbound.Abandoned)

	totals, sums = reportCSV(t, "--store", db, "--kind", "campaign")
	o := rep.Outbound
	for what, got := range map[string]map[string]int64{"TOTAL all": totals["all"], "interval rows": sums["Renewals"]} {
		if got["attempts"] != int64(o.Attempts) || got["connects"] != int64(o.Connects) || got["abandoned"] != int64(o.Abandoned) ||
			got["busy"] != int64(o.Busy) || got["no_answer"] != int64(o.NoAnswer) {
			t.Errorf("campaign %s: %v, simulate --json %+v", what, got, o)
		}
	}

	// The agents: TOTAL all calls are the inbound calls answered and the
	// outbound calls connected (each counted when it connects), and an
	// outbound-only agent is logged on the whole run. The skill groups'
	// TOTAL all counts each agent once, though agents are in several
	// groups (the default scenario's agents stay logged on).
	totals, _ = reportCSV(t, "--store", db, "--kind", "agent")
	if got, want := totals["all"]["calls"], int64(rep.Inbound.Answered+rep.Outbound.Connects); got != want {
		t.Errorf("agent TOTAL all calls %d, simulate --json answered + connects %d", got, want)
	}
	agents := readAgentTotals(t, db)
	outboundOnly := 0
	for id, a := range agents {
		if a.Calls > 0 && a.Ready+a.NotReady+a.WrapUp+a.Hold == 0 { // a line without an ICM agent
			outboundOnly++
			if run := time.Duration(rep.SimSeconds * float64(time.Second)); a.LoggedOnTime != run {
				t.Errorf("outbound-only agent %s: logged on %v of a %v run", id, a.LoggedOnTime, run)
			}
		}
	}
	if outboundOnly != rep.Agents.Lines {
		t.Errorf("%d outbound-only agents in the report, simulate --json has %d lines", outboundOnly, rep.Agents.Lines)
	}
	totals, _ = reportCSV(t, "--store", db, "--kind", "skillgroup")
	var maxGroup int64
	for g, m := range totals {
		if g != "all" {
			maxGroup = max(maxGroup, m["agents_logged_on"])
		}
	}
	if got := totals["all"]["agents_logged_on"]; got != int64(rep.Agents.LoggedOn) || got <= maxGroup {
		t.Errorf("skill group TOTAL all agents_logged_on %d, simulate --json agents.logged_on %d (largest group %d)",
			got, rep.Agents.LoggedOn, maxGroup)
	}

	// Through the package API: six half hours of each call type.
	s, err := reporting.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	iv, err := s.Read(reporting.KindCallType, reporting.Range{})
	if err != nil {
		t.Fatal(err)
	}
	if want := 6 * len(rep.Inbound.CallTypes); len(iv.CallTypes) != want {
		t.Errorf("%d call type rows, want %d", len(iv.CallTypes), want)
	}
	var all reporting.CallTypeInterval
	for _, c := range iv.CallTypes {
		all.Add(c)
		if c.End.Sub(c.Start) != reporting.IntervalLength {
			t.Errorf("interval %v-%v is not a half hour", c.Start, c.End)
		}
	}
	if int(all.Offered) != rep.Inbound.Offered || int(all.Answered) != rep.Inbound.Answered || int(all.Abandoned) != rep.Inbound.Abandoned {
		t.Errorf("package API sums %d/%d/%d, simulate --json %d/%d/%d", all.Offered, all.Answered, all.Abandoned,
			rep.Inbound.Offered, rep.Inbound.Answered, rep.Inbound.Abandoned)
	}

	// A range: the 09:00 and 09:30 intervals only.
	out, err := run(t, "report", "--store", db, "--kind", "skillgroup", "--from", "09:00", "--to", "2026-01-05T10:00:00Z")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "09:00-09:30") || !strings.Contains(out, "09:30-10:00") || strings.Contains(out, "08:30-09:00") ||
		strings.Contains(out, "10:00-10:30") || !strings.Contains(out, "TOTAL") {
		t.Errorf("--from 09:00 --to 10:00:\n%s", out)
	}
}

// readAgentTotals sums each agent's interval records of the store.
func readAgentTotals(t *testing.T, db string) map[string]reporting.AgentInterval {
	t.Helper()
	s, err := reporting.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	iv, err := s.Read(reporting.KindAgent, reporting.Range{})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]reporting.AgentInterval{}
	for _, a := range iv.Agents {
		tot := out[a.AgentID]
		tot.Add(a)
		out[a.AgentID] = tot
	}
	return out
}

func TestReportRefusesBadInputNamingTheFlag(t *testing.T) {
	dir := t.TempDir()
	text := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(text, []byte("a text file, not a database: long enough to fill the SQLite header\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(dir, "empty.db")
	s, err := reporting.Create(db)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"report", "--store", db, "--kind", "queue"}, []string{"--kind", `"queue"`}},
		{[]string{"report", "--kind", "agent"}, []string{"--store", "required"}},
		{[]string{"report", "--store", filepath.Join(dir, "nope.db")}, []string{"--store", "nope.db"}},
		{[]string{"report", "--store", text}, []string{"--store", "notes.txt", "not a SQLite database"}},
		{[]string{"report", "--store", db, "--from", "9am"}, []string{"--from", `"9am"`}},
		{[]string{"report", "--store", db, "--to", "2026-01-05 10:00"}, []string{"--to", "RFC 3339"}},
		{[]string{"report", "--store", db, "--from", "10:00", "--to", "09:00"}, []string{"--from 10:00", "--to 09:00"}},
		{[]string{"simulate", "--hours", "1", "--store", text}, []string{"--store", "notes.txt", "not a SQLite database"}},
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
	// An empty store is not an error: the range has no intervals.
	out, err := run(t, "report", "--store", db, "--kind", "agent")
	if err != nil || out != "no agent intervals in the range\n" {
		t.Errorf("empty store: %q, %v", out, err)
	}
}
