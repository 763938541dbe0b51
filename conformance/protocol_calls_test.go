package conformance

import (
	"context"
	"slices"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/ipcclab/ipcclab/conformance/wire"
	"github.com/ipcclab/ipcclab/protocol/cti"
	"github.com/ipcclab/ipcclab/scenarios"
)

var _ = Describe("CTI protocol: calls, configuration and failover", Label("protocol"), func() {
	var f *protoFixture
	BeforeEach(func() {
		if protoFx == nil {
			Skip("the protocol target did not start")
		}
		f = protoFx
	})

	Context("call control", Label("call-control"), func() {
		It("[P7.1] MAKE_CALL from a NOT_READY agent to another agent's extension is confirmed before the call's events, which run BEGIN_CALL, CALL_SERVICE_INITIATED, CALL_ORIGINATED, CALL_DELIVERED, CALL_ESTABLISHED and, after CLEAR_CONNECTION, end with END_CALL", func(ctx SpecContext) {
			a := f.take(scenarios.RoleBlended, 1)[0]
			b := f.take(scenarios.RoleInbound, 1)[0]
			ctl := f.control(ctx, "p7-1-control")
			id := makeCall(ctx, ctl, f.pid, a, b)
			waitState(ctl, 0, b.ID, cti.AgentStateTalking)
			talking := waitState(ctl, 0, a.ID, cti.AgentStateTalking)
			Expect(talking).NotTo(BeNil())
			clearCall(ctx, ctl, f.pid, id, a.Extension)
			Eventually(func() []cti.MessageType { return callTypes(ctl.Events(), id) }).WithTimeout(5 * time.Second).
				WithPolling(20 * time.Millisecond).Should(ContainElement(cti.MsgEndCallEvent))
			types := callTypes(ctl.Events(), id)
			Expect(subsequence(types, cti.MsgBeginCallEvent, cti.MsgCallServiceInitiatedEvent, cti.MsgCallOriginatedEvent,
				cti.MsgCallDeliveredEvent, cti.MsgCallEstablishedEvent)).To(BeTrue(), "call events in order: %v", types)
			Expect(types[0]).To(Equal(cti.MsgBeginCallEvent))
			Expect(types[len(types)-1]).To(Equal(cti.MsgEndCallEvent))
			Expect(types).To(ContainElement(BeElementOf(cti.MsgCallClearedEvent, cti.MsgCallConnectionClearedEvent)))
			for _, ev := range ctl.Events() {
				if d, ok := ev.Msg.(*cti.CallDeliveredEvent); ok && d.ConnectionCallID == id {
					Expect(d.AlertingDeviceID).To(Equal(b.Extension), "CALL_DELIVERED at the called agent's device")
				}
			}
			confFirst(ctl, cti.MsgMakeCallConf, id)
		})

		It("[P7.2] HOLD_CALL_REQ and RETRIEVE_CALL_REQ are confirmed; CALL_HELD puts the agent on HOLD and CALL_RETRIEVED back to TALKING", func(ctx SpecContext) {
			a := f.take(scenarios.RoleBlended, 1)[0]
			b := f.take(scenarios.RoleInbound, 1)[0]
			ctl := f.control(ctx, "p7-2-control")
			id := makeCall(ctx, ctl, f.pid, a, b)
			waitState(ctl, 0, b.ID, cti.AgentStateTalking)
			mark := len(ctl.Events())
			m, err := ctl.Request(ctx, &cti.HoldCallReq{PeripheralID: f.pid, ConnectionCallID: id, ConnectionDeviceIDType: cti.ConnectionIDStatic,
				ConnectionDeviceID: b.Extension})
			Expect(err).NotTo(HaveOccurred())
			Expect(m).To(BeAssignableToTypeOf(&cti.HoldCallConf{}))
			waitState(ctl, mark, b.ID, cti.AgentStateHold)
			mark = len(ctl.Events())
			m, err = ctl.Request(ctx, &cti.RetrieveCallReq{PeripheralID: f.pid, HeldConnectionCallID: id, HeldConnectionDeviceIDType: cti.ConnectionIDStatic,
				HeldConnectionDeviceID: b.Extension})
			Expect(err).NotTo(HaveOccurred())
			Expect(m).To(BeAssignableToTypeOf(&cti.RetrieveCallConf{}))
			waitState(ctl, mark, b.ID, cti.AgentStateTalking)
			clearCall(ctx, ctl, f.pid, id, a.Extension)
			Eventually(func() []cti.MessageType { return callTypes(ctl.Events(), id) }).WithTimeout(5 * time.Second).
				WithPolling(20 * time.Millisecond).Should(ContainElement(cti.MsgEndCallEvent))
			types := callTypes(ctl.Events(), id)
			Expect(subsequence(types, cti.MsgCallEstablishedEvent, cti.MsgCallHeldEvent, cti.MsgCallRetrievedEvent, cti.MsgEndCallEvent)).To(BeTrue(), "%v", types)
		})

		It("[P7.3] CONSULTATION_CALL_REQ is confirmed before the consult call's events; the order is CALL_HELD, BEGIN_CALL, CALL_SERVICE_INITIATED, CALL_ORIGINATED, CALL_DELIVERED, CALL_ESTABLISHED, then CALL_TRANSFERRED on TRANSFER_CALL_REQ", func(ctx SpecContext) {
			a := f.take(scenarios.RoleBlended, 1)[0]
			in := f.take(scenarios.RoleInbound, 2)
			b, c := in[0], in[1]
			ctl := f.control(ctx, "p7-3-control")
			first := makeCall(ctx, ctl, f.pid, a, b)
			waitState(ctl, 0, b.ID, cti.AgentStateTalking)
			mark := len(ctl.Events())
			m, err := ctl.Request(ctx, &cti.ConsultationCallReq{PeripheralID: f.pid, ActiveConnectionCallID: first,
				ActiveConnectionDeviceIDType: cti.ConnectionIDStatic, ActiveConnectionDeviceID: a.Extension, AgentInstrument: a.Extension,
				DialedNumber: c.Extension, ConsultType: cti.ConsultType(1)})
			Expect(err).NotTo(HaveOccurred(), "CONSULTATION_CALL_REQ")
			consult := m.(*cti.ConsultationCallConf).NewConnectionCallID
			Expect(consult).NotTo(Equal(first))
			waitState(ctl, mark, c.ID, cti.AgentStateTalking)
			m, err = ctl.Request(ctx, &cti.TransferCallReq{PeripheralID: f.pid, ActiveConnectionCallID: consult, HeldConnectionCallID: first,
				ActiveConnectionDeviceIDType: cti.ConnectionIDStatic, HeldConnectionDeviceIDType: cti.ConnectionIDStatic,
				ActiveConnectionDeviceID: a.Extension, HeldConnectionDeviceID: a.Extension, AgentInstrument: a.Extension})
			Expect(err).NotTo(HaveOccurred(), "TRANSFER_CALL_REQ")
			Expect(m).To(BeAssignableToTypeOf(&cti.TransferCallConf{}))
			Eventually(func() []cti.MessageType { return callTypes(ctl.Events()[mark:], first, consult) }).WithTimeout(5 * time.Second).
				WithPolling(20 * time.Millisecond).Should(ContainElement(cti.MsgCallTransferredEvent))
			var seq []cti.MessageType
			for _, ev := range ctl.Events()[mark:] {
				id, ok := callIDOf(ev.Msg)
				held := false
				if h, isHeld := ev.Msg.(*cti.CallHeldEvent); isHeld && h.ConnectionCallID == first {
					held = true
				}
				if held || (ok && id == consult) || ev.Msg.MessageType() == cti.MsgCallTransferredEvent {
					seq = append(seq, ev.Msg.MessageType())
				}
			}
			Expect(subsequence(seq, cti.MsgCallHeldEvent, cti.MsgBeginCallEvent, cti.MsgCallServiceInitiatedEvent, cti.MsgCallOriginatedEvent,
				cti.MsgCallDeliveredEvent, cti.MsgCallEstablishedEvent, cti.MsgCallTransferredEvent)).To(BeTrue(), "consultation and transfer: %v", seq)
			confFirst(ctl, cti.MsgConsultationCallConf, consult)
			// b and c now talk to each other; a is out of both calls.
			Eventually(func() cti.AgentState { return query(ctx, ctl, f.pid, a.ID).AgentState }).WithTimeout(5 * time.Second).
				WithPolling(50 * time.Millisecond).ShouldNot(BeElementOf(cti.AgentStateTalking, cti.AgentStateHold))
			Expect(query(ctx, ctl, f.pid, b.ID).AgentState).To(Equal(cti.AgentStateTalking))
			Expect(query(ctx, ctl, f.pid, c.ID).AgentState).To(Equal(cti.AgentStateTalking))
			for _, id := range []uint32{first, consult} {
				_, _ = ctl.Request(ctx, &cti.ClearCallReq{PeripheralID: f.pid, ConnectionCallID: id, ConnectionDeviceIDType: cti.ConnectionIDStatic,
					ConnectionDeviceID: b.Extension})
			}
		})

		It("[P7.4] CONFERENCE_CALL_REQ joins the held call and the consult call: CONF, then CALL_CONFERENCED; the parties leave with CLEAR_CONNECTION", func(ctx SpecContext) {
			a := f.take(scenarios.RoleBlended, 1)[0]
			in := f.take(scenarios.RoleInbound, 2)
			b, c := in[0], in[1]
			ctl := f.control(ctx, "p7-4-control")
			first := makeCall(ctx, ctl, f.pid, a, b)
			waitState(ctl, 0, b.ID, cti.AgentStateTalking)
			mark := len(ctl.Events())
			m, err := ctl.Request(ctx, &cti.ConsultationCallReq{PeripheralID: f.pid, ActiveConnectionCallID: first,
				ActiveConnectionDeviceIDType: cti.ConnectionIDStatic, ActiveConnectionDeviceID: a.Extension, AgentInstrument: a.Extension,
				DialedNumber: c.Extension, ConsultType: cti.ConsultType(2)})
			Expect(err).NotTo(HaveOccurred(), "CONSULTATION_CALL_REQ")
			consult := m.(*cti.ConsultationCallConf).NewConnectionCallID
			waitState(ctl, mark, c.ID, cti.AgentStateTalking)
			m, err = ctl.Request(ctx, &cti.ConferenceCallReq{PeripheralID: f.pid, ActiveConnectionCallID: consult, HeldConnectionCallID: first,
				ActiveConnectionDeviceIDType: cti.ConnectionIDStatic, HeldConnectionDeviceIDType: cti.ConnectionIDStatic,
				ActiveConnectionDeviceID: a.Extension, HeldConnectionDeviceID: a.Extension, AgentInstrument: a.Extension})
			Expect(err).NotTo(HaveOccurred(), "CONFERENCE_CALL_REQ")
			Expect(m).To(BeAssignableToTypeOf(&cti.ConferenceCallConf{}))
			// The conference goes on as the call CONFERENCE_CALL_CONF names.
			survivor := m.(*cti.ConferenceCallConf).NewConnectionCallID
			Expect(survivor).To(BeElementOf(first, consult))
			var conf *cti.CallConferencedEvent
			Eventually(func() *cti.CallConferencedEvent {
				for _, ev := range ctl.Events()[mark:] {
					if e, ok := ev.Msg.(*cti.CallConferencedEvent); ok {
						conf = e
					}
				}
				return conf
			}).WithTimeout(5*time.Second).WithPolling(20*time.Millisecond).ShouldNot(BeNil(), "CALL_CONFERENCED_EVENT")
			Expect([]uint32{conf.PrimaryCallID, conf.SecondaryCallID}).To(ContainElements(BeElementOf(first, consult)))
			Expect(int(conf.NumParties)).To(BeNumerically(">=", 3), "a conference of three")
			for _, dev := range []string{a.Extension, b.Extension, c.Extension} {
				_, _ = ctl.Request(ctx, &cti.ClearConnectionReq{PeripheralID: f.pid, ConnectionCallID: survivor,
					ConnectionDeviceIDType: cti.ConnectionIDStatic, ConnectionDeviceID: dev})
			}
			Eventually(func() []cti.MessageType { return callTypes(ctl.Events()[mark:], survivor) }).WithTimeout(5 * time.Second).
				WithPolling(20 * time.Millisecond).Should(ContainElement(cti.MsgEndCallEvent))
			Expect(callTypes(ctl.Events()[mark:], survivor)).To(ContainElement(cti.MsgCallConnectionClearedEvent))
		})

		It("[P7.5] call control requests the call's state does not allow are refused with CONTROL_FAILURE_CONF carrying their InvokeID", func(ctx SpecContext) {
			in := f.take(scenarios.RoleInbound, 1)[0] // AVAILABLE: MAKE_CALL needs NOT_READY
			nr := f.take(scenarios.RoleBlended, 1)[0]
			r, _ := f.rawOpen(ctx, "p7-5", 24, cti.ServiceClientControl, 1)
			for i, req := range []struct {
				what string
				m    cti.Message
			}{
				{"MAKE_CALL from an AVAILABLE agent", &cti.MakeCallReq{PeripheralID: f.pid, AgentInstrument: in.Extension, DialedNumber: nr.Extension}},
				{"HOLD without a call", &cti.HoldCallReq{PeripheralID: f.pid, ConnectionCallID: 0x7FFF0001, ConnectionDeviceID: nr.Extension, AgentInstrument: nr.Extension}},
				{"RETRIEVE without a held call", &cti.RetrieveCallReq{PeripheralID: f.pid, HeldConnectionCallID: 0x7FFF0001, HeldConnectionDeviceID: nr.Extension, AgentInstrument: nr.Extension}},
				{"CLEAR_CONNECTION of an unknown call", &cti.ClearConnectionReq{PeripheralID: f.pid, ConnectionCallID: 0x7FFF0001, ConnectionDeviceID: nr.Extension}},
				{"MAKE_CALL to an unknown number from an unknown device", &cti.MakeCallReq{PeripheralID: f.pid, AgentInstrument: "no-such-device", DialedNumber: nr.Extension}},
			} {
				inv := 0x7E750001 + uint32(i)
				req.m.(cti.InvokeIDer).SetInvokeID(inv)
				Expect(r.Send(req.m, 0)).To(Succeed())
				conf, _, err := r.Answer(5*time.Second, inv)
				Expect(err).NotTo(HaveOccurred(), "%s: no answer", req.what)
				Expect(conf.Type).To(Equal(cti.MsgControlFailureConf), "%s: answered %s", req.what, wire.Format(conf.Msg))
			}
		})
	})

	Context("configuration download", Label("config"), func() {
		It("[P8.1] CONFIG_REQUEST_KEY_EVENT is answered by CONFIG_KEY_EVENT", func(ctx SpecContext) {
			c := f.dial(ctx, "p8-1", 24, cti.ServiceAllEvents|cti.ServiceConfigEvents, func(r *cti.OpenReq) { r.ConfigMsgMask = 0xFF })
			Expect(c.Send(&cti.ConfigRequestKeyEvent{PeripheralID: f.pid})).To(Succeed())
			var key *cti.ConfigKeyEvent
			Eventually(func() *cti.ConfigKeyEvent {
				evs := c.Events()
				skipIfNotAvailable(evs, "CONFIG_REQUEST_KEY_EVENT")
				for _, ev := range evs {
					if k, ok := ev.Msg.(*cti.ConfigKeyEvent); ok {
						key = k
					}
				}
				return key
			}).WithTimeout(5*time.Second).WithPolling(20*time.Millisecond).ShouldNot(BeNil(), "CONFIG_KEY_EVENT")
			Expect(key.ConfigKeyStatus).To(BeZero(), "CONFIG_KEY_EVENT status SUCCESS")
		})

		It("[P8.2] CONFIG_REQUEST_EVENT is answered by CONFIG_BEGIN_EVENT, the skill groups, the agents and CONFIG_END_EVENT, in that order", func(ctx SpecContext) {
			c := f.dial(ctx, "p8-2", 24, cti.ServiceAllEvents|cti.ServiceConfigEvents, func(r *cti.OpenReq) { r.ConfigMsgMask = 0xFF })
			Expect(c.Send(&cti.ConfigRequestEvent{PeripheralID: f.pid, ConfigInformation: cti.ConfigInformation(0x2 | 0x4)})).To(Succeed())
			var seq []cti.MessageType
			Eventually(func() []cti.MessageType {
				evs := c.Events()
				skipIfNotAvailable(evs, "CONFIG_REQUEST_EVENT")
				seq = nil
				for _, ev := range evs {
					switch ev.Msg.MessageType() {
					case cti.MsgConfigBeginEvent, cti.MsgConfigSkillGroupEvent, cti.MsgConfigAgentEvent, cti.MsgConfigEndEvent:
						seq = append(seq, ev.Msg.MessageType())
					}
				}
				return seq
			}).WithTimeout(10*time.Second).WithPolling(20*time.Millisecond).Should(ContainElement(cti.MsgConfigEndEvent), "CONFIG_END_EVENT")
			Expect(seq[0]).To(Equal(cti.MsgConfigBeginEvent))
			Expect(seq[len(seq)-1]).To(Equal(cti.MsgConfigEndEvent))
			Expect(seq).To(ContainElement(cti.MsgConfigSkillGroupEvent))
			Expect(seq).To(ContainElement(cti.MsgConfigAgentEvent))
			lastSG := slices.Index(seq, cti.MsgConfigAgentEvent)
			Expect(slices.Contains(seq[lastSG:], cti.MsgConfigSkillGroupEvent)).To(BeFalse(), "skill groups before agents: %v", seq)
		})

		It("[P8.3] with AGENT_TEAM_CONFIG_MASK in CallMsgMask an ALL_EVENTS session gets AGENT_TEAM_CONFIG_EVENT for each team after OPEN_CONF", func(ctx SpecContext) {
			// The emulator forms one team per skill group that has agents,
			// its agents as members.
			teams := map[uint32]int{}
			for _, g := range f.sc.Agents {
				if !g.IsDefinedIn(scenarios.DefinedInICM) {
					continue
				}
				for _, sgNum := range g.SkillGroups {
					for _, sg := range f.sc.ICM.SkillGroups {
						if sg.Number == sgNum {
							teams[sg.ID] += g.Count
						}
					}
				}
			}
			c, err := wire.Dial(ctx, f.t.CTIAddr(), wire.Options{ClientID: "conformance-p8-3", Version: 24, Services: cti.ServiceAllEvents,
				PeripheralID: f.pid, KeepFrames: true,
				Customize: func(r *cti.OpenReq) { r.CallMsgMask |= cti.AgentTeamConfigMask }})
			Expect(err).NotTo(HaveOccurred())
			DeferCleanup(func() { _ = c.Close() })
			var got map[uint32]int
			Eventually(func(g Gomega) {
				got = map[uint32]int{}
				sawSystem := false
				for _, m := range decoded(c) {
					switch e := m.(type) {
					case *cti.SystemEvent:
						sawSystem = true
					case *cti.AgentTeamConfigEvent:
						g.Expect(sawSystem).To(BeFalse(), "AGENT_TEAM_CONFIG_EVENT after the SYSTEM_EVENT (the capture in §7 sends teams first)")
						g.Expect(e.ConfigOperation).To(BeEquivalentTo(1), "ConfigOperation of the initial team configuration")
						g.Expect(e.Agents).To(HaveLen(int(e.NumberOfAgents)))
						got[e.TeamID] += len(e.Agents)
					}
				}
				g.Expect(sawSystem).To(BeTrue())
				g.Expect(got).To(Equal(teams))
			}).WithTimeout(5 * time.Second).WithPolling(50 * time.Millisecond).Should(Succeed())
			// Without the mask bit: no team configuration.
			plain, err := wire.Dial(ctx, f.t.CTIAddr(), wire.Options{ClientID: "conformance-p8-3-plain", Version: 24, Services: cti.ServiceAllEvents,
				PeripheralID: f.pid, KeepFrames: true,
				Customize: func(r *cti.OpenReq) { r.CallMsgMask &^= cti.AgentTeamConfigMask }})
			Expect(err).NotTo(HaveOccurred())
			DeferCleanup(func() { _ = plain.Close() })
			Consistently(func() bool {
				for _, m := range decoded(plain) {
					if _, ok := m.(*cti.AgentTeamConfigEvent); ok {
						return true
					}
				}
				return false
			}).WithTimeout(500 * time.Millisecond).Should(BeFalse())
		})
	})

	Context("active/standby failover", Label("failover"), Ordered, func() {
		// Failing side A must not disturb the other protocol specs: the
		// in-process target gets a lab of its own with a standby side B.
		BeforeAll(func() {
			if protoFx == nil || !protoFx.own {
				return // a remote target: needFailover skips
			}
			ff, err := startProtocolLab(nil, true)
			Expect(err).NotTo(HaveOccurred(), "starting the failover lab")
			DeferCleanup(func() { _ = ff.close() })
			failoverFx = ff
		})
		BeforeEach(func() {
			if failoverFx != nil {
				f = failoverFx
			}
		})
		needFailover := func() {
			if !f.t.Capabilities().Failover {
				Skip("target " + f.t.Name() + " runs no standby CTI Server side B (capability Failover): the in-process lab cannot fail side A yet")
			}
		}

		It("[P9.1] the standby side opens PV24 ACTIVE_STANDBY sessions with SessionType 2 and refuses older clients with CTI_SERVER_OFFLINE", func(ctx SpecContext) {
			needFailover()
			r, conf := rawOpenAt(ctx, f, f.t.StandbyAddr(), "p9-1-standby", 24, cti.ServiceAllEvents|cti.ServiceActiveStandby, 0x9E910001)
			Expect(conf.Type).To(Equal(cti.MsgOpenConf), "PV24 ACTIVE_STANDBY client at the standby: %s", wire.Format(conf.Msg))
			Expect(conf.Msg.(*cti.OpenConf).SessionType).To(Equal(cti.SessionTypeStandby))
			_ = r
			_, conf = rawOpenAt(ctx, f, f.t.StandbyAddr(), "p9-1-old", 23, cti.ServiceAllEvents, 0x9E910002)
			Expect(conf.Msg).To(Equal(&cti.FailureConf{InvokeID: 0x9E910002, Status: cti.StatusCTIServerOffline}), "PV23 client at the standby")
			_, conf = rawOpenAt(ctx, f, f.t.CTIAddr(), "p9-1-active", 24, cti.ServiceAllEvents|cti.ServiceActiveStandby, 0x9E910003)
			Expect(conf.Msg.(*cti.OpenConf).SessionType).To(Equal(cti.SessionTypeActive))
		})

		It("[P9.2] when side A fails side B becomes active, and clients that reconnect to it find the agents in the states they had", func(ctx SpecContext) {
			needFailover()
			ags := f.take(scenarios.RoleBlended, 2)
			ctl := f.control(ctx, "p9-2-control")
			setState(ctx, ctl, f.pid, ags[0], cti.AgentStateAvailable, 0)
			setState(ctx, ctl, f.pid, ags[1], cti.AgentStateNotReady, 92)
			before := map[string]cti.AgentState{}
			for _, a := range ags {
				before[a.ID] = query(ctx, ctl, f.pid, a.ID).AgentState
			}
			standby, err := wire.Dial(ctx, f.t.StandbyAddr(), wire.Options{ClientID: "conformance-p9-2-standby", Version: 24,
				Services: cti.ServiceAllEvents | cti.ServiceActiveStandby, PeripheralID: f.pid, KeepFrames: true})
			Expect(err).NotTo(HaveOccurred())
			DeferCleanup(func() { _ = standby.Close() })
			Expect(standby.OpenConf().SessionType).To(Equal(cti.SessionTypeStandby))
			Expect(f.t.FailActive(ctx)).To(Succeed())
			Eventually(ctl.Done()).WithTimeout(10*time.Second).Should(BeClosed(), "side A's session after side A failed")
			Eventually(func() []cti.MessageType {
				var out []cti.MessageType
				for _, fr := range standby.Frames() {
					out = append(out, fr.Type)
				}
				return out
			}).WithTimeout(10*time.Second).WithPolling(50*time.Millisecond).Should(ContainElement(cti.MsgStandbyActiveEventMsg),
				"STANDBY_ACTIVE_EVENT on side B's session")
			again, err := wire.Dial(ctx, f.t.StandbyAddr(), wire.Options{ClientID: "conformance-p9-2-again", Version: 24,
				Services: cti.ServiceAllEvents | cti.ServiceClientControl | cti.ServiceActiveStandby, PeripheralID: f.pid})
			Expect(err).NotTo(HaveOccurred())
			DeferCleanup(func() { _ = again.Close() })
			Expect(again.OpenConf().SessionType).To(Equal(cti.SessionTypeActive))
			for _, a := range ags {
				Expect(query(ctx, again, f.pid, a.ID).AgentState).To(Equal(before[a.ID]), "agent %s after the failover", a.ID)
			}
		})
	})
})

// failoverFx is the failover specs' own lab (in-process targets only).
var failoverFx *protoFixture

// subsequence reports whether want occurs in got in order (not
// necessarily adjacent).
func subsequence(got []cti.MessageType, want ...cti.MessageType) bool {
	i := 0
	for _, t := range got {
		if i < len(want) && t == want[i] {
			i++
		}
	}
	return i == len(want)
}

// confFirst checks on the raw frames that the confirmation of type conf
// naming call id arrived before every event of that call (§5.7, §5.9(b)).
func confFirst(c *wire.Client, conf cti.MessageType, id uint32) {
	confAt, firstEvent := -1, -1
	for i, m := range decoded(c) {
		switch v := m.(type) {
		case *cti.MakeCallConf:
			if conf == cti.MsgMakeCallConf && v.NewConnectionCallID == id && confAt < 0 {
				confAt = i
			}
		case *cti.ConsultationCallConf:
			if conf == cti.MsgConsultationCallConf && v.NewConnectionCallID == id && confAt < 0 {
				confAt = i
			}
		case *cti.MakePredictiveCallConf:
			if conf == cti.MsgMakePredictiveCallConf && v.NewConnectionCallID == id && confAt < 0 {
				confAt = i
			}
		default:
			if cid, ok := callIDOf(m); ok && cid == id && firstEvent < 0 {
				firstEvent = i
			}
		}
	}
	Expect(confAt).To(BeNumerically(">=", 0), "no %v for call %d among the frames", conf, id)
	Expect(firstEvent).To(BeNumerically(">", confAt), "%v for call %d arrived after the call's first event (frame #%d, CONF #%d)", conf, id, firstEvent, confAt)
}

// rawOpenAt opens a raw session at addr and returns the answer to OPEN_REQ,
// whatever it is.
func rawOpenAt(ctx context.Context, f *protoFixture, addr, name string, pv cti.ProtocolVersion, services cti.ServiceMask, inv uint32) (*wire.Raw, wire.RawFrame) {
	r, err := wire.DialRaw(ctx, addr, "conformance-"+name, pv)
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(func() {
		if CurrentSpecReport().Failed() {
			AddReportEntry("CTI transcript "+r.Name, r.Transcript(), ReportEntryVisibilityFailureOrVerbose)
		}
		_ = r.Close()
	})
	req := openReq(pv, services, f.pid, "conformance-"+name)
	req.InvokeID = inv
	Expect(r.Send(req, pv)).To(Succeed())
	conf, _, err := r.Answer(5*time.Second, inv)
	Expect(err).NotTo(HaveOccurred())
	return r, conf
}
