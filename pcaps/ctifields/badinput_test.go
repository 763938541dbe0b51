package ctifields

import (
	"encoding/binary"
	"errors"
	"strings"
	"testing"

	"github.com/ipcclab/ipcclab/pcaps/ctifields/ctisample"
	"github.com/ipcclab/ipcclab/protocol/cti"
	"github.com/ipcclab/ipcclab/protocol/cti/spec"
)

// body assembles a test body: uint32 → UINT, uint16 → USHORT, []byte as is.
func body(parts ...any) []byte {
	var b []byte
	for _, p := range parts {
		switch v := p.(type) {
		case uint32:
			b = binary.BigEndian.AppendUint32(b, v)
		case uint16:
			b = binary.BigEndian.AppendUint16(b, v)
		case []byte:
			b = append(b, v...)
		case string:
			b = append(b, v...)
		default:
			panic(p)
		}
	}
	return b
}

// fl is a floating field with 2-byte tag and length (PV20+); fl1 with
// 1-byte ones.
func fl(tag uint16, data string) []byte {
	b := binary.BigEndian.AppendUint16(nil, tag)
	b = binary.BigEndian.AppendUint16(b, uint16(len(data)))
	return append(b, data...)
}

func fl1(tag byte, data string) []byte { return append([]byte{tag, byte(len(data))}, data...) }

// agentStateFixed is the 62-byte fixed part of AGENT_STATE_EVENT at PV19+
// with NumFltSkillGroups = nsg.
func agentStateFixed(nsg uint16) []byte {
	return body(uint32(1), uint32(5000), uint32(7), uint16(17), uint16(4), uint32(30), uint32(100), uint32(200),
		uint16(1), uint16(4), uint16(0), uint32(0), uint32(0), uint16(0), uint32(1), uint32(5001), uint32(0), nsg, uint32(3))
}

// TestBadInput: each malformed body gives the typed codec's error (status,
// and the field or tag named in it) and still the fields that could be
// read, in order.
func TestBadInput(t *testing.T) {
	fixedNames := func(n int) []string {
		var out []string
		l, _ := LayoutOf(30)
		for _, f := range l.Fixed[:n] {
			out = append(out, f.Name)
		}
		return out
	}
	all := fixedNames(19)
	with := func(extra ...string) []string { return append(append([]string{}, all...), extra...) }
	cases := []struct {
		name    string
		mt, pv  uint32
		body    []byte
		status  cti.Status // 0 = no error
		errHas  string
		fields  []string
		checkFn func(t *testing.T, m Message)
	}{
		{name: "fixed part cut short keeps the fixed fields that fit", mt: 30, pv: 24, body: agentStateFixed(0)[:10],
			status: cti.StatusInvalidMessageLength, errHas: "shorter than the 62-byte fixed part", fields: fixedNames(2)},
		{name: "float length past the end", mt: 30, pv: 24, body: body(agentStateFixed(0), fl(5, "1001\x00"), []byte{0, 4, 0, 9, 'x'}),
			status: cti.StatusBadMessageFormat, errHas: "AGENT_EXTENSION_TAG: field length 9 runs past the end", fields: with("AgentID")},
		{name: "truncated float header", mt: 30, pv: 24, body: body(agentStateFixed(0), fl(5, "1001\x00"), []byte{0, 4, 0}),
			status: cti.StatusBadMessageFormat, errHas: "truncated floating field header", fields: with("AgentID")},
		{name: "unknown tag is named Tag<N> and decoding goes on", mt: 30, pv: 24, body: body(agentStateFixed(0), fl(999, "ab"), fl(5, "1001\x00")),
			status: cti.StatusInvalidFieldTag, errHas: "unknown tag 999", fields: with("Tag999", "AgentID")},
		{name: "tag not allowed keeps its §4.17 name and type", mt: 30, pv: 24, body: body(agentStateFixed(0), fl(7, "hello\x00"), fl(5, "1001\x00")),
			status: cti.StatusInvalidTagForMsgType, errHas: "tag TEXT_TAG not allowed in AGENT_STATE_EVENT", fields: with("TEXT_TAG", "AgentID"),
			checkFn: func(t *testing.T, m Message) {
				if f := m.Fields[19]; f.Type != spec.STRING || f.Str != "hello" {
					t.Errorf("TEXT_TAG decoded as %s %s", f.Type, f.Value())
				}
			}},
		{name: "wrong-size number kept as bytes", mt: 30, pv: 24, body: body(agentStateFixed(0), fl(150, "\x00\x01\x02"), fl(5, "1001\x00")),
			status: cti.StatusInvalidFieldLength, errHas: "Duration has length 3, want 4", fields: with("Duration", "AgentID"),
			checkFn: func(t *testing.T, m Message) {
				if f := m.Fields[19]; f.Type != spec.UNSPEC || f.Value() != "000102" {
					t.Errorf("Duration decoded as %s %s", f.Type, f.Value())
				}
			}},
		{name: "over-long string kept", mt: 30, pv: 24, body: body(agentStateFixed(0), fl(5, "1234567890123\x00")),
			status: cti.StatusInvalidFieldLength, errHas: "AgentID of 14 bytes exceeds the maximum of 12", fields: with("AgentID"),
			checkFn: func(t *testing.T, m Message) {
				if f := m.Fields[19]; f.Str != "1234567890123" {
					t.Errorf("AgentID %q", f.Str)
				}
			}},
		{name: "float sent twice", mt: 30, pv: 24, body: body(agentStateFixed(0), fl(5, "1\x00"), fl(5, "2\x00")),
			status: cti.StatusBadMessageFormat, errHas: "AgentID appears twice", fields: with("AgentID", "AgentID")},
		{name: "float newer than the session", mt: 30, pv: 24, body: body(agentStateFixed(0), fl(303, "term\x00")),
			status: cti.StatusInvalidTagForVersion, errHas: "ActiveTerminal exists from protocol version 25, session is 24", fields: with("ActiveTerminal")},
		{name: "group count disagrees", mt: 30, pv: 24, body: body(agentStateFixed(2), fl(62, "\x00\x00\x00\x01"), fl(63, "\x00\x00\x00\x02"), fl(64, "\x00\x01"), fl(65, "\x00\x04")),
			status: cti.StatusInvalidNumSkillGroups, errHas: "NumFltSkillGroups is 2 but 1 elements were sent",
			fields: with("FltSkillGroupNumber", "FltSkillGroupID", "FltSkillGroupPriority", "FltSkillGroupState")},
		{name: "group member out of order", mt: 30, pv: 24, body: body(agentStateFixed(1), fl(62, "\x00\x00\x00\x01"), fl(64, "\x00\x01"), fl(63, "\x00\x00\x00\x02"), fl(65, "\x00\x04")),
			status: cti.StatusBadMessageFormat, errHas: "FltSkillGroupID out of order in its group",
			fields: with("FltSkillGroupNumber", "FltSkillGroupPriority", "FltSkillGroupID", "FltSkillGroupState")},
		{name: "incomplete group element", mt: 30, pv: 24, body: body(agentStateFixed(1), fl(62, "\x00\x00\x00\x01"), fl(5, "1\x00")),
			status: cti.StatusBadMessageFormat, errHas: "incomplete FltSkillGroups element", fields: with("FltSkillGroupNumber", "AgentID")},
		{name: "required float missing", mt: 13, pv: 24, body: body(uint32(1), uint32(2), uint16(3), uint16(0), uint32(4), uint16(0), uint16(0)),
			status: cti.StatusRequiredDataMissing, errHas: "required field ConnectionDeviceID missing",
			fields: []string{"MonitorID", "PeripheralID", "PeripheralType", "ConnectionDeviceIDType", "ConnectionCallID", "LocalConnectionState", "EventCause"}},
		{name: "named variable without NUL kept as bytes", mt: 23, pv: 24,
			body:   body(uint32(1), uint32(2), uint16(3), uint16(0), uint16(1), uint16(0), uint16(1), uint16(0), uint32(9), uint16(0), fl(25, "1\x00"), fl(82, "noterm")),
			status: cti.StatusBadMessageFormat, errHas: "NamedVariable has no NUL after the variable name",
			fields: []string{"MonitorID", "PeripheralID", "PeripheralType", "NumCTIClients", "NumNamedVariables", "NumNamedArrays", "CallType", "ConnectionDeviceIDType", "ConnectionCallID", "CalledPartyDisposition", "ConnectionDeviceID", "NamedVariable"}},
		{name: "OPEN_REQ from PV24 skips unknown tags without error", mt: 3, pv: 15,
			body: body(uint32(1), uint32(24), uint32(30), uint32(5000), uint32(0), uint32(0), uint32(0), uint32(0), uint32(0), uint32(0), uint32(0),
				fl(1, "client\x00"), fl(2, "\x00"), fl(400, "unique-id\x00")),
			fields: []string{"InvokeID", "VersionNumber", "IdleTimeout", "PeripheralID", "ServicesRequested", "CallMsgMask", "AgentStateMask", "ConfigMsgMask",
				"Reserved1", "Reserved2", "Reserved3", "ClientID", "ClientPassword", "Tag400"},
			checkFn: func(t *testing.T, m Message) {
				if m.Version != 24 {
					t.Errorf("OPEN_REQ decoded with version %d, want its own 24", m.Version)
				}
			}},
		{name: "OPEN_REQ uses its own 1-byte tags in any session", mt: 3, pv: 24,
			body: body(uint32(1), uint32(15), uint32(30), uint32(5000), uint32(0), uint32(0), uint32(0), uint32(0), uint32(0), uint32(0), uint32(0),
				fl1(1, "client\x00"), fl1(2, "")),
			fields: []string{"InvokeID", "VersionNumber", "IdleTimeout", "PeripheralID", "ServicesRequested", "CallMsgMask", "AgentStateMask", "ConfigMsgMask",
				"Reserved1", "Reserved2", "Reserved3", "ClientID", "ClientPassword"}},
		{name: "bytes after a message without floats", mt: 5, pv: 24, body: body(uint32(1), fl(5, "x\x00")),
			status: cti.StatusInvalidTagForMsgType, errHas: "tag AGENT_ID_TAG not allowed in HEARTBEAT_REQ", fields: []string{"InvokeID", "AGENT_ID_TAG"}},
		{name: "message type without a layout is one Body field", mt: 120, pv: 24, body: body(uint32(1), uint32(2)),
			fields: []string{"Body"}},
		{name: "unknown message type", mt: 9999, pv: 24, body: body(uint32(1)),
			status: cti.StatusInvalidMessageLength, errHas: "MessageType(9999): unknown message type", fields: []string{"Body"}},
		{name: "message type newer than the session is decoded anyway", mt: 279, pv: 15, body: body(uint32(7), uint16(1)),
			status: cti.StatusInvalidMsgTypeForVersion, errHas: "message exists from protocol version", fields: []string{"InvokeID", "MaintenanceModeAccepted"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m, err := Decode(c.mt, c.body, c.pv)
			_, terr := cti.DecodeBody(cti.MessageType(c.mt), c.body, cti.ProtocolVersion(c.pv))
			var names []string
			for _, f := range m.Fields {
				names = append(names, f.Name)
			}
			if strings.Join(names, " ") != strings.Join(c.fields, " ") {
				t.Errorf("fields\n got %v\nwant %v", names, c.fields)
			}
			if c.status == 0 {
				if err != nil || terr != nil {
					t.Fatalf("error %v (typed codec: %v)", err, terr)
				}
			} else {
				var ce *cti.Error
				if !errors.As(err, &ce) || ce.Status != c.status || !strings.Contains(err.Error(), c.errHas) {
					t.Fatalf("error %v, want status %d containing %q", err, c.status, c.errHas)
				}
				if terr == nil || terr.Error() != err.Error() {
					t.Errorf("typed codec says %v", terr)
				}
			}
			if c.checkFn != nil {
				c.checkFn(t, m)
			}
		})
	}
}

// TestIgnoredTagsAgree puts unlisted tags into the layouts that skip them
// (OPEN_REQ from PV24, the CONFIG_* records, CALL_AGENT_GREETING_EVENT):
// the typed codec drops them, ctifields keeps them under their tag names,
// and the other fields agree.
func TestIgnoredTagsAgree(t *testing.T) {
	for _, c := range []struct {
		mt, pv uint32
		tag    uint16
		data   string
		want   string
	}{
		{3, 24, 400, "unique-id\x00", "Tag400=756e697175652d696400"},
		{237, 24, 7, "text\x00", `TEXT_TAG="text"`},
		{248, 24, 39, "\x00\x00\x00\x05", "PARTY_CALLID_TAG=5"},
		{236, 15, 98, "\x01\x02", "Tag98=0102"},
	} {
		b, err := ctisample.Body(c.mt, c.pv, ctisample.Options{Seed: 4})
		if err != nil {
			t.Fatal(err)
		}
		if c.pv >= 20 {
			b = append(b, fl(c.tag, c.data)...)
		} else {
			b = append(b, fl1(byte(c.tag), c.data)...)
		}
		checkAgainstTyped(t, c.mt, b, c.pv, false)
		m, _ := Decode(c.mt, b, c.pv)
		if got := string(AppendText(nil, Message{Fields: m.Fields[len(m.Fields)-1:]})); got != " "+c.want {
			t.Errorf("%s: last field %q, want %q", mt2s(c.mt), got, c.want)
		}
	}
}

// FuzzDecode checks on arbitrary bodies that Decode never panics, keeps
// every field inside the body, allocates in proportion to the body, and
// agrees with the typed codec: the same *cti.Error, or the same values.
func FuzzDecode(f *testing.F) {
	for _, m := range spec.Messages {
		for _, pv := range []uint32{15, 24} {
			if b, err := ctisample.Body(m.Type, pv, ctisample.Options{Seed: 9}); err == nil {
				f.Add(uint16(m.Type), uint8(pv), b)
			}
		}
	}
	for _, path := range vectorFiles(f) {
		pv, frames := parseVectors(f, path)
		for _, fr := range frames {
			f.Add(uint16(binary.BigEndian.Uint32(fr[4:])), uint8(pv), fr[cti.HeaderSize:])
		}
	}
	f.Fuzz(func(t *testing.T, mt uint16, pv uint8, b []byte) {
		m, err := Decode(uint32(mt), b, uint32(pv))
		if l, ok := LayoutOf(uint32(mt)); ok && len(m.Fields) > len(l.Fixed)+len(b)/2+1 {
			t.Fatalf("%d fields from %d bytes", len(m.Fields), len(b))
		}
		_ = err
		checkAgainstTyped(t, uint32(mt), b, uint32(pv), true)
	})
}

// TestIgnoredTagsWithoutFloats covers a layout with no floats that skips
// unknown tags (none in today's spec): the typed codec reads only the
// first float and ignores the rest, so ctifields reports nothing after it
// and keeps what it cannot frame as one Trailing field.
func TestIgnoredTagsWithoutFloats(t *testing.T) {
	maxTag := 0
	for _, tg := range spec.Tags {
		maxTag = max(maxTag, int(tg.Tag))
	}
	l := &Layout{Type: 5, Name: "SYNTHETIC", SelfVersioned: -1}
	if err := l.resolve(spec.Message{Type: 5, Name: "SYNTHETIC", IgnoreUnknownTagsFrom: 1,
		Fixed: []spec.Field{{Name: "InvokeID", Type: spec.UINT}}}, maxTag); err != nil {
		t.Fatal(err)
	}
	d := decoder{l: l, body: body(uint32(1), fl(999, "ab"), fl(5, "x\x00"), []byte{0, 7, 0}), pv: 24, wide: true}
	d.run()
	if d.err != nil {
		t.Fatalf("error %v", d.err)
	}
	var got []string
	for _, f := range d.out {
		got = append(got, f.Name+"="+f.Value())
	}
	if want := `InvokeID=1 Tag999=6162 AGENT_ID_TAG="x" Trailing=000700`; strings.Join(got, " ") != want {
		t.Errorf("fields %s, want %s", strings.Join(got, " "), want)
	}
}
