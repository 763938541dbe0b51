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
		Short: "Print half-hour interval tables from a store written by simulate --store",
		Long: `report prints one kind of ICM-style half-hour interval records — call types,
skill groups, agents or the outbound campaign — from a SQLite store written by
'ipcclab simulate --store FILE.db': one row per half hour per entity, then a
TOTAL row per entity and one over all of them ("all").

--from and --to select the intervals that start in [from, to): HH:MM on the
store's first day, or RFC 3339. --csv prints CSV with raw sums (seconds, the
service-level parts) for spreadsheets.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			k, err := reporting.ParseKind(kind)
			if err != nil {
				return fmt.Errorf("--kind: %w", err)
			}
			if store == "" {
				return fmt.Errorf("--store: required (a file written by ipcclab simulate --store)")
			}
			s, err := reporting.Open(store)
			if err != nil {
				return fmt.Errorf("--store: %w", err)
			}
			defer s.Close()
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
	f.StringVar(&store, "store", "", "SQLite store written by simulate --store (required)")
	f.StringVar(&kind, "kind", string(reporting.KindCallType), "calltype, skillgroup, agent or campaign")
	f.StringVar(&from, "from", "", "first interval start: HH:MM on the store's first day, or RFC 3339")
	f.StringVar(&to, "to", "", "end of the range (exclusive): HH:MM or RFC 3339")
	f.BoolVar(&asCSV, "csv", false, "print CSV instead of a table")
	return cmd
}

// simulateStore prepares `simulate --store`: the store is opened before the
// run, so a bad path fails at once rather than after a simulated day, and
// opts collects the intervals. save writes them after the run and closes
// the store; with path "" both do nothing.
func simulateStore(path string, opts *lab.SimOptions) (save func(err error) error, err error) {
	if path == "" {
		return func(err error) error { return err }, nil
	}
	s, err := reporting.Create(path)
	if err != nil {
		return nil, fmt.Errorf("--store: %w", err)
	}
	opts.Intervals = &reporting.Intervals{}
	return func(runErr error) error {
		defer s.Close()
		if runErr != nil {
			return runErr
		}
		if err := s.Write(opts.Intervals); err != nil {
			return fmt.Errorf("--store: %w", err)
		}
		return nil
	}, nil
}
