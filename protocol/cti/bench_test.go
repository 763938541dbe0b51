package cti

import "testing"

// Realistic events (PV24) for the performance target of a later issue:
// decode under 300 ns with at most one allocation.
func benchMessages() map[string]Message {
	return map[string]Message{
		"AgentStateEvent": &AgentStateEvent{
			PeripheralID: 5000, SessionID: 12, PeripheralType: PTEnterpriseAgent, SkillGroupState: AgentStateAvailable,
			SkillGroupNumber: NullSkillGroup, SkillGroupID: NullSkillGroup, AgentState: AgentStateAvailable, MRDID: 1,
			AgentMode: AgentModeRoutable, MaxTaskLimit: 1, ICMAgentID: 5007, AgentAvailabilityStatus: AvailabilityICMAvailable,
			DepartmentID: 3, AgentID: "1001", AgentExtension: "4001", AgentInstrument: "4001", Direction: DirectionIn,
		},
		"BeginCallEvent": &BeginCallEvent{
			PeripheralID: 5000, PeripheralType: PTEnterpriseAgent, CallType: CallTypePrerouteACDIn, ConnectionDeviceIDType: ConnectionIDStatic,
			ConnectionCallID: 16777300, ConnectionDeviceID: "4001", ANI: "+4930123456", DNIS: "8000", DialedNumber: "8000",
			RouterCallKeyDay: 150000, RouterCallKeyCallID: 42, CallVariable1: "customer 12345", CallVariable2: "gold",
			NamedVariables: []NamedVar{{Name: "user.BACampaign", Value: "Spring"}},
		},
		"CallDeliveredEvent": &CallDeliveredEvent{
			PeripheralID: 5000, PeripheralType: PTEnterpriseAgent, ConnectionDeviceIDType: ConnectionIDStatic, ConnectionCallID: 16777300,
			LineHandle: 0, LineType: LineTypeInboundACD, ServiceNumber: NullService, ServiceID: NullService,
			SkillGroupNumber: 100, SkillGroupID: 5005, SkillGroupPriority: 0, AlertingDeviceType: DevIDDeviceIdentifier,
			CallingDeviceType: DevIDExternal, CalledDeviceType: DevIDDeviceIdentifier, LastRedirectDeviceType: DevIDNone,
			LocalConnectionState: LCSAlerting, EventCause: CECNewCall,
			ConnectionDeviceID: "4001", AlertingDeviceID: "4001", CallingDeviceID: "+4930123456", CalledDeviceID: "4001", ANI: "+4930123456", DNIS: "8000",
		},
	}
}

func BenchmarkEncode(b *testing.B) {
	for name, m := range benchMessages() {
		b.Run(name, func(b *testing.B) {
			buf := make([]byte, 0, 1024)
			b.ReportAllocs()
			for b.Loop() {
				var err error
				if buf, err = AppendMessage(buf[:0], m, 24); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkDecode(b *testing.B) {
	for name, m := range benchMessages() {
		frame, err := AppendMessage(nil, m, 24)
		if err != nil {
			b.Fatal(err)
		}
		body := frame[HeaderSize:]
		b.Run(name+"/UnmarshalBody", func(b *testing.B) {
			dst := newMessage(m.MessageType())
			b.ReportAllocs()
			for b.Loop() {
				if err := dst.UnmarshalBody(body, 24); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(name+"/DecodeMessage", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := DecodeMessage(frame, 24); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
