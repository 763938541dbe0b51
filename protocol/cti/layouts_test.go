package cti

import (
	"bytes"
	"reflect"
	"testing"
)

// SEND_DTMF_SIGNAL_REQ.PauseDuration is a USHORT below PV10 and a UINT from
// PV10 (§3 version table, "PV10-13").
func TestPauseDurationWidth(t *testing.T) {
	m := &SendDTMFSignalReq{InvokeID: 1, PeripheralID: 2, ConnectionCallID: 3, ToneDuration: 100, PauseDuration: 0x1234,
		ConnectionDeviceID: "4001", DTMFString: "123#"}
	m.SetPresent(TagConnectionDevID)
	m.SetPresent(TagDTMFString)
	for _, c := range []struct {
		pv    ProtocolVersion
		fixed int
	}{{9, 18}, {10, 20}, {15, 20}, {24, 20}} {
		if got := m.FixedSize(c.pv); got != c.fixed {
			t.Errorf("PV%d: fixed size %d, want %d", c.pv, got, c.fixed)
		}
		b, err := AppendMessage(nil, m, c.pv)
		if err != nil {
			t.Fatal(err)
		}
		if pd := b[HeaderSize+16 : HeaderSize+c.fixed]; !bytes.Equal(pd, []byte{0, 0, 0x12, 0x34}[4-(c.fixed-16):]) {
			t.Errorf("PV%d: PauseDuration bytes %x", c.pv, pd)
		}
		got, err := DecodeMessage(b, c.pv)
		if err != nil || !reflect.DeepEqual(got, m) {
			t.Errorf("PV%d: %v\n got %+v\nwant %+v", c.pv, err, got, m)
		}
	}
	big := *m
	big.PauseDuration = 0x10000
	if _, err := AppendMessage(nil, &big, 9); statusOf(err) != StatusInvalidFieldLength {
		t.Errorf("PauseDuration 0x10000 at PV9: %v", err)
	}
	if _, err := AppendMessage(nil, &big, 10); err != nil {
		t.Errorf("PauseDuration 0x10000 at PV10: %v", err)
	}
}

// §8 #9: RequestingDeviceIDType is fixed from PV14; floating tag 220 is
// tolerated.
func TestClearConnectionRequestingDevice(t *testing.T) {
	if (&ClearConnectionReq{}).FixedSize(13) != 14 || (&ClearConnectionReq{}).FixedSize(14) != 16 {
		t.Fatal("fixed size")
	}
	f := mkframe(MsgClearConnectionReq, uint32(1), uint32(5000), uint32(77), uint16(0), uint16(DevIDDeviceIdentifier),
		25, 5, "4001\x00", 219, 5, "4002\x00", 220, 2, uint16(0))
	m, err := DecodeMessage(f, 15)
	if err != nil {
		t.Fatal(err)
	}
	want := present(&ClearConnectionReq{InvokeID: 1, PeripheralID: 5000, ConnectionCallID: 77, ConnectionDeviceID: "4001",
		RequestingDeviceID: "4002"}, TagConnectionDevID, TagRequestingDeviceID, TagRequestingDeviceIDType)
	if !reflect.DeepEqual(m, want) {
		t.Fatalf("got %+v\nwant %+v", m, want)
	}
	if b, _ := AppendMessage(nil, m, 15); !bytes.Equal(b, f) {
		t.Fatalf("re-encoded %x\nwant %x", b, f)
	}
}

// The record structure of the real PV15 configuration download (§7).
func TestConfigRecordsCaptureShape(t *testing.T) {
	sg := mkframe(MsgConfigSkillGroupEvent, uint16(1),
		0xb7, 2, uint16(0), 0xd0, 4, uint32(5000), 0xb8, 4, uint32(100), 0x40, 2, uint16(0), 0xc0, 4, uint32(5005),
		0xb9, 2, uint16(0), 0xad, 1, 0, 0x85, 6, "Sales\x00", 0x86, 1, 0, 0xd8, 4, uint32(1), 0xb0, 1, 0)
	agent := mkframe(MsgConfigAgentEvent, uint16(1),
		0xb7, 2, uint16(0), 0xd0, 4, uint32(5000), 0xbd, 2, uint16(0), 0xbe, 2, "7\x00", 0xcf, 6, "agent\x00",
		0x8a, 4, "Doe\x00", 0x89, 5, "John\x00", 0xad, 1, 0, 0x86, 1, 0, 0x8d, 4, uint32(5007), 0xbf, 2, uint16(2),
		0x3e, 4, uint32(100), 0x40, 2, uint16(0), 0x3e, 4, uint32(103), 0x40, 2, uint16(1))
	wantSG := &ConfigSkillGroupEvent{NumRecords: 1, Records: []ConfigSkillGroupRecord{{
		PeripheralID: 5000, PeripheralNumber: 100, SkillGroupSkillTargetID: 5005, PeripheralName: "Sales", MRDomainID: 1,
		Present: 1<<11 - 2, // members 1-10
	}}}
	wantAgent := &ConfigAgentEvent{NumRecords: 1, Records: []ConfigAgentRecord{{
		PeripheralID: 5000, LoginID: "7", LoginName: "agent", LastName: "Doe", FirstName: "John", AgentSkillTargetID: 5007,
		NumSkills: 2, Skills: []SkillGroupPriorityPair{{SkillGroupNumber: 100}, {SkillGroupNumber: 103, SkillGroupPriority: 1}},
		Present: 1<<11 - 2, // members 1-10
	}}}
	for i, c := range []struct {
		frame []byte
		want  Message
	}{{sg, wantSG}, {agent, wantAgent}} {
		got, err := DecodeMessage(c.frame, 15)
		if err != nil {
			t.Fatalf("%d: %v", i, err)
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%d: got %+v\nwant %+v", i, got, c.want)
		}
		if b, err := AppendMessage(nil, got, 15); err != nil || !bytes.Equal(b, c.frame) {
			t.Errorf("%d: re-encoded %x (%v)\nwant %x", i, b, err, c.frame)
		}
	}
	// Tags a record layout does not list are skipped (partly inferred
	// layouts), and a record needs no optional member.
	f := mkframe(MsgConfigDeviceEvent, uint16(2), 0xb7, 2, uint16(1), 0x07, 2, "x\x00", 0xb7, 2, uint16(2))
	m, err := DecodeMessage(f, 15)
	if err != nil || len(m.(*ConfigDeviceEvent).Records) != 2 || m.(*ConfigDeviceEvent).Records[1].RecordType != ConfigRecordDelete {
		t.Errorf("unknown tag in a config record: %v %+v", err, m)
	}
}

func TestNestedListBadInput(t *testing.T) {
	rec := func(parts ...any) []byte {
		return mkframe(MsgConfigAgentEvent, append([]any{uint16(1), 0xb7, 2, uint16(0)}, parts...)...)
	}
	cases := []struct {
		name   string
		frame  []byte
		status Status
		field  string
	}{
		{"nested count mismatch", rec(0xbf, 2, uint16(2), 0x3e, 4, uint32(1), 0x40, 2, uint16(0)), StatusBadMessageFormat, "NumSkills"},
		{"nested member out of order", rec(0xbf, 2, uint16(1), 0x40, 2, uint16(0), 0x3e, 4, uint32(1)), StatusBadMessageFormat, "SkillGroupPriority"},
		{"incomplete nested element", rec(0xbf, 2, uint16(2), 0x3e, 4, uint32(1), 0x3e, 4, uint32(2), 0x40, 2, uint16(0)), StatusBadMessageFormat, "SkillGroupNumber"},
		{"member before its nested list after it", rec(0xbf, 2, uint16(1), 0x3e, 4, uint32(1), 0x40, 2, uint16(0), 0xd0, 4, uint32(1)), StatusBadMessageFormat, "PeripheralID"},
		{"nested element left open", rec(0xbf, 2, uint16(1), 0x3e, 4, uint32(1)), StatusBadMessageFormat, "Records"},
		{"nested list outside a record", mkframe(MsgConfigAgentEvent, uint16(0), 0x3e, 4, uint32(1)), StatusBadMessageFormat, "SkillGroupNumber"},
	}
	for _, c := range cases {
		m, err := DecodeMessage(c.frame, 15)
		e, ok := err.(*Error)
		if !ok || e.Status != c.status || e.Field != c.field {
			t.Errorf("%s: got %v %v; want status %v field %s", c.name, m, err, c.status, c.field)
		}
	}
	// Encoding checks the nested count against the elements.
	bad := &ConfigAgentEvent{Records: []ConfigAgentRecord{{NumSkills: 3, Skills: make([]SkillGroupPriorityPair, 1)}}}
	if _, err := AppendMessage(nil, bad, 15); statusOf(err) != StatusBadMessageFormat {
		t.Errorf("nested count mismatch on encode: %v", err)
	}
}
