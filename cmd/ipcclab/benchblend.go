package main

import (
	"encoding/json"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/ipcclab/ipcclab/internal/lab"
	"github.com/ipcclab/ipcclab/scenarios"
)

// newBenchBlend is `ipcclab bench blend`: issue 5's blended-run line over
// many seeded days, for the scenario's policy and for the optimal policy of
// table D at given reserves (BENCHMARKS.md, "Blended run").
func newBenchBlend() *cobra.Command {
	var (
		scenarioPath       string
		from               uint64
		days, workers      int
		hours              float64
		mode               string
		reserveAgents      int
		reserveBorrow      int
		optimal            string
		perDay, jsonOutput bool
		warm               bool
	)
	cmd := &cobra.Command{
		Use:   "blend",
		Short: "The blended-run line (issue 5) over many seeded days: the scenario's blending policy against the optimal threshold policy of dialer-anchors.md §5.6 D",
		Long: `blend runs the scenario (a §5.6 D blended scenario such as
scenarios/blended-frontier.yaml) on --days days seeded from --from, each with
the same traffic run once more with every agent on inbound, and judges each
day by the line: every achievable half hour at the service-level target,
outbound at least 90 % of table D's frontier at the day's service level and
realised load, abandons within 3 %. It prints the days held and the pooled
figures, and the same for the optimal policy itself (outbound work the
instant more than r agents are idle) at each reserve of --optimal, on as many
days of the model's own arrivals (erlang.SimulateThresholdDay: the same
rates, not the same calls).

With --warm each day's controller resumes its pacing from the day before (a
day on another seed, not judged), as a controller restarted each morning
from the campaign store does; without it every day starts cold.`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			sc, err := loadScenario(scenarioPath)
			if err != nil {
				return err
			}
			b := &sc.Controller.Blend
			if mode != "" {
				b.Mode = mode
			}
			if reserveAgents >= 0 {
				b.ReserveAgents = reserveAgents
			}
			if reserveBorrow >= 0 {
				b.ReserveBorrow = reserveBorrow
			}
			if b.Mode != "reserve" && (b.ReserveAgents > 0 || b.ReserveBorrow > 0) {
				return fmt.Errorf("--reserve-agents %d and --reserve-borrow %d need mode reserve, got %q", b.ReserveAgents, b.ReserveBorrow, b.Mode)
			}
			if b.ReserveBorrow > 0 && sc.Controller.Pacing.Mode != scenarios.PacingPool {
				return fmt.Errorf("--reserve-borrow %d needs controller.pacing.mode: pool, got %q", b.ReserveBorrow, sc.Controller.Pacing.Mode)
			}
			var reserves []int
			for _, f := range strings.Split(optimal, ",") {
				if f = strings.TrimSpace(f); f == "" {
					continue
				}
				r, err := strconv.Atoi(f)
				if err != nil {
					return fmt.Errorf("--optimal %q: %q is not a reserve", optimal, f)
				}
				reserves = append(reserves, r)
			}
			if !(hours > 0 && hours <= 24) {
				return fmt.Errorf("--hours %v: want 0 < hours ≤ 24", hours)
			}
			dur := time.Duration(hours * float64(time.Hour))
			checks, err := lab.FrontierDays(cmd.Context(), sc, from, days, workers, dur, lab.DefaultFrontierTarget, warm)
			if err != nil {
				return err
			}
			ours, err := lab.PoolFrontier(sc, checks)
			if err != nil {
				return err
			}
			type row struct {
				Policy string               `json:"policy"`
				Pooled lab.PooledFrontier   `json:"pooled"`
				Days   []*lab.FrontierCheck `json:"days,omitempty"`
			}
			policy := "controller, mode " + b.Mode
			if b.Mode == "reserve" {
				policy += fmt.Sprintf(", reserve_agents %d, reserve_borrow %d", b.ReserveAgents, b.ReserveBorrow)
			}
			if warm {
				policy += ", pacing resumed"
			}
			rows := []row{{Policy: policy, Pooled: ours}}
			if perDay {
				rows[0].Days = checks
			}
			for _, r := range reserves {
				ideal, err := lab.IdealFrontierDays(sc, r, dur, days, lab.DefaultFrontierTarget)
				if err != nil {
					return err
				}
				p, err := lab.PoolFrontier(sc, ideal)
				if err != nil {
					return err
				}
				rows = append(rows, row{Policy: fmt.Sprintf("optimal threshold policy, r = %d", r), Pooled: p})
			}
			out := cmd.OutOrStdout()
			if jsonOutput {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				return enc.Encode(rows)
			}
			if perDay {
				for _, f := range checks {
					fmt.Fprintln(out, f)
				}
			}
			tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "policy\tdays held\tachievable half hours met\tday SL\toutbound/h\tfrontier/h\tshare\tworst abandons")
			for _, r := range rows {
				p := r.Pooled
				fmt.Fprintf(tw, "%s\t%d of %d (%.1f %%)\t%d of %d (%.2f %%)\t%.2f %%\t%.1f\t%.1f\t%.1f %%\t%.2f %%\n", r.Policy, p.Held, p.Days, 100*float64(p.Held)/float64(p.Days),
					p.MetHalfHours, p.AchievableHalfHours, 100*p.HalfHoursMet(), 100*p.ServiceLevel, p.OutboundPerHour, p.Frontier, 100*p.Share, 100*p.MaxAbandonRate)
			}
			return tw.Flush()
		},
	}
	f := cmd.Flags()
	f.StringVar(&scenarioPath, "scenario", "scenarios/blended-frontier.yaml", "a §5.6 D blended scenario")
	f.Uint64Var(&from, "from", 1, "seed of the first day")
	f.IntVar(&days, "days", 24, "days, each with its own seed")
	f.IntVar(&workers, "workers", runtime.GOMAXPROCS(0), "days simulated at once")
	f.Float64Var(&hours, "hours", 8, "length of a day")
	f.BoolVar(&warm, "warm", false, "resume each day's pacing from the day before (a restart from the campaign store) instead of starting it cold")
	f.StringVar(&mode, "mode", "", "override controller.blend.mode (reactive or reserve)")
	f.IntVar(&reserveAgents, "reserve-agents", -1, "override controller.blend.reserve_agents (0: sized from the measurements)")
	f.IntVar(&reserveBorrow, "reserve-borrow", -1, "override controller.blend.reserve_borrow")
	f.StringVar(&optimal, "optimal", "5,6", "reserves at which to run the optimal policy on as many days (empty: none)")
	f.BoolVar(&perDay, "per-day", false, "print every day's check")
	f.BoolVar(&jsonOutput, "json", false, "print JSON")
	return cmd
}
