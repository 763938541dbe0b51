package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/ipcclab/ipcclab/controller/reporting"
	"github.com/ipcclab/ipcclab/internal/lab"
)

func newReport() *cobra.Command {
	var (
		store, kind, from, to string
		asCSV                 bool
	)
	cmd := &cobra.Command{
		Use:   "report",
		Short: "Print half-hour interval tables or outbound attempts from a store written by simulate --store or up --store",
		Long: `report prints one kind of ICM-style half-hour interval records — call types,
skill groups, agents or the outbound campaign — from a SQLite store written by
'ipcclab simulate --store FILE.db' or 'ipcclab up --store FILE.db': one row
per half hour per entity, then a TOTAL row per entity and one over all of them
("all"). A row is named by its half-hour (xx:00 or xx:30): a run that started
at 16:01 has its first row at 16:00-16:30.

What the columns count:
  skillgroup agents_logged_on   the group's agents logged on at the interval's
                                end; a TOTAL row shows the peak, and TOTAL all
                                the peak of distinct agents in any group (an
                                agent in two groups counts once), which is
                                simulate --json's agents.logged_on when nobody
                                logs off
  agent calls                   calls connected to the agent, counted in the
                                interval they connect in: an ICM agent's calls
                                going TALKING (a retrieve from hold is not a
                                new call), an outbound-only agent's line's
                                connected calls; TOTAL all equals simulate
                                --json's inbound.answered + outbound.connects
  agent logged_on               an outbound-only agent (a line without an ICM
                                agent) is logged on from the centre's start;
                                it has calls, talk and logged_on only

--kind attempt prints the controller's outbound attempts instead: one row per
call it placed, in start order (campaign, mode, number, call-list record and
attempt number, agent or dialer port, outcome, ring time, time to answer, talk
time, end), then a TOTAL row per campaign counting the attempts per outcome.
Pointed at a campaign store (the call-list database of controller/campaign),
it reads the store's attempt journal, which keeps the start, end, outcome,
record and campaign of every attempt; the file is not changed.

--from and --to select the intervals (or attempts) that start in [from, to):
HH:MM on the store's first day, or RFC 3339. --csv prints CSV with raw sums
(seconds, the service-level parts) for spreadsheets.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			k, err := reporting.ParseReportKind(kind)
			if err != nil {
				return fmt.Errorf("--kind: %w", err)
			}
			if store == "" {
				return fmt.Errorf("--store: required (a file written by ipcclab simulate --store or up --store)")
			}
			s, err := reporting.Open(store)
			if err != nil {
				return fmt.Errorf("--store: %w", err)
			}
			defer s.Close()
			if s.IsJournal() && k != reporting.KindAttempt {
				return fmt.Errorf("--kind %s: %s is a campaign store, which keeps attempts only: use --kind attempt", k, store)
			}
			day, err := s.FirstStart()
			if err != nil {
				return fmt.Errorf("--store: %w", err)
			}
			var r reporting.Range
			if from != "" {
				if r.From, err = reporting.ParseTime(from, day); err != nil {
					return fmt.Errorf("--from: %w", err)
				}
			}
			if to != "" {
				if r.To, err = reporting.ParseTime(to, day); err != nil {
					return fmt.Errorf("--to: %w", err)
				}
			}
			if from != "" && to != "" && !r.From.Before(r.To) {
				return fmt.Errorf("--from %s is not before --to %s", from, to)
			}
			if k == reporting.KindAttempt {
				atts, err := s.ReadAttempts(r)
				if err != nil {
					return fmt.Errorf("--store: %w", err)
				}
				tab := reporting.BuildAttemptTable(atts)
				if asCSV {
					return tab.WriteCSV(cmd.OutOrStdout())
				}
				return tab.WriteText(cmd.OutOrStdout())
			}
			iv, err := s.Read(k, r)
			if err != nil {
				return err
			}
			tab, err := reporting.BuildTable(k, iv)
			if err != nil {
				return err
			}
			if asCSV {
				return tab.WriteCSV(cmd.OutOrStdout())
			}
			return tab.WriteText(cmd.OutOrStdout())
		},
	}
	f := cmd.Flags()
	f.StringVar(&store, "store", "", "SQLite store written by simulate --store or up --store, or a campaign store for --kind attempt (required)")
	f.StringVar(&kind, "kind", string(reporting.KindCallType), "calltype, skillgroup, agent, campaign or attempt")
	f.StringVar(&from, "from", "", "first interval (or attempt) start: HH:MM on the store's first day, or RFC 3339")
	f.StringVar(&to, "to", "", "end of the range (exclusive): HH:MM or RFC 3339")
	f.BoolVar(&asCSV, "csv", false, "print CSV instead of a table")
	return cmd
}

// simulateStore prepares `simulate --store`: the store is opened before the
// run, so a bad path fails at once rather than after a simulated day, and
// opts collects the intervals and the outbound attempts. save writes them
// after the run and closes the store; with path "" both do nothing.
func simulateStore(path string, opts *lab.SimOptions) (save func(err error) error, err error) {
	if path == "" {
		return func(err error) error { return err }, nil
	}
	s, err := reporting.Create(path)
	if err != nil {
		return nil, fmt.Errorf("--store: %w", err)
	}
	opts.Intervals = &reporting.Intervals{}
	opts.Attempts = &[]reporting.Attempt{}
	return func(runErr error) error {
		defer s.Close()
		if runErr != nil {
			return runErr
		}
		if err := s.Write(opts.Intervals); err != nil {
			return fmt.Errorf("--store: %w", err)
		}
		if err := s.WriteAttempts(*opts.Attempts); err != nil {
			return fmt.Errorf("--store: %w", err)
		}
		return nil
	}, nil
}
