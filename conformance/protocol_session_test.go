package conformance

import (
	"encoding/binary"
	"fmt"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/ipcclab/ipcclab/conformance/wire"
	"github.com/ipcclab/ipcclab/protocol/cti"
	"github.com/ipcclab/ipcclab/scenarios"
)

// The CTI protocol as the reference describes it (cti-protocol.md), checked
// on the wire against the protocol target (a quiet in-process lab, see
// protocol_fixture_test.go). Every spec names, in the registry, the section
// it proves.
var _ = Describe("CTI protocol: sessions", Label("protocol"), func() {
	var f *protoFixture
	BeforeEach(func() {
		if protoFx == nil {
			Skip("the protocol target did not start")
		}
		f = protoFx
	})

	Context("opening and closing", Label("session"), func() {
		It("[P1.1] OPEN_CONF echoes the InvokeID and an ALL_EVENTS session then gets one SYSTEM_EVENT per peripheral, with MonitorID 0", func(ctx SpecContext) {
			r, conf := f.rawOpen(ctx, "p1-1", 24, cti.ServiceAllEvents, 0xA11E0001)
			oc := conf.Msg.(*cti.OpenConf)
			Expect(oc.InvokeID).To(Equal(uint32(0xA11E0001)))
			Expect(oc.ServicesGranted & cti.ServiceAllEvents).NotTo(BeZero())
			Expect(oc.MonitorID).To(BeZero(), "an ALL_EVENTS session creates no monitor")
			Expect(oc.AgentState).To(Equal(cti.AgentStateUnknown), "AgentState is meaningful for CLIENT_EVENTS only")
			peripherals := []uint32{f.pid}
			if len(oc.Peripherals) > 0 {
				peripherals = nil
				for _, p := range oc.Peripherals {
					peripherals = append(peripherals, p.FltPeripheralID)
				}
			}
			var got []uint32
			for range peripherals {
				fr, err := r.Next(5 * time.Second)
				Expect(err).NotTo(HaveOccurred(), "SYSTEM_EVENT after OPEN_CONF")
				se, ok := fr.Msg.(*cti.SystemEvent)
				Expect(ok).To(BeTrue(), "the first messages after OPEN_CONF are one SYSTEM_EVENT per peripheral, got %v", fr.Type)
				Expect(se.SystemEventID).To(BeElementOf(cti.SysPeripheralOnline, cti.SysPeripheralOffline))
				Expect(se.EventDeviceType).To(Equal(cti.DevIDNone))
				got = append(got, se.SystemEventArg1)
			}
			Expect(got).To(ConsistOf(peripherals))
		})

		It("[P1.2] CLOSE_REQ is answered by CLOSE_CONF with its InvokeID, then the server closes the connection", func(ctx SpecContext) {
			r, _ := f.rawOpen(ctx, "p1-2", 24, cti.ServiceClientControl, 7)
			Expect(r.Send(&cti.CloseReq{InvokeID: 0xC105E, Status: cti.StatusNoError}, 0)).To(Succeed())
			conf, _, err := r.Answer(5*time.Second, 0xC105E)
			Expect(err).NotTo(HaveOccurred())
			Expect(conf.Type).To(Equal(cti.MsgCloseConf))
			_, err = r.Closed(5 * time.Second)
			Expect(err).NotTo(HaveOccurred(), "the server did not close the connection after CLOSE_CONF")
		})

		It("[P1.3] a CLIENT_EVENTS desktop gets a MonitorID in OPEN_CONF and in every event, its SessionID in AGENT_STATE_EVENT, and only its agent's events and the calls at its device, each from BEGIN_CALL to END_CALL", func(ctx SpecContext) {
			ags := f.take(scenarios.RoleBlended, 2)
			in := f.take(scenarios.RoleInbound, 2)
			me, other := ags[0], ags[1]
			ctl := f.control(ctx, "p1-3-control")
			desk := f.dial(ctx, "p1-3-desk", 24, cti.ServiceClientEvents|cti.ServiceClientControl, func(r *cti.OpenReq) {
				r.AgentExtension = me.Extension
				r.SetPresent(cti.TagAgentExtension)
			})
			oc := desk.OpenConf()
			Expect(oc.MonitorID).NotTo(BeZero(), "OPEN_CONF MonitorID of a CLIENT_EVENTS session")
			Expect(oc.AgentID).To(Equal(me.ID))
			Expect(oc.AgentExtension).To(Equal(me.Extension))
			Expect(oc.AgentState).To(Equal(query(ctx, ctl, f.pid, me.ID).AgentState), "OPEN_CONF AgentState")

			// Somebody else's agent and call: not for this desktop.
			setState(ctx, ctl, f.pid, other, cti.AgentStateNotReady, 77)
			mc, err := ctl.Request(ctx, &cti.MakeCallReq{PeripheralID: f.pid, AgentInstrument: other.Extension, DialedNumber: in[1].Extension})
			Expect(err).NotTo(HaveOccurred())
			otherCall := mc.(*cti.MakeCallConf).NewConnectionCallID
			// Its own agent's call.
			mc, err = ctl.Request(ctx, &cti.MakeCallReq{PeripheralID: f.pid, AgentInstrument: me.Extension, DialedNumber: in[0].Extension})
			Expect(err).NotTo(HaveOccurred())
			myCall := mc.(*cti.MakeCallConf).NewConnectionCallID
			waitState(ctl, 0, in[0].ID, cti.AgentStateTalking)
			waitState(ctl, 0, in[1].ID, cti.AgentStateTalking)
			for _, c := range []struct {
				id  uint32
				dev string
			}{{myCall, me.Extension}, {otherCall, other.Extension}} {
				_, err = ctl.Request(ctx, &cti.ClearConnectionReq{PeripheralID: f.pid, ConnectionCallID: c.id,
					ConnectionDeviceIDType: cti.ConnectionIDStatic, ConnectionDeviceID: c.dev})
				Expect(err).NotTo(HaveOccurred())
			}
			Eventually(func() []cti.MessageType { return callTypes(desk.Events(), myCall) }).WithTimeout(5 * time.Second).
				WithPolling(20 * time.Millisecond).Should(ContainElement(cti.MsgEndCallEvent))
			// The other call has ended everywhere too.
			Eventually(func() []cti.MessageType { return callTypes(ctl.Events(), otherCall) }).WithTimeout(5 * time.Second).
				WithPolling(20 * time.Millisecond).Should(ContainElement(cti.MsgEndCallEvent))

			evs := desk.Events()
			types := callTypes(evs, myCall)
			Expect(types[0]).To(Equal(cti.MsgBeginCallEvent), "first event of the desktop's call")
			Expect(types[len(types)-1]).To(Equal(cti.MsgEndCallEvent), "last event of the desktop's call")
			Expect(types).To(ContainElements(cti.MsgCallDeliveredEvent, cti.MsgCallEstablishedEvent))
			Expect(callTypes(evs, otherCall)).To(BeEmpty(), "events of a call at another agent's device")
			sawAgent := false
			for _, ev := range evs {
				switch e := ev.Msg.(type) {
				case *cti.AgentStateEvent:
					Expect(e.AgentID).To(Equal(me.ID), "AGENT_STATE_EVENT of another agent")
					Expect(e.MonitorID).To(Equal(oc.MonitorID), "AGENT_STATE_EVENT MonitorID")
					Expect(e.SessionID).NotTo(BeZero(), "AGENT_STATE_EVENT SessionID of a desktop session")
					sawAgent = true
				case *cti.SystemEvent:
				default:
					if _, ok := callIDOf(ev.Msg); ok {
						Expect(binary.BigEndian.Uint32(monitorOf(ev.Msg))).To(Equal(oc.MonitorID), "%v MonitorID", ev.Msg.MessageType())
					}
				}
			}
			Expect(sawAgent).To(BeTrue(), "the desktop saw no AGENT_STATE_EVENT of its agent (TALKING on its call)")
		})
	})

	Context("heartbeat and idle timeout", Label("heartbeat"), func() {
		It("[P2.1] HEARTBEAT_REQ is answered by HEARTBEAT_CONF with the same InvokeID, at PV15 and PV24", func(ctx SpecContext) {
			for _, pv := range []cti.ProtocolVersion{15, 24} {
				r, _ := f.rawOpen(ctx, fmt.Sprintf("p2-1-pv%d", pv), pv, cti.ServiceClientControl, 1)
				for _, inv := range []uint32{0xBEA70001, 0xBEA70002, 0x00000003} {
					Expect(r.Send(&cti.HeartbeatReq{InvokeID: inv}, 0)).To(Succeed())
					conf, _, err := r.Answer(5*time.Second, inv)
					Expect(err).NotTo(HaveOccurred(), "HEARTBEAT_CONF %#x at PV%d", inv, pv)
					Expect(conf.Type).To(Equal(cti.MsgHeartbeatConf))
				}
			}
		})

		It("[P2.2] the server closes a session that sends nothing once its IdleTimeout of 20 s has passed, and keeps a heartbeating one and one with IdleTimeout 0xFFFFFFFF", func(ctx SpecContext) {
			p := &f.idle
			Expect(p.startErr).NotTo(HaveOccurred(), "opening the idle-timeout probes")
			Eventually(func() time.Time {
				p.mu.Lock()
				defer p.mu.Unlock()
				return p.closedAt
			}).WithTimeout(time.Until(p.openedAt.Add(30*time.Second))).WithPolling(100*time.Millisecond).ShouldNot(BeZero(),
				"the silent session with IdleTimeout 20 was not closed")
			p.mu.Lock()
			closedAt, err := p.closedAt, p.closeErr
			p.mu.Unlock()
			Expect(err).NotTo(HaveOccurred(), "the silent session")
			after := closedAt.Sub(p.openedAt)
			evidence("silent session closed %.1fs after OPEN_CONF", after.Seconds())
			Expect(after).To(BeNumerically(">=", 19500*time.Millisecond), "closed before its IdleTimeout")
			Expect(after).To(BeNumerically("<=", 25*time.Second), "closed long after its IdleTimeout")
			Expect(p.beating.Err()).NotTo(HaveOccurred(), "the heartbeating session with IdleTimeout 20 was closed")
			_, err = p.beating.Request(ctx, &cti.HeartbeatReq{})
			Expect(err).NotTo(HaveOccurred())
			Expect(p.infinite.Send(&cti.HeartbeatReq{InvokeID: 0x1F1F}, 0)).To(Succeed())
			conf, _, err := p.infinite.Answer(5*time.Second, 0x1F1F)
			Expect(err).NotTo(HaveOccurred(), "the silent session with IdleTimeout 0xFFFFFFFF no longer answers")
			Expect(conf.Type).To(Equal(cti.MsgHeartbeatConf))
		})
	})

	Context("versions and layouts", Label("versions"), func() {
		It("[P4.1] every version from 13 to 25 is accepted; OPEN_CONF's fixed part is 26 bytes below PV19, 30 for PV19-23 and 32 from PV24, floating tags 1 byte wide below PV20 and 2 from PV20", func(ctx SpecContext) {
			for pv := cti.ProtocolVersion(13); pv <= 25; pv++ {
				_, conf := f.rawOpen(ctx, fmt.Sprintf("p4-1-pv%d", pv), pv, cti.ServiceAllEvents, 0x0E000000+uint32(pv))
				fixed := openConfFixed(pv)
				tags, err := wire.Floats(conf.Body, fixed, pv)
				Expect(err).NotTo(HaveOccurred(), "PV%d OPEN_CONF of %d bytes: the floating part does not start at offset %d", pv, len(conf.Body), fixed)
				if pv >= 14 {
					Expect(tags).NotTo(BeEmpty(), "PV%d OPEN_CONF floating part (NumPeripherals, PV14+)", pv)
				}
				for _, t := range tags {
					Expect(t).To(BeElementOf(cti.Tag(4), cti.Tag(5), cti.Tag(6), cti.Tag(228), cti.Tag(208), cti.Tag(224)), "PV%d OPEN_CONF floating tag", pv)
				}
				oc := conf.Msg.(*cti.OpenConf)
				if pv >= 24 {
					Expect(oc.SessionType).To(Equal(cti.SessionTypeActive), "PV%d OPEN_CONF SessionType of the active side", pv)
				}
			}
		})

		It("[P4.2] AGENT_STATE_EVENT's fixed part is 58 bytes below PV19 and 62 from PV19, with the same agent, state and reason at every version", func(ctx SpecContext) {
			a := f.take(scenarios.RoleBlended, 1)[0]
			ctl := f.control(ctx, "p4-2-control")
			var sessions []*wire.Client
			for _, pv := range []cti.ProtocolVersion{13, 15, 18, 19, 20, 23, 24, 25} {
				sessions = append(sessions, f.dial(ctx, fmt.Sprintf("p4-2-pv%d", pv), pv, cti.ServiceAllEvents, nil))
			}
			setState(ctx, ctl, f.pid, a, cti.AgentStateNotReady, 4242)
			for _, c := range sessions {
				e := waitState(c, 0, a.ID, cti.AgentStateNotReady)
				Expect(e.EventReasonCode).To(Equal(uint16(4242)), "PV%d reason", c.Version())
				found := false
				for _, fr := range c.Frames() {
					if fr.Type != cti.MsgAgentStateEvent {
						continue
					}
					m, err := cti.DecodeBody(fr.Type, fr.Body, c.Version())
					if err != nil || m.(*cti.AgentStateEvent).AgentID != a.ID {
						continue
					}
					found = true
					fixed := 58
					if c.Version() >= 19 {
						fixed = 62
					}
					tags, err := wire.Floats(fr.Body, fixed, c.Version())
					Expect(err).NotTo(HaveOccurred(), "PV%d AGENT_STATE_EVENT of %d bytes: no floating part at offset %d", c.Version(), len(fr.Body), fixed)
					Expect(tags).To(ContainElement(cti.Tag(5)), "PV%d AGENT_STATE_EVENT AgentID tag", c.Version())
				}
				Expect(found).To(BeTrue())
			}
		})
	})
})

// openConfFixed is OPEN_CONF's fixed body size at pv (§3.1).
func openConfFixed(pv cti.ProtocolVersion) int {
	switch {
	case pv >= 24:
		return 32
	case pv >= 19:
		return 30
	}
	return 26
}

// monitorOf returns the encoded MonitorID (first four body bytes) of an
// event.
func monitorOf(m cti.Message) []byte {
	b, err := cti.AppendMessage(nil, m, 24)
	if err != nil || len(b) < cti.HeaderSize+4 {
		return []byte{0xFF, 0xFF, 0xFF, 0xFF}
	}
	return b[cti.HeaderSize : cti.HeaderSize+4]
}
