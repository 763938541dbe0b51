package conformance

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/ipcclab/ipcclab/conformance/wire"
	"github.com/ipcclab/ipcclab/protocol/cti"
	"github.com/ipcclab/ipcclab/scenarios"
)

// The documented integration call flow, one labelled group per step. The
// flow is one timeline (low traffic, a surge, low traffic again), so the
// groups run in order in one Ordered container; they are declared in the
// order their evidence appears on that timeline, which is why step 3's
// mechanism check comes first and step 1's "met again" check comes just
// before step 6. Every check reads recordings that started with the target,
// so a spec that runs late still sees what happened early.
var _ = Describe("IPCC integration call flow", Ordered, ContinueOnFailure, Label("call-flow"), func() {
	var f *fixture

	BeforeAll(func() {
		f = mainFx
		Expect(f).NotTo(BeNil(), "the main target did not start")
	})

	Context("step 3: the controller acts over its CTI connection through the CTI Server", Label("step-3"), func() {
		It("[C3.1] a CTI client's SET_AGENT_STATE_REQ is confirmed and the agent's new state is published to every ALL_EVENTS session", func(ctx SpecContext) {
			ctl := dialControl(ctx, f, "control")
			const reason = 4242
			var agent, ext string
			// An inbound-only agent that is idle, so that nothing but our
			// request changes its state. During the surge none is (a freed
			// agent gets the next queued call at once), so a spec that the
			// random order runs then waits for the queue to drain.
			Eventually(func() string {
				agent, ext = idleAgent(f, f.inboundOnly())
				return agent
			}).WithTimeout(max(20*time.Second, f.untilAfterSurge(15*time.Second))).WithPolling(100*time.Millisecond).ShouldNot(BeEmpty(), "no inbound-only agent was AVAILABLE")

			for _, step := range []struct {
				state  cti.AgentState
				reason uint16
			}{{cti.AgentStateNotReady, reason}, {cti.AgentStateAvailable, 0}} {
				marks := map[*wire.Client]int{ctl: len(ctl.Events()), f.wide: len(f.wide.Events()), f.narrow: len(f.narrow.Events())}
				conf, err := ctl.Request(ctx, &cti.SetAgentStateReq{PeripheralID: f.sc.ICM.PeripheralID, AgentState: step.state,
					EventReasonCode: step.reason, AgentID: agent, AgentInstrument: ext})
				Expect(err).NotTo(HaveOccurred(), "SET_AGENT_STATE_REQ %v for agent %s", step.state, agent)
				Expect(conf).To(BeAssignableToTypeOf(&cti.SetAgentStateConf{}))
				for c, mark := range marks {
					Eventually(func() []string {
						return stateChanges(c.Events()[mark:], agent)
					}).WithTimeout(20*time.Second).WithPolling(50*time.Millisecond).Should(ContainElement(stateString(step.state, step.reason)),
						"AGENT_STATE_EVENT for agent %s on session %s", agent, c.Name)
				}
			}
		})
	})

	Context("step 1: the controller monitors the calls routed to the IPCC queues", Label("step-1"), func() {
		It("[C1.1] skill-group statistics show calls queued at the blended skill group during the surge, with the longest wait growing", func() {
			needTraffic(f)
			sg := f.blendGroups()[0]
			trigger := uint32(max(f.sc.Controller.Blend.QueueTrigger, 1))
			Eventually(func(g Gomega) {
				var maxQ uint32
				grew := false
				prev := uint32(0)
				for _, s := range f.statSamples() {
					c := s.Conf
					if c.SkillGroupNumber != sg || c.RouterCallsQNow == 0xFFFFFFFF || c.LongestRouterCallQNow == 0xFFFFFFFF {
						continue
					}
					maxQ = max(maxQ, c.RouterCallsQNow)
					if c.RouterCallsQNow > 0 && prev > 0 && c.LongestRouterCallQNow > prev {
						grew = true
					}
					prev = c.LongestRouterCallQNow
				}
				if maxQ >= trigger && grew {
					evidence("skill group %d: max RouterCallsQNow %d", sg, maxQ)
				}
				g.Expect(maxQ).To(BeNumerically(">=", trigger), "RouterCallsQNow of skill group %d never reached %d", sg, trigger)
				g.Expect(grew).To(BeTrue(), "LongestRouterCallQNow of skill group %d never grew while calls were queued", sg)
			}).WithTimeout(f.untilAfterSurge(5 * time.Second)).WithPolling(250 * time.Millisecond).Should(Succeed())
		})

		It("[C1.2] the controller judges service levels not met during the surge, from a service-level estimate below target or a queue threshold crossed, and met before it", func() {
			needTraffic(f)
			b := f.sc.Controller.Blend
			target := b.ServiceLevelTarget
			from, _ := f.surge()
			Eventually(func() []string {
				var out []string
				for _, s := range f.statusSamples() {
					if !s.S.Behind {
						continue
					}
					// Either threshold justifies "behind": which one fires
					// first depends on how fast lending catches up, a
					// matter of real-time scheduling.
					q, longest := queueFigures(s.S.LastDecision)
					if s.S.ServiceLevel >= 0 && s.S.ServiceLevel < target ||
						b.QueueTrigger > 0 && q >= b.QueueTrigger || b.LongestWaitTrigger > 0 && longest >= b.LongestWaitTrigger.D() {
						out = append(out, fmt.Sprintf("behind at %.1fs with service level %.3f, %d queued, longest %v",
							s.At.Sub(f.t.Started()).Seconds(), s.S.ServiceLevel, q, longest))
					}
				}
				return out
			}).WithTimeout(f.untilAfterSurge(10*time.Second)).WithPolling(200*time.Millisecond).ShouldNot(BeEmpty(),
				"Status never reported Behind with a service-level estimate below %.2f or a queue threshold crossed", target)
			evidence("first Behind at %.1fs; surge from %.1fs", firstBehind(f).Sub(f.t.Started()).Seconds(), from.Sub(f.t.Started()).Seconds())
			for _, s := range f.statusSamples() {
				if s.At.Before(from) && s.S.Connected {
					Expect(s.S.Behind).To(BeFalse(), "the controller judged inbound behind at %.1fs, before the surge (low traffic): %s",
						s.At.Sub(f.t.Started()).Seconds(), s.S.LastDecision)
				}
			}
		})
	})

	Context("step 2: when service levels are not met, outbound slows and blended agents are made available to ICM", Label("step-2"), func() {
		It("[C2.1] while inbound is behind the controller slows outbound pacing", func() {
			needTraffic(f)
			Eventually(func() []float64 {
				var out []float64
				for _, s := range f.statusSamples() {
					if s.S.Behind && s.S.PacingFactor < 1 && s.S.PacingFactor >= 0 {
						out = append(out, s.S.PacingFactor)
					}
				}
				return out
			}).WithTimeout(f.untilAfterSurge(10*time.Second)).WithPolling(200*time.Millisecond).ShouldNot(BeEmpty(),
				"Status never reported Behind with PacingFactor below 1")
		})

		It("[C2.2] while inbound is behind a blended agent NOT_READY with the outbound reason code is made AVAILABLE, on PV24 and PV15 sessions alike", func() {
			needTraffic(f)
			var got []lend
			Eventually(func() []lend {
				got = lends(f.wide.Events(), f.blended(), f.reason(), f.initial)
				return got
			}).WithTimeout(f.untilAfterSurge(10*time.Second)).WithPolling(200*time.Millisecond).ShouldNot(BeEmpty(),
				"no blended agent %v went from NOT_READY (reason %d) to AVAILABLE", f.blended(), f.reason())
			GinkgoWriter.Printf("lends on the wire: %+v\n", got)
			behindAt := firstBehind(f)
			Expect(behindAt.IsZero()).To(BeFalse(), "the controller never reported Behind")
			first := got[0]
			Expect(first.At).To(BeTemporally(">=", behindAt.Add(-time.Second)),
				"blended agent %s was made AVAILABLE at %.1fs, before the controller judged inbound behind (%.1fs)",
				first.Agent, first.At.Sub(f.t.Started()).Seconds(), behindAt.Sub(f.t.Started()).Seconds())
			// Blended agents are NOT_READY only with the outbound reason.
			for id, evs := range agentEvents(f.wide.Events()) {
				if !slices.Contains(f.blended(), id) {
					continue
				}
				for _, ae := range evs {
					if ae.E.AgentState == cti.AgentStateNotReady {
						Expect(ae.E.EventReasonCode).To(Equal(f.reason()), "blended agent %s NOT_READY with reason %d", id, ae.E.EventReasonCode)
					}
				}
			}
			// The same change reaches the PV15 session, with the same agent
			// identity, state and reason code.
			Eventually(func() []string {
				return stateChanges(f.narrow.Events(), first.Agent)
			}).WithTimeout(5*time.Second).WithPolling(100*time.Millisecond).Should(ContainElement(stateString(cti.AgentStateAvailable, 0)),
				"the PV15 session did not see agent %s go AVAILABLE", first.Agent)
		})

		It("[C2.3] outbound-only agents are never made AVAILABLE to ICM", func() {
			needTraffic(f)
			Eventually(func() []lend { return lends(f.wide.Events(), f.blended(), f.reason(), f.initial) }).
				WithTimeout(f.untilAfterSurge(10*time.Second)).WithPolling(200*time.Millisecond).ShouldNot(BeEmpty(), "blending never happened")
			out := f.outboundOnly()
			for _, c := range []*wire.Client{f.wide, f.narrow} {
				for _, ev := range c.Events() {
					if e, ok := ev.Msg.(*cti.AgentStateEvent); ok && slices.Contains(out, e.AgentID) {
						Expect(e.AgentState).NotTo(Equal(cti.AgentStateAvailable), "outbound-only agent %s AVAILABLE on %s", e.AgentID, c.Name)
					}
				}
			}
			for _, s := range f.statusSamples() {
				for _, id := range s.S.Report.Lent {
					Expect(out).NotTo(ContainElement(id), "the controller reported outbound-only agent %s lent", id)
				}
			}
		})
	})

	Context("step 3: the controller acts over its CTI connection through the CTI Server", Label("step-3"), func() {
		It("[C3.2] the agents the controller reports lent are the blended agents the CTI Server shows working inbound", func() {
			needTraffic(f)
			inbound := []cti.AgentState{cti.AgentStateAvailable, cti.AgentStateReserved, cti.AgentStateTalking,
				cti.AgentStateHold, cti.AgentStateWorkReady, cti.AgentStateWorkNotReady, cti.AgentStateBusyOther}
			Eventually(func(g Gomega) {
				st := f.status()
				evs := f.wide.Events()
				g.Expect(st.Report.Lent).NotTo(BeEmpty(), "nothing lent")
				for _, id := range st.Report.Lent {
					g.Expect(f.blended()).To(ContainElement(id), "lent agent %s is not a blended agent", id)
					last := lastState(evs, id)
					g.Expect(last).NotTo(BeNil(), "no AGENT_STATE_EVENT for lent agent %s", id)
					g.Expect(inbound).To(ContainElement(last.AgentState), "lent agent %s is %v on the wire", id, last.AgentState)
				}
				for _, id := range f.blended() {
					if last := lastState(evs, id); last != nil && last.AgentState == cti.AgentStateAvailable {
						g.Expect(st.Report.Lent).To(ContainElement(id), "blended agent %s is AVAILABLE on the wire but not reported lent", id)
					}
				}
			}).WithTimeout(f.untilAfterSurge(10 * time.Second)).WithPolling(100 * time.Millisecond).Should(Succeed())
		})
	})

	Context("step 4: ICM tells the controller over CTI which agent takes the call", Label("step-4"), func() {
		It("[C4.1] AGENT_PRE_CALL_EVENT names the lent agent, then BEGIN_CALL and CALL_DELIVERED follow at that agent's device with the same RouterCallKey", func() {
			needTraffic(f)
			var traces []*callTrace
			Eventually(func() []*callTrace {
				traces = deliveredTraces(f, f.wide)
				return traces
			}).WithTimeout(f.untilAfterSurge(15*time.Second)).WithPolling(200*time.Millisecond).ShouldNot(BeEmpty(),
				"no call pre-announced for a lent blended agent was delivered at its device")
			sg := f.blendGroups()
			for _, t := range traces {
				GinkgoWriter.Println(t)
				Expect(t.Pre.AgentID).To(Equal(t.Agent))
				Expect(sg).To(ContainElement(t.Pre.SkillGroupNumber), "AGENT_PRE_CALL_EVENT skill group for %s", t)
				Expect(t.BeginIdx).To(BeNumerically(">", t.PreIdx), "%s", t)
				Expect(t.DelivIdx).To(BeNumerically(">", t.BeginIdx), "%s", t)
				Expect(t.Devices).To(ContainElement(t.Delivered.AlertingDeviceID), "CALL_DELIVERED alerting device for %s", t)
				Expect(t.Delivered.SkillGroupNumber).To(Equal(t.Pre.SkillGroupNumber), "CALL_DELIVERED skill group for %s", t)
			}
			// Every pre-announced call older than a few seconds reached the
			// agent, unless ICM aborted it.
			for _, t := range traceCalls(f.wide.Events(), lentAgents(lends(f.wide.Events(), f.blended(), f.reason(), f.initial))) {
				if t.Aborted || time.Since(f.wide.Events()[t.PreIdx].At) < 5*time.Second {
					continue
				}
				Expect(t.delivered()).To(BeTrue(), "AGENT_PRE_CALL_EVENT without BEGIN_CALL/CALL_DELIVERED at the agent's device: %s", t)
			}
		})

		It("[C4.2] the chosen agent goes RESERVED after AGENT_PRE_CALL_EVENT and before TALKING", func() {
			needTraffic(f)
			var talked []*callTrace
			Eventually(func() []*callTrace {
				talked = nil
				for _, t := range deliveredTraces(f, f.wide) {
					if t.talked() {
						talked = append(talked, t)
					}
				}
				return talked
			}).WithTimeout(f.untilAfterSurge(15*time.Second)).WithPolling(200*time.Millisecond).ShouldNot(BeEmpty(),
				"no lent blended agent talked on a delivered call")
			for _, t := range talked {
				Expect(t.ReservedAt).To(BeNumerically(">", t.PreIdx), "no RESERVED after AGENT_PRE_CALL_EVENT: %s", t)
				Expect(t.TalkingAt).To(BeNumerically(">", t.ReservedAt), "TALKING not after RESERVED: %s", t)
				Expect(t.Broken).To(BeFalse(), "the agent left RESERVED for another state before TALKING: %s", t)
			}
		})

		It("[C4.3] at PV15 AGENT_PRE_CALL_EVENT names the agent by its instrument, without the PV20 AgentID field", func() {
			needTraffic(f)
			Eventually(func(g Gomega) {
				wide := deliveredTraces(f, f.wide)
				g.Expect(wide).NotTo(BeEmpty())
				narrow := traceCalls(f.narrow.Events(), lentAgents(lends(f.wide.Events(), f.blended(), f.reason(), f.initial)))
				matched := 0
				for _, w := range wide {
					for _, n := range narrow {
						if n.Key != w.Key {
							continue
						}
						g.Expect(n.Pre.AgentID).To(BeEmpty(), "PV15 AGENT_PRE_CALL_EVENT carries AgentID")
						g.Expect(n.Pre.AgentInstrument).To(Equal(w.Pre.AgentInstrument), "PV15 and PV24 instrument for key %s", w.Key)
						g.Expect(n.Agent).To(Equal(w.Agent))
						g.Expect(n.delivered()).To(BeTrue(), "PV15 session: call %s not delivered", n)
						matched++
					}
				}
				g.Expect(matched).To(BeNumerically(">", 0), "no PV24 pre-call of a lent agent was seen on the PV15 session")
			}).WithTimeout(f.untilAfterSurge(15 * time.Second)).WithPolling(200 * time.Millisecond).Should(Succeed())
		})
	})

	Context("step 5: IPCC delivers the call to the agent's device with its call data", Label("step-5"), func() {
		It("[C5.1] CALL_DELIVERED at the agent's device carries the caller's ANI, the dialed number, DNIS and the call data ICM announced", func() {
			needTraffic(f)
			dns := dialedNumbers(f.sc)
			Eventually(func() []*callTrace { return deliveredTraces(f, f.wide) }).
				WithTimeout(f.untilAfterSurge(15*time.Second)).WithPolling(200*time.Millisecond).ShouldNot(BeEmpty(),
				"no call delivered to a lent blended agent")
			// Every routed call delivered to any ICM agent, not only the lent ones.
			all := traceCalls(f.wide.Events(), f.ids(func(a agentDef) bool { return a.InICM }))
			n := 0
			for _, t := range all {
				if !t.delivered() {
					continue
				}
				n++
				d := t.Delivered
				Expect(d.ANI).NotTo(BeEmpty(), "CALL_DELIVERED without ANI: %s", t)
				Expect(d.CallingDeviceID).To(Equal(d.ANI), "CALL_DELIVERED calling device is not the caller: %s", t)
				Expect(dns).To(ContainElement(d.DialedNumber), "CALL_DELIVERED DialedNumber: %s", t)
				Expect(d.DNIS).NotTo(BeEmpty(), "CALL_DELIVERED without DNIS: %s", t)
				Expect(deliveredCallData(d)).To(Equal(preCallData(t.Pre)), "CALL_DELIVERED call data differs from AGENT_PRE_CALL_EVENT: %s", t)
				Expect(beginCallData(t.Begin)).To(Equal(preCallData(t.Pre)), "BEGIN_CALL call data differs from AGENT_PRE_CALL_EVENT: %s", t)
				Expect(t.Begin.DNIS).To(Equal(d.DNIS), "BEGIN_CALL and CALL_DELIVERED DNIS: %s", t)
				// Step 5: the data for the screen pop travels with the call —
				// what the caller keyed in at the IVR and the call variables
				// the routing script set.
				Expect(screenPop(d)).NotTo(BeEmpty(), "CALL_DELIVERED carries no call data for a screen pop: %s", t)
			}
			Expect(n).To(BeNumerically(">", 0))
		})

		It("[C5.2] the call is established at the agent's device and the agent goes TALKING; the call then clears and ends", func() {
			needTraffic(f)
			var ended []*callTrace
			Eventually(func() []*callTrace {
				ended = nil
				for _, t := range deliveredTraces(f, f.wide) {
					if t.ended() {
						ended = append(ended, t)
					}
				}
				return ended
			}).WithTimeout(f.untilAfterSurge(20*time.Second)).WithPolling(200*time.Millisecond).ShouldNot(BeEmpty(),
				"no call to a lent blended agent was established, talked and ended")
			for _, t := range ended {
				Expect(t.Devices).To(ContainElement(t.Estab.AnsweringDeviceID), "CALL_ESTABLISHED answering device: %s", t)
				Expect(t.EstabIdx).To(BeNumerically(">", t.DelivIdx), "%s", t)
				Expect(t.TalkingAt).To(BeNumerically(">", t.EstabIdx), "%s", t)
				Expect(t.ClearIdx).To(BeNumerically(">", t.EstabIdx), "no CALL_CLEARED/CALL_CONNECTION_CLEARED before END_CALL: %s", t)
				Expect(t.EndIdx).To(BeNumerically(">", t.ClearIdx), "%s", t)
			}
		})

		It("[C5.3] call data a desktop sets over CTI (screen pop) reaches every ALL_EVENTS session in CALL_DATA_UPDATE_EVENT", func(ctx SpecContext) {
			needTraffic(f)
			ctl := dialControl(ctx, f, "desktop")
			mark := 0
			var value string
			var callID uint32
			Eventually(func(g Gomega) {
				// The next call delivered at an agent's device.
				var begin *cti.BeginCallEvent
				evs := ctl.Events()
				for _, ev := range evs[mark:] {
					if b, ok := ev.Msg.(*cti.BeginCallEvent); ok && b.Has(cti.TagRouterCallKeyDay) {
						begin = b
					}
				}
				mark = len(evs)
				g.Expect(begin).NotTo(BeNil(), "no routed call delivered since the last try")
				callID = begin.ConnectionCallID
				value = fmt.Sprintf("conformance-pop-%d", callID)
				_, err := ctl.Request(ctx, &cti.SetCallDataReq{PeripheralID: f.sc.ICM.PeripheralID,
					ConnectionDeviceIDType: begin.ConnectionDeviceIDType, ConnectionCallID: callID,
					ConnectionDeviceID: begin.ConnectionDeviceID, CallVariable1: value})
				g.Expect(err).NotTo(HaveOccurred(), "SET_CALL_DATA_REQ for call %d", callID)
			}).WithTimeout(f.untilAfterSurge(20 * time.Second)).WithPolling(300 * time.Millisecond).Should(Succeed())
			for _, c := range []*wire.Client{f.wide, f.narrow, ctl} {
				Eventually(func() []string {
					var out []string
					for _, ev := range c.Events() {
						if u, ok := ev.Msg.(*cti.CallDataUpdateEvent); ok && u.ConnectionCallID == callID {
							out = append(out, u.CallVariable1)
						}
					}
					return out
				}).WithTimeout(5*time.Second).WithPolling(50*time.Millisecond).Should(ContainElement(value),
					"CALL_DATA_UPDATE_EVENT with CallVariable1 %q for call %d on %s", value, callID, c.Name)
			}
		})

		It("[C5.4] for every call, BEGIN_CALL is the first event and END_CALL the last", func() {
			needTraffic(f)
			remote := f.t.Name() != "inproc"
			for _, c := range []*wire.Client{f.wide, f.narrow} {
				Eventually(func(g Gomega) {
					complete, problems := episodes(c.Events(), remote)
					g.Expect(problems).To(BeEmpty(), "call event order on %s", c.Name)
					g.Expect(complete).To(BeNumerically(">=", 10), "complete calls on %s", c.Name)
				}).WithTimeout(f.untilAfterSurge(10 * time.Second)).WithPolling(500 * time.Millisecond).Should(Succeed())
			}
		})
	})

	Context("step 1: the controller monitors the calls routed to the IPCC queues", Label("step-1"), func() {
		It("[C1.3] once the surge is over and the queue has drained the controller judges service levels met again", func() {
			needTraffic(f)
			target := f.sc.Controller.Blend.ServiceLevelTarget
			_, to := f.surge()
			Eventually(func() []string {
				var out []string
				for _, s := range f.statusSamples() {
					if s.At.After(to) && !s.S.Behind && (s.S.ServiceLevel < 0 || s.S.ServiceLevel >= target) {
						out = append(out, fmt.Sprintf("met at %.1fs: %s", s.At.Sub(f.t.Started()).Seconds(), s.S.LastDecision))
					}
				}
				if len(out) > 0 {
					evidence("%s", out[0])
				}
				return out
			}).WithTimeout(f.untilAfterSurge(f.sc.Controller.Blend.Window.D()+30*time.Second)).WithPolling(250*time.Millisecond).ShouldNot(BeEmpty(),
				"after the surge the controller never judged service levels met (target %.2f)", target)
		})
	})

	Context("step 6: once service levels are back, blended agents return to outbound", Label("step-6"), func() {
		It("[C6.1] every blended agent that was lent returns to NOT_READY with the outbound reason code", func() {
			needTraffic(f)
			Eventually(func(g Gomega) {
				evs := f.wide.Events()
				ls := lends(evs, f.blended(), f.reason(), f.initial)
				g.Expect(ls).NotTo(BeEmpty(), "nothing was lent")
				byAgent := agentEvents(evs)
				for _, id := range lentAgents(ls) {
					lastLend := -1
					for _, l := range ls {
						if l.Agent == id {
							lastLend = l.Idx
						}
					}
					returned := false
					for _, ae := range byAgent[id] {
						if ae.Idx > lastLend && ae.E.AgentState == cti.AgentStateNotReady && ae.E.EventReasonCode == f.reason() {
							returned = true
						}
					}
					g.Expect(returned).To(BeTrue(), "agent %s, lent at #%d, has not gone NOT_READY with reason %d since", id, lastLend, f.reason())
				}
				g.Expect(f.status().Report.Lent).To(BeEmpty(), "the controller still reports agents lent")
			}).WithTimeout(f.untilAfterSurge(f.sc.Controller.Blend.Window.D() + 35*time.Second)).WithPolling(250 * time.Millisecond).Should(Succeed())
		})

		It("[C6.2] the controller reports the moves both ways and resumes full outbound pacing", func() {
			needTraffic(f)
			Eventually(func(g Gomega) {
				st := f.status()
				n := len(lentAgents(lends(f.wide.Events(), f.blended(), f.reason(), f.initial)))
				g.Expect(n).To(BeNumerically(">", 0), "nothing was lent")
				g.Expect(st.Report.MovesToInbound).To(BeNumerically(">=", n), "MovesToInbound")
				g.Expect(st.Report.MovesToOutbound).To(BeNumerically(">=", n), "MovesToOutbound")
				g.Expect(st.Behind).To(BeFalse(), "Behind")
				g.Expect(st.PacingFactor).To(BeNumerically("==", 1), "PacingFactor")
				g.Expect(st.Report.Lent).To(BeEmpty(), "Lent")
				g.Expect(st.Connected).To(BeTrue(), "Connected")
				evidence("status: %+v", st)
				for _, id := range f.blended() {
					evidence("blended agent %s (initially %v): %s", id, f.initial[id], strings.Join(stateChanges(f.wide.Events(), id), " "))
				}
			}).WithTimeout(f.untilAfterSurge(f.sc.Controller.Blend.Window.D() + 35*time.Second)).WithPolling(250 * time.Millisecond).Should(Succeed())
		})
	})
})

// dialControl opens an ALL_EVENTS + CLIENT_CONTROL session for a spec (the
// way a desktop or the controller does), closed when the spec ends; its
// transcript is attached when the spec fails.
func dialControl(ctx context.Context, f *fixture, role string) *wire.Client {
	c, err := wire.Dial(ctx, f.t.CTIAddr(), wire.Options{ClientID: "conformance-" + role, Version: 24,
		Services: cti.ServiceAllEvents | cti.ServiceClientControl, PeripheralID: f.sc.ICM.PeripheralID})
	Expect(err).NotTo(HaveOccurred())
	Expect(c.OpenConf().ServicesGranted&cti.ServiceClientControl).NotTo(BeZero(), "CLIENT_CONTROL not granted")
	DeferCleanup(func() {
		if CurrentSpecReport().Failed() {
			AddReportEntry("CTI transcript "+c.Name, c.Transcript(0, transcriptLines), ReportEntryVisibilityFailureOrVerbose)
		}
		_ = c.Close()
	})
	return c
}

// idleAgent returns an agent among ids whose last known state is AVAILABLE,
// with its extension.
func idleAgent(f *fixture, ids []string) (string, string) {
	evs := f.wide.Events()
	for _, id := range ids {
		st, ok := f.initial[id]
		if last := lastState(evs, id); last != nil {
			st, ok = last.AgentState, true
		}
		if ok && st == cti.AgentStateAvailable {
			return id, f.agents[id].Extension
		}
	}
	return "", ""
}

func stateString(s cti.AgentState, reason uint16) string {
	if s == cti.AgentStateNotReady {
		return fmt.Sprintf("%v/%d", s, reason)
	}
	return s.String()
}

// stateChanges lists an agent's states in a recording ("NOT_READY/101").
func stateChanges(evs []wire.Event, agent string) []string {
	var out []string
	for _, ev := range evs {
		if e, ok := ev.Msg.(*cti.AgentStateEvent); ok && e.AgentID == agent {
			out = append(out, stateString(e.AgentState, e.EventReasonCode))
		}
	}
	return out
}

// firstBehind is when the controller first reported Behind.
func firstBehind(f *fixture) time.Time {
	for _, s := range f.statusSamples() {
		if s.S.Behind {
			return s.At
		}
	}
	return time.Time{}
}

// deliveredTraces are the calls delivered to lent blended agents in a
// recording.
func deliveredTraces(f *fixture, c *wire.Client) []*callTrace {
	evs := c.Events()
	var out []*callTrace
	for _, t := range traceCalls(evs, lentAgents(lends(f.wide.Events(), f.blended(), f.reason(), f.initial))) {
		if t.delivered() {
			out = append(out, t)
		}
	}
	return out
}

func dialedNumbers(sc *scenarios.Scenario) []string {
	var out []string
	for _, ct := range sc.ICM.CallTypes {
		out = append(out, ct.DialedNumber)
	}
	return out
}

// evidence prints what a spec saw, for -v runs and JUnit system-out.
func evidence(format string, args ...any) { GinkgoWriter.Printf(format+"\n", args...) }

// screenPop lists the non-empty call context of a delivered call: caller-
// entered digits, call variables and ECC variables.
func screenPop(d *cti.CallDeliveredEvent) []string {
	var out []string
	for i, v := range []string{d.CallerEnteredDigits, d.CallVariable1, d.CallVariable2, d.CallVariable3, d.CallVariable4, d.CallVariable5,
		d.CallVariable6, d.CallVariable7, d.CallVariable8, d.CallVariable9, d.CallVariable10} {
		if v != "" {
			out = append(out, fmt.Sprintf("%d=%s", i, v))
		}
	}
	for _, nv := range d.NamedVariables {
		out = append(out, nv.Name+"="+nv.Value)
	}
	return out
}

// queueFigures reads the calls in queue and the longest wait from a
// controller decision line ("... q=3 longest=12s ...").
func queueFigures(decision string) (q int, longest time.Duration) {
	for _, f := range strings.Fields(decision) {
		switch {
		case strings.HasPrefix(f, "q="):
			q, _ = strconv.Atoi(strings.TrimPrefix(f, "q="))
		case strings.HasPrefix(f, "longest="):
			longest, _ = time.ParseDuration(strings.TrimPrefix(f, "longest="))
		}
	}
	return q, longest
}
