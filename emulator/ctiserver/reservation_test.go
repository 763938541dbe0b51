package ctiserver_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/ipcclab/ipcclab/protocol/cti"
)

func eccOf(vars []cti.NamedVar) string {
	var out []string
	for _, v := range vars {
		out = append(out, v.Name+"="+v.Value)
	}
	return strings.Join(out, ",")
}

// TestPreviewReservationOverCTI: a dialer reserves the campaign agent with
// MAKE_CALL_REQ from its port to the agent's extension, the record in ECC
// variables (cti-protocol.md §5.9(d)): MAKE_CALL_CONF first (the port's
// connection), then BEGIN_CALL (CALLTYPE_RESERVATION_PREVIEW at the agent,
// the ECC variables), CALL_DELIVERED from the port, CALL_ESTABLISHED
// (auto-answer) and AGENT_STATE TALKING Direction 5. The desktop's
// SET_CALL_DATA_REQ (BAResponse Accept) is confirmed, then reaches every
// client as CALL_DATA_UPDATE_EVENT with all ECC variables; CLEAR_CALL_REQ
// ends the reservation: CALL_CONNECTION_CLEARED by the port, CALL_CLEARED,
// the agent Not Ready again, END_CALL.
func TestPreviewReservationOverCTI(t *testing.T) {
	for _, pv := range []cti.ProtocolVersion{15, 24} {
		t.Run(fmt.Sprint("PV", pv), func(t *testing.T) {
			f := newPortFixture(t)
			c := f.connect(t, pv)
			c.open(openReq(pv))
			c.received()
			vars := []cti.NamedVar{{Name: "BACampaign", Value: "Renewals"}, {Name: "BAAccountNumber", Value: "AC7"},
				{Name: "BADialedListID", Value: "7"}, {Name: "BAResponse"}, {Name: "BAStatus", Value: "BLENDED_PREVIEW_OUTBOUND_RESERVATION"}}
			c.send(&cti.MakeCallReq{InvokeID: 1, PeripheralID: 5000, AgentInstrument: "3001", DialedNumber: "2201",
				SkillGroupNumber: cti.NullSkillGroup, CallVariable1: "Renewals", NamedVariables: vars})
			f.loop.RunVirtual(f.loop.Now())
			msgs := c.received()
			conf, ok := msgs[0].(*cti.MakeCallConf)
			if !ok || conf.InvokeID != 1 || conf.NewConnectionDeviceID != "3001" || conf.NewConnectionDeviceIDType != cti.ConnectionIDStatic {
				t.Fatalf("first answer %T %+v", msgs[0], msgs[0])
			}
			id := conf.NewConnectionCallID
			dir := 5 // outbound reserve; Direction is a PV16+ field
			if pv < 16 {
				dir = 0
			}
			var seq []string
			for _, m := range msgs[1:] {
				switch e := m.(type) {
				case *cti.BeginCallEvent:
					seq = append(seq, fmt.Sprintf("BEGIN_CALL %d@%s %v cv1=%s %s", e.ConnectionCallID, e.ConnectionDeviceID, e.CallType, e.CallVariable1, eccOf(e.NamedVariables)))
				case *cti.CallDeliveredEvent:
					seq = append(seq, fmt.Sprintf("DELIVERED %d@%s calling=%s %v", e.ConnectionCallID, e.AlertingDeviceID, e.CallingDeviceID, e.EventCause))
				case *cti.CallEstablishedEvent:
					seq = append(seq, fmt.Sprintf("ESTABLISHED %d@%s", e.ConnectionCallID, e.AnsweringDeviceID))
				case *cti.AgentStateEvent:
					seq = append(seq, fmt.Sprintf("AGENT_STATE %s %s dir=%d", e.AgentID, e.AgentState, e.Direction))
				default:
					seq = append(seq, m.MessageType().String())
				}
			}
			want := []string{
				fmt.Sprintf("BEGIN_CALL %d@2201 CALLTYPE_RESERVATION_PREVIEW cv1=Renewals BACampaign=Renewals,BAAccountNumber=AC7,BADialedListID=7,BAResponse=,BAStatus=BLENDED_PREVIEW_OUTBOUND_RESERVATION", id),
				fmt.Sprintf("DELIVERED %d@2201 calling=3001 CEC_NEW_CALL", id),
				fmt.Sprintf("ESTABLISHED %d@2201", id),
				fmt.Sprintf("AGENT_STATE 1201 AGENT_STATE_TALKING dir=%d", dir),
			}
			if strings.Join(seq, "\n") != strings.Join(want, "\n") {
				t.Fatalf("events:\n%s\nwant:\n%s", strings.Join(seq, "\n"), strings.Join(want, "\n"))
			}

			c.send(&cti.SetCallDataReq{InvokeID: 2, PeripheralID: 5000, ConnectionCallID: id, ConnectionDeviceIDType: cti.ConnectionIDStatic,
				ConnectionDeviceID: "2201", NamedVariables: []cti.NamedVar{{Name: "BAResponse", Value: "Accept"}}})
			msgs = c.received()
			if _, ok := msgs[0].(*cti.SetCallDataConf); !ok || len(msgs) != 2 {
				t.Fatalf("SET_CALL_DATA_REQ answered %v", msgs)
			}
			u, ok := msgs[1].(*cti.CallDataUpdateEvent)
			if !ok || u.ConnectionCallID != id || u.CallType != cti.CallTypeReservationPreview ||
				eccOf(u.NamedVariables) != "BACampaign=Renewals,BAAccountNumber=AC7,BADialedListID=7,BAResponse=Accept,BAStatus=BLENDED_PREVIEW_OUTBOUND_RESERVATION" {
				t.Fatalf("CALL_DATA_UPDATE %+v", msgs[1])
			}

			c.send(&cti.ClearCallReq{InvokeID: 3, PeripheralID: 5000, ConnectionCallID: id, ConnectionDeviceIDType: cti.ConnectionIDStatic, ConnectionDeviceID: "3001"})
			seq = nil
			for _, m := range c.received() {
				switch e := m.(type) {
				case *cti.CallConnectionClearedEvent:
					seq = append(seq, fmt.Sprintf("CONNECTION_CLEARED %d releasing=%s", e.ConnectionCallID, e.ReleasingDeviceID))
				case *cti.AgentStateEvent:
					seq = append(seq, fmt.Sprintf("AGENT_STATE %s %s reason=%d", e.AgentID, e.AgentState, e.EventReasonCode))
				default:
					seq = append(seq, m.MessageType().String())
				}
			}
			want = []string{"CLEAR_CALL_CONF", fmt.Sprintf("CONNECTION_CLEARED %d releasing=3001", id), "CALL_CLEARED_EVENT",
				"AGENT_STATE 1201 AGENT_STATE_NOT_READY reason=0", "END_CALL_EVENT"}
			if strings.Join(seq, "\n") != strings.Join(want, "\n") {
				t.Fatalf("clearing:\n%s\nwant:\n%s", strings.Join(seq, "\n"), strings.Join(want, "\n"))
			}
		})
	}
}
