// Command ipcclab runs a Cisco IPCC Enterprise contact centre on a laptop: the
// emulator (ICM, CallManager PG, CTI Server, callers and agents) and the
// reference blending/dialer controller, in real time over loopback (`up`) or
// as a seeded virtual-time simulation (`simulate`).
//
// This file only turns flags into the library's options; the behaviour lives
// in internal/lab and the packages it wires.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/ipcclab/ipcclab/internal/charts"
	"github.com/ipcclab/ipcclab/internal/lab"
	"github.com/ipcclab/ipcclab/scenarios"
)

// version is set with -ldflags "-X main.version=…" by release builds.
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := newRoot(os.Stdout, os.Stderr).ExecuteContext(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "ipcclab:", err)
		os.Exit(1)
	}
}

func newRoot(stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:           "ipcclab",
		Short:         "A Cisco IPCC Enterprise contact centre on a laptop, and the controller that drives it",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.AddCommand(newUp(), newSimulate(), newScenario(), newVersion(), newCTI(), newBench(), newPcap(), newReport())
	return root
}

func loadScenario(path string) (*scenarios.Scenario, error) {
	if path == "" {
		return scenarios.Default()
	}
	return scenarios.Load(path)
}

func newUp() *cobra.Command {
	var (
		scenarioPath string
		opts         lab.UpOptions
	)
	cmd := &cobra.Command{
		Use:   "up",
		Short: "Run the emulated IPCC and the reference controller in real time on loopback",
		Long: `up starts the emulated ICM, CallManager PG and CTI Server with the scenario's
agents and callers, and the reference controller connected to the CTI Server
over TCP, and the voice path: the voice gateway (SIP over UDP and TCP at
--sip-addr, the PSTN side), CallManager, IP-IVR and the agents' phones, all
speaking SIP and RTP on loopback. Any SIP caller (SIPp, a softphone) dialing a
call type's dialed number at --sip-addr is queued and delivered to an agent
like a PSTN caller. It prints the addresses it serves, starts inbound traffic
at once, and stops cleanly on SIGINT or SIGTERM (or after --duration).`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			sc, err := loadScenario(scenarioPath)
			if err != nil {
				return err
			}
			opts.Scenario = sc
			opts.Seed = seedFlag(cmd, sc)
			opts.Desktop = agentDesktop
			// Alerts are always logged (stderr), --log or not, webhook or not.
			errOut := cmd.ErrOrStderr()
			opts.AlertLogf = func(format string, args ...any) { fmt.Fprintf(errOut, format+"\n", args...) }
			ctx := cmd.Context()
			if opts.Duration > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, opts.Duration)
				defer cancel()
			}
			err = lab.Up(ctx, opts, cmd.OutOrStdout())
			if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
				return nil
			}
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&scenarioPath, "scenario", "", "scenario YAML file (default: the embedded default scenario)")
	f.StringVar(&opts.CTIAddr, "cti-addr", "127.0.0.1:42027", "address of the CTI Server (side A)")
	f.StringVar(&opts.CTIAddrB, "cti-addr-b", "127.0.0.1:43027", "address of side B, the standby CTI Server (empty: no side B)")
	f.Uint64Var(&opts.Seed, "seed", 0, "random seed (default: the scenario's)")
	f.DurationVar(&opts.Duration, "duration", 0, "stop after this long (default: until interrupted)")
	f.BoolVar(&opts.NoController, "no-controller", false, "run the emulator only; connect your own controller to the CTI Server")
	f.BoolVar(&opts.NoBlend, "no-blend", false, "run the controller with blending disabled")
	f.StringVar(&opts.SIPAddr, "sip-addr", lab.DefaultSIPAddr, "the voice gateway's PSTN-side SIP address, UDP and TCP (empty: no voice path, the PG switches calls itself)")
	f.StringVar(&opts.PSTNAddr, "pstn-addr", "", "an outside SIP peer (IP:port) that plays the PSTN for outbound calls, instead of the PSTN model")
	f.StringVar(&opts.Capture, "capture", "", "write CTI, SIP and RTP traffic to this pcapng file")
	f.StringVar(&opts.CampaignAddr, "campaign-addr", "", "serve the campaign API (GET/PATCH /campaigns/{id}, POST .../records, .../callbacks) here, for a scenario with outbound.list (empty: off); off loopback clients need the token (--http-token), sent as Authorization: Bearer")
	f.StringVar(&opts.HTTPAddr, "http-addr", lab.DefaultHTTPAddr, "serve the live dashboard (/), its JSON (/api/snapshot), event stream (/api/events) and Prometheus /metrics here (empty: off); off loopback clients need --http-token")
	f.StringVar(&opts.Store, "store", "", "write each half-hour interval (when it closes, the partial one at shutdown) and the controller's outbound attempts to this SQLite file (read them with ipcclab report)")
	f.StringVar(&opts.CampaignStore, "campaign-store", "", "keep the call list's campaign store (outbound.list) in this SQLite file, so its progress, settings and the pacing's learning survive a restart; a campaign found there runs as stored (default: in memory)")
	f.StringVar(&opts.HTTPToken, "http-token", "", "token clients off loopback must send to the dashboard, desktop and campaign API (Authorization: Bearer, or ?token= on the pages); generated and printed when --http-addr or --campaign-addr is not loopback and this is empty")
	return cmd
}

func seedFlag(cmd *cobra.Command, sc *scenarios.Scenario) uint64 {
	if cmd.Flags().Changed("seed") {
		v, _ := cmd.Flags().GetUint64("seed")
		return v
	}
	return sc.Seed
}

func newSimulate() *cobra.Command {
	var (
		scenarioPath string
		opts         lab.SimOptions
		hours        float64
		asJSON       bool
		logLines     bool
		compare      bool
		agents       int
		strategies   []string
		plotDir      string
		plotEvery    time.Duration
		progress     bool
		storePath    string
	)
	cmd := &cobra.Command{
		Use:   "simulate",
		Short: "Run the scenario in virtual time and print a report",
		Long: `simulate runs the same emulator and controller cores as up, on a seeded
virtual clock: a contact-centre day takes seconds, and the same scenario and
seed always give the same report (apart from wall_seconds).

--compare runs several outbound pacing strategies on identical seeded traffic
(default: the embedded "outbound" scenario, whose customers have a per-number
fate) and prints, per strategy, the campaign agents' occupancy (talk share),
the abandon rate, connects per agent-hour and the inbound service level;
--json prints a JSON array with one object per strategy.`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if compare && plotDir != "" {
				return fmt.Errorf("--plot goes without --compare")
			}
			if compare {
				return runCompare(cmd, scenarioPath, hours, agents, strategies, asJSON)
			}
			if cmd.Flags().Changed("agents") || cmd.Flags().Changed("strategies") {
				return fmt.Errorf("--agents and --strategies go with --compare")
			}
			sc, err := loadScenario(scenarioPath)
			if err != nil {
				return err
			}
			opts.Scenario = sc
			opts.Seed = seedFlag(cmd, sc)
			opts.Duration = time.Duration(sc.Hours * float64(time.Hour))
			if cmd.Flags().Changed("hours") {
				if hours <= 0 || hours > 24*14 {
					return fmt.Errorf("--hours must be in (0, 336], got %v", hours)
				}
				opts.Duration = time.Duration(hours * float64(time.Hour))
			}
			if logLines {
				errOut := cmd.ErrOrStderr()
				opts.Logf = func(format string, args ...any) { fmt.Fprintf(errOut, format+"\n", args...) }
			}
			if plotDir != "" {
				// Refuse a bad directory before a long run, not after it.
				if plotEvery <= 0 {
					return fmt.Errorf("--plot-every must be positive, got %v", plotEvery)
				}
				if err := charts.PrepareDir(plotDir); err != nil {
					return fmt.Errorf("--plot: %w", err)
				}
				opts.Timeline = &lab.Timeline{Every: plotEvery}
			}
			bar := newProgressBar(cmd.ErrOrStderr())
			if progress || (!cmd.Flags().Changed("progress") && isTerminal(cmd.ErrOrStderr())) {
				opts.Progress = bar.update
				defer bar.finish()
			}
			save, err := simulateStore(storePath, &opts)
			if err != nil {
				return err
			}
			rep, err := lab.Simulate(cmd.Context(), opts)
			if err = save(err); err != nil {
				return err
			}
			if opts.Timeline != nil {
				bar.finish()
				files, err := charts.Write(plotDir, opts.Timeline)
				if err != nil {
					return fmt.Errorf("--plot: %w", err)
				}
				fmt.Fprintf(cmd.ErrOrStderr(), "charts: %s\n", strings.Join(files, " "))
			}
			if asJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(rep)
			}
			rep.WriteText(cmd.OutOrStdout())
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&scenarioPath, "scenario", "", "scenario YAML file (default: the embedded default scenario)")
	f.Float64Var(&hours, "hours", 8, "simulated hours (default: the scenario's)")
	f.Uint64Var(&opts.Seed, "seed", 0, "random seed (default: the scenario's)")
	f.BoolVar(&asJSON, "json", false, "print one JSON object")
	f.BoolVar(&opts.NoBlend, "no-blend", false, "disable blending (for comparison)")
	f.StringVar(&opts.Capture, "capture", "", "write the simulated CTI link (and with --voice the SIP messages and RFC 4733 packets) to this pcapng file (virtual timestamps)")
	f.BoolVar(&opts.Voice, "voice", false, "carry the calls over the voice path (gateway, CallManager, IP-IVR, phones) as SIP events in virtual time, as the scenario's voice.simulate does")
	f.StringVar(&storePath, "store", "", "write the run's half-hour intervals and outbound attempts to this SQLite file (read them with ipcclab report)")
	f.StringVar(&plotDir, "plot", "", "draw the simulated day as charts (service level, dial level, agent states, blending; PNG and SVG) in this directory")
	f.DurationVar(&plotEvery, "plot-every", lab.DefaultSampleEvery, "with --plot: how often the charts sample the centre, in virtual time")
	f.BoolVar(&progress, "progress", false, "show a progress bar on stderr (default: when stderr is a terminal)")
	f.BoolVar(&logLines, "log", false, "print the controller's and CTI Server's log lines (virtual time) on stderr")
	f.BoolVar(&compare, "compare", false, "run several pacing strategies on the same seeded traffic and compare them")
	f.IntVar(&agents, "agents", 0, "with --compare: the campaign's agent count (default: the scenario's)")
	f.StringSliceVar(&strategies, "strategies", nil, "with --compare: the strategies to run (default: "+strings.Join(lab.DefaultCompareStrategies, ",")+")")
	return cmd
}

func runCompare(cmd *cobra.Command, path string, hours float64, agents int, strategies []string, asJSON bool) error {
	var sc *scenarios.Scenario
	var err error
	if path == "" {
		sc, err = scenarios.Embedded("outbound")
	} else {
		sc, err = loadScenario(path)
	}
	if err != nil {
		return err
	}
	if agents < 0 {
		return fmt.Errorf("--agents must be positive, got %d", agents)
	}
	opts := lab.CompareOptions{Scenario: sc, Agents: agents, Seed: seedFlag(cmd, sc), Strategies: strategies}
	if cmd.Flags().Changed("hours") {
		if hours <= 0 || hours > 24*14 {
			return fmt.Errorf("--hours must be in (0, 336], got %v", hours)
		}
		opts.Duration = time.Duration(hours * float64(time.Hour))
	}
	res, err := lab.Compare(cmd.Context(), opts)
	if err != nil {
		return err
	}
	if asJSON {
		enc := json.NewEncoder(cmd.OutOrStdout())
		enc.SetIndent("", "  ")
		return enc.Encode(res.Rows)
	}
	lab.WriteCompare(cmd.OutOrStdout(), res)
	return nil
}

func newScenario() *cobra.Command {
	cmd := &cobra.Command{Use: "scenario", Short: "Inspect scenario files"}
	cmd.AddCommand(&cobra.Command{
		Use:   "default",
		Short: "Print the embedded default scenario (a starting point for your own)",
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := cmd.OutOrStdout().Write(scenarios.DefaultYAML())
			return err
		},
	}, &cobra.Command{
		Use:   "check FILE",
		Short: "Validate a scenario file and list every problem with its line",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, err := scenarios.Load(args[0]); err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), args[0]+": ok")
			return nil
		},
	})
	return cmd
}

func newVersion() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Run: func(cmd *cobra.Command, _ []string) {
			fmt.Fprintln(cmd.OutOrStdout(), "ipcclab", version)
		},
	}
}
