// Command mkfixtures writes the capture fixtures of package pcaps
// (pcaps/testdata) and, next to each, the facts its regression tests assert
// (NAME.expect.yaml):
//
//	go run ./pcaps/internal/mkfixtures -out pcaps/testdata
//
// Two kinds of fixture:
//
//   - The documented call-flow steps, recorded from the emulator and the
//     reference controller: steps 1–4 and 6 from the deterministic
//     virtual-time simulation (internal/lab.Simulate over
//     testdata/steps/steps.yaml and session.yaml), cut at the point that
//     shows each step; step 5 from the real driver with the voice path (CTI,
//     SIP and RTP on 127.0.0.1, testdata/steps/voice.yaml), which runs in
//     real time and so differs from run to run.
//   - Field issues constructed message by message with protocol/cti and
//     internal/capture (or, for what that writer never produces — a missing
//     handshake, lost, repeated or reordered segments, a reset — frames
//     built the same way with gopacket), so that every byte is intended.
//
// Everything except step 5 comes out byte for byte the same on every run
// (the capture's section header names the OS and architecture it was
// written on). -only regenerates some fixtures; -list names them.
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/gopacket/pcapgo"
)

// maxFixtureSize is the bound on one capture (≤ 1 MiB).
const maxFixtureSize = 1 << 20

// Fixture origins.
const (
	originSimulation  = "simulation"
	originConstructed = "constructed"
	originLive        = "live"
)

// fixture is one capture the generator writes.
type fixture struct {
	name   string
	origin string
	build  func(*env) (*built, error)
}

// built is a fixture's capture and its expectations.
type built struct {
	pcap   []byte
	expect *Expect
}

// env is what the builders share: where the step scenarios are and the
// simulations already run (the step cuts share one run).
type env struct {
	steps string
	logf  func(format string, args ...any)
	sims  map[string]*simRun
}

// fixtures lists every fixture in the order they are written.
var fixtures = []fixture{
	{"step1-monitor", originSimulation, buildStep1},
	{"step2-lend", originSimulation, buildStep2},
	{"step3-session", originSimulation, buildStep3},
	{"step4-route", originSimulation, buildStep4},
	{"step5-voice", originLive, buildStep5},
	{"step6-return", originSimulation, buildStep6},
	{"idle-timeout", originConstructed, buildIdleTimeout},
	{"pg-offline-mid-call", originConstructed, buildPGOffline},
	{"reserved-after-precall-abort", originConstructed, buildReservedAfterAbort},
	{"available-while-talking", originConstructed, buildAvailableWhileTalking},
	{"rtp-one-way", originConstructed, buildOneWayRTP},
	{"mid-stream-start", originConstructed, buildMidStream},
	{"packet-loss", originConstructed, buildPacketLoss},
	{"nonstandard-port-pv15", originConstructed, buildNonstandardPort},
}

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "mkfixtures:", err)
		}
		os.Exit(2)
	}
}

func run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("mkfixtures", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("out", filepath.Join("pcaps", "testdata"), "directory the captures and their .expect.yaml files are written to (must exist)")
	steps := fs.String("steps", "", "directory of the step scenarios steps.yaml, session.yaml and voice.yaml (default OUT/steps)")
	only := fs.String("only", "", "comma-separated fixture names to write (default all; -list names them)")
	list := fs.Bool("list", false, "list the fixtures and exit")
	verbose := fs.Bool("v", false, "log the emulator's and controller's lines while recording")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q (flags only; see -h)", fs.Arg(0))
	}
	if *list {
		for _, f := range fixtures {
			fmt.Fprintf(stdout, "%-30s %s\n", f.name, f.origin)
		}
		return nil
	}
	if fi, err := os.Stat(*out); err != nil {
		return fmt.Errorf("-out %s: %w", *out, err)
	} else if !fi.IsDir() {
		return fmt.Errorf("-out %s: not a directory", *out)
	}
	sel, err := selectFixtures(*only)
	if err != nil {
		return err
	}
	e := &env{steps: *steps, sims: map[string]*simRun{}}
	if e.steps == "" {
		e.steps = filepath.Join(*out, "steps")
	}
	if *verbose {
		e.logf = func(format string, args ...any) { fmt.Fprintf(stderr, format+"\n", args...) }
	}
	for _, f := range sel {
		b, err := buildChecked(e, f)
		if err != nil {
			return err
		}
		if err := writeFixture(*out, b); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%-30s %-11s %5d packets %8d bytes  %s s\n", f.name, f.origin, b.expect.Packets, len(b.pcap), b.expect.Duration)
	}
	return updateReadme(*out)
}

// selectFixtures resolves -only.
func selectFixtures(only string) ([]fixture, error) {
	if strings.TrimSpace(only) == "" {
		return fixtures, nil
	}
	byName := map[string]fixture{}
	for _, f := range fixtures {
		byName[f.name] = f
	}
	want := map[string]bool{}
	for _, n := range strings.Split(only, ",") {
		n = strings.TrimSpace(n)
		if n == "" {
			continue
		}
		if _, ok := byName[n]; !ok {
			var names []string
			for _, f := range fixtures {
				names = append(names, f.name)
			}
			return nil, fmt.Errorf("-only: unknown fixture %q (known: %s)", n, strings.Join(names, ", "))
		}
		want[n] = true
	}
	var sel []fixture
	for _, f := range fixtures {
		if want[f.name] {
			sel = append(sel, f)
		}
	}
	return sel, nil
}

// buildChecked builds one fixture and checks what the issue asks of every
// capture: at most 1 MiB, readable by gopacket's pcapng reader, and its
// expectations naming the packets that are there.
func buildChecked(e *env, f fixture) (*built, error) {
	b, err := f.build(e)
	if err != nil {
		return nil, fmt.Errorf("fixture %s: %w", f.name, err)
	}
	if len(b.pcap) > maxFixtureSize {
		return nil, fmt.Errorf("fixture %s: %d bytes, over the 1 MiB limit", f.name, len(b.pcap))
	}
	n, first, last, err := pcapFacts(b.pcap)
	if err != nil {
		return nil, fmt.Errorf("fixture %s: the capture written does not read back: %w", f.name, err)
	}
	x := b.expect
	x.Name, x.File, x.Origin = f.name, f.name+".pcapng", f.origin
	x.Packets = n
	x.Start = first.UTC().Format(time.RFC3339Nano)
	x.Duration = secs(last.Sub(first))
	if x.Anomalies == nil {
		x.Anomalies = []Anomaly{}
	}
	return b, nil
}

func writeFixture(dir string, b *built) error {
	y, err := marshalExpect(b.expect)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, b.expect.File), b.pcap, 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, b.expect.Name+".expect.yaml"), y, 0o644)
}

// pcapFacts reads a pcapng file back: its packet count and the first and
// last timestamps.
func pcapFacts(b []byte) (n int, first, last time.Time, err error) {
	r, err := pcapgo.NewNgReader(bytes.NewReader(b), pcapgo.DefaultNgReaderOptions)
	if err != nil {
		return 0, first, last, err
	}
	for {
		_, ci, err := r.ReadPacketData()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return n, first, last, fmt.Errorf("packet %d: %w", n+1, err)
		}
		n++
		if n == 1 {
			first = ci.Timestamp
		}
		last = ci.Timestamp
	}
	if n == 0 {
		return 0, first, last, errors.New("no packets")
	}
	return n, first, last, nil
}
