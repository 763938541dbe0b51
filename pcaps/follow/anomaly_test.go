package follow

import (
	"slices"
	"strings"
	"testing"

	"github.com/ipcclab/ipcclab/protocol/cti"
)

const (
	client = "10.0.0.1:50000"
	server = "10.0.0.2:42027"
)

// opened starts a session with OPEN_REQ (IdleTimeout 0xFFFFFFFF unless
// the case is about heartbeats) and OPEN_CONF.
func opened(b *CaptureBuilder) *SessionBuilder {
	return b.Session(client, server).C(0, openReq(1, null32)).S(10*ms, openConf(1, 0))
}

// A normal inbound call as the emulator sends it (§5.9 a): pre-call and
// RESERVED, BEGIN_CALL, CALL_DELIVERED, CALL_ESTABLISHED and TALKING, the
// hang-up, wrap-up, END_CALL, AVAILABLE.
func normalCall(s *SessionBuilder, call uint32, at0 int) {
	at := func(n int) (d timeD) { return timeD(at0+n) * 100 * ms }
	s.S(at(0), stateEvent(cti.AgentStateAvailable, 0)).
		S(at(1), preCall(call)).
		S(at(2), stateEvent(cti.AgentStateReserved, 0)).
		S(at(7), beginCall(call, "1001")).
		S(at(8), delivered(call, "1001")).
		S(at(30), established(call, "1001")).
		S(at(31), stateEvent(cti.AgentStateTalking, 0)).
		S(at(80), connCleared(call, "8005550100")).
		S(at(81), cleared(call, "1001")).
		S(at(82), stateEvent(cti.AgentStateWorkReady, 0)).
		S(at(83), dataUpdate(call, "1001")).
		S(at(84), endCall(call, "1001")).
		S(at(120), stateEvent(cti.AgentStateAvailable, 0))
}

func TestAnomalies(t *testing.T) {
	cases := []struct {
		name  string
		opt   Options
		build func(b *CaptureBuilder)
		want  []string // anomaly kinds in report order
		why   []string // substrings of the anomalies' text
	}{
		{name: "normal call: nothing flagged", build: func(b *CaptureBuilder) {
			normalCall(opened(b), 77, 10)
		}},
		{name: "event after END_CALL", build: func(b *CaptureBuilder) {
			opened(b).S(1*sec, beginCall(77, "1001")).S(2*sec, delivered(77, "1001")).
				S(3*sec, endCall(77, "1001")).S(4*sec, dataUpdate(77, "1001"))
		}, want: []string{KindEventAfterEndCall}, why: []string{"CALL_DATA_UPDATE_EVENT for call 77 at 1001 after its END_CALL_EVENT (f5 +3.000)"}},
		{name: "call requeued after ring-no-answer reuses its ID: not flagged", build: func(b *CaptureBuilder) {
			opened(b).S(1*sec, beginCall(77, "1001")).S(2*sec, delivered(77, "1001")).
				S(12*sec, connCleared(77, "1001")).S(12*sec, endCall(77, "1001")).
				S(20*sec, beginCall(77, "1002")).S(20*sec, delivered(77, "1002")).S(21*sec, established(77, "1002"))
		}},
		{name: "transfer: the surviving call continues at another device: not flagged", build: func(b *CaptureBuilder) {
			opened(b).S(1*sec, beginCall(77, "1001")).S(2*sec, delivered(77, "1001")).S(3*sec, established(77, "1001")).
				S(4*sec, delivered(77, "1002")).S(5*sec, endCall(77, "1001")).S(6*sec, established(77, "1002")).
				S(9*sec, cleared(77, "1002")).S(9*sec, endCall(77, "1002"))
		}},
		{name: "CALL_DELIVERED before BEGIN_CALL", build: func(b *CaptureBuilder) {
			opened(b).S(1*sec, delivered(77, "1001")).S(2*sec, beginCall(77, "1001"))
		}, want: []string{KindOutOfOrder}, why: []string{"CALL_DELIVERED_EVENT for call 77 came before the call's BEGIN_CALL_EVENT (f4 +2.000)"}},
		{name: "capture starting mid-call, no BEGIN_CALL at all: not flagged", build: func(b *CaptureBuilder) {
			b.Session(client, server).S(1*sec, established(77, "1001")).S(5*sec, cleared(77, "1001")).S(5*sec, endCall(77, "1001"))
		}},
		{name: "CALL_ESTABLISHED before CALL_DELIVERED at the same device", build: func(b *CaptureBuilder) {
			opened(b).S(1*sec, beginCall(77, "1001")).S(2*sec, established(77, "1001")).S(3*sec, delivered(77, "1001"))
		}, want: []string{KindOutOfOrder}, why: []string{"CALL_DELIVERED_EVENT for call 77 at 1001 after CALL_ESTABLISHED_EVENT (f4 +2.000)"}},
		{name: "event after CALL_CLEARED", build: func(b *CaptureBuilder) {
			opened(b).S(1*sec, beginCall(77, "1001")).S(2*sec, delivered(77, "1001")).S(3*sec, cleared(77, "1001")).
				S(4*sec, established(77, "1001")).S(5*sec, endCall(77, "1001"))
		}, want: []string{KindOutOfOrder}, why: []string{"CALL_ESTABLISHED_EVENT for call 77 at 1001 after its CALL_CLEARED_EVENT (f5 +3.000)"}},
		{name: "agent stuck RESERVED after a pre-call abort", build: func(b *CaptureBuilder) {
			opened(b).S(1*sec, stateEvent(cti.AgentStateAvailable, 0)).S(2*sec, preCall(78)).S(2*sec, stateEvent(cti.AgentStateReserved, 0)).
				S(3*sec, preCallAbort(78)).S(30*sec, stateEvent(cti.AgentStateAvailable, 0))
		}, want: []string{KindAgentStuckReserved}, why: []string{
			"f6: agent 1001 still RESERVED 27.000 s after AGENT_PRE_CALL_ABORT_EVENT (f6 +3.000), until f7 +30.000 AVAILABLE; RESERVED since +2.000 (f5, reserved)"}},
		{name: "agent RESERVED until the end of the capture", build: func(b *CaptureBuilder) {
			opened(b).S(1*sec, stateEvent(cti.AgentStateReserved, 0))
			b.Until(12 * sec)
		}, want: []string{KindAgentStuckReserved}, why: []string{"for 11.000 s", "until the end of the capture"}},
		{name: "RESERVED briefly before the end of the capture: not flagged", build: func(b *CaptureBuilder) {
			opened(b).S(1*sec, stateEvent(cti.AgentStateReserved, 0))
			b.Until(5 * sec)
		}},
		{name: "RESERVED while the call rings for 14 s (ring-no-answer time): not flagged", build: func(b *CaptureBuilder) {
			opened(b).S(1*sec, stateEvent(cti.AgentStateReserved, 0)).S(1500*ms, beginCall(77, "1001")).
				S(1500*ms, delivered(77, "1001")).S(15*sec, established(77, "1001")).S(15*sec, stateEvent(cti.AgentStateTalking, 0))
		}},
		{name: "RESERVED after the ringing call was cleared", build: func(b *CaptureBuilder) {
			opened(b).S(1*sec, stateEvent(cti.AgentStateReserved, 0)).S(1500*ms, beginCall(77, "1001")).
				S(1500*ms, delivered(77, "1001")).S(4*sec, connCleared(77, "1001")).S(4*sec, endCall(77, "1001")).
				S(20*sec, stateEvent(cti.AgentStateNotReady, 32767))
		}, want: []string{KindAgentStuckReserved}, why: []string{"for 16.000 s from +4.000 (f6, call 77 at 1001 cleared (CALL_CONNECTION_CLEARED_EVENT))"}},
		{name: "shorter RESERVED threshold", opt: Options{ReservedAfter: 2 * sec}, build: func(b *CaptureBuilder) {
			opened(b).S(1*sec, stateEvent(cti.AgentStateReserved, 0)).S(4*sec, stateEvent(cti.AgentStateAvailable, 0))
		}, want: []string{KindAgentStuckReserved}},
		{name: "blended agent made available while talking", build: func(b *CaptureBuilder) {
			opened(b).S(1*sec, beginCall(77, "1001")).S(1*sec, delivered(77, "1001")).S(2*sec, established(77, "1001")).
				S(2*sec, stateEvent(cti.AgentStateTalking, 0)).
				C(5*sec, setStateReq(9, cti.AgentStateAvailable, 0)).S(5100*ms, &cti.ControlFailureConf{InvokeID: 9, FailureCode: cti.ControlFailureCode(33)})
		}, want: []string{KindAvailableWhileTalking}, why: []string{
			"SET_AGENT_STATE_REQ AVAILABLE InvokeID=9 for agent 1001 while TALKING since +2.000, call 77, answered CONTROL_FAILURE_CONF"}},
		{name: "blended agent made available while NOT_READY: not flagged", build: func(b *CaptureBuilder) {
			opened(b).S(1*sec, stateEvent(cti.AgentStateNotReady, 0)).
				C(5*sec, setStateReq(9, cti.AgentStateAvailable, 0)).S(5100*ms, &cti.SetAgentStateConf{InvokeID: 9})
		}},
		{name: "blended agent made NOT_READY while talking (pending state): not flagged", build: func(b *CaptureBuilder) {
			opened(b).S(1*sec, stateEvent(cti.AgentStateTalking, 0)).
				C(5*sec, setStateReq(9, cti.AgentStateNotReady, 7)).S(5100*ms, &cti.SetAgentStateConf{InvokeID: 9})
		}},
		{name: "idle timeout: heartbeats stop, the server closes", build: func(b *CaptureBuilder) {
			s := b.Session(client, server).C(0, openReq(1, 20)).S(10*ms, openConf(1, 0))
			for i := 1; i <= 3; i++ {
				s.C(timeD(i)*5*sec, &cti.HeartbeatReq{InvokeID: uint32(1 + i)}).S(timeD(i)*5*sec+ms, &cti.HeartbeatConf{InvokeID: uint32(1 + i)})
			}
			s.Close(35*sec, "server", "FIN")
		}, want: []string{KindHeartbeatGap}, why: []string{
			"no message from the client for 20.000 s (f7 +15.000 → FIN from server (frame 9) +35.000), at least its OPEN_REQ IdleTimeout of 20 s",
			"the server closing the connection is the expected consequence"}},
		{name: "heartbeats every 5 s with IdleTimeout 20 s: not flagged", build: func(b *CaptureBuilder) {
			s := b.Session(client, server).C(0, openReq(1, 20)).S(10*ms, openConf(1, 0))
			for i := 1; i <= 8; i++ {
				s.C(timeD(i)*5*sec, &cti.HeartbeatReq{InvokeID: uint32(1 + i)}).S(timeD(i)*5*sec+ms, &cti.HeartbeatConf{InvokeID: uint32(1 + i)})
			}
		}},
		{name: "IdleTimeout 0xFFFFFFFF, silent client: not flagged", build: func(b *CaptureBuilder) {
			opened(b)
			b.Until(300 * sec)
		}},
		{name: "request never confirmed", build: func(b *CaptureBuilder) {
			opened(b).C(1*sec, setStateReq(5, cti.AgentStateAvailable, 0))
			b.Until(30 * sec)
		}, want: []string{KindNoConfirmation}, why: []string{"SET_AGENT_STATE_REQ InvokeID=5 has no confirmation 29.000 s later"}},
		{name: "request confirmed late", build: func(b *CaptureBuilder) {
			opened(b).C(1*sec, setStateReq(5, cti.AgentStateAvailable, 0)).S(21*sec, &cti.SetAgentStateConf{InvokeID: 5})
		}, want: []string{KindNoConfirmation}, why: []string{"confirmed only after 20.000 s by SET_AGENT_STATE_CONF (f4)"}},
		{name: "request confirmed by CONTROL_FAILURE_CONF: not flagged", build: func(b *CaptureBuilder) {
			opened(b).C(1*sec, setStateReq(5, cti.AgentStateAvailable, 0)).S(1100*ms, &cti.ControlFailureConf{InvokeID: 5})
			b.Until(60 * sec)
		}},
		{name: "request just before the end of the capture: not flagged", build: func(b *CaptureBuilder) {
			opened(b).C(1*sec, setStateReq(5, cti.AgentStateAvailable, 0))
			b.Until(3 * sec)
		}},
		{name: "CTI_SERVICE_IGNORE_CONF: third-party request unconfirmed is not flagged", build: func(b *CaptureBuilder) {
			req := openReq(1, null32)
			req.ServicesRequested |= cti.ServiceIgnoreConf
			conf := openConf(1, 0)
			conf.ServicesGranted |= cti.ServiceIgnoreConf
			b.Session(client, server).C(0, req).S(10*ms, conf).C(1*sec, setStateReq(5, cti.AgentStateAvailable, 0))
			b.Until(60 * sec)
		}},
		{name: "session ends with requests outstanding", build: func(b *CaptureBuilder) {
			opened(b).C(1*sec, setStateReq(5, cti.AgentStateAvailable, 0)).C(1100*ms, &cti.QueryAgentStateReq{InvokeID: 6, PeripheralID: periph, AgentID: "1001"}).
				Close(2*sec, "server", "RST")
		}, want: []string{KindOutstandingAtClose}, why: []string{
			"the connection ended (RST from server (frame 5)) with 2 request(s) unconfirmed: SET_AGENT_STATE_REQ InvokeID=5 (f3 +1.000), QUERY_AGENT_STATE_REQ InvokeID=6 (f4 +1.100)"}},
		{name: "peripheral offline mid-call", build: func(b *CaptureBuilder) {
			opened(b).S(1*sec, beginCall(77, "1001")).S(1*sec, delivered(77, "1001")).S(2*sec, established(77, "1001")).
				S(5*sec, systemEvent(cti.SysPeripheralOffline, cti.PGSPeripheralOffline, periph))
		}, want: []string{KindPGOfflineMidCall}, why: []string{
			"SYSTEM_EVENT SYS_PERIPHERAL_OFFLINE, PGStatus gained PGS_PERIPHERAL_OFFLINE while 1 call(s) active: call 77 (since +1.000)"}},
		{name: "PGStatus going offline without an event ID, mid-call", build: func(b *CaptureBuilder) {
			opened(b).S(1*sec, beginCall(77, "1001")).S(1*sec, delivered(77, "1001")).
				S(5*sec, systemEvent(cti.SysTextFyi, cti.PGSOPCDown, 0))
		}, want: []string{KindPGOfflineMidCall}, why: []string{"PGStatus gained PGS_OPC_DOWN"}},
		{name: "peripheral offline with no call active: not flagged", build: func(b *CaptureBuilder) {
			normalCall(opened(b), 77, 10)
			b.Sessions()[0].S(20*sec, systemEvent(cti.SysPeripheralOffline, cti.PGSPeripheralOffline, periph))
		}},
		{name: "another peripheral offline mid-call: not flagged", build: func(b *CaptureBuilder) {
			opened(b).S(1*sec, beginCall(77, "1001")).S(1*sec, delivered(77, "1001")).
				S(5*sec, systemEvent(cti.SysPeripheralOffline, 0, 5001))
		}},
		{name: "central controller down mid-call (routing only): not flagged", build: func(b *CaptureBuilder) {
			opened(b).S(1*sec, beginCall(77, "1001")).S(1*sec, delivered(77, "1001")).
				S(5*sec, systemEvent(cti.SysCentralControllerOffline, cti.PGSCCDown, 0))
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := NewCaptureBuilder(t)
			tc.build(b)
			r := Follow(b.Capture(), tc.opt)
			if got := kinds(r); !slices.Equal(got, tc.want) {
				t.Fatalf("anomalies %v, want %v:\n%s", got, tc.want, anomaliesText(r))
			}
			text := anomaliesText(r)
			for _, w := range tc.why {
				if !strings.Contains(text, w) {
					t.Errorf("anomalies do not say %q:\n%s", w, text)
				}
			}
		})
	}
}
