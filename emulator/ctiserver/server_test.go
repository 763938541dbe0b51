package ctiserver_test

import (
	"bytes"
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

var epoch = time.Date(2026, 1, 5, 8, 0, 0, 0, time.UTC)

// fixture is a tiny centre (no generated traffic) behind a CTI Server.
type fixture struct {
	loop *sim.Loop
	cen  *centre.Centre
	srv  *ctiserver.Server
}

func newFixture(t *testing.T, perHour float64, edits ...func(*ctiserver.Config)) *fixture {
	t.Helper()
	loop := sim.NewLoop(epoch)
	var arrivals pstn.Profile
	if perHour > 0 {
		arrivals = pstn.Profile{PerHour: []float64{perHour}}
	}
	cfg := centre.Config{
		SkillGroups: []icm.SkillGroupConfig{{Number: 100, ID: 5100, Name: "Sales", ServiceLevelThreshold: 20 * time.Second, ServiceLevelType: 2}},
		CallTypes: []centre.CallType{{ID: 1, Name: "SalesIn", DialedNumber: "8005550100",
			Targets: []icm.Target{{SkillGroup: 100, Priority: 5}}, Arrivals: arrivals}},
		Agents: []centre.AgentGroup{
			{Name: "sales", Role: agents.RoleInbound, Count: 2, FirstAgentID: 1001, FirstExtension: 2001, SkillGroups: []uint32{100},
				AnswerDelay: pstn.Dist{Mean: time.Second}},
			{Name: "blended", Role: agents.RoleBlended, Count: 1, FirstAgentID: 1201, FirstExtension: 2201, SkillGroups: []uint32{100}},
		},
		Callers:  centre.Callers{Talk: pstn.Dist{Mean: 30 * time.Second}},
		Outbound: centre.Outbound{Enabled: true, Answer: 1, SetupDelay: pstn.Dist{Mean: time.Second}, RingTime: pstn.Dist{Mean: 2 * time.Second}, Talk: pstn.Dist{Mean: 20 * time.Second}},
	}
	cen, err := centre.New(cfg, loop, 1)
	if err != nil {
		t.Fatal(err)
	}
	scfg := ctiserver.DefaultConfig()
	for _, e := range edits {
		e(&scfg)
	}
	srv, err := ctiserver.New(scfg, loop, cen.PG(), cen.Router())
	if err != nil {
		t.Fatal(err)
	}
	cen.Subscribe(srv.PGEvent)
	cen.Start()
	loop.RunVirtual(epoch.Add(time.Second))
	return &fixture{loop: loop, cen: cen, srv: srv}
}

// client is a fake connection that records what the server sends.
type client struct {
	t      *testing.T
	pv     cti.ProtocolVersion
	sess   *ctiserver.Session
	frames [][]byte
	closed bool
}

func (c *client) Send(frame []byte) { c.frames = append(c.frames, append([]byte(nil), frame...)) }
func (c *client) Close()            { c.closed = true }

func (f *fixture) connect(t *testing.T, pv cti.ProtocolVersion) *client {
	c := &client{t: t, pv: pv}
	c.sess = f.srv.Accept(c, "test")
	return c
}

func (c *client) send(m cti.Message) {
	c.t.Helper()
	b, err := cti.AppendMessage(nil, m, c.pv)
	if err != nil {
		c.t.Fatal(err)
	}
	c.sess.Receive(b)
}

// received decodes and drops everything received so far.
func (c *client) received() []cti.Message {
	c.t.Helper()
	var out []cti.Message
	for _, f := range c.frames {
		m, err := cti.DecodeMessage(f, c.pv)
		if err != nil {
			c.t.Fatalf("server sent an undecodable frame % x: %v", f, err)
		}
		out = append(out, m)
	}
	c.frames = nil
	return out
}

func openReq(pv cti.ProtocolVersion) *cti.OpenReq {
	r := &cti.OpenReq{InvokeID: 7, VersionNumber: uint32(pv), IdleTimeout: 0xFFFFFFFF, PeripheralID: 0xFFFFFFFF,
		ServicesRequested: cti.ServiceAllEvents | cti.ServiceClientControl, CallMsgMask: 0xFFFFFFFF, AgentStateMask: 0x3FF,
		ClientID: "test", ClientPassword: []byte{}}
	r.SetPresent(cti.TagClientPassword)
	return r
}

func (c *client) open(req *cti.OpenReq) *cti.OpenConf {
	c.t.Helper()
	c.send(req)
	msgs := c.received()
	if len(msgs) == 0 {
		c.t.Fatal("no answer to OPEN_REQ")
	}
	conf, ok := msgs[0].(*cti.OpenConf)
	if !ok {
		c.t.Fatalf("OPEN_REQ answered with %T %+v", msgs[0], msgs[0])
	}
	return conf
}

func TestOpenAtEachVersionThenSystemEvent(t *testing.T) {
	for _, pv := range []cti.ProtocolVersion{13, 15, 19, 20, 24} {
		t.Run(fmt.Sprint("PV", pv), func(t *testing.T) {
			f := newFixture(t, 0)
			c := f.connect(t, pv)
			req := openReq(pv)
			req.CallMsgMask &^= cti.AgentTeamConfigMask // team configuration has its own tests
			c.send(req)
			if len(c.frames) != 2 {
				t.Fatalf("want OPEN_CONF and one SYSTEM_EVENT, got %d frames", len(c.frames))
			}
			// §3.1: OPEN_CONF fixed body 26 bytes below PV19, 30 for PV19-23, 32 from PV24.
			want := map[bool]int{true: 26}[pv < 19]
			switch {
			case pv >= 24:
				want = 32
			case pv >= 19:
				want = 30
			}
			var conf cti.OpenConf
			if got := conf.FixedSize(pv); got != want {
				t.Fatalf("OPEN_CONF fixed size %d, want %d", got, want)
			}
			msgs := c.received()
			oc := msgs[0].(*cti.OpenConf)
			if oc.InvokeID != 7 || oc.ServicesGranted != cti.ServiceAllEvents|cti.ServiceClientControl || !oc.PeripheralOnline || oc.AgentState != cti.AgentStateUnknown {
				t.Fatalf("OPEN_CONF %+v", oc)
			}
			se, ok := msgs[1].(*cti.SystemEvent)
			if !ok || se.SystemEventID != cti.SysPeripheralOnline || se.SystemEventArg1 != 5000 || se.EventDeviceType != cti.DevIDNone {
				t.Fatalf("after OPEN_CONF: %T %+v", msgs[1], msgs[1])
			}
		})
	}
}

func TestOpenRefusals(t *testing.T) {
	cases := []struct {
		name string
		edit func(*cti.OpenReq)
		want cti.Status
	}{
		{"version too old", func(r *cti.OpenReq) { r.VersionNumber = 12 }, cti.StatusInvalidVersion},
		{"version too new", func(r *cti.OpenReq) { r.VersionNumber = 26 }, cti.StatusInvalidVersion},
		{"no client ID", func(r *cti.OpenReq) { r.ClientID = "" }, cti.StatusRequiredDataMissing},
		{"idle timeout below 20 s", func(r *cti.OpenReq) { r.IdleTimeout = 19 }, cti.StatusInvalidTimeout},
		{"reserved field set", func(r *cti.OpenReq) { r.Reserved2 = 1 }, cti.StatusInvalidReservedField},
		{"unknown service bit", func(r *cti.OpenReq) { r.ServicesRequested |= 0x4000 }, cti.StatusInvalidServiceMask},
		{"unknown agent state mask bit", func(r *cti.OpenReq) { r.AgentStateMask |= 0x8000 }, cti.StatusInvalidAgentStateMask},
		{"unknown config mask bit", func(r *cti.OpenReq) { r.ConfigMsgMask = 0x400 }, cti.StatusInvalidConfigMsgMask},
		{"foreign peripheral", func(r *cti.OpenReq) { r.PeripheralID = 42 }, cti.StatusInvalidPeripheralID},
		{"nothing grantable", func(r *cti.OpenReq) { r.ServicesRequested = cti.ServiceSupervisor }, cti.StatusFunctionNotAvailable},
		{"CLIENT_EVENTS without a peripheral", func(r *cti.OpenReq) { r.ServicesRequested = cti.ServiceClientEvents; r.AgentExtension = "2001" }, cti.StatusRequiredDataMissing},
		{"CLIENT_EVENTS without an agent", func(r *cti.OpenReq) { r.ServicesRequested = cti.ServiceClientEvents; r.PeripheralID = 5000 }, cti.StatusRequiredDataMissing},
		{"CLIENT_EVENTS for an unknown agent", func(r *cti.OpenReq) {
			r.ServicesRequested, r.PeripheralID, r.AgentID = cti.ServiceClientEvents, 5000, "4242"
		}, cti.StatusInvalidAgentData},
		{"CLIENT_EVENTS with inconsistent agent data", func(r *cti.OpenReq) {
			r.ServicesRequested, r.PeripheralID, r.AgentID, r.AgentInstrument = cti.ServiceClientEvents, 5000, "1001", "2002"
		}, cti.StatusInconsistentAgentData},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, 0)
			c := f.connect(t, 24)
			req := openReq(24)
			tc.edit(req)
			if req.VersionNumber != 24 {
				c.pv = cti.ProtocolVersion(req.VersionNumber)
				if c.pv < 13 {
					c.pv = 13
				}
				if c.pv > 24 {
					c.pv = 24
				}
			}
			c.send(req)
			msgs := c.received()
			fc, ok := msgs[0].(*cti.FailureConf)
			if len(msgs) != 1 || !ok || fc.InvokeID != 7 || fc.Status != tc.want {
				t.Fatalf("want one FAILURE_CONF(7, %v), got %d messages, first %T %+v", tc.want, len(msgs), msgs[0], msgs[0])
			}
			if c.closed {
				t.Fatal("a refused OPEN_REQ must leave the connection for a corrected retry")
			}
			// The corrected retry opens the session.
			c.pv = 24
			c.open(openReq(24))
		})
	}
}

func TestRequestsBeforeAndAfterOpen(t *testing.T) {
	f := newFixture(t, 0)
	c := f.connect(t, 24)
	c.send(&cti.HeartbeatReq{InvokeID: 3})
	if fc, ok := c.received()[0].(*cti.FailureConf); !ok || fc.Status != cti.StatusSessionNotOpen || fc.InvokeID != 3 {
		t.Fatalf("heartbeat before OPEN: %+v", fc)
	}
	c.open(openReq(24))
	c.received()
	c.send(&cti.HeartbeatReq{InvokeID: 99})
	if hc, ok := c.received()[0].(*cti.HeartbeatConf); !ok || hc.InvokeID != 99 {
		t.Fatal("HEARTBEAT_CONF must echo the InvokeID")
	}
	c.send(openReq(24))
	if fc, ok := c.received()[0].(*cti.FailureConf); !ok || fc.Status != cti.StatusSessionAlreadyOpen {
		t.Fatal("second OPEN_REQ must be refused with E_CTI_SESSION_ALREADY_OPEN")
	}
	c.send(&cti.CloseReq{InvokeID: 5})
	if cc, ok := c.received()[0].(*cti.CloseConf); !ok || cc.InvokeID != 5 || !c.closed {
		t.Fatal("CLOSE_REQ must get CLOSE_CONF and close the connection")
	}
}

func TestIdleTimeout(t *testing.T) {
	f := newFixture(t, 0)
	short := f.connect(t, 24)
	req := openReq(24)
	req.IdleTimeout = 20
	short.open(req)
	forever := f.connect(t, 15)
	req = openReq(15)
	req.IdleTimeout = 0x7FFFFFFF // the CTI OS Server's "infinite" (§5.4)
	forever.open(req)

	// Traffic resets the timer.
	f.loop.RunVirtual(f.loop.Now().Add(15 * time.Second))
	short.send(&cti.HeartbeatReq{InvokeID: 1})
	f.loop.RunVirtual(f.loop.Now().Add(15 * time.Second))
	if short.closed {
		t.Fatal("closed although a heartbeat arrived within IdleTimeout")
	}
	f.loop.RunVirtual(f.loop.Now().Add(6 * time.Second))
	if !short.closed {
		t.Fatal("session silent beyond IdleTimeout was not closed")
	}
	f.loop.RunVirtual(f.loop.Now().Add(2 * time.Hour))
	if forever.closed {
		t.Fatal("a client that asked for no idle supervision was dropped")
	}
	if f.srv.Counters().IdleTimeouts != 1 {
		t.Fatalf("idle timeouts %d", f.srv.Counters().IdleTimeouts)
	}
}

func TestMalformedInput(t *testing.T) {
	f := newFixture(t, 0)
	bystander := f.connect(t, 24)
	bystander.open(openReq(24))

	// A frame whose MessageLength disagrees with its size cannot be
	// resynchronised: FAILURE_CONF, then close.
	bad := f.connect(t, 24)
	bad.sess.Receive([]byte{0, 0, 0, 0x40, 0, 0, 0, 3, 1, 2})
	if !bad.closed {
		t.Fatal("unframeable input did not close the connection")
	}
	// A well-framed but malformed request on an open session is refused and
	// the session stays up.
	c := f.connect(t, 24)
	c.open(openReq(24))
	c.received()
	frame := make([]byte, 8+6)
	binary.BigEndian.PutUint32(frame, 6)
	binary.BigEndian.PutUint32(frame[4:], uint32(cti.MsgSetAgentStateReq))
	binary.BigEndian.PutUint32(frame[8:], 0x0A0B0C0D)
	c.sess.Receive(frame)
	msgs := c.received()
	if fc, ok := msgs[0].(*cti.FailureConf); !ok || fc.InvokeID != 0x0A0B0C0D || fc.Status != cti.StatusInvalidMessageLength {
		t.Fatalf("truncated SET_AGENT_STATE_REQ: %T %+v", msgs[0], msgs[0])
	}
	if c.closed {
		t.Fatal("a malformed request must not end the session")
	}
	bystander.received()
	bystander.send(&cti.HeartbeatReq{InvokeID: 11})
	if hc, ok := bystander.received()[0].(*cti.HeartbeatConf); !ok || hc.InvokeID != 11 || bystander.closed {
		t.Fatal("another session was disturbed by malformed input")
	}
}

func TestMasksSelectEvents(t *testing.T) {
	f := newFixture(t, 0)
	all := f.connect(t, 24)
	all.open(openReq(24))
	only := f.connect(t, 20)
	req := openReq(20)
	req.AgentStateMask = cti.AgentAvailableMask
	req.CallMsgMask = 0
	only.open(req)
	all.received()
	only.received()

	ctl := f.connect(t, 24)
	ctl.open(openReq(24))
	ctl.received()
	ctl.send(&cti.SetAgentStateReq{InvokeID: 1, PeripheralID: 5000, AgentID: "1201", AgentState: cti.AgentStateAvailable})
	ctl.send(&cti.SetAgentStateReq{InvokeID: 2, PeripheralID: 5000, AgentID: "1201", AgentState: cti.AgentStateNotReady, EventReasonCode: 101})
	f.loop.RunVirtual(f.loop.Now().Add(time.Second))

	count := func(msgs []cti.Message) (avail, notReady int) {
		for _, m := range msgs {
			if e, ok := m.(*cti.AgentStateEvent); ok && e.AgentID == "1201" {
				switch e.AgentState {
				case cti.AgentStateAvailable:
					avail++
				case cti.AgentStateNotReady:
					notReady++
					if e.EventReasonCode != 101 {
						t.Errorf("NOT_READY reason %d, want 101", e.EventReasonCode)
					}
				}
			}
		}
		return
	}
	if a, n := count(all.received()); a != 1 || n != 1 {
		t.Fatalf("ALL_EVENTS session saw %d AVAILABLE, %d NOT_READY; want 1 and 1", a, n)
	}
	if a, n := count(only.received()); a != 1 || n != 0 {
		t.Fatalf("AgentStateMask=AVAILABLE session saw %d AVAILABLE, %d NOT_READY; want 1 and 0", a, n)
	}
	msgs := ctl.received()
	if c, ok := msgs[0].(*cti.SetAgentStateConf); !ok || c.InvokeID != 1 {
		t.Fatalf("first answer %T %+v", msgs[0], msgs[0])
	}
}

func TestControlNeedsAGrantAndFailuresCarryTheCode(t *testing.T) {
	f := newFixture(t, 0)
	mon := f.connect(t, 24)
	req := openReq(24)
	req.ServicesRequested = cti.ServiceAllEvents
	mon.open(req)
	mon.received()
	mon.send(&cti.SetAgentStateReq{InvokeID: 4, PeripheralID: 5000, AgentID: "1201", AgentState: cti.AgentStateAvailable})
	if fc, ok := mon.received()[0].(*cti.FailureConf); !ok || fc.InvokeID != 4 || fc.Status != cti.StatusFunctionNotAvailable {
		t.Fatal("control without CLIENT_CONTROL must be refused")
	}
	ctl := f.connect(t, 24)
	ctl.open(openReq(24))
	ctl.received()
	ctl.send(&cti.SetAgentStateReq{InvokeID: 5, PeripheralID: 5000, AgentID: "9999", AgentState: cti.AgentStateAvailable})
	if cf, ok := ctl.received()[0].(*cti.ControlFailureConf); !ok || cf.InvokeID != 5 || cf.FailureCode == 0 {
		t.Fatal("an unknown agent must get CONTROL_FAILURE_CONF with a failure code")
	}
	ctl.send(&cti.QueryAgentStateReq{InvokeID: 6, PeripheralID: 5000, AgentID: "1001"})
	qc, ok := ctl.received()[0].(*cti.QueryAgentStateConf)
	if !ok || qc.InvokeID != 6 || qc.AgentID != "1001" || len(qc.SkillGroups) != 1 || qc.SkillGroups[0].SkillGroupNumber != 100 {
		t.Fatalf("QUERY_AGENT_STATE_CONF %+v", qc)
	}
	ctl.send(&cti.QuerySkillGroupStatisticsReq{InvokeID: 8, PeripheralID: 5000, SkillGroupNumber: 100})
	sg, ok := ctl.received()[0].(*cti.QuerySkillGroupStatisticsConf)
	if !ok || sg.InvokeID != 8 || sg.SkillGroupID != 5100 || sg.AgentsLoggedOn != 3 {
		t.Fatalf("QUERY_SKILL_GROUP_STATISTICS_CONF %+v", sg)
	}
	ctl.send(&cti.QuerySkillGroupStatisticsReq{InvokeID: 9, PeripheralID: 5000, SkillGroupNumber: 999})
	if fc, ok := ctl.received()[0].(*cti.FailureConf); !ok || fc.Status != cti.StatusInvalidSkillGroup {
		t.Fatal("unknown skill group must be refused with E_CTI_INVALID_SKILL_GROUP")
	}
}

// §5.9(c): the MAKE_PREDICTIVE_CALL_CONF comes before the call's events, and
// the call runs BEGIN_CALL first ... END_CALL last.
func TestPredictiveCallConfirmationPrecedesItsEvents(t *testing.T) {
	f := newFixture(t, 0)
	c := f.connect(t, 24)
	c.open(openReq(24))
	c.received()
	c.send(&cti.MakePredictiveCallReq{InvokeID: 21, PeripheralID: 5000, OriginatingDeviceID: "2201", DialedNumber: "15550001"})
	f.loop.RunVirtual(f.loop.Now().Add(2 * time.Minute))
	msgs := c.received()
	conf, ok := msgs[0].(*cti.MakePredictiveCallConf)
	if !ok || conf.InvokeID != 21 {
		t.Fatalf("first answer %T %+v", msgs[0], msgs[0])
	}
	var seq []cti.MessageType
	for _, m := range msgs[1:] {
		switch e := m.(type) {
		case *cti.BeginCallEvent, *cti.EndCallEvent, *cti.CallEstablishedEvent, *cti.CallDeliveredEvent, *cti.CallOriginatedEvent, *cti.CallClearedEvent:
			seq = append(seq, e.MessageType())
		}
	}
	if len(seq) < 4 || seq[0] != cti.MsgBeginCallEvent || seq[len(seq)-1] != cti.MsgEndCallEvent {
		t.Fatalf("call events %v", seq)
	}
}

// FuzzServerSession feeds arbitrary bytes to a session as a TCP stream would
// deliver them: the server must never panic, must answer or close, and must
// keep serving another open session.
func FuzzServerSession(f *testing.F) {
	good, _ := cti.AppendMessage(nil, openReq(24), 24)
	hb, _ := cti.AppendMessage(nil, &cti.HeartbeatReq{InvokeID: 1}, 24)
	f.Add(append(append([]byte{}, good...), hb...))
	f.Add([]byte{0, 0, 0, 4, 0, 0, 0, 5, 0, 0, 0, 1})
	f.Add([]byte{0x7f, 0xff, 0xff, 0xff, 0, 0, 0, 3})
	f.Add(bytes.Repeat([]byte{0xff}, 64))
	f.Fuzz(func(t *testing.T, data []byte) {
		fx := newFixture(t, 0)
		bystander := fx.connect(t, 15)
		req := openReq(15)
		bystander.open(req)
		c := fx.connect(t, 24)
		r := bytes.NewReader(data)
		buf := make([]byte, 512)
		for !c.closed {
			mt, body, err := cti.ReadFrame(r, buf)
			if err != nil {
				if _, ok := err.(*cti.Error); ok {
					c.sess.FramingError(err)
				}
				break
			}
			frame := make([]byte, 8+len(body))
			binary.BigEndian.PutUint32(frame, uint32(len(body)))
			binary.BigEndian.PutUint32(frame[4:], uint32(mt))
			copy(frame[8:], body)
			c.sess.Receive(frame)
		}
		fx.loop.RunVirtual(fx.loop.Now().Add(time.Minute))
		bystander.received()
		bystander.send(&cti.HeartbeatReq{InvokeID: 77})
		msgs := bystander.received()
		found := false
		for _, m := range msgs {
			if hc, ok := m.(*cti.HeartbeatConf); ok && hc.InvokeID == 77 {
				found = true
			}
		}
		if !found || bystander.closed {
			t.Fatal("the other session stopped being served")
		}
	})
}

func deskReq(client, ext string, pv cti.ProtocolVersion) *cti.OpenReq {
	r := openReq(pv)
	r.ClientID = client
	r.ServicesRequested = cti.ServiceClientEvents | cti.ServiceClientControl
	r.PeripheralID = 5000
	r.AgentExtension = ext
	return r
}

// An agent desktop (CLIENT_EVENTS) session sees its own agent and the calls
// at its device, each event carrying its MonitorID, and controls its own
// agent without naming it.
func TestDesktopSessionSeesItsOwnAgentAndCalls(t *testing.T) {
	f := newFixture(t, 0)
	desk := f.connect(t, 24)
	conf := desk.open(deskReq("desktop-1201", "2201", 24))
	if conf.MonitorID == 0 || conf.AgentID != "1201" || conf.AgentInstrument != "2201" || conf.AgentState != cti.AgentStateNotReady || len(conf.Peripherals) != 0 {
		t.Fatalf("OPEN_CONF for a desktop %+v", conf)
	}
	desk.received()
	desk.send(&cti.SetAgentStateReq{InvokeID: 3, PeripheralID: 5000, AgentState: cti.AgentStateAvailable})
	other := f.connect(t, 24)
	other.open(openReq(24))
	other.send(&cti.SetAgentStateReq{InvokeID: 4, PeripheralID: 5000, AgentID: "1001", AgentState: cti.AgentStateNotReady, EventReasonCode: 7})
	other.send(&cti.MakePredictiveCallReq{InvokeID: 5, PeripheralID: 5000, OriginatingDeviceID: "2201", DialedNumber: "15550009"})
	f.loop.RunVirtual(f.loop.Now().Add(3 * time.Minute))
	msgs := desk.received()
	if c, ok := msgs[0].(*cti.SetAgentStateConf); !ok || c.InvokeID != 3 {
		t.Fatalf("first answer %T %+v", msgs[0], msgs[0])
	}
	var calls []cti.MessageType
	sawAvailable := false
	for _, m := range msgs[1:] {
		switch e := m.(type) {
		case *cti.AgentStateEvent:
			if e.AgentID != "1201" {
				t.Fatalf("desktop of 1201 got agent %s's state", e.AgentID)
			}
			if e.MonitorID != conf.MonitorID || e.SessionID != desk.sess.ID() {
				t.Fatalf("AGENT_STATE_EVENT MonitorID %d SessionID %d, want %d %d", e.MonitorID, e.SessionID, conf.MonitorID, desk.sess.ID())
			}
			sawAvailable = sawAvailable || e.AgentState == cti.AgentStateAvailable
		case *cti.BeginCallEvent:
			if e.MonitorID != conf.MonitorID {
				t.Fatalf("BEGIN_CALL MonitorID %d", e.MonitorID)
			}
			calls = append(calls, e.MessageType())
		case *cti.CallDeliveredEvent, *cti.CallEstablishedEvent, *cti.CallOriginatedEvent, *cti.CallClearedEvent, *cti.CallConnectionClearedEvent, *cti.EndCallEvent, *cti.CallFailedEvent:
			calls = append(calls, m.MessageType())
		}
	}
	if !sawAvailable {
		t.Fatal("the desktop did not see its agent go AVAILABLE")
	}
	if len(calls) < 3 || calls[0] != cti.MsgBeginCallEvent || calls[len(calls)-1] != cti.MsgEndCallEvent {
		t.Fatalf("call events at the desktop: %v (BEGIN_CALL must come first, END_CALL last)", calls)
	}
}

func TestDesktopDeviceInUseAndReplacement(t *testing.T) {
	f := newFixture(t, 0)
	first := f.connect(t, 24)
	first.open(deskReq("desk-a", "2001", 24))
	intruder := f.connect(t, 24)
	intruder.send(deskReq("desk-b", "2001", 24))
	if fc, ok := intruder.received()[0].(*cti.FailureConf); !ok || fc.Status != cti.StatusDeviceInUse {
		t.Fatal("a second client on a bound device must get E_CTI_DEVICE_IN_USE")
	}
	again := f.connect(t, 15)
	again.open(deskReq("desk-a", "2001", 15))
	msgs := first.received()
	if fe, ok := msgs[len(msgs)-1].(*cti.FailureEvent); !ok || fe.Status != cti.StatusNewSessionOpened || !first.closed {
		t.Fatalf("the replaced session must get FAILURE_EVENT E_CTI_NEW_SESSION_OPENED and be closed; got %T closed=%v", msgs[len(msgs)-1], first.closed)
	}
}

func TestClientAuthorisationAndReducedGrant(t *testing.T) {
	f := newFixture(t, 0, func(c *ctiserver.Config) {
		c.Clients = map[string]ctiserver.ClientAccess{"supervisor": {Password: "s3cret", AgentStateControlOnly: true}, "test": {}}
	})
	bad := f.connect(t, 24)
	req := openReq(24)
	req.ClientID, req.ClientPassword = "supervisor", []byte("wrong\x00")
	bad.send(req)
	if fc, ok := bad.received()[0].(*cti.FailureConf); !ok || fc.Status != cti.StatusInvalidPassword {
		t.Fatal("a wrong password must get E_CTI_INVALID_PASSWORD")
	}
	sup := f.connect(t, 24)
	req.ClientPassword = []byte("s3cret\x00") // trailing NUL as CTI OS sends it (§1.5)
	conf := sup.open(req)
	if conf.ServicesGranted != cti.ServiceAllEvents|cti.ServiceAgentStateControlOnly {
		t.Fatalf("granted %v, want ALL_EVENTS|AGENT_STATE_CONTROL_ONLY", conf.ServicesGranted)
	}
	sup.received()
	sup.send(&cti.SetAgentStateReq{InvokeID: 1, PeripheralID: 5000, AgentID: "1201", AgentState: cti.AgentStateAvailable})
	sup.send(&cti.MakePredictiveCallReq{InvokeID: 2, PeripheralID: 5000, OriginatingDeviceID: "2201", DialedNumber: "1555"})
	var gotConf, gotRefusal bool
	for _, m := range sup.received() {
		switch e := m.(type) {
		case *cti.SetAgentStateConf:
			gotConf = e.InvokeID == 1
		case *cti.FailureConf:
			gotRefusal = e.InvokeID == 2 && e.Status == cti.StatusFunctionNotAvailable
		}
	}
	if !gotConf || !gotRefusal {
		t.Fatalf("AGENT_STATE_CONTROL_ONLY: agent state allowed=%v, call control refused=%v", gotConf, gotRefusal)
	}
}

func TestShutdownSendsFailureEvent(t *testing.T) {
	f := newFixture(t, 0)
	c := f.connect(t, 24)
	c.open(openReq(24))
	c.received()
	f.srv.Shutdown()
	msgs := c.received()
	if fe, ok := msgs[0].(*cti.FailureEvent); !ok || fe.Status != cti.StatusCTIServerOffline || !c.closed {
		t.Fatal("shutdown must send FAILURE_EVENT E_CTI_CTI_SERVER_OFFLINE and close")
	}
}

// §5.7: a message type newer than the session's version is refused with
// E_CTI_INVALID_MSG_TYPE_FOR_VERSION, an unknown type with status 2; with
// CTI_SERVICE_IGNORE_CONF positive confirmations are not sent, failures are.
func TestVersionGatingAndIgnoreConf(t *testing.T) {
	f := newFixture(t, 0)
	c := f.connect(t, 15)
	req := openReq(15)
	req.ServicesRequested |= cti.ServiceIgnoreConf
	c.open(req)
	c.received()
	raw := func(mt uint32) []byte {
		b := make([]byte, 12)
		binary.BigEndian.PutUint32(b, 4)
		binary.BigEndian.PutUint32(b[4:], mt)
		binary.BigEndian.PutUint32(b[8:], 0x51)
		return b
	}
	var newer uint32
	for mt := cti.MessageType(1); mt < 400; mt++ {
		if since, ok := mt.Since(); ok && since > 15 {
			newer = uint32(mt)
			break
		}
	}
	if newer == 0 {
		t.Fatal("no message type newer than PV15 in the table")
	}
	c.sess.Receive(raw(newer))
	c.sess.Receive(raw(9999))
	c.send(&cti.SetAgentStateReq{InvokeID: 0x52, PeripheralID: 5000, AgentID: "1201", AgentState: cti.AgentStateAvailable})
	c.send(&cti.SetAgentStateReq{InvokeID: 0x53, PeripheralID: 5000, AgentID: "9999", AgentState: cti.AgentStateAvailable})
	c.send(&cti.HeartbeatReq{InvokeID: 0x54})
	var got []string
	for _, m := range c.received() {
		switch e := m.(type) {
		case *cti.FailureConf:
			got = append(got, fmt.Sprintf("FAILURE_CONF %#x %v", e.InvokeID, e.Status))
		case *cti.ControlFailureConf:
			got = append(got, fmt.Sprintf("CONTROL_FAILURE_CONF %#x", e.InvokeID))
		case *cti.SetAgentStateConf:
			got = append(got, "SET_AGENT_STATE_CONF")
		case *cti.HeartbeatConf:
			got = append(got, "HEARTBEAT_CONF")
		}
	}
	want := []string{
		fmt.Sprintf("FAILURE_CONF 0x51 %v", cti.StatusInvalidMsgTypeForVersion),
		fmt.Sprintf("FAILURE_CONF 0x51 %v", cti.StatusInvalidMessageLength),
		"CONTROL_FAILURE_CONF 0x53",
		"HEARTBEAT_CONF",
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("got %q\nwant %q", got, want)
	}
}

// A consultative transfer over CTI (ipcc-behaviour.md §3.4): customer on
// agent 1201, consult to agent 1001, transfer. The confirmations come first
// and the events follow the documented order.
func TestConsultativeTransferOverCTI(t *testing.T) {
	f := newFixture(t, 0)
	mon := f.connect(t, 24)
	mon.open(openReq(24))
	ctl := f.connect(t, 20)
	ctl.open(openReq(20))
	mon.received()
	ctl.received()
	ctl.send(&cti.MakePredictiveCallReq{InvokeID: 1, PeripheralID: 5000, OriginatingDeviceID: "2201", DialedNumber: "15550100"})
	f.loop.RunVirtual(f.loop.Now().Add(6 * time.Second))
	pc, ok := ctl.received()[0].(*cti.MakePredictiveCallConf)
	if !ok {
		t.Fatal("no MAKE_PREDICTIVE_CALL_CONF")
	}
	customer := pc.NewConnectionCallID
	ctl.send(&cti.ConsultationCallReq{InvokeID: 2, PeripheralID: 5000, ActiveConnectionCallID: customer, ActiveConnectionDeviceID: "2201",
		AgentInstrument: "2201", DialedNumber: "2001", ConsultType: 1})
	f.loop.RunVirtual(f.loop.Now().Add(4 * time.Second))
	msgs := ctl.received()
	cc, ok := msgs[0].(*cti.ConsultationCallConf)
	if !ok {
		t.Fatalf("consultation answered with %T %+v", msgs[0], msgs[0])
	}
	ctl.send(&cti.TransferCallReq{InvokeID: 3, PeripheralID: 5000, HeldConnectionCallID: customer, HeldConnectionDeviceID: "2201",
		ActiveConnectionCallID: cc.NewConnectionCallID, ActiveConnectionDeviceID: "2201", AgentInstrument: "2201"})
	f.loop.RunVirtual(f.loop.Now().Add(2 * time.Second))
	msgs = ctl.received()
	tc, ok := msgs[0].(*cti.TransferCallConf)
	if !ok || tc.InvokeID != 3 {
		t.Fatalf("transfer answered with %T %+v", msgs[0], msgs[0])
	}
	var seq []string
	for _, m := range mon.received() {
		switch e := m.(type) {
		case *cti.CallHeldEvent:
			seq = append(seq, "HELD")
		case *cti.CallServiceInitiatedEvent:
			seq = append(seq, "SERVICE_INITIATED")
		case *cti.CallTransferredEvent:
			seq = append(seq, "TRANSFERRED")
			if e.TransferringDeviceID != "2201" || len(e.ConnectedParties) == 0 {
				t.Errorf("CALL_TRANSFERRED %+v", e)
			}
		case *cti.CallDeliveredEvent:
			if e.AlertingDeviceID == "2001" {
				seq = append(seq, "DELIVERED@2001")
			}
		case *cti.CallEstablishedEvent:
			if e.AnsweringDeviceID == "2001" {
				seq = append(seq, "ESTABLISHED@2001")
			}
		}
	}
	want := []string{"HELD", "SERVICE_INITIATED", "DELIVERED@2001", "ESTABLISHED@2001", "TRANSFERRED"}
	if fmt.Sprint(seq) != fmt.Sprint(want) {
		t.Fatalf("event order %v, want %v", seq, want)
	}
	// Illegal call control gets CONTROL_FAILURE_CONF with the InvokeID.
	ctl.send(&cti.HoldCallReq{InvokeID: 4, PeripheralID: 5000, ConnectionCallID: 424242, AgentInstrument: "2201"})
	if cf, ok := ctl.received()[0].(*cti.ControlFailureConf); !ok || cf.InvokeID != 4 {
		t.Fatal("holding an unknown call must get CONTROL_FAILURE_CONF")
	}
}

// §5.10: the standby side accepts only PV24+ clients with
// CTI_SERVICE_ACTIVE_STANDBY, answers only session requests, reports
// SessionType 2 and sends no events until it is promoted.
func TestStandbySide(t *testing.T) {
	f := newFixture(t, 0, func(c *ctiserver.Config) { c.Standby = true })
	old := f.connect(t, 15)
	old.send(openReq(15))
	if fc, ok := old.received()[0].(*cti.FailureConf); !ok || fc.Status != cti.StatusCTIServerOffline {
		t.Fatal("a PV15 client must be refused by the standby with E_CTI_CTI_SERVER_OFFLINE")
	}
	plain := f.connect(t, 24)
	plain.send(openReq(24))
	if fc, ok := plain.received()[0].(*cti.FailureConf); !ok || fc.Status != cti.StatusInvalidClientForStandby {
		t.Fatal("a client without CTI_SERVICE_ACTIVE_STANDBY must be refused by the standby")
	}
	c := f.connect(t, 24)
	req := openReq(24)
	req.ServicesRequested |= cti.ServiceActiveStandby
	conf := c.open(req)
	if conf.SessionType != cti.SessionTypeStandby {
		t.Fatalf("SessionType %v on the standby", conf.SessionType)
	}
	c.received()
	c.send(&cti.HeartbeatReq{InvokeID: 1})
	c.send(&cti.SetAgentStateReq{InvokeID: 2, PeripheralID: 5000, AgentID: "1201", AgentState: cti.AgentStateAvailable})
	msgs := c.received()
	if _, ok := msgs[0].(*cti.HeartbeatConf); !ok {
		t.Fatal("the standby must answer heartbeats")
	}
	if fc, ok := msgs[1].(*cti.FailureConf); !ok || fc.Status != cti.StatusCTIServerOffline || fc.InvokeID != 2 {
		t.Fatal("the standby must refuse control with E_CTI_CTI_SERVER_OFFLINE")
	}
	f.srv.Promote()
	msgs = c.received()
	if raw, ok := msgs[0].(*cti.RawMessage); !ok || raw.Type != 277 {
		t.Fatalf("promotion must send STANDBY_ACTIVE_EVENT, got %T", msgs[0])
	}
	c.send(&cti.SetAgentStateReq{InvokeID: 3, PeripheralID: 5000, AgentID: "1201", AgentState: cti.AgentStateAvailable})
	f.loop.RunVirtual(f.loop.Now().Add(time.Second))
	sawConf, sawEvent := false, false
	for _, m := range c.received() {
		switch m.(type) {
		case *cti.SetAgentStateConf:
			sawConf = true
		case *cti.AgentStateEvent:
			sawEvent = true
		}
	}
	if !sawConf || !sawEvent {
		t.Fatalf("after promotion the side serves control (%v) and events (%v)", sawConf, sawEvent)
	}
}

// §5.2: SUPERVISOR on the desktop of an agent who is not a supervisor is
// refused with E_CTI_FUNCTION_NOT_AVAILABLE; the team's primary supervisor
// (the first agent of the skill group's team) may ask for it.
func TestSupervisorServiceNeedsASupervisor(t *testing.T) {
	f := newFixture(t, 0)
	agent := f.connect(t, 24)
	req := deskReq("desk-1002", "2002", 24)
	req.ServicesRequested |= cti.ServiceSupervisor
	agent.send(req)
	if fc, ok := agent.received()[0].(*cti.FailureConf); !ok || fc.Status != cti.StatusFunctionNotAvailable {
		t.Fatal("SUPERVISOR for a plain agent must be refused with E_CTI_FUNCTION_NOT_AVAILABLE")
	}
	// A bridge asks for SUPERVISOR too (the §7 CTI OS Server does) and is
	// not refused for it.
	bridge := f.connect(t, 24)
	breq := openReq(24)
	breq.ServicesRequested |= cti.ServiceSupervisor
	bridge.open(breq)
	sup := f.connect(t, 24)
	sreq := deskReq("desk-1001", "2001", 24)
	sreq.ServicesRequested |= cti.ServiceSupervisor
	conf := sup.open(sreq)
	if conf.ServicesGranted&cti.ServiceClientEvents == 0 {
		t.Fatalf("the team supervisor's desktop did not open: %v", conf.ServicesGranted)
	}
}

// §5.10: after a switchover, ALL_EVENTS clients rebuild call state from the
// calls' BEGIN_CALL and CALL_ESTABLISHED/CALL_DELIVERED events carrying
// CEC_CALL_PARTY_UPDATE_IND.
func TestPromotionReplaysLiveCalls(t *testing.T) {
	f := newFixture(t, 0, func(c *ctiserver.Config) { c.Standby = true })
	id, err := f.cen.PG().MakePredictiveCall(pg.PredictiveCallRequest{DialedNumber: "15550123", OriginatingDevice: "2201"})
	if err != nil {
		t.Fatal(err)
	}
	f.loop.RunVirtual(f.loop.Now().Add(6 * time.Second)) // the customer answers, the agent talks
	c := f.connect(t, 24)
	req := openReq(24)
	req.ServicesRequested |= cti.ServiceActiveStandby
	c.open(req)
	c.received()
	f.srv.Promote()
	msgs := c.received()
	var begin, established int
	for _, m := range msgs {
		switch e := m.(type) {
		case *cti.BeginCallEvent:
			if e.ConnectionCallID == id {
				begin++
			}
		case *cti.CallEstablishedEvent:
			if e.ConnectionCallID == id {
				if e.EventCause != cti.CECCallPartyUpdateInd {
					t.Errorf("replayed CALL_ESTABLISHED cause %v", e.EventCause)
				}
				established++
			}
		}
	}
	if begin != 1 || established < 2 {
		t.Fatalf("replay of call %d: %d BEGIN_CALL, %d CALL_ESTABLISHED (want 1 and one per connected party)", id, begin, established)
	}
}
