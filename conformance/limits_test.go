package conformance

import (
	"fmt"
	"regexp"
	"slices"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/ipcclab/ipcclab/protocol/cti"
	"github.com/ipcclab/ipcclab/scenarios"
)

// Integration limits: inbound agents are defined in ICM, outbound agents in
// the controller, blended agents in both. A second in-process lab runs a
// scenario in which one blended group exists in the controller only and one
// outbound group exists in ICM as well.
var _ = Describe("IPCC integration limits", Ordered, ContinueOnFailure, Label("integration-limits"), func() {
	var (
		f                              *fixture
		ghosts, leaky, correct, others []string
	)

	BeforeAll(func() {
		if limitsFx == nil {
			Skip("the target cannot start a second, deliberately mismatched lab (in-process target only)")
		}
		f = limitsFx
		ghosts = f.ids(func(a agentDef) bool { return a.Role == scenarios.RoleBlended && !a.InICM })
		leaky = f.ids(func(a agentDef) bool { return a.Role == scenarios.RoleOutbound && a.InICM })
		correct = f.blended()
		others = f.ids(func(a agentDef) bool {
			return !slices.Contains(ghosts, a.ID) && !slices.Contains(leaky, a.ID)
		})
		Expect(ghosts).NotTo(BeEmpty(), "scenario %s has no blended group missing from ICM", f.sc.Name)
		Expect(leaky).NotTo(BeEmpty(), "scenario %s has no outbound group defined in ICM", f.sc.Name)
		Expect(correct).NotTo(BeEmpty(), "scenario %s has no correctly defined blended group", f.sc.Name)
	})

	It("[L1] the controller reports every agent defined on one side of the integration only, naming the agent", func() {
		Eventually(func(g Gomega) {
			ms := f.status().Report.Mismatches
			for _, id := range append(slices.Clone(ghosts), leaky...) {
				g.Expect(ms).To(ContainElement(MatchRegexp(`\b`+regexp.QuoteMeta(id)+`\b`)), "no mismatch names agent %s", id)
			}
		}).WithTimeout(15 * time.Second).WithPolling(200 * time.Millisecond).Should(Succeed())
		for _, m := range f.status().Report.Mismatches {
			for _, id := range others {
				Expect(m).NotTo(MatchRegexp(`\b`+regexp.QuoteMeta(id)+`\b`), "mismatch names correctly defined agent %s", id)
			}
		}
	})

	It("[L2] the controller keeps working for the rest: it stays connected and lends the correctly defined blended agents during a surge", func() {
		var got []lend
		Eventually(func() []lend {
			got = lends(f.wide.Events(), correct, f.reason(), f.initial)
			return got
		}).WithTimeout(f.untilAfterSurge(10*time.Second)).WithPolling(200*time.Millisecond).ShouldNot(BeEmpty(),
			"no correctly defined blended agent %v was made AVAILABLE", correct)
		Eventually(func() []string {
			var out []string
			for _, s := range f.statusSamples() {
				for _, id := range s.S.Report.Lent {
					if slices.Contains(correct, id) {
						out = append(out, fmt.Sprintf("%s at %.1fs", id, s.At.Sub(f.t.Started()).Seconds()))
					}
				}
			}
			return out
		}).WithTimeout(5*time.Second).WithPolling(100*time.Millisecond).ShouldNot(BeEmpty(), "Status never reported a correct blended agent lent")
		Expect(f.status().Connected).To(BeTrue(), "controller connected")
		for _, s := range f.statusSamples() {
			for _, id := range s.S.Report.Lent {
				Expect(correct).To(ContainElement(id), "the controller reported %s lent at %.1fs", id, s.At.Sub(f.t.Started()).Seconds())
			}
		}
	})

	It("[L3] agents defined on the wrong side are never made AVAILABLE to ICM by the controller", func() {
		Eventually(func() []lend { return lends(f.wide.Events(), correct, f.reason(), f.initial) }).
			WithTimeout(f.untilAfterSurge(10*time.Second)).WithPolling(200*time.Millisecond).ShouldNot(BeEmpty(), "blending never happened")
		for _, ev := range f.wide.Events() {
			e, ok := ev.Msg.(*cti.AgentStateEvent)
			if !ok {
				continue
			}
			Expect(ghosts).NotTo(ContainElement(e.AgentID), "ICM reported a state for agent %s, which it does not define", e.AgentID)
			if slices.Contains(leaky, e.AgentID) {
				Expect(e.AgentState).NotTo(Equal(cti.AgentStateAvailable), "outbound-only agent %s (also in ICM) made AVAILABLE", e.AgentID)
			}
		}
	})
})
