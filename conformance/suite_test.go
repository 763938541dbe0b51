// Package conformance is the Ginkgo conformance suite of IPCC Lab: it proves
// the documented integration call flow (steps 1-6) and the integration
// limits against a target — the emulated IPCC with our controller in-process,
// or our controller against a remote CTI Server (--cti-addr).
//
// Specs speak only the CTI wire (protocol/cti, through package wire) and
// observe the controller through its public status API. Every spec is listed
// in testdata/conformance.yaml with the step it belongs to and the MUST
// statement it proves; registry_test.go keeps the two in step.
package conformance

import (
	"context"
	"flag"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	"github.com/onsi/ginkgo/v2/types"
	. "github.com/onsi/gomega"

	"github.com/ipcclab/ipcclab/conformance/target"
	"github.com/ipcclab/ipcclab/scenarios"
)

var (
	flagCTIAddr       = flag.String("cti-addr", os.Getenv("IPCCLAB_CTI_ADDR"), "run against the CTI Server at host:port (env IPCCLAB_CTI_ADDR) instead of the in-process emulator; only our controller is started")
	flagScenario      = flag.String("scenario", "testdata/scenario.yaml", "scenario describing the centre under test")
	flagMismatch      = flag.String("mismatch-scenario", "testdata/scenario-mismatch.yaml", "deliberately mis-integrated scenario for the integration-limits specs (in-process only)")
	flagSeed          = flag.Uint64("seed", 0, "random seed of the in-process lab (0: the scenario's)")
	flagSIPAddr       = flag.String("sip-addr", os.Getenv("IPCCLAB_SIP_ADDR"), "with --cti-addr: the remote voice gateway's PSTN side, host:port (env IPCCLAB_SIP_ADDR); enables the step-5 voice specs")
	flagRegistrar     = flag.String("registrar-addr", os.Getenv("IPCCLAB_REGISTRAR_ADDR"), "with --cti-addr: the remote CallManager where the spec's softphone registers an agent's extension (env IPCCLAB_REGISTRAR_ADDR)")
	flagVoiceScenario = flag.String("voice-scenario", "testdata/scenario-voice.yaml", "scenario of the in-process lab of the step-5 voice specs")
	flagRemoteTraffic = flag.Bool("remote-traffic", os.Getenv("IPCCLAB_REMOTE_TRAFFIC") != "", "with --cti-addr: the remote centre runs the scenario's arrival profile (low, surge, low) starting with the suite (env IPCCLAB_REMOTE_TRAFFIC)")
)

// The running fixtures: the main target, and the mismatched lab of the
// integration-limits specs (nil when the target cannot start one or the
// label filter leaves those specs out).
var (
	mainFx   *fixture
	limitsFx *fixture
)

// protoErr is why the protocol target did not start (its specs then fail
// in BeforeSuite).
var protoErr error

func TestConformance(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "IPCC Lab conformance")
}

func loadScenario(path string) *scenarios.Scenario {
	sc, err := scenarios.Load(path)
	Expect(err).NotTo(HaveOccurred(), "scenario %s", path)
	return sc
}

func seedFor(sc *scenarios.Scenario) uint64 {
	if *flagSeed != 0 {
		return *flagSeed
	}
	return sc.Seed
}

// Both fixtures start together so that their scenarios' timelines overlap:
// the suite's wall time is the longer of the two, not their sum.
var _ = BeforeSuite(func() {
	sc := loadScenario(*flagScenario)
	wantLimits := Label("integration-limits").MatchesLabelFilter(GinkgoLabelFilter()) && *flagCTIAddr == ""
	var mis *scenarios.Scenario
	if wantLimits {
		mis = loadScenario(*flagMismatch)
	}

	var (
		wg              sync.WaitGroup
		mainErr, limErr error
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer GinkgoRecover()
		var t target.Target
		var err error
		if *flagCTIAddr != "" {
			t, err = target.StartRemote(context.Background(), target.RemoteOptions{
				Options: target.Options{Scenario: sc}, CTIAddr: *flagCTIAddr, ScenarioTraffic: *flagRemoteTraffic,
				Voice: target.VoiceAddrs{Gateway: *flagSIPAddr, Registrar: *flagRegistrar}})
		} else {
			t, err = target.StartInProcess(context.Background(), target.Options{Scenario: sc, Seed: seedFor(sc)})
		}
		if err != nil {
			mainErr = err
			return
		}
		mainFx, mainErr = startFixture("main", t)
		if mainErr != nil {
			_ = t.Stop()
		}
	}()
	if wantLimits {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer GinkgoRecover()
			t, err := target.StartInProcess(context.Background(), target.Options{Scenario: mis, Seed: seedFor(mis)})
			if err != nil {
				limErr = err
				return
			}
			limitsFx, limErr = startFixture("mismatch", t)
			if limErr != nil {
				_ = t.Stop()
			}
		}()
	}
	// The protocol specs' quiet lab starts alongside (in-process), so that
	// its idle-timeout probes run while the call flow unfolds.
	wantProto := wantProtocol()
	if wantProto && *flagCTIAddr == "" {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer GinkgoRecover()
			protoFx, protoErr = startProtocol(nil)
		}()
	}
	// The dialer labs (in-process only, like the mismatched lab: a remote
	// centre would need the dialer scenarios' ports and customers) start
	// alongside too, so that their minute of dialing overlaps the rest.
	if wantDialer() && *flagCTIAddr == "" {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer GinkgoRecover()
			dialerErr = startDialerLabs()
		}()
	}
	// And the preview dialer's lab (dialer_preview_test.go); its specs
	// fail with previewErr if it does not start.
	if wantPreview() && *flagCTIAddr == "" {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer GinkgoRecover()
			previewFx, previewErr = startPreviewLab()
		}()
	}
	wg.Wait()
	Expect(mainErr).NotTo(HaveOccurred(), "starting the target")
	if wantProto && *flagCTIAddr != "" {
		protoFx, protoErr = startProtocol(mainFx.t)
	}
	Expect(protoErr).NotTo(HaveOccurred(), "starting the protocol target")
	Expect(limErr).NotTo(HaveOccurred(), "starting the mismatched in-process lab")
	Expect(dialerErr).NotTo(HaveOccurred(), "starting the dialer labs")
	GinkgoWriter.Printf("target %s: CTI Server %s, scenario %s\n", mainFx.t.Name(), mainFx.t.CTIAddr(), mainFx.sc.Name)
	if limitsFx != nil {
		GinkgoWriter.Printf("mismatch lab: CTI Server %s, scenario %s\n", limitsFx.t.CTIAddr(), limitsFx.sc.Name)
	}
	if protoFx != nil {
		GinkgoWriter.Printf("protocol target: CTI Server %s, scenario %s\n", protoFx.t.CTIAddr(), protoFx.sc.Name)
	}
	for _, f := range []*fixture{progFx, predFx, ratioFx} {
		if f != nil {
			GinkgoWriter.Printf("dialer lab: CTI Server %s, scenario %s\n", f.t.CTIAddr(), f.sc.Name)
		}
	}
})

var _ = AfterSuite(func() {
	if protoFx != nil {
		Expect(protoFx.close()).To(Succeed())
	}
	for _, f := range []*fixture{mainFx, limitsFx, progFx, predFx, ratioFx, previewFx} {
		if f != nil {
			Expect(f.close()).To(Succeed())
		}
	}
})

// Every failing spec gets the recorded CTI sessions, the controller's
// recent status and the target's log attached to its report.
var _ = AfterEach(func() {
	f := mainFx
	if slices.Contains(CurrentSpecReport().Labels(), "protocol") {
		// Protocol specs attach their own sessions' transcripts, and the
		// protocol lab's log.
		if protoFx != nil && CurrentSpecReport().Failed() {
			AddReportEntry("target log (protocol)", strings.Join(lastN(protoFx.t.Log(), 300), "\n"), ReportEntryVisibilityFailureOrVerbose)
		}
		return
	}
	if slices.Contains(CurrentSpecReport().Labels(), "dialer") {
		dialerTranscripts(CurrentSpecReport().Labels())
		return
	}
	if slices.Contains(CurrentSpecReport().Labels(), "integration-limits") {
		f = limitsFx
	}
	if f != nil {
		f.attachTranscripts(nil)
	}
})

// The registry is checked against the specs that ran too: each spec's ID is
// registered and the spec carries the label of the step the registry maps it
// to. (registry_test.go checks the other direction from the sources.)
var _ = ReportAfterSuite("conformance registry", func(r Report) {
	reg, err := loadRegistry(registryPath)
	Expect(err).NotTo(HaveOccurred())
	var problems []string
	for _, s := range r.SpecReports {
		if s.LeafNodeType != types.NodeTypeIt {
			continue
		}
		id, ok := specID(s.LeafNodeText)
		if !ok {
			problems = append(problems, fmt.Sprintf("spec %q has no [ID] at the start of its text", s.FullText()))
			continue
		}
		e, ok := reg.byID()[id]
		if !ok {
			problems = append(problems, fmt.Sprintf("spec %s (%q) is not in %s", id, s.FullText(), registryPath))
			continue
		}
		hasLabel := false
		for _, l := range s.Labels() {
			if l == e.Step {
				hasLabel = true
			}
		}
		if !hasLabel {
			problems = append(problems, fmt.Sprintf("spec %s is registered under %s but carries labels %v", id, e.Step, s.Labels()))
		}
	}
	Expect(problems).To(BeEmpty())
})

// needTraffic skips specs that need the scenario's surge on targets that do
// not generate it.
func needTraffic(f *fixture) {
	if f == nil {
		Skip("no target")
	}
	if !f.t.Capabilities().ScenarioTraffic {
		Skip("target " + f.t.Name() + " does not run the scenario's arrival profile (use the in-process target, or --remote-traffic when the remote centre does)")
	}
}
