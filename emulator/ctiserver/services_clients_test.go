package ctiserver_test

import (
	"testing"
	"time"

	"github.com/ipcclab/ipcclab/protocol/cti"
)

// After REGISTER_VARIABLES_REQ a session gets only the registered call and
// ECC variables, in events and in SNAPSHOT_CALL_CONF; other sessions still
// get all of them.
func TestRegisterVariables(t *testing.T) {
	f := newFixture(t, 0)
	reg := f.openWith(t, 24, "reg", cti.ServiceAllEvents|cti.ServiceClientControl)
	all := f.openWith(t, 20, "all", cti.ServiceAllEvents)
	desk := f.connect(t, 24)
	desk.open(deskReq("desk", "2201", 24))
	desk.received()
	for _, c := range []*client{reg, desk} {
		c.send(&cti.RegisterVariablesReq{InvokeID: 1, CallVariableMask: cti.CallVar1Mask | cti.CallVar10Mask,
			NamedVariables: []cti.NamedVar{{Name: "user.a"}}})
		if rc, ok := c.answer().(*cti.RegisterVariablesConf); !ok || rc.InvokeID != 1 {
			t.Fatalf("REGISTER_VARIABLES_REQ answered %+v", rc)
		}
	}
	reg.send(&cti.MakePredictiveCallReq{InvokeID: 2, PeripheralID: 5000, OriginatingDeviceID: "2201", DialedNumber: "15550001",
		CallVariable1: "one", CallVariable2: "two", CallVariable10: "ten",
		NamedVariables: []cti.NamedVar{{Name: "user.a", Value: "A"}, {Name: "user.b", Value: "B"}}})
	f.loop.RunVirtual(f.loop.Now().Add(10 * time.Second))
	check := func(who string, msgs []cti.Message, wantCV2 string, wantNamed int) uint32 {
		t.Helper()
		var call uint32
		n := 0
		for _, m := range msgs {
			switch e := m.(type) {
			case *cti.BeginCallEvent:
				call = e.ConnectionCallID
				n++
				if e.CallVariable1 != "one" || e.CallVariable2 != wantCV2 || e.CallVariable10 != "ten" || len(e.NamedVariables) != wantNamed || e.NamedVariables[0].Value != "A" {
					t.Fatalf("%s: BEGIN_CALL %+v", who, e)
				}
			case *cti.CallDeliveredEvent:
				n++
				if e.CallVariable2 != wantCV2 || len(e.NamedVariables) != wantNamed {
					t.Fatalf("%s: CALL_DELIVERED %+v", who, e)
				}
			}
		}
		if n < 2 {
			t.Fatalf("%s saw %d BEGIN_CALL/CALL_DELIVERED", who, n)
		}
		return call
	}
	call := check("registered bridge", reg.received(), "", 1)
	check("registered desktop", desk.received(), "", 1)
	check("unregistered bridge", all.received(), "two", 2)
	reg.send(&cti.SnapshotCallReq{InvokeID: 3, ConnectionCallID: call, ConnectionDeviceID: "15550001"})
	if sc, ok := reg.answer().(*cti.SnapshotCallConf); !ok || sc.CallVariable1 != "one" || sc.CallVariable2 != "" || len(sc.NamedVariables) != 1 {
		t.Fatalf("registered snapshot %+v", sc)
	}
	reg.send(&cti.RegisterVariablesReq{InvokeID: 4, CallVariableMask: 0x400})
	if fc, ok := reg.answer().(*cti.FailureConf); !ok || fc.InvokeID != 4 || fc.Status != cti.StatusInvalidCallVariableMask {
		t.Fatal("a CallVariableMask beyond CallVariable10 must fail with E_CTI_INVALID_CALL_VARIABLE_MASK")
	}
}

// CLIENT_MONITOR sessions learn of the sessions already open, and of every
// other session that opens or closes, with the reason.
func TestClientSessionOpenedAndClosed(t *testing.T) {
	f := newFixture(t, 0)
	early := f.openWith(t, 24, "early", cti.ServiceAllEvents)
	mon := f.connect(t, 24)
	req := openReq(24)
	req.ClientID, req.ServicesRequested = "monitor", cti.ServiceAllEvents|cti.ServiceClientMonitor
	mon.send(req)
	msgs := mon.received()
	// (handleOpen runs the open hook itself once it is wired in; then this
	// is a no-op.)
	mon.sess.GrantForTest(cti.ServiceClientMonitor)
	msgs = append(msgs, mon.received()...)
	// The sessions opened before the monitor.
	var opened []*cti.ClientSessionOpenedEvent
	for _, m := range msgs {
		if e, ok := m.(*cti.ClientSessionOpenedEvent); ok {
			opened = append(opened, e)
		}
	}
	if len(opened) != 1 || opened[0].SessionID != early.sess.ID() || opened[0].ClientID != "early" ||
		opened[0].ServicesGranted&cti.ServiceAllEvents == 0 || opened[0].PeripheralID != 5000 {
		t.Fatalf("OPENED for the earlier session: %v", types(msgs))
	}
	if msgs := early.received(); len(msgs) != 0 {
		t.Fatalf("a session without CLIENT_MONITOR got %v", types(msgs))
	}
	desk := f.connect(t, 15)
	desk.open(deskReq("desk-1201", "2201", 15))
	desk.sess.GrantForTest(0)
	e, ok := mon.answer().(*cti.ClientSessionOpenedEvent)
	if !ok || e.SessionID != desk.sess.ID() || e.ClientID != "desk-1201" || e.AgentID != "1201" || e.AgentInstrument != "2201" ||
		e.AgentExtension != "2201" || e.ServicesGranted&cti.ServiceClientEvents == 0 || e.ClientAddress != "test" {
		t.Fatalf("OPENED for the desktop: %+v", e)
	}
	cases := []struct {
		name  string
		close func()
		c     *client
		want  cti.Status
	}{
		{"CLOSE_REQ", func() { desk.send(&cti.CloseReq{InvokeID: 1}) }, desk, cti.StatusNoError},
		{"peer gone", func() { early.sess.Closed() }, early, cti.StatusClientDisconnected},
	}
	for _, tc := range cases {
		id := tc.c.sess.ID()
		tc.close()
		cl, ok := mon.answer().(*cti.ClientSessionClosedEvent)
		if !ok || cl.SessionID != id || cl.Status != tc.want || cl.ClientID == "" {
			t.Fatalf("%s: CLOSED %+v, want session %d status %v", tc.name, cl, id, tc.want)
		}
	}
	idle := f.connect(t, 24)
	req = openReq(24)
	req.IdleTimeout = 20
	idle.open(req)
	idle.sess.GrantForTest(0)
	mon.received()
	f.loop.RunVirtual(f.loop.Now().Add(21 * time.Second))
	if cl, ok := mon.answer().(*cti.ClientSessionClosedEvent); !ok || cl.SessionID != idle.sess.ID() || cl.Status != cti.StatusTimeout {
		t.Fatalf("idle timeout: CLOSED %+v", cl)
	}
}

func TestSessionMonitor(t *testing.T) {
	f := newFixture(t, 0)
	mon := f.openWith(t, 24, "monitor", cti.ServiceAllEvents|cti.ServiceClientMonitor)
	other := f.openWith(t, 24, "other", cti.ServiceAllEvents)
	mon.received()
	mon.send(&cti.SessionMonitorStartReq{InvokeID: 1, SessionID: other.sess.ID()})
	sc, ok := mon.answer().(*cti.SessionMonitorStartConf)
	if !ok || sc.InvokeID != 1 || sc.MonitorID == 0 {
		t.Fatalf("SESSION_MONITOR_START_CONF %+v", sc)
	}
	cases := []struct {
		name string
		c    *client
		req  cti.Message
		want cti.Status
	}{
		{"twice", mon, &cti.SessionMonitorStartReq{InvokeID: 2, SessionID: other.sess.ID()}, cti.StatusSessionMonitorAlreadyExists},
		{"itself", mon, &cti.SessionMonitorStartReq{InvokeID: 3, SessionID: mon.sess.ID()}, cti.StatusSessionMonitorIsClients},
		{"unknown session", mon, &cti.SessionMonitorStartReq{InvokeID: 4, SessionID: 999}, cti.StatusClientNotFound},
		{"stop unknown", mon, &cti.SessionMonitorStopReq{InvokeID: 5, MonitorID: 999}, cti.StatusInvalidMonitorID},
		{"without CLIENT_MONITOR", other, &cti.SessionMonitorStartReq{InvokeID: 6, SessionID: mon.sess.ID()}, cti.StatusFunctionNotAvailable},
	}
	for _, tc := range cases {
		tc.c.send(tc.req)
		if fc, ok := tc.c.answer().(*cti.FailureConf); !ok || fc.InvokeID != tc.req.(cti.InvokeIDer).GetInvokeID() || fc.Status != tc.want {
			t.Fatalf("%s: %+v, want %v", tc.name, fc, tc.want)
		}
	}
	mon.send(&cti.SessionMonitorStopReq{InvokeID: 7, MonitorID: sc.MonitorID})
	if c, ok := mon.answer().(*cti.SessionMonitorStopConf); !ok || c.InvokeID != 7 {
		t.Fatal("SESSION_MONITOR_STOP_REQ must get its CONF")
	}
	// A monitor of a session that closes ends with it.
	mon.send(&cti.SessionMonitorStartReq{InvokeID: 8, SessionID: other.sess.ID()})
	id := mon.answer().(*cti.SessionMonitorStartConf).MonitorID
	other.sess.Closed()
	mon.received()
	mon.send(&cti.SessionMonitorStopReq{InvokeID: 9, MonitorID: id})
	if fc, ok := mon.answer().(*cti.FailureConf); !ok || fc.Status != cti.StatusInvalidMonitorID {
		t.Fatal("the monitor of a closed session must be gone")
	}
}

func TestUserMessages(t *testing.T) {
	f := newFixture(t, 0)
	sender := f.openWith(t, 24, "sender", cti.ServiceAllEvents)
	bridge := f.openWith(t, 15, "bridge", cti.ServiceAllEvents)
	var desks []*client
	for _, d := range []struct{ client, ext string }{{"desk-1001", "2001"}, {"desk-1002", "2002"}, {"desk-1201", "2201"}} {
		c := f.connect(t, 24)
		c.open(deskReq(d.client, d.ext, 24))
		c.received()
		desks = append(desks, c)
	}
	everyone := append([]*client{sender, bridge}, desks...)
	names := map[*client]string{sender: "sender", bridge: "bridge", desks[0]: "desk-1001", desks[1]: "desk-1002", desks[2]: "desk-1201"}
	cases := []struct {
		name string
		from *client
		req  *cti.UserMessageReq
		want []*client
	}{
		{"to a client", sender, &cti.UserMessageReq{Distribution: cti.DistributeToClient, ClientID: "bridge"}, []*client{bridge}},
		{"to an agent", sender, &cti.UserMessageReq{Distribution: cti.DistributeToClient, AgentID: "1002"}, []*client{desks[1]}},
		{"to an instrument", sender, &cti.UserMessageReq{Distribution: cti.DistributeToClient, AgentInstrument: "2201"}, []*client{desks[2]}},
		{"to all", sender, &cti.UserMessageReq{Distribution: cti.DistributeToAll}, []*client{bridge, desks[0], desks[1], desks[2]}},
		// One team (skill group 100: 1001, 1002, 1201); 1001 is its primary supervisor.
		{"to the team", desks[2], &cti.UserMessageReq{Distribution: cti.DistributeToTeam}, []*client{desks[0], desks[1]}},
		{"to the supervisor", desks[2], &cti.UserMessageReq{Distribution: cti.DistributeToSupervisor}, []*client{desks[0]}},
	}
	for i, tc := range cases {
		tc.req.InvokeID, tc.req.PeripheralID, tc.req.Text = uint32(100+i), 5000, tc.name
		tc.from.send(tc.req)
		for _, c := range everyone {
			var texts []string
			var conf bool
			for _, m := range c.received() {
				switch e := m.(type) {
				case *cti.UserMessageEvent:
					if e.ClientID != names[tc.from] || e.Distribution != tc.req.Distribution {
						t.Errorf("%s: event %+v", tc.name, e)
					}
					texts = append(texts, e.Text)
				case *cti.UserMessageConf:
					conf = c == tc.from && e.InvokeID == tc.req.InvokeID
				}
			}
			wanted := false
			for _, w := range tc.want {
				wanted = wanted || w == c
			}
			if wanted != (len(texts) == 1 && texts[0] == tc.name) || (!wanted && len(texts) != 0) {
				t.Errorf("%s: session %d got %q (addressed: %v)", tc.name, c.sess.ID(), texts, wanted)
			}
			if c == tc.from && !conf {
				t.Errorf("%s: no USER_MESSAGE_CONF", tc.name)
			}
		}
	}
	refusals := []struct {
		name string
		from *client
		req  *cti.UserMessageReq
		want cti.Status
	}{
		{"unknown client", sender, &cti.UserMessageReq{Distribution: cti.DistributeToClient, ClientID: "nobody"}, cti.StatusClientNotFound},
		{"no address", sender, &cti.UserMessageReq{Distribution: cti.DistributeToClient}, cti.StatusRequiredDataMissing},
		{"team of no agent", sender, &cti.UserMessageReq{Distribution: cti.DistributeToTeam}, cti.StatusTeamNotFound},
		{"supervisor to itself", desks[0], &cti.UserMessageReq{Distribution: cti.DistributeToSupervisor}, cti.StatusSupervisorNotFound},
		{"bad distribution", sender, &cti.UserMessageReq{Distribution: 9}, cti.StatusInvalidDistributionType},
	}
	for i, tc := range refusals {
		tc.req.InvokeID, tc.req.PeripheralID, tc.req.Text = uint32(200+i), 5000, "x"
		tc.from.send(tc.req)
		if fc, ok := tc.from.answer().(*cti.FailureConf); !ok || fc.InvokeID != tc.req.InvokeID || fc.Status != tc.want {
			t.Errorf("%s: %+v, want FAILURE_CONF %v", tc.name, fc, tc.want)
		}
	}
}
