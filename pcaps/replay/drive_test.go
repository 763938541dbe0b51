package replay

import (
	"strings"
	"testing"
	"time"

	"github.com/ipcclab/ipcclab/protocol/cti"
)

// dialScript is a small client-role script: the client opens, places a
// call (the server names it 500), sees it originate, clears it, and the
// call ends.
func dialScript(t testing.TB) Script {
	return newScript(t, "dial").
		client(0, openReq(1)).
		server(1, openConf(1)).
		client(10, &cti.MakePredictiveCallReq{InvokeID: 2, PeripheralID: 5000, OriginatingDeviceID: "2301", DialedNumber: "15550001"}).
		server(11, &cti.MakePredictiveCallConf{InvokeID: 2, NewConnectionCallID: 500, NewConnectionDeviceID: "2301"}).
		server(20, originated(500)).
		client(40, &cti.ClearCallReq{InvokeID: 3, PeripheralID: 5000, ConnectionCallID: 500, ConnectionDeviceID: "2301"}).
		server(41, &cti.ClearCallConf{InvokeID: 3}).
		server(50, endCall(500)).
		script()
}

func originated(call uint32) *cti.CallOriginatedEvent {
	return &cti.CallOriginatedEvent{PeripheralID: 5000, ConnectionCallID: call, ConnectionDeviceID: "2301", CallingDeviceID: "2301", CalledDeviceID: "15550001"}
}

func endCall(call uint32) *cti.EndCallEvent {
	return &cti.EndCallEvent{PeripheralID: 5000, ConnectionCallID: call, ConnectionDeviceID: "2301"}
}

// fakeServer plays a CTI Server that names the call newCall; each hook,
// when set, replaces one answer.
type fakeServer struct {
	newCall uint32
	// onMake answers the MAKE_PREDICTIVE_CALL_REQ; false ends the server.
	onMake    func(p *peer, req *cti.MakePredictiveCallReq) bool
	onClear   func(p *peer, req *cti.ClearCallReq)
	afterDial func(p *peer)
	cleared   uint32 // the ConnectionCallID the CLEAR_CALL_REQ named
}

func (f *fakeServer) run(p *peer) {
	open, _ := p.expect(cti.MsgOpenReq).(*cti.OpenReq)
	if open == nil {
		return
	}
	p.send(openConf(open.InvokeID))
	mk, _ := p.expect(cti.MsgMakePredictiveCallReq).(*cti.MakePredictiveCallReq)
	if mk == nil {
		return
	}
	if f.onMake != nil {
		if !f.onMake(p, mk) {
			return
		}
	} else {
		p.send(&cti.MakePredictiveCallConf{InvokeID: mk.InvokeID, NewConnectionCallID: f.newCall, NewConnectionDeviceID: "2301"})
	}
	if f.afterDial != nil {
		f.afterDial(p)
	} else {
		p.send(originated(f.newCall))
	}
	cl, _ := p.expect(cti.MsgClearCallReq).(*cti.ClearCallReq)
	if cl == nil {
		return
	}
	f.cleared = cl.ConnectionCallID
	if f.onClear != nil {
		f.onClear(p, cl)
	} else {
		p.send(&cti.ClearCallConf{InvokeID: cl.InvokeID})
	}
	p.send(endCall(f.newCall))
	p.drain()
}

// A server that answers as captured but numbers its calls differently
// replays as captured: the call ID is mapped on first sight, and the
// captured CLEAR_CALL_REQ goes out with the live call ID.
func TestDriveMapsServerIdentifiers(t *testing.T) {
	for _, strict := range []bool{false, true} {
		f := &fakeServer{newCall: 9000}
		o := fast()
		o.StrictEvents = strict
		res := driveTo(t, dialScript(t), o, f.run)
		if !res.OK() {
			t.Fatalf("strict events %v:\n%s", strict, res.Diff())
		}
		if f.cleared != 9000 {
			t.Errorf("CLEAR_CALL_REQ named call %d, want the live 9000 (captured 500)", f.cleared)
		}
		if res.Matched != 3 {
			t.Errorf("matched %d answers, want 3", res.Matched)
		}
		if !strings.Contains(res.Diff(), "note: events: 2 captured, 2 received, 2 paired one for one") {
			t.Errorf("diff:\n%s", res.Diff())
		}
	}
}

func TestDriveReportsDivergences(t *testing.T) {
	tests := []struct {
		name   string
		server *fakeServer
		strict bool
		kinds  []Kind
		want   []string
	}{{
		name: "request refused",
		server: &fakeServer{newCall: 9000, onMake: func(p *peer, req *cti.MakePredictiveCallReq) bool {
			p.send(&cti.FailureConf{InvokeID: req.InvokeID, Status: cti.StatusDeviceInUse})
			return true
		}, afterDial: func(p *peer) {}},
		kinds: []Kind{WrongAnswer, Events},
		want: []string{`MAKE_PREDICTIVE_CALL_REQ (captured #3 at +0.010s: PeripheralID=5000 AllocationState=ALLOC_CALL_DELIVERED OriginatingDeviceID="2301" DialedNumber="15550001")`,
			`answered FAILURE_CONF Status=E_CTI_DEVICE_IN_USE instead of MAKE_PREDICTIVE_CALL_CONF (captured #4 at +0.011s: NewConnectionCallID=500`,
			"server sent no CALL_ORIGINATED_EVENT",
			// The refused call has no live ID: the clear goes out as captured, and says so.
			`note: CLEAR_CALL_REQ #6 at +0.040s names ConnectionCallID=500, which the live server has not assigned`},
	}, {
		name: "answer differs",
		server: &fakeServer{newCall: 9000, onMake: func(p *peer, req *cti.MakePredictiveCallReq) bool {
			p.send(&cti.MakePredictiveCallConf{InvokeID: req.InvokeID, NewConnectionCallID: 9000, NewConnectionDeviceID: "2399"})
			return true
		}},
		kinds: []Kind{Mismatch},
		want:  []string{`MAKE_PREDICTIVE_CALL_CONF answering MAKE_PREDICTIVE_CALL_REQ (captured #3 at +0.010s) differs from the captured one (#4 at +0.011s): NewConnectionDeviceID="2399" (captured "2301")`},
	}, {
		name:   "answer missing",
		server: &fakeServer{newCall: 9000, onClear: func(p *peer, req *cti.ClearCallReq) {}},
		kinds:  []Kind{Missing},
		want:   []string{`missing CLEAR_CALL_CONF (captured #7 at +0.041s): no answer to CLEAR_CALL_REQ (captured #6 at +0.040s: PeripheralID=5000 ConnectionCallID=500`, `) within 300ms`},
	}, {
		name: "server disconnects",
		server: &fakeServer{newCall: 9000, onMake: func(p *peer, req *cti.MakePredictiveCallReq) bool {
			p.conn.Close()
			return false
		}},
		kinds: []Kind{Disconnected},
		want:  []string{"server closed the connection with 1 captured requests still to send, the next: CLEAR_CALL_REQ (captured #6 at +0.040s"},
	}, {
		name: "event types differ",
		server: &fakeServer{newCall: 9000, afterDial: func(p *peer) {
			p.send(&cti.SystemEvent{PGStatus: 0, SystemEventID: cti.SysPeripheralOnline})
		}},
		kinds: []Kind{Events, Events},
		want:  []string{"server sent no CALL_ORIGINATED_EVENT; the capture has 1 (the first #5 at +0.020s)", "server sent 1 SYSTEM_EVENT; the capture has none"},
	}, {
		name: "strict events: identifiers disagree",
		server: &fakeServer{newCall: 9000, afterDial: func(p *peer) {
			p.send(originated(9001))
		}},
		strict: true,
		kinds:  []Kind{Events, Events},
		want: []string{"1 captured CALL_ORIGINATED_EVENT matched by none the server sent (1 sent), the first: PeripheralID=5000",
			"server sent 1 CALL_ORIGINATED_EVENT matching no captured one, the first: CALL_ORIGINATED_EVENT PeripheralID=5000", "ConnectionCallID=9001"},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := fast()
			o.StrictEvents = tc.strict
			res := driveTo(t, dialScript(t), o, tc.server.run)
			var kinds []Kind
			for _, d := range res.Divergences {
				kinds = append(kinds, d.Kind)
			}
			if len(kinds) != len(tc.kinds) {
				t.Fatalf("divergences %v, want %v:\n%s", kinds, tc.kinds, res.Diff())
			}
			for i := range kinds {
				if kinds[i] != tc.kinds[i] {
					t.Fatalf("divergences %v, want %v:\n%s", kinds, tc.kinds, res.Diff())
				}
			}
			diff := res.Diff()
			for _, w := range tc.want {
				if !strings.Contains(diff, w) {
					t.Errorf("diff lacks %q:\n%s", w, diff)
				}
			}
		})
	}
}

// The client role holds a request back until the answers captured before
// it have come: the CLEAR_CALL_REQ that names the call waits for the
// MAKE_PREDICTIVE_CALL_CONF that names it, however late.
func TestDriveWaitsForEarlierAnswers(t *testing.T) {
	f := &fakeServer{newCall: 4242, onMake: func(p *peer, req *cti.MakePredictiveCallReq) bool {
		// Nothing may arrive before the answer.
		_ = p.conn.SetReadDeadline(time.Now().Add(150 * time.Millisecond))
		if m := p.recvQuiet(); m != nil {
			t.Errorf("client sent %v before the MAKE_PREDICTIVE_CALL_CONF it depends on", m.MessageType())
		}
		p.send(&cti.MakePredictiveCallConf{InvokeID: req.InvokeID, NewConnectionCallID: 4242, NewConnectionDeviceID: "2301"})
		return true
	}}
	o := fast()
	res := driveTo(t, dialScript(t), o, f.run)
	if !res.OK() || f.cleared != 4242 {
		t.Fatalf("cleared %d:\n%s", f.cleared, res.Diff())
	}
}

// recvQuiet reads one message, returning nil on a timeout without
// reporting it.
func (p *peer) recvQuiet() cti.Message {
	mt, body, err := cti.ReadFrame(p.conn, p.buf)
	if err != nil {
		return nil
	}
	m, _ := cti.DecodeBody(mt, body, testPV)
	return m
}
