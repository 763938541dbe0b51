package ctiserver_test

import (
	"encoding/binary"
	"fmt"
	"testing"
	"time"

	"github.com/ipcclab/ipcclab/emulator/agents"
	"github.com/ipcclab/ipcclab/emulator/centre"
	"github.com/ipcclab/ipcclab/emulator/ctiserver"
	"github.com/ipcclab/ipcclab/emulator/icm"
	"github.com/ipcclab/ipcclab/emulator/pg"
	"github.com/ipcclab/ipcclab/emulator/pstn"
	"github.com/ipcclab/ipcclab/internal/sim"
	"github.com/ipcclab/ipcclab/protocol/cti"
)

// newPortFixture is a centre with two dialer ports (3001, 3002) and one
// campaign agent in ICM (1201 at 2201, Not Ready after login) behind a CTI
// Server; customers answer after 3 s and talk 20 s once connected.
func newPortFixture(t *testing.T) *fixture {
	t.Helper()
	loop := sim.NewLoop(epoch)
	cen, err := centre.New(centre.Config{
		SkillGroups: []icm.SkillGroupConfig{{Number: 100, ID: 5100, Name: "Sales", ServiceLevelThreshold: 20 * time.Second, ServiceLevelType: 2}},
		Agents: []centre.AgentGroup{{Name: "campaign", Role: agents.RoleBlended, Count: 1, FirstAgentID: 1201, FirstExtension: 2201,
			SkillGroups: []uint32{100}, WrapUp: pstn.Dist{Mean: 5 * time.Second}, WrapUpOutgoing: true}},
		DialerPorts: []string{"3001", "3002"},
		Outbound: centre.Outbound{Enabled: true, Answer: 1, SetupDelay: pstn.Dist{Mean: time.Second},
			RingTime: pstn.Dist{Mean: 2 * time.Second}, Talk: pstn.Dist{Mean: 20 * time.Second}},
	}, loop, 1)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := ctiserver.New(ctiserver.DefaultConfig(), loop, cen.PG(), cen.Router())
	if err != nil {
		t.Fatal(err)
	}
	cen.Subscribe(srv.PGEvent)
	cen.Start()
	loop.RunVirtual(epoch.Add(time.Second))
	return &fixture{loop: loop, cen: cen, srv: srv}
}

// dialPort has the dialer place a predictive call from a port; the customer
// answers and waits on the port.
func (f *fixture) dialPort(t *testing.T, c *client, inv uint32, port, number string) uint32 {
	t.Helper()
	c.send(&cti.MakePredictiveCallReq{InvokeID: inv, PeripheralID: 5000, OriginatingDeviceID: port, DialedNumber: number})
	f.loop.RunVirtual(f.loop.Now().Add(4 * time.Second))
	conf, ok := c.received()[0].(*cti.MakePredictiveCallConf)
	if !ok {
		t.Fatal("no MAKE_PREDICTIVE_CALL_CONF")
	}
	if ci, ok := f.cen.PG().Call(conf.NewConnectionCallID); !ok || ci.Line != port || ci.Phase != "connected" {
		t.Fatalf("customer not waiting on port %s: %+v", port, ci)
	}
	return conf.NewConnectionCallID
}

// singleStepBytes encodes TRANSFER_CALL_REQ in its single-step form from a
// port and checks the fixed part: HeldConnectionCallID 0xFFFFFFFF and
// HeldConnectionDeviceIDType CONNECTION_ID_NONE.
func singleStepBytes(t *testing.T, pv cti.ProtocolVersion, inv, callID uint32, port, target string) []byte {
	t.Helper()
	b, err := cti.AppendMessage(nil, &cti.TransferCallReq{InvokeID: inv, PeripheralID: 5000,
		ActiveConnectionCallID: callID, HeldConnectionCallID: 0xFFFFFFFF,
		ActiveConnectionDeviceIDType: cti.ConnectionIDStatic, HeldConnectionDeviceIDType: cti.ConnectionIDNone,
		ActiveConnectionDeviceID: port, AgentInstrument: port, DialedNumber: target}, pv)
	if err != nil {
		t.Fatal(err)
	}
	// MHDR (length, type 64), InvokeID, PeripheralID, ActiveConnectionCallID,
	// HeldConnectionCallID, ActiveConnectionDeviceIDType, HeldConnectionDeviceIDType.
	if binary.BigEndian.Uint32(b[4:]) != 64 || binary.BigEndian.Uint32(b[16:]) != callID ||
		binary.BigEndian.Uint32(b[20:]) != 0xFFFFFFFF || binary.BigEndian.Uint16(b[26:]) != 0xFFFF {
		t.Fatalf("TRANSFER_CALL_REQ bytes % x", b[:28])
	}
	return b
}

// TestTransferFromDialerPortOverCTI: the dialer moves the customer from its
// port to the campaign agent with a single-step TRANSFER_CALL_REQ:
// TRANSFER_CALL_CONF first (the agent's new connection, two parties), then
// CALL_DELIVERED and CALL_ESTABLISHED at the agent, CALL_TRANSFERRED and
// AGENT_STATE TALKING (Direction 7). Transferring to the now busy agent
// fails with CF_RESOURCE_BUSY and leaves the customer on the port, where
// the dialer clears it with CLEAR_CONNECTION by the port.
func TestTransferFromDialerPortOverCTI(t *testing.T) {
	for _, pv := range []cti.ProtocolVersion{15, 24} {
		t.Run(fmt.Sprint("PV", pv), func(t *testing.T) {
			f := newPortFixture(t)
			c := f.connect(t, pv)
			c.open(openReq(pv))
			c.received()
			id := f.dialPort(t, c, 1, "3001", "15550100")
			c.sess.Receive(singleStepBytes(t, pv, 2, id, "3001", "2201"))
			f.loop.RunVirtual(f.loop.Now())
			msgs := c.received()
			conf, ok := msgs[0].(*cti.TransferCallConf)
			if !ok || conf.InvokeID != 2 || conf.NewConnectionCallID != id || conf.NewConnectionDeviceID != "2201" ||
				conf.NewConnectionDeviceIDType != cti.ConnectionIDStatic || len(conf.ConnectedParties) != 2 ||
				conf.ConnectedParties[0].ConnectedPartyDeviceID != "15550100" || conf.ConnectedParties[1].ConnectedPartyDeviceID != "2201" {
				t.Fatalf("first answer %T %+v", msgs[0], msgs[0])
			}
			var seq []string
			for _, m := range msgs[1:] {
				switch e := m.(type) {
				case *cti.CallDeliveredEvent:
					seq = append(seq, fmt.Sprintf("DELIVERED %d@%s calling=%s", e.ConnectionCallID, e.AlertingDeviceID, e.CallingDeviceID))
				case *cti.CallEstablishedEvent:
					seq = append(seq, fmt.Sprintf("ESTABLISHED %d@%s", e.ConnectionCallID, e.AnsweringDeviceID))
				case *cti.CallTransferredEvent:
					seq = append(seq, fmt.Sprintf("TRANSFERRED %d@%s→%s cause=%d parties=%d", e.PrimaryCallID, e.TransferringDeviceID,
						e.TransferredDeviceID, e.EventCause, len(e.ConnectedParties)))
				case *cti.AgentStateEvent:
					seq = append(seq, fmt.Sprintf("AGENT_STATE %s %s dir=%d", e.AgentID, e.AgentState, e.Direction))
				default:
					seq = append(seq, m.MessageType().String())
				}
			}
			n := fmt.Sprint(id)
			dir := 7
			if pv < 16 {
				dir = 0 // Direction is PV16+
			}
			want := []string{"DELIVERED " + n + "@2201 calling=15550100", "ESTABLISHED " + n + "@2201",
				"TRANSFERRED " + n + "@3001→2201 cause=32 parties=2", fmt.Sprintf("AGENT_STATE 1201 %s dir=%d", cti.AgentState(pg.StateTalking), dir)}
			if fmt.Sprint(seq) != fmt.Sprint(want) {
				t.Fatalf("events\n%v\nwant\n%v", seq, want)
			}

			// The agent is busy now: a second customer stays on its port.
			id2 := f.dialPort(t, c, 3, "3002", "15550101")
			c.sess.Receive(singleStepBytes(t, pv, 4, id2, "3002", "2201"))
			f.loop.RunVirtual(f.loop.Now())
			msgs = c.received()
			if cf, ok := msgs[0].(*cti.ControlFailureConf); !ok || cf.InvokeID != 4 || cf.FailureCode != cti.ControlFailureCode(pg.CFResourceBusy) || len(msgs) != 1 {
				t.Fatalf("transfer to a busy agent answered %T %+v (%d messages)", msgs[0], msgs[0], len(msgs))
			}
			if ci, _ := f.cen.PG().Call(id2); ci.Line != "3002" {
				t.Fatalf("customer left the port: %+v", ci)
			}
			c.send(&cti.ClearConnectionReq{InvokeID: 5, PeripheralID: 5000, ConnectionCallID: id2,
				ConnectionDeviceIDType: cti.ConnectionIDStatic, ConnectionDeviceID: "3002"})
			f.loop.RunVirtual(f.loop.Now())
			seq = nil
			for _, m := range c.received() {
				seq = append(seq, m.MessageType().String())
			}
			if fmt.Sprint(seq) != "[CLEAR_CONNECTION_CONF CALL_CONNECTION_CLEARED_EVENT CALL_CLEARED_EVENT END_CALL_EVENT]" {
				t.Fatalf("clearing the port: %v", seq)
			}
			// The transferred customer talks its 20 s, then the agent
			// wraps up and is back Not Ready.
			f.loop.RunVirtual(f.loop.Now().Add(time.Minute))
			if st, _ := f.cen.PG().QueryAgentState(pg.AgentSelector{AgentID: "1201"}); st.State != pg.StateNotReady || st.CallID != 0 {
				t.Fatalf("agent after the call %+v", st)
			}
			if s := f.cen.PSTN().Stats(); s.Connected != 1 || s.Dropped != 1 {
				t.Fatalf("pstn %+v", s)
			}
		})
	}
}
