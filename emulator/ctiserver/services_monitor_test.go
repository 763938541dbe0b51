package ctiserver_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/ipcclab/ipcclab/protocol/cti"
)

// openWith opens a session with the services requested and, through the
// test hook, granted (PERIPHERAL_MONITOR and CLIENT_MONITOR are not in
// open.go's grantable set yet), and drops what the open sent.
func (f *fixture) openWith(t *testing.T, pv cti.ProtocolVersion, client string, services cti.ServiceMask) *client {
	t.Helper()
	c := f.connect(t, pv)
	req := openReq(pv)
	req.ClientID = client
	req.ServicesRequested = services
	c.open(req)
	c.sess.GrantForTest(services)
	c.received()
	return c
}

const monitorOnly = cti.ServiceClientControl | cti.ServicePeripheralMonitor

func deviceMonitor(inv uint32, device string) *cti.MonitorStartReq {
	return &cti.MonitorStartReq{InvokeID: inv, PeripheralID: 5000, CallMsgMask: 0xFFFFFFFF, AgentStateMask: 0x3FFF,
		ConnectionDeviceIDType: cti.ConnectionIDNone, MonitoredDeviceType: cti.DevIDDeviceIdentifier, MonitoredDeviceID: device}
}

func callMonitor(inv, callID uint32) *cti.MonitorStartReq {
	return &cti.MonitorStartReq{InvokeID: inv, PeripheralID: 5000, ConnectionCallID: callID, CallMsgMask: 0xFFFFFFFF, AgentStateMask: 0x3FFF,
		ConnectionDeviceIDType: cti.ConnectionIDDynamic, MonitoredDeviceType: cti.DevIDNone}
}

// answer returns the only message received, failing otherwise.
func (c *client) answer() cti.Message {
	c.t.Helper()
	msgs := c.received()
	if len(msgs) != 1 {
		c.t.Fatalf("want one answer, got %d: %v", len(msgs), types(msgs))
	}
	return msgs[0]
}

func types(msgs []cti.Message) []string {
	out := make([]string, len(msgs))
	for i, m := range msgs {
		out[i] = m.MessageType().String()
	}
	return out
}

func (c *client) startMonitor(req *cti.MonitorStartReq) uint32 {
	c.t.Helper()
	c.send(req)
	conf, ok := c.answer().(*cti.MonitorStartConf)
	if !ok || conf.InvokeID != req.InvokeID || conf.MonitorID == 0 {
		c.t.Fatalf("MONITOR_START_CONF %+v", conf)
	}
	return conf.MonitorID
}

// eventFields gives the MonitorID of a call or agent event, its call and
// the devices it names.
func eventFields(m cti.Message) (monitorID, callID uint32, devs []string, ok bool) {
	switch e := m.(type) {
	case *cti.AgentStateEvent:
		return e.MonitorID, 0, []string{e.AgentInstrument}, true
	case *cti.BeginCallEvent:
		return e.MonitorID, e.ConnectionCallID, []string{e.ConnectionDeviceID}, true
	case *cti.EndCallEvent:
		return e.MonitorID, e.ConnectionCallID, []string{e.ConnectionDeviceID}, true
	case *cti.CallDeliveredEvent:
		return e.MonitorID, e.ConnectionCallID, []string{e.ConnectionDeviceID, e.AlertingDeviceID, e.CallingDeviceID, e.CalledDeviceID}, true
	case *cti.CallEstablishedEvent:
		return e.MonitorID, e.ConnectionCallID, []string{e.ConnectionDeviceID, e.AnsweringDeviceID, e.CallingDeviceID, e.CalledDeviceID}, true
	case *cti.CallOriginatedEvent:
		return e.MonitorID, e.ConnectionCallID, []string{e.ConnectionDeviceID, e.CallingDeviceID, e.CalledDeviceID}, true
	case *cti.CallClearedEvent:
		return e.MonitorID, e.ConnectionCallID, []string{e.ConnectionDeviceID}, true
	case *cti.CallConnectionClearedEvent:
		return e.MonitorID, e.ConnectionCallID, []string{e.ConnectionDeviceID, e.ReleasingDeviceID}, true
	case *cti.CallDataUpdateEvent:
		return e.MonitorID, e.ConnectionCallID, []string{e.ConnectionDeviceID}, true
	case *cti.CallFailedEvent:
		return e.MonitorID, e.ConnectionCallID, []string{e.ConnectionDeviceID}, true
	}
	return 0, 0, nil, false
}

// A device monitor gets exactly the events of its device — its agent's
// states and the calls at it, BEGIN_CALL first and END_CALL last — each with
// its MonitorID; the session gets nothing else (it has no ALL_EVENTS).
func TestDeviceMonitorGetsItsDeviceEvents(t *testing.T) {
	f := newFixture(t, 0)
	mon := f.openWith(t, 24, "dialer", monitorOnly)
	id := mon.startMonitor(deviceMonitor(1, "2201"))
	ctl := f.connect(t, 24)
	ctl.open(openReq(24))
	ctl.send(&cti.SetAgentStateReq{InvokeID: 2, PeripheralID: 5000, AgentID: "1001", AgentState: cti.AgentStateNotReady, EventReasonCode: 5})
	ctl.send(&cti.SetAgentStateReq{InvokeID: 3, PeripheralID: 5000, AgentID: "1201", AgentState: cti.AgentStateAvailable})
	ctl.send(&cti.MakePredictiveCallReq{InvokeID: 4, PeripheralID: 5000, OriginatingDeviceID: "2201", DialedNumber: "15550001"})
	f.loop.RunVirtual(f.loop.Now().Add(3 * time.Minute))
	var call uint32
	for _, m := range ctl.received() {
		if c, ok := m.(*cti.MakePredictiveCallConf); ok {
			call = c.NewConnectionCallID
		}
	}

	var calls []cti.MessageType
	var states []cti.AgentState
	for _, m := range mon.received() {
		mid, cid, _, ok := eventFields(m)
		if !ok {
			t.Fatalf("device monitor got %v", m.MessageType())
		}
		if mid != id {
			t.Fatalf("%v with MonitorID %d, want %d", m.MessageType(), mid, id)
		}
		if e, isAgent := m.(*cti.AgentStateEvent); isAgent {
			if e.AgentID != "1201" {
				t.Fatalf("monitor of 2201 got agent %s's state", e.AgentID)
			}
			states = append(states, e.AgentState)
			continue
		}
		if cid != call {
			t.Fatalf("%v of call %d; only call %d reached 2201", m.MessageType(), cid, call)
		}
		calls = append(calls, m.MessageType())
	}
	if len(states) == 0 || states[0] != cti.AgentStateAvailable {
		t.Fatalf("agent states at the monitor %v, want AVAILABLE first", states)
	}
	if len(calls) < 4 || calls[0] != cti.MsgBeginCallEvent || calls[len(calls)-1] != cti.MsgEndCallEvent {
		t.Fatalf("call events at the monitor %v: BEGIN_CALL must come first, END_CALL last", calls)
	}
}

// The monitor's masks select its events; CHANGE_MONITOR_MASK_REQ changes
// them; a session with ALL_EVENTS gets its MonitorID-0 copy besides.
func TestMonitorMasks(t *testing.T) {
	f := newFixture(t, 0)
	mon := f.openWith(t, 20, "bridge", cti.ServiceAllEvents|monitorOnly)
	req := deviceMonitor(1, "2201")
	req.CallMsgMask, req.AgentStateMask = 0, cti.AgentNotReadyMask
	id := mon.startMonitor(req)
	ctl := f.connect(t, 24)
	ctl.open(openReq(24))
	count := func(msgs []cti.Message) map[string]int {
		n := map[string]int{}
		for _, m := range msgs {
			if e, ok := m.(*cti.AgentStateEvent); ok && e.AgentID == "1201" {
				n[fmt.Sprintf("%v/%d", e.AgentState, e.MonitorID)]++
			}
		}
		return n
	}
	ctl.send(&cti.SetAgentStateReq{InvokeID: 2, PeripheralID: 5000, AgentID: "1201", AgentState: cti.AgentStateAvailable})
	ctl.send(&cti.SetAgentStateReq{InvokeID: 3, PeripheralID: 5000, AgentID: "1201", AgentState: cti.AgentStateNotReady, EventReasonCode: 9})
	got := count(mon.received())
	want := map[string]int{
		fmt.Sprintf("%v/0", cti.AgentStateAvailable): 1, fmt.Sprintf("%v/0", cti.AgentStateNotReady): 1,
		fmt.Sprintf("%v/%d", cti.AgentStateNotReady, id): 1,
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("agent events %v, want %v", got, want)
	}
	mon.send(&cti.ChangeMonitorMaskReq{InvokeID: 4, MonitorID: id, AgentStateMask: cti.AgentAvailableMask})
	if c, ok := mon.answer().(*cti.ChangeMonitorMaskConf); !ok || c.InvokeID != 4 {
		t.Fatalf("CHANGE_MONITOR_MASK answered %+v", c)
	}
	ctl.send(&cti.SetAgentStateReq{InvokeID: 5, PeripheralID: 5000, AgentID: "1201", AgentState: cti.AgentStateAvailable})
	got = count(mon.received())
	want = map[string]int{fmt.Sprintf("%v/0", cti.AgentStateAvailable): 1, fmt.Sprintf("%v/%d", cti.AgentStateAvailable, id): 1}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("after CHANGE_MONITOR_MASK: %v, want %v", got, want)
	}
}

// A call monitor gets exactly its call's events, BEGIN_CALL (stored) first,
// and dies with the call.
func TestCallMonitor(t *testing.T) {
	f := newFixture(t, 0)
	mon := f.openWith(t, 24, "dialer", monitorOnly)
	ctl := f.connect(t, 24)
	ctl.open(openReq(24))
	ctl.received()
	ctl.send(&cti.MakePredictiveCallReq{InvokeID: 1, PeripheralID: 5000, OriginatingDeviceID: "2201", DialedNumber: "15550002"})
	call := ctl.answer().(*cti.MakePredictiveCallConf).NewConnectionCallID
	f.loop.RunVirtual(f.loop.Now().Add(time.Millisecond))
	id := mon.startMonitor(callMonitor(2, call))
	// Another call and agent activity the monitor must not see.
	ctl.send(&cti.SetAgentStateReq{InvokeID: 3, PeripheralID: 5000, AgentID: "1001", AgentState: cti.AgentStateNotReady, EventReasonCode: 5})
	ctl.send(&cti.MakePredictiveCallReq{InvokeID: 4, PeripheralID: 5000, OriginatingDeviceID: "2001", DialedNumber: "15550003"})
	f.loop.RunVirtual(f.loop.Now().Add(3 * time.Minute))
	var seq []cti.MessageType
	for _, m := range mon.received() {
		mid, cid, _, ok := eventFields(m)
		if !ok || mid != id || cid != call {
			t.Fatalf("call monitor %d of call %d got %v (MonitorID %d, call %d)", id, call, m.MessageType(), mid, cid)
		}
		seq = append(seq, m.MessageType())
	}
	if len(seq) < 3 || seq[0] != cti.MsgBeginCallEvent || seq[len(seq)-1] != cti.MsgEndCallEvent {
		t.Fatalf("call monitor events %v", seq)
	}
	// §3.2: call monitors die with the call.
	mon.send(&cti.MonitorStopReq{InvokeID: 5, MonitorID: id})
	if fc, ok := mon.answer().(*cti.FailureConf); !ok || fc.InvokeID != 5 || fc.Status != cti.StatusInvalidMonitorID {
		t.Fatal("stopping the monitor of an ended call must fail with E_CTI_INVALID_MONITORID")
	}
}

func TestMonitorStopAndRefusals(t *testing.T) {
	f := newFixture(t, 0)
	mon := f.openWith(t, 24, "dialer", monitorOnly)
	id := mon.startMonitor(deviceMonitor(1, "2001"))
	mon.send(&cti.MonitorStopReq{InvokeID: 2, MonitorID: id})
	if c, ok := mon.answer().(*cti.MonitorStopConf); !ok || c.InvokeID != 2 {
		t.Fatal("MONITOR_STOP_REQ must get MONITOR_STOP_CONF")
	}
	ctl := f.connect(t, 24)
	ctl.open(openReq(24))
	ctl.send(&cti.SetAgentStateReq{InvokeID: 3, PeripheralID: 5000, AgentID: "1001", AgentState: cti.AgentStateNotReady, EventReasonCode: 5})
	if msgs := mon.received(); len(msgs) != 0 {
		t.Fatalf("a stopped monitor still delivers %v", types(msgs))
	}
	plain := f.openWith(t, 24, "plain", cti.ServiceAllEvents)
	neither := deviceMonitor(30, "")
	both := deviceMonitor(31, "2001")
	both.ConnectionCallID = 16777300
	badMask := deviceMonitor(32, "2002")
	badMask.AgentStateMask = 0x8000
	cases := []struct {
		name string
		c    *client
		req  cti.Message
		want cti.Status
	}{
		{"stop an unknown monitor", mon, &cti.MonitorStopReq{InvokeID: 10, MonitorID: id}, cti.StatusInvalidMonitorID},
		{"change an unknown monitor", mon, &cti.ChangeMonitorMaskReq{InvokeID: 11, MonitorID: 999}, cti.StatusInvalidMonitorID},
		{"unknown device", mon, deviceMonitor(12, "9999"), cti.StatusInvalidDevice},
		{"unknown call", mon, callMonitor(13, 16777300), cti.StatusInvalidCallID},
		{"neither call nor device", mon, neither, cti.StatusRequiredDataMissing},
		{"both call and device", mon, both, cti.StatusMutuallyExclusDeviceIDTypes},
		{"bad agent state mask", mon, badMask, cti.StatusInvalidAgentStateMask},
		{"without PERIPHERAL_MONITOR", plain, deviceMonitor(14, "2001"), cti.StatusFunctionNotAvailable},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.c.t = t
			tc.c.send(tc.req)
			fc, ok := tc.c.answer().(*cti.FailureConf)
			if !ok || fc.InvokeID != tc.req.(cti.InvokeIDer).GetInvokeID() || fc.Status != tc.want {
				t.Fatalf("got %+v, want FAILURE_CONF %v", fc, tc.want)
			}
		})
	}
	mon.t = t
	mon.startMonitor(deviceMonitor(20, "2002"))
	mon.send(deviceMonitor(21, "2002"))
	if fc, ok := mon.answer().(*cti.FailureConf); !ok || fc.Status != cti.StatusMonitorAlreadyExists {
		t.Fatal("a second monitor of the same device must fail with E_CTI_MONITOR_ALREADY_EXISTS")
	}
}
