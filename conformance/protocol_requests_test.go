package conformance

import (
	"encoding/binary"
	"fmt"
	"slices"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/ipcclab/ipcclab/conformance/wire"
	"github.com/ipcclab/ipcclab/protocol/cti"
	"github.com/ipcclab/ipcclab/scenarios"
)

// refusal is one OPEN_REQ the server must refuse.
type refusal struct {
	what   string
	pv     cti.ProtocolVersion
	status cti.Status
	edit   func(*cti.OpenReq)
	// drop removes a floating field from the encoded OPEN_REQ (the codec
	// always writes the required ones).
	drop cti.Tag
}

var _ = Describe("CTI protocol: requests", Label("protocol"), func() {
	var f *protoFixture
	BeforeEach(func() {
		if protoFx == nil {
			Skip("the protocol target did not start")
		}
		f = protoFx
	})

	// refuse sends each OPEN_REQ on a fresh connection with its own
	// InvokeID and expects FAILURE_CONF with that InvokeID and the status.
	refuse := func(ctx SpecContext, base uint32, cases []refusal) {
		for i, rc := range cases {
			inv := base + uint32(i)
			r := f.raw(ctx, fmt.Sprintf("refusal-%x", inv), rc.pv)
			req := openReq(rc.pv, cti.ServiceAllEvents, f.pid, fmt.Sprintf("conformance-refusal-%x", inv))
			req.InvokeID = inv
			rc.edit(req)
			if rc.drop != 0 {
				frame, err := cti.AppendMessage(nil, req, rc.pv)
				Expect(err).NotTo(HaveOccurred())
				body := dropFloat(frame[cti.HeaderSize:], 44, rc.pv, rc.drop)
				Expect(r.SendFrame(uint32(cti.MsgOpenReq), body)).To(Succeed())
			} else {
				Expect(r.Send(req, rc.pv)).To(Succeed())
			}
			conf, _, err := r.Answer(5*time.Second, inv)
			Expect(err).NotTo(HaveOccurred(), "%s: no answer with InvokeID %#x", rc.what, inv)
			fc, ok := conf.Msg.(*cti.FailureConf)
			Expect(ok).To(BeTrue(), "%s: answered %s", rc.what, wire.Format(conf.Msg))
			Expect(fc.Status).To(Equal(rc.status), "%s", rc.what)
		}
	}

	Context("refusals", Label("refusals"), func() {
		It("[P3.1] OPEN_REQ with a bad version, missing ClientID or ClientPassword, a short IdleTimeout, unknown service or agent-state bits, non-zero Reserved fields or another PeripheralID is refused with the documented status, echoing the InvokeID", func(ctx SpecContext) {
			refuse(ctx, 0x3E100000, []refusal{
				{"VersionNumber 12", 12, cti.StatusInvalidVersion, func(*cti.OpenReq) {}, 0},
				{"VersionNumber 26", 26, cti.StatusInvalidVersion, func(*cti.OpenReq) {}, 0},
				{"no ClientID", 24, cti.StatusRequiredDataMissing, func(*cti.OpenReq) {}, cti.TagClientID},
				{"no ClientPassword", 24, cti.StatusRequiredDataMissing, func(*cti.OpenReq) {}, cti.TagClientPassword},
				{"no ClientPassword (PV15)", 15, cti.StatusRequiredDataMissing, func(*cti.OpenReq) {}, cti.TagClientPassword},
				{"IdleTimeout 19", 24, cti.StatusInvalidTimeout, func(r *cti.OpenReq) { r.IdleTimeout = 19 }, 0},
				{"IdleTimeout 0", 15, cti.StatusInvalidTimeout, func(r *cti.OpenReq) { r.IdleTimeout = 0 }, 0},
				{"service bit 0x4000", 24, cti.StatusInvalidServiceMask, func(r *cti.OpenReq) { r.ServicesRequested |= 0x4000 }, 0},
				{"agent state bit 0x4000", 24, cti.StatusInvalidAgentStateMask, func(r *cti.OpenReq) { r.AgentStateMask |= 0x4000 }, 0},
				{"Reserved1 1", 24, cti.StatusInvalidReservedField, func(r *cti.OpenReq) { r.Reserved1 = 1 }, 0},
				{"Reserved3 1", 15, cti.StatusInvalidReservedField, func(r *cti.OpenReq) { r.Reserved3 = 1 }, 0},
				{"PeripheralID of another PG", 24, cti.StatusInvalidPeripheralID, func(r *cti.OpenReq) { r.PeripheralID = f.pid + 1 }, 0},
			})
		})

		It("[P3.2] a CLIENT_EVENTS OPEN_REQ without PeripheralID or agent identifiers, for an unknown agent or with inconsistent agent data is refused (6, 6, 8, 32)", func(ctx SpecContext) {
			ags := f.take(scenarios.RoleBlended, 2)
			ext := func(r *cti.OpenReq, e string) { r.AgentExtension = e; r.SetPresent(cti.TagAgentExtension) }
			client := func(r *cti.OpenReq) { r.ServicesRequested = cti.ServiceClientEvents | cti.ServiceClientControl }
			refuse(ctx, 0x3E200000, []refusal{
				{"CLIENT_EVENTS without PeripheralID", 24, cti.StatusRequiredDataMissing, func(r *cti.OpenReq) {
					client(r)
					ext(r, ags[0].Extension)
					r.PeripheralID = cti.NullPeripheralID
				}, 0},
				{"CLIENT_EVENTS without agent identifiers", 24, cti.StatusRequiredDataMissing, client, 0},
				{"CLIENT_EVENTS for an unknown agent", 24, cti.StatusInvalidAgentData, func(r *cti.OpenReq) {
					client(r)
					r.AgentID = "99999"
					r.SetPresent(cti.TagAgentID)
				}, 0},
				{"CLIENT_EVENTS with AgentID of one agent and the extension of another", 24, cti.StatusInconsistentAgentData, func(r *cti.OpenReq) {
					client(r)
					r.AgentID = ags[0].ID
					r.SetPresent(cti.TagAgentID)
					ext(r, ags[1].Extension)
				}, 0},
			})
		})

		It("[P3.3] an agent device bound to another client's desktop session is refused with DEVICE_IN_USE; the same client replaces its session, which gets FAILURE_EVENT NEW_SESSION_OPENED and is closed", func(ctx SpecContext) {
			a := f.take(scenarios.RoleBlended, 1)[0]
			desk := func(client string) func(*cti.OpenReq) {
				return func(r *cti.OpenReq) {
					r.ClientID = client
					r.AgentExtension = a.Extension
					r.SetPresent(cti.TagAgentExtension)
				}
			}
			first := f.dial(ctx, "p3-3-first", 24, cti.ServiceClientEvents, desk("conformance-desk-x"))
			_, err := f.tryDial(ctx, "p3-3-other", 24, cti.ServiceClientEvents, desk("conformance-desk-y"))
			st, ok := failureStatus(err)
			Expect(ok).To(BeTrue(), "a second client's desktop for the same device: %v", err)
			Expect(st).To(Equal(cti.StatusDeviceInUse))
			Expect(first.Err()).NotTo(HaveOccurred(), "the first session was closed by a refused open")
			second := f.dial(ctx, "p3-3-second", 24, cti.ServiceClientEvents, desk("conformance-desk-x"))
			Expect(second.OpenConf().MonitorID).NotTo(BeZero())
			Eventually(first.Done()).WithTimeout(5*time.Second).Should(BeClosed(), "the replaced session was not closed")
			Eventually(func() []cti.Status {
				var statuses []cti.Status
				for _, ev := range first.Events() {
					if fe, ok := ev.Msg.(*cti.FailureEvent); ok {
						statuses = append(statuses, fe.Status)
					}
				}
				return statuses
			}).WithTimeout(2*time.Second).WithPolling(10*time.Millisecond).Should(ContainElement(cti.StatusNewSessionOpened), "FAILURE_EVENT on the replaced session")
		})

		It("[P3.4] an OPEN_REQ none of whose services can be granted is refused with FUNCTION_NOT_AVAILABLE; granted services are a subset of those requested", func(ctx SpecContext) {
			refuse(ctx, 0x3E400000, []refusal{
				{"only CTI_SERVICE_DEBUG", 24, cti.StatusFunctionNotAvailable, func(r *cti.OpenReq) { r.ServicesRequested = cti.ServiceDebug }, 0},
			})
			want := cti.ServiceAllEvents | cti.ServiceClientControl | cti.ServiceDebug | cti.ServiceServer
			c := f.dial(ctx, "p3-4", 24, want, nil)
			Expect(c.OpenConf().ServicesGranted&^want).To(BeZero(), "services granted but not requested")
			Expect(c.OpenConf().ServicesGranted & cti.ServiceAllEvents).NotTo(BeZero())
		})

		It("[P3.5] a request before OPEN_REQ is refused with SESSION_NOT_OPEN and a second OPEN_REQ with SESSION_ALREADY_OPEN, each echoing its InvokeID", func(ctx SpecContext) {
			r := f.raw(ctx, "p3-5", 24)
			Expect(r.Send(&cti.HeartbeatReq{InvokeID: 0x3E500001}, 24)).To(Succeed())
			conf, _, err := r.Answer(5*time.Second, 0x3E500001)
			Expect(err).NotTo(HaveOccurred())
			Expect(conf.Msg).To(Equal(&cti.FailureConf{InvokeID: 0x3E500001, Status: cti.StatusSessionNotOpen}))
			req := openReq(24, cti.ServiceClientControl, f.pid, "conformance-p3-5")
			req.InvokeID = 0x3E500002
			Expect(r.Send(req, 24)).To(Succeed())
			conf, _, err = r.Answer(5*time.Second, 0x3E500002)
			Expect(err).NotTo(HaveOccurred())
			Expect(conf.Type).To(Equal(cti.MsgOpenConf), "OPEN_REQ after a refused request")
			req.InvokeID = 0x3E500003
			Expect(r.Send(req, 24)).To(Succeed())
			conf, _, err = r.Answer(5*time.Second, 0x3E500003)
			Expect(err).NotTo(HaveOccurred())
			Expect(conf.Msg).To(Equal(&cti.FailureConf{InvokeID: 0x3E500003, Status: cti.StatusSessionAlreadyOpen}))
		})

		It("[P3.6] an unknown message type is refused with status 2 and a message type newer than the session's version with INVALID_MSG_TYPE_FOR_VERSION, each echoing its InvokeID, and the session goes on", func(ctx SpecContext) {
			r, _ := f.rawOpen(ctx, "p3-6", 13, cti.ServiceClientControl, 1)
			body := binary.BigEndian.AppendUint32(nil, 0x3E600001)
			Expect(r.SendFrame(9999, append(body, 0, 0, 0, 0))).To(Succeed())
			conf, _, err := r.Answer(5*time.Second, 0x3E600001)
			Expect(err).NotTo(HaveOccurred())
			Expect(conf.Msg).To(Equal(&cti.FailureConf{InvokeID: 0x3E600001, Status: cti.StatusInvalidMessageLength}), "unknown message type 9999")
			// AGENT_GREETING_CONTROL_REQ exists from PV15; this session is PV13.
			Expect(r.Send(&cti.AgentGreetingControlReq{InvokeID: 0x3E600002, PeripheralID: f.pid, AgentID: "1"}, 15)).To(Succeed())
			conf, _, err = r.Answer(5*time.Second, 0x3E600002)
			Expect(err).NotTo(HaveOccurred())
			Expect(conf.Msg).To(Equal(&cti.FailureConf{InvokeID: 0x3E600002, Status: cti.StatusInvalidMsgTypeForVersion}), "PV15 message on a PV13 session")
			Expect(r.Send(&cti.HeartbeatReq{InvokeID: 0x3E600003}, 0)).To(Succeed())
			conf, _, err = r.Answer(5*time.Second, 0x3E600003)
			Expect(err).NotTo(HaveOccurred(), "the session ended after a refused request")
			Expect(conf.Type).To(Equal(cti.MsgHeartbeatConf))
		})
	})

	Context("event masks", Label("masks"), func() {
		It("[P5.1] AgentStateMask selects AGENT_STATE_EVENTs by the agent's new state", func(ctx SpecContext) {
			a := f.take(scenarios.RoleBlended, 1)[0]
			ctl := f.control(ctx, "p5-1-control")
			mask := func(m cti.AgentStateMask) func(*cti.OpenReq) { return func(r *cti.OpenReq) { r.AgentStateMask = m } }
			nr := f.dial(ctx, "p5-1-notready", 24, cti.ServiceAllEvents, mask(cti.AgentNotReadyMask))
			av := f.dial(ctx, "p5-1-available", 24, cti.ServiceAllEvents, mask(cti.AgentAvailableMask))
			none := f.dial(ctx, "p5-1-none", 24, cti.ServiceAllEvents, mask(0))
			setState(ctx, ctl, f.pid, a, cti.AgentStateAvailable, 0)
			setState(ctx, ctl, f.pid, a, cti.AgentStateNotReady, 51)
			waitState(ctl, 0, a.ID, cti.AgentStateNotReady)
			waitState(nr, 0, a.ID, cti.AgentStateNotReady)
			waitState(av, 0, a.ID, cti.AgentStateAvailable)
			// Everything for the agent has reached ctl; a heartbeat round
			// trip on each session orders the check after the events.
			for _, c := range []*wire.Client{nr, av, none} {
				_, err := c.Request(ctx, &cti.HeartbeatReq{})
				Expect(err).NotTo(HaveOccurred())
			}
			Expect(stateChanges(nr.Events(), a.ID)).To(Equal([]string{stateString(cti.AgentStateNotReady, 51)}))
			Expect(stateChanges(av.Events(), a.ID)).To(Equal([]string{stateString(cti.AgentStateAvailable, 0)}))
			Expect(stateChanges(none.Events(), a.ID)).To(BeEmpty())
		})

		It("[P5.2] CallMsgMask selects call events by type", func(ctx SpecContext) {
			a := f.take(scenarios.RoleBlended, 1)[0]
			b := f.take(scenarios.RoleInbound, 1)[0]
			ctl := f.control(ctx, "p5-2-control")
			ends := f.dial(ctx, "p5-2-ends", 24, cti.ServiceAllEvents, func(r *cti.OpenReq) { r.CallMsgMask = cti.BeginCallMask | cti.EndCallMask })
			mid := f.dial(ctx, "p5-2-middle", 24, cti.ServiceAllEvents, func(r *cti.OpenReq) {
				r.CallMsgMask = cti.CallDeliveredMask | cti.CallEstablishedMask
			})
			id := makeCall(ctx, ctl, f.pid, a, b)
			waitState(ctl, 0, b.ID, cti.AgentStateTalking)
			clearCall(ctx, ctl, f.pid, id, a.Extension)
			for _, c := range []*wire.Client{ctl, ends} {
				Eventually(func() []cti.MessageType { return callTypes(c.Events(), id) }).WithTimeout(5*time.Second).
					WithPolling(20*time.Millisecond).Should(ContainElement(cti.MsgEndCallEvent), "END_CALL on %s", c.Name)
			}
			_, err := mid.Request(ctx, &cti.HeartbeatReq{})
			Expect(err).NotTo(HaveOccurred())
			Expect(callTypes(ctl.Events(), id)).To(ContainElements(cti.MsgBeginCallEvent, cti.MsgCallDeliveredEvent, cti.MsgCallEstablishedEvent,
				cti.MsgCallOriginatedEvent, cti.MsgEndCallEvent), "all call events with every bit set")
			Expect(callTypes(ends.Events(), id)).To(Equal([]cti.MessageType{cti.MsgBeginCallEvent, cti.MsgEndCallEvent}))
			Expect(slices.Compact(callTypes(mid.Events(), id))).To(Equal([]cti.MessageType{cti.MsgCallDeliveredEvent, cti.MsgCallEstablishedEvent}))
		})

		It("[P5.3] IGNORE_DUPLICATE_AGENT_EVENTS suppresses AGENT_STATE_EVENTs that repeat the agent's state", func(ctx SpecContext) {
			a := f.take(scenarios.RoleBlended, 1)[0]
			ctl := f.control(ctx, "p5-3-control")
			dedup := f.dial(ctx, "p5-3-dedup", 24, cti.ServiceAllEvents|cti.ServiceIgnoreDuplicateAgentEvents, nil)
			Expect(dedup.OpenConf().ServicesGranted & cti.ServiceIgnoreDuplicateAgentEvents).NotTo(BeZero())
			setState(ctx, ctl, f.pid, a, cti.AgentStateAvailable, 0)
			setState(ctx, ctl, f.pid, a, cti.AgentStateNotReady, 5)
			setState(ctx, ctl, f.pid, a, cti.AgentStateNotReady, 7)
			setState(ctx, ctl, f.pid, a, cti.AgentStateAvailable, 0)
			av := stateString(cti.AgentStateAvailable, 0)
			Eventually(func() []string { return stateChanges(ctl.Events(), a.ID) }).WithTimeout(5*time.Second).WithPolling(20*time.Millisecond).
				Should(Equal([]string{av, stateString(cti.AgentStateNotReady, 5), stateString(cti.AgentStateNotReady, 7), av}), "every change, the repeated NOT_READY included")
			Eventually(func() []string { return stateChanges(dedup.Events(), a.ID) }).WithTimeout(5*time.Second).WithPolling(20*time.Millisecond).
				Should(Equal([]string{av, stateString(cti.AgentStateNotReady, 5), av}), "the repeated NOT_READY is suppressed")
		})

		It("[P5.4] IGNORE_CONF suppresses positive confirmations of control requests but not their events, nor CONTROL_FAILURE_CONF", func(ctx SpecContext) {
			a := f.take(scenarios.RoleBlended, 1)[0]
			r, conf := f.rawOpen(ctx, "p5-4", 24, cti.ServiceAllEvents|cti.ServiceClientControl|cti.ServiceIgnoreConf, 1)
			Expect(conf.Msg.(*cti.OpenConf).ServicesGranted & cti.ServiceIgnoreConf).NotTo(BeZero())
			Expect(r.Send(&cti.SetAgentStateReq{InvokeID: 0x5E540001, PeripheralID: f.pid, AgentState: cti.AgentStateAvailable,
				AgentID: a.ID, AgentInstrument: a.Extension}, 0)).To(Succeed())
			Expect(r.Send(&cti.HeartbeatReq{InvokeID: 0x5E540002}, 0)).To(Succeed())
			_, before, err := r.Answer(5*time.Second, 0x5E540002)
			Expect(err).NotTo(HaveOccurred())
			for _, fr := range before {
				Expect(fr.Type).NotTo(Equal(cti.MsgSetAgentStateConf), "SET_AGENT_STATE_CONF on an IGNORE_CONF session")
			}
			sawEvent := slices.ContainsFunc(before, func(fr wire.RawFrame) bool {
				e, ok := fr.Msg.(*cti.AgentStateEvent)
				return ok && e.AgentID == a.ID && e.AgentState == cti.AgentStateAvailable
			})
			if !sawEvent {
				_, err := r.Until(5*time.Second, func(fr wire.RawFrame) bool {
					Expect(fr.Type).NotTo(Equal(cti.MsgSetAgentStateConf))
					e, ok := fr.Msg.(*cti.AgentStateEvent)
					return ok && e.AgentID == a.ID && e.AgentState == cti.AgentStateAvailable
				})
				Expect(err).NotTo(HaveOccurred(), "the AGENT_STATE_EVENT the request caused")
			}
			Expect(r.Send(&cti.SetAgentStateReq{InvokeID: 0x5E540003, PeripheralID: f.pid, AgentState: cti.AgentStateAvailable,
				AgentID: "99999"}, 0)).To(Succeed())
			fail, _, err := r.Answer(5*time.Second, 0x5E540003)
			Expect(err).NotTo(HaveOccurred(), "no CONTROL_FAILURE_CONF for a request about an unknown agent")
			Expect(fail.Type).To(Equal(cti.MsgControlFailureConf))
		})
	})

	Context("agent state control", Label("agent-state"), func() {
		It("[P6.1] SET_AGENT_STATE_REQ is confirmed and the agent's new state and reason are published and reported by QUERY_AGENT_STATE", func(ctx SpecContext) {
			a := f.take(scenarios.RoleBlended, 1)[0]
			ctl := f.control(ctx, "p6-1-control")
			for _, step := range []struct {
				st     cti.AgentState
				reason uint16
			}{{cti.AgentStateAvailable, 0}, {cti.AgentStateNotReady, 61}, {cti.AgentStateNotReady, 62}, {cti.AgentStateAvailable, 0}} {
				mark := len(ctl.Events())
				setState(ctx, ctl, f.pid, a, step.st, step.reason)
				e := waitState(ctl, mark, a.ID, step.st)
				if step.st == cti.AgentStateNotReady {
					Expect(e.EventReasonCode).To(Equal(step.reason))
				}
				Expect(query(ctx, ctl, f.pid, a.ID).AgentState).To(Equal(step.st))
			}
		})

		It("[P6.2] NOT_READY requested while TALKING is confirmed, kept as the pending NextAgentState, and applied when the call ends", func(ctx SpecContext) {
			a := f.take(scenarios.RoleBlended, 1)[0]
			b := f.take(scenarios.RoleInbound, 1)[0]
			ctl := f.control(ctx, "p6-2-control")
			id := makeCall(ctx, ctl, f.pid, a, b)
			waitState(ctl, 0, b.ID, cti.AgentStateTalking)
			mark := len(ctl.Events())
			setState(ctx, ctl, f.pid, b, cti.AgentStateNotReady, 63)
			Eventually(func() []string {
				var out []string
				for _, ev := range ctl.Events()[mark:] {
					if e, ok := ev.Msg.(*cti.AgentStateEvent); ok && e.AgentID == b.ID {
						next := "-"
						if e.Has(cti.TagExtAgentState) {
							next = e.NextAgentState.String()
						}
						out = append(out, e.AgentState.String()+" next "+next)
					}
				}
				return out
			}).WithTimeout(5*time.Second).WithPolling(20*time.Millisecond).Should(ContainElement(cti.AgentStateTalking.String()+" next "+cti.AgentStateNotReady.String()),
				"AGENT_STATE_EVENT with the pending state")
			Expect(query(ctx, ctl, f.pid, b.ID).AgentState).To(Equal(cti.AgentStateTalking), "the agent is still talking")
			clearCall(ctx, ctl, f.pid, id, a.Extension)
			mark = len(ctl.Events()) - 1
			e := waitState(ctl, 0, b.ID, cti.AgentStateNotReady)
			Expect(e.EventReasonCode).To(Equal(uint16(63)))
			_ = mark
		})

		It("[P6.3] invalid agent state requests are refused with CONTROL_FAILURE_CONF carrying their InvokeID, and change nothing", func(ctx SpecContext) {
			a := f.take(scenarios.RoleBlended, 1)[0]
			b := f.take(scenarios.RoleInbound, 1)[0]
			ctl := f.control(ctx, "p6-3-control")
			id := makeCall(ctx, ctl, f.pid, a, b)
			waitState(ctl, 0, b.ID, cti.AgentStateTalking)
			r, _ := f.rawOpen(ctx, "p6-3", 24, cti.ServiceClientControl, 1)
			for i, req := range []struct {
				what string
				m    *cti.SetAgentStateReq
			}{
				{"LOGOUT while TALKING", &cti.SetAgentStateReq{AgentState: cti.AgentStateLogout, AgentID: b.ID, AgentInstrument: b.Extension}},
				{"AVAILABLE for an unknown agent", &cti.SetAgentStateReq{AgentState: cti.AgentStateAvailable, AgentID: "99999"}},
				{"TALKING (not a state a client sets)", &cti.SetAgentStateReq{AgentState: cti.AgentStateTalking, AgentID: a.ID, AgentInstrument: a.Extension}},
			} {
				inv := 0x6E630001 + uint32(i)
				req.m.InvokeID, req.m.PeripheralID = inv, f.pid
				Expect(r.Send(req.m, 0)).To(Succeed())
				conf, _, err := r.Answer(5*time.Second, inv)
				Expect(err).NotTo(HaveOccurred(), "%s: no answer", req.what)
				Expect(conf.Type).To(Equal(cti.MsgControlFailureConf), "%s: answered %s", req.what, wire.Format(conf.Msg))
			}
			Expect(query(ctx, ctl, f.pid, b.ID).AgentState).To(Equal(cti.AgentStateTalking))
			clearCall(ctx, ctl, f.pid, id, a.Extension)
		})

		It("[P6.4] a CLIENT_EVENTS desktop changes its own agent's state, logs it out and in again, with SET_AGENT_STATE_REQ naming no agent", func(ctx SpecContext) {
			a := f.take(scenarios.RoleBlended, 1)[0]
			ctl := f.control(ctx, "p6-4-control")
			desk := f.dial(ctx, "p6-4-desk", 24, cti.ServiceClientEvents|cti.ServiceClientControl, func(r *cti.OpenReq) {
				r.AgentID = a.ID
				r.SetPresent(cti.TagAgentID)
			})
			Expect(desk.OpenConf().AgentInstrument).To(Equal(a.Extension))
			for _, st := range []cti.AgentState{cti.AgentStateAvailable, cti.AgentStateNotReady, cti.AgentStateLogout, cti.AgentStateLogin} {
				mark, dmark := len(ctl.Events()), len(desk.Events())
				req := &cti.SetAgentStateReq{PeripheralID: f.pid, AgentState: st, EventReasonCode: 64}
				if st == cti.AgentStateLogin {
					// §5.9(e): a login names the device and gives the
					// agent's password.
					req.AgentInstrument, req.AgentPassword = a.Extension, a.Password
				}
				m, err := desk.Request(ctx, req)
				Expect(err).NotTo(HaveOccurred(), "desktop SET_AGENT_STATE_REQ %v", st)
				Expect(m).To(BeAssignableToTypeOf(&cti.SetAgentStateConf{}))
				want := st
				if st == cti.AgentStateLogin {
					want = cti.AgentStateNotReady // §5.9(e): LOGIN, then NOT_READY
				}
				waitState(ctl, mark, a.ID, want)
				waitState(desk, dmark, a.ID, want)
			}
		})
	})
})

// dropFloat returns body without its floating fields of tag t (fixed: the
// size of the fixed part).
func dropFloat(body []byte, fixed int, pv cti.ProtocolVersion, t cti.Tag) []byte {
	w := cti.TagWidth(pv)
	out := append([]byte(nil), body[:fixed]...)
	for off := fixed; off+2*w <= len(body); {
		var tag, n int
		if w == 1 {
			tag, n = int(body[off]), int(body[off+1])
		} else {
			tag, n = int(binary.BigEndian.Uint16(body[off:])), int(binary.BigEndian.Uint16(body[off+2:]))
		}
		end := off + 2*w + n
		if cti.Tag(tag) != t {
			out = append(out, body[off:end]...)
		}
		off = end
	}
	return out
}

// makeCall places a call from agent a (NOT_READY) to agent b's extension and
// returns its ConnectionCallID.
func makeCall(ctx SpecContext, c *wire.Client, pid uint32, a, b agentDef) uint32 {
	m, err := c.Request(ctx, &cti.MakeCallReq{PeripheralID: pid, AgentInstrument: a.Extension, DialedNumber: b.Extension})
	Expect(err).NotTo(HaveOccurred(), "MAKE_CALL_REQ from %s to %s", a.Extension, b.Extension)
	conf := m.(*cti.MakeCallConf)
	Expect(conf.NewConnectionDeviceID).To(Equal(a.Extension))
	return conf.NewConnectionCallID
}

// clearCall drops a device's connection to a call.
func clearCall(ctx SpecContext, c *wire.Client, pid uint32, id uint32, dev string) {
	_, err := c.Request(ctx, &cti.ClearConnectionReq{PeripheralID: pid, ConnectionCallID: id, ConnectionDeviceIDType: cti.ConnectionIDStatic,
		ConnectionDeviceID: dev})
	Expect(err).NotTo(HaveOccurred(), "CLEAR_CONNECTION_REQ call %d at %s", id, dev)
}
