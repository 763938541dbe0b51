package lab

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"text/tabwriter"
	"time"

	"github.com/ipcclab/ipcclab/internal/erlang"
	"github.com/ipcclab/ipcclab/scenarios"
)

// CompareOptions configures Compare: several pacing strategies run on the
// same seeded traffic.
type CompareOptions struct {
	// Scenario is the base scenario; it must have a pool-mode campaign
	// (controller.pacing.mode pool) with a per-number outbound fate, so
	// every strategy meets the same customers.
	Scenario *scenarios.Scenario
	// Agents, when positive, sets the count of the scenario's one agent
	// group defined in the controller (the campaign's agents).
	Agents int
	// Duration of each run (0: the scenario's hours).
	Duration time.Duration
	Seed     uint64
	// Strategies to run (nil: DefaultCompareStrategies). "ratio-tuned" is
	// the fixed ratio with the highest level whose abandon rate does not
	// exceed ours, found by bisection on this traffic (hindsight no real
	// fixed-ratio dialer has).
	Strategies []string
	// Progress, when set, is called after each run.
	Progress func(label string, r *Report)
}

// DefaultCompareStrategies are the field's baselines and ours.
var DefaultCompareStrategies = []string{
	"progressive", "ratio-tuned", "vicidial-hard", "vicidial-tapered", "vicidial-average",
	"threshold-dial1xfree", "threshold-dial2xfree", "predictive",
}

// minMatchLimit is the limit ours runs at to match a baseline with no
// abandons.
const minMatchLimit = 0.000001

// CompareRow is one strategy's run: the contract of `ipcclab simulate
// --compare --json`.
type CompareRow struct {
	Strategy string `json:"strategy"`
	// Occupancy is the campaign agents' talk time over their time (talk
	// share).
	Occupancy   float64 `json:"occupancy"`
	AbandonRate float64 `json:"abandon_rate"`
	// ConnectsPerAgentHour counts live answers connected to an agent.
	ConnectsPerAgentHour float64 `json:"connects_per_agent_hour"`
	// InboundServiceLevel is the inbound call types' service level over
	// the run (-1 with no inbound traffic).
	InboundServiceLevel float64 `json:"inbound_service_level"`
	Agents              int     `json:"agents"`
	Hours               float64 `json:"hours"`
	Attempts            int     `json:"attempts"`
	LiveAnswered        int64   `json:"live_answered"`
	Abandoned           int64   `json:"abandoned"`
	// Compliant: the abandon rate is within the campaign's limit.
	Compliant    bool    `json:"compliant"`
	AbandonLimit float64 `json:"abandon_limit"`
	// Parameter is a tuned strategy's chosen parameter ("level=1.35") or
	// ours' frontier limit.
	Parameter string `json:"parameter,omitempty"`
	// Ours is ours run with this row's abandon rate as its limit (at least
	// 0.0001 %); absent for ours.
	Ours *MatchedRun `json:"ours_at_equal_or_lower_abandon,omitempty"`
	// Beaten: ours' matched run has the higher occupancy at an abandon
	// rate no higher than this row's.
	Beaten *bool `json:"beaten_by_ours,omitempty"`
}

// MatchedRun is ours at an abandon rate no higher than a baseline's.
type MatchedRun struct {
	Limit       float64 `json:"limit"`
	Occupancy   float64 `json:"occupancy"`
	AbandonRate float64 `json:"abandon_rate"`
}

// CompareResult is a whole comparison.
type CompareResult struct {
	Rows []CompareRow
	// Frontier are ours' runs at every limit used.
	Frontier []CompareRow
	// ErlangBBound is the open-loop (Poisson) dialer's talk share at the
	// campaign's abandon limit for this many agents
	// (dialer-anchors.md §5.6 E), the lower bound a state-aware dialer
	// must beat.
	ErlangBBound float64
	// ErlangBBoundWithWrap is the same bound when each call also holds
	// its agent for the scenario's mean wrap-up: the service time is talk
	// + wrap and the talk share is the bound × talk/(talk + wrap).
	ErlangBBoundWithWrap float64
}

// Compare runs each strategy on the same seeded traffic.
func Compare(ctx context.Context, opts CompareOptions) (*CompareResult, error) {
	base := opts.Scenario
	if base == nil {
		return nil, errors.New("lab: compare: no scenario")
	}
	if base.Controller.Pacing.Mode != scenarios.PacingPool || !base.Outbound.Enabled {
		return nil, fmt.Errorf("scenario %s: compare needs a pool-mode campaign (controller.pacing.mode: pool, outbound.enabled, outbound.dialer_ports)", base.Name)
	}
	if base.Outbound.Fate != scenarios.FatePerNumber {
		return nil, fmt.Errorf("scenario %s: compare needs outbound.fate: per_number, so that every strategy meets the same customers", base.Name)
	}
	dur := opts.Duration
	if dur <= 0 {
		dur = time.Duration(base.Hours * float64(time.Hour))
	}
	strategies := opts.Strategies
	if strategies == nil {
		strategies = DefaultCompareStrategies
	}
	sized, agents, err := sizeScenario(base, opts.Agents)
	if err != nil {
		return nil, err
	}
	limit := sized.Controller.Pacing.AbandonLimit
	run := func(strategy string, lim float64, label string) (CompareRow, error) {
		sc := *sized
		sc.Controller.Pacing.Strategy = strategy
		sc.Controller.Pacing.AbandonLimit = lim
		rep, err := Simulate(ctx, SimOptions{Scenario: &sc, Seed: opts.Seed, Duration: dur})
		if err != nil {
			return CompareRow{}, fmt.Errorf("%s: %w", label, err)
		}
		if opts.Progress != nil {
			opts.Progress(label, rep)
		}
		return rowOf(label, rep, agents, dur, limit), nil
	}

	res := &CompareResult{ErlangBBound: erlangBBound(agents, limit)}
	talk, wrap := sized.Outbound.Talk.Mean.D().Seconds(), 0.0
	for _, g := range sized.Agents {
		if g.IsDefinedIn(scenarios.DefinedInController) {
			wrap = g.WrapUp.Mean.D().Seconds()
		}
	}
	if talk > 0 {
		res.ErlangBBoundWithWrap = round(res.ErlangBBound*talk/(talk+wrap), 4)
	}
	// Ours at a given limit, each run once.
	oursAt := map[float64]CompareRow{}
	ourRun := func(l float64) (CompareRow, error) {
		if r, ok := oursAt[l]; ok {
			return r, nil
		}
		label := "predictive"
		if l != limit {
			label = fmt.Sprintf("predictive@%g", l)
		}
		r, err := run("predictive", l, label)
		if err != nil {
			return r, err
		}
		r.Parameter = fmt.Sprintf("limit=%g", l)
		oursAt[l] = r
		res.Frontier = append(res.Frontier, r)
		return r, nil
	}
	ours, err := ourRun(limit)
	if err != nil {
		return nil, err
	}
	for _, name := range strategies {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		var row CompareRow
		switch name {
		case "predictive":
			res.Rows = append(res.Rows, ours)
			continue
		case "ratio-tuned":
			row, err = tuneRatio(run, ours.AbandonRate, limit)
		default:
			row, err = run(name, limit, name)
		}
		if err != nil {
			return nil, err
		}
		// Ours with the baseline's abandon rate as its limit: the
		// comparison at an equal or lower abandon rate. A baseline with no
		// abandons is matched by ours at its lowest limit.
		l := max(minMatchLimit, math.Min(row.AbandonRate, 0.99))
		m, err := ourRun(round(l, 8))
		if err != nil {
			return nil, err
		}
		beaten := m.Occupancy > row.Occupancy && m.AbandonRate <= row.AbandonRate
		row.Ours = &MatchedRun{Limit: round(l, 8), Occupancy: m.Occupancy, AbandonRate: m.AbandonRate}
		row.Beaten = &beaten
		res.Rows = append(res.Rows, row)
	}
	return res, nil
}

// sizeScenario sets the campaign's agent count and makes sure there are
// enough dialer ports for it.
func sizeScenario(base *scenarios.Scenario, n int) (*scenarios.Scenario, int, error) {
	sc := *base
	sc.Agents = slices.Clone(base.Agents)
	var idx []int
	for i, g := range sc.Agents {
		if g.IsDefinedIn(scenarios.DefinedInController) {
			idx = append(idx, i)
		}
	}
	total := 0
	for _, i := range idx {
		total += sc.Agents[i].Count
	}
	if n > 0 {
		if len(idx) != 1 {
			return nil, 0, fmt.Errorf("scenario %s: --agents needs exactly one agent group defined in the controller, found %d", sc.Name, len(idx))
		}
		if n > 2000 {
			return nil, 0, fmt.Errorf("--agents %d: at most 2000", n)
		}
		sc.Agents[idx[0]].Count = n
		total = n
	}
	if total == 0 {
		return nil, 0, fmt.Errorf("scenario %s: no agents defined in the controller work the campaign", sc.Name)
	}
	if need := 4*total + 20; sc.Outbound.DialerPorts.Count < need {
		sc.Outbound.DialerPorts.Count = need
	}
	if sc.Controller.Pacing.MaxInFlight < sc.Outbound.DialerPorts.Count {
		sc.Controller.Pacing.MaxInFlight = sc.Outbound.DialerPorts.Count
	}
	// The sized scenario must still be valid (ports must not run into
	// agent extensions).
	if err := sc.Check(); err != nil {
		return nil, 0, fmt.Errorf("scenario %s sized for %d agents: %w", sc.Name, total, err)
	}
	return &sc, total, nil
}

func rowOf(label string, rep *Report, agents int, dur time.Duration, limit float64) CompareRow {
	r := CompareRow{Strategy: label, Agents: agents, Hours: round(dur.Hours(), 3), Attempts: rep.Outbound.Attempts,
		AbandonLimit: limit, InboundServiceLevel: -1}
	if rep.Inbound.Offered > 0 {
		r.InboundServiceLevel = rep.Inbound.ServiceLevel
	}
	if p := rep.Outbound.Pool; p != nil {
		r.Occupancy, r.AbandonRate, r.ConnectsPerAgentHour = p.TalkShare, p.AbandonRate, p.ConnectsPerAgentHour
		r.LiveAnswered, r.Abandoned = p.LiveAnswered, p.Abandoned
	}
	r.Compliant = r.AbandonRate <= limit
	return r
}

// tuneRatio finds the highest fixed ratio (to 1/64 of a line) whose abandon
// rate on this traffic does not exceed target (ours' rate, at most the
// limit): the best a fixed-ratio dialer could do with hindsight.
func tuneRatio(run func(string, float64, string) (CompareRow, error), target, limit float64) (CompareRow, error) {
	target = min(target, limit)
	lo, hi := 1.0, 3.0
	best, err := run("ratio-1", limit, "ratio-tuned")
	if err != nil {
		return CompareRow{}, err
	}
	best.Parameter = "level=1"
	for range 7 {
		mid := (lo + hi) / 2
		r, err := run(fmt.Sprintf("ratio-%g", mid), limit, "ratio-tuned")
		if err != nil {
			return CompareRow{}, err
		}
		if r.AbandonRate <= target {
			lo, best = mid, r
			best.Parameter = fmt.Sprintf("level=%g", mid)
		} else {
			hi = mid
		}
	}
	best.Strategy = "ratio-tuned"
	return best, nil
}

// erlangBBound is §5.6 E: the talk share a(1−B)/N of an open-loop dialer
// whose answers arrive as a Poisson stream at the load a where Erlang B
// B(N, a) equals the abandon limit.
func erlangBBound(n int, limit float64) float64 {
	lo, hi := 0.0, float64(n)*4
	for range 100 {
		a := (lo + hi) / 2
		if erlang.ErlangB(n, a) > limit {
			hi = a
		} else {
			lo = a
		}
	}
	return round(lo*(1-limit)/float64(n), 4)
}

// WriteCompare prints the comparison as a table.
func WriteCompare(w io.Writer, res *CompareResult) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "strategy\toccupancy\tabandon\tconnects/agent-h\tinbound SL\tcompliant\tours at ≤ abandon\t")
	pct := func(v float64) string { return fmt.Sprintf("%.2f %%", 100*v) }
	for _, r := range res.Rows {
		param := r.Strategy
		if r.Parameter != "" && r.Strategy != "predictive" {
			param += " (" + r.Parameter + ")"
		}
		sl := "-"
		if r.InboundServiceLevel >= 0 {
			sl = pct(r.InboundServiceLevel)
		}
		ours := ""
		if r.Ours != nil {
			mark := "no"
			if *r.Beaten {
				mark = "beaten"
			}
			ours = fmt.Sprintf("%s at %s (%s)", pct(r.Ours.Occupancy), pct(r.Ours.AbandonRate), mark)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%.2f\t%s\t%v\t%s\t\n", param, pct(r.Occupancy), pct(r.AbandonRate), r.ConnectsPerAgentHour, sl, r.Compliant, ours)
	}
	tw.Flush()
	fmt.Fprintf(w, "\nours at each limit:")
	for _, f := range res.Frontier {
		fmt.Fprintf(w, " %s → %s at %s;", f.Parameter, pct(f.Occupancy), pct(f.AbandonRate))
	}
	if len(res.Rows) > 0 {
		fmt.Fprintf(w, "\nErlang-B open-loop bound (dialer-anchors.md §5.6 E) for %d agents at %s abandon: %s talk share (no wrap-up), %s with this scenario's wrap-up\n",
			res.Rows[0].Agents, pct(res.Rows[0].AbandonLimit), pct(res.ErlangBBound), pct(res.ErlangBBoundWithWrap))
	}
}
