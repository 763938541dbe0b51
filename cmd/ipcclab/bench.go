package main

import (
	"fmt"
	"os"
	"runtime/pprof"
	"time"

	"github.com/spf13/cobra"

	"github.com/ipcclab/ipcclab/internal/bench"
)

func newBench() *cobra.Command {
	var cpuprofile string
	root := &cobra.Command{
		Use:   "bench",
		Short: "Measure the voice path against SIPp, and capture decoding against tshark, on this machine (BENCHMARKS.md)",
		PersistentPreRunE: func(*cobra.Command, []string) error {
			if cpuprofile == "" {
				return nil
			}
			f, err := os.Create(cpuprofile)
			if err != nil {
				return err
			}
			return pprof.StartCPUProfile(f)
		},
		PersistentPostRun: func(*cobra.Command, []string) {
			if cpuprofile != "" {
				pprof.StopCPUProfile()
			}
		},
	}
	root.PersistentFlags().StringVar(&cpuprofile, "cpuprofile", "", "write a CPU profile of the run (go tool pprof)")
	var so bench.SignallingOptions
	sip := &cobra.Command{
		Use:   "sip",
		Short: "SIPp UAC → gateway → CallManager → agent phones → BYE, with CTI events; then SIPp UAC → SIPp UAS at the same rate",
		RunE: func(cmd *cobra.Command, _ []string) error {
			so.Logf = func(f string, a ...any) { fmt.Fprintf(cmd.ErrOrStderr(), f+"\n", a...) }
			res, err := bench.Signalling(cmd.Context(), so)
			if res != nil {
				fmt.Fprint(cmd.OutOrStdout(), res.Report())
			}
			return err
		},
	}
	sip.Flags().IntVar(&so.CPS, "cps", 1000, "calls per second")
	sip.Flags().DurationVar(&so.Duration, "duration", 60*time.Second, "how long to place calls")
	sip.Flags().DurationVar(&so.Hold, "hold", time.Second, "how long each call stays up after the answer")
	sip.Flags().IntVar(&so.Agents, "agents", 0, "agents with phones (default: enough for the rate and hold)")
	var mo bench.MediaOptions
	var withSIPp bool
	media := &cobra.Command{
		Use:   "media",
		Short: "N concurrent two-way G.711 calls generated and received by the emulator; loss and lateness, tshark as the oracle",
		RunE: func(cmd *cobra.Command, _ []string) error {
			mo.Logf = func(f string, a ...any) { fmt.Fprintf(cmd.ErrOrStderr(), f+"\n", a...) }
			res, err := bench.Media(cmd.Context(), mo)
			if res != nil {
				fmt.Fprint(cmd.OutOrStdout(), res.Report())
			}
			if err != nil || !withSIPp {
				return err
			}
			ref, err := bench.SIPpMedia(cmd.Context(), bench.SIPpMediaOptions{Calls: mo.Calls, Duration: mo.Duration, Logf: mo.Logf})
			if ref != nil {
				fmt.Fprint(cmd.OutOrStdout(), ref.Report())
			}
			return err
		},
	}
	media.Flags().IntVar(&mo.Calls, "calls", 1000, "concurrent calls")
	media.Flags().DurationVar(&mo.Duration, "duration", 60*time.Second, "measurement window")
	media.Flags().StringVar(&mo.Capture, "capture", "", "pcapng file to record the run to, then read with tshark -z rtp,streams")
	media.Flags().BoolVar(&withSIPp, "sipp", false, "then run the reference: SIPp uac_pcap against SIPp uas -rtp_echo at the same concurrency, captured on lo by dumpcap (root)")
	var amdCalls int
	var amdSeed uint64
	var amdAlgo string
	amd := &cobra.Command{
		Use:   "amd",
		Short: "Answering-machine and tone detection (Cisco CPA defaults) on the PSTN model's far ends: accuracy and decision time per class",
		RunE: func(cmd *cobra.Command, _ []string) error {
			analyser := bench.CiscoCPA
			switch amdAlgo {
			case "cisco":
			case "asterisk":
				analyser = bench.AsteriskAMD
			default:
				return fmt.Errorf("--algorithm %q: want cisco or asterisk", amdAlgo)
			}
			rows, err := bench.AMD(amdCalls, amdSeed, analyser)
			if err != nil {
				return err
			}
			fmt.Fprint(cmd.OutOrStdout(), bench.AMDReport(rows))
			return nil
		},
	}
	amd.Flags().IntVar(&amdCalls, "calls", 500, "calls per class")
	amd.Flags().Uint64Var(&amdSeed, "seed", 1, "seed of the far ends")
	amd.Flags().StringVar(&amdAlgo, "algorithm", "cisco", "cisco (gateway CPA parameters) or asterisk (app_amd's amd.conf defaults)")
	var po bench.PcapOptions
	pcapCmd := &cobra.Command{
		Use:   "pcap",
		Short: "Decode throughput of pcap decode against tshark (io,stat and the generated GED-188 dissector) on the same captures",
		RunE: func(cmd *cobra.Command, _ []string) error {
			po.Logf = func(f string, a ...any) { fmt.Fprintf(cmd.ErrOrStderr(), f+"\n", a...) }
			res, err := bench.Pcap(cmd.Context(), po)
			if res != nil {
				fmt.Fprint(cmd.OutOrStdout(), res.Report())
			}
			return err
		},
	}
	pcapCmd.Flags().StringVar(&po.Dir, "dir", "", "keep the generated captures here (default: a temporary directory, removed)")
	pcapCmd.Flags().IntVar(&po.Calls, "calls", 200, "concurrent two-way G.711 calls in the SIP+RTP capture")
	pcapCmd.Flags().DurationVar(&po.Talk, "talk", 30*time.Second, "talk time of each call (50 packets/s each way)")
	pcapCmd.Flags().Float64Var(&po.SimHours, "sim-hours", 8, "hours of the default scenario simulated for the CTI capture")
	pcapCmd.Flags().IntVar(&po.Runs, "runs", 3, "runs of each decoder on each capture (best reported)")
	pcapCmd.Flags().BoolVar(&po.NoTshark, "no-tshark", false, "measure pcap decode only")
	root.AddCommand(sip, media, amd, pcapCmd, newBenchBlend())
	return root
}
