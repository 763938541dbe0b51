package ctitool

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ipcclab/ipcclab/protocol/cti"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

var at = time.Date(2026, 5, 1, 10, 0, 0, 123_000_000, time.UTC)

// goldenMessages are the messages of the golden tests, decoded from their
// wire form so that Present bits are as a server would send them.
func goldenMessages(t *testing.T) []struct {
	name string
	dir  Direction
	m    cti.Message
} {
	t.Helper()
	const pv = 24
	wire := func(m cti.Message) cti.Message {
		t.Helper()
		b, err := cti.AppendMessage(nil, m, pv)
		if err != nil {
			t.Fatal(err)
		}
		d, err := cti.DecodeMessage(b, pv)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	return []struct {
		name string
		dir  Direction
		m    cti.Message
	}{
		{"agent_state_event", Received, wire(&cti.AgentStateEvent{
			PeripheralID: 5000, PeripheralType: cti.PeripheralType(17), SkillGroupState: cti.AgentStateAvailable,
			SkillGroupNumber: cti.NullSkillGroup, SkillGroupID: cti.NullSkillGroup, AgentState: cti.AgentStateAvailable,
			EventReasonCode: 101, MRDID: 1, AgentMode: 1, MaxTaskLimit: 1, ICMAgentID: 101201,
			AgentID: "1201", AgentExtension: "2201", AgentInstrument: "2201",
			FltSkillGroups: []cti.FltSkillGroup{{FltSkillGroupNumber: 100, FltSkillGroupID: 5100, FltSkillGroupState: cti.AgentStateAvailable}},
		})},
		{"begin_call_event", Received, wire(&cti.BeginCallEvent{
			PeripheralID: 5000, PeripheralType: cti.PeripheralType(17), CallType: 2, ConnectionCallID: 16777218,
			ConnectionDeviceID: "2102", ANI: "212555", DNIS: "8005550200", DialedNumber: "8005550200",
			CallVariable1: "ServiceInbound", CallVariable2: `say "hi"`, CallVariable10: "last",
			NamedVariables: []cti.NamedVar{{Name: "user.account", Value: "12345"}},
			NamedArrays:    []cti.NamedArray{{Index: 2, Name: "user.list", Value: "b"}},
			CTIClients:     []cti.CTIClient{{CTIClientSignature: "ctl"}, {CTIClientSignature: "desk", CTIClientTimestamp: cti.TimeOf(at)}},
			UserToUserInfo: []byte{0xde, 0xad},
		})},
		{"query_agent_state_conf", Received, wire(&cti.QueryAgentStateConf{
			InvokeID: 7, AgentState: cti.AgentStateTalking, MRDID: 1, NumTasks: 1, AgentMode: 1, MaxTaskLimit: 1,
			ICMAgentID: 101201, AgentAvailabilityStatus: 0, AgentID: "1201", AgentExtension: "2201", AgentInstrument: "2201",
			SkillGroups: []cti.SkillGroup{
				{SkillGroupNumber: 100, SkillGroupID: 5100, SkillGroupPriority: 1, SkillGroupState: cti.AgentStateTalking},
				{SkillGroupNumber: 200, SkillGroupID: 5200, SkillGroupState: cti.AgentStateNotReady},
			},
		})},
		{"set_agent_state_req", Sent, wire(&cti.SetAgentStateReq{
			InvokeID: 2, PeripheralID: 5000, AgentState: cti.AgentStateNotReady, EventReasonCode: 101, AgentID: "1201",
		})},
		{"failure_conf", Received, wire(&cti.FailureConf{InvokeID: 1, Status: cti.StatusInvalidVersion})},
		{"raw_message", Received, &cti.RawMessage{Type: cti.MessageType(78), Body: []byte{0, 0, 0, 9, 0, 0, 0x13, 0x88}}},
		{"undecodable", Received, &cti.UndecodableMessage{
			RawMessage: cti.RawMessage{Type: cti.MsgSystemEvent, Body: []byte{1, 2}},
			Err:        &cti.Error{Status: 2, Type: cti.MsgSystemEvent, Offset: 8, Msg: "body too short"}}},
	}
}

func TestFormatGolden(t *testing.T) {
	var text, js strings.Builder
	for _, g := range goldenMessages(t) {
		text.WriteString(FormatLine(at, g.dir, g.m, 24) + "\n")
		line := FormatJSON(at, g.dir, g.m, 24)
		var v map[string]any
		if err := json.Unmarshal([]byte(line), &v); err != nil {
			t.Errorf("%s: FormatJSON is not JSON: %v\n%s", g.name, err, line)
		}
		js.WriteString(line + "\n")
	}
	golden(t, "format.golden", text.String())
	golden(t, "format_json.golden", js.String())
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/ctitool -update to create it)", err)
	}
	if got != string(want) {
		gl, wl := strings.Split(got, "\n"), strings.Split(string(want), "\n")
		for i := range max(len(gl), len(wl)) {
			var g, w string
			if i < len(gl) {
				g = gl[i]
			}
			if i < len(wl) {
				w = wl[i]
			}
			if g != w {
				t.Errorf("%s line %d:\n got %s\nwant %s", name, i+1, g, w)
			}
		}
	}
}

// Specific properties the golden files must keep, spelled out.
func TestFormatLineFields(t *testing.T) {
	msgs := goldenMessages(t)
	line := func(i int) string { return FormatLine(at, msgs[i].dir, msgs[i].m, 24) }
	for _, c := range []struct {
		i    int
		want []string
	}{
		{0, []string{"2026-05-01T10:00:00.123 <- AGENT_STATE_EVENT ", "AgentState=AGENT_STATE_AVAILABLE(3)", `AgentID="1201"`,
			"SkillGroupNumber=0xFFFFFFFF", "FltSkillGroups=[{FltSkillGroupNumber=100 FltSkillGroupID=5100 FltSkillGroupPriority=0 FltSkillGroupState=AGENT_STATE_AVAILABLE(3)}]"}},
		{1, []string{`CallVariable1="ServiceInbound"`, `CallVariable2="say \"hi\""`, `CallVariable10="last"`,
			`NamedVariables=["user.account"="12345"]`, `NamedArrays=["user.list"[2]="b"]`,
			`CTIClients=[{CTIClientSignature="ctl"} {CTIClientSignature="desk" CTIClientTimestamp=2026-05-01T10:00:00Z}]`, "UserToUserInfo=0xdead"}},
		{2, []string{"QUERY_AGENT_STATE_CONF InvokeID=7 AgentState=AGENT_STATE_TALKING(4) NumSkillGroups=2",
			"SkillGroups=[{SkillGroupNumber=100 SkillGroupID=5100 SkillGroupPriority=1 SkillGroupState=AGENT_STATE_TALKING(4)} {SkillGroupNumber=200 SkillGroupID=5200 SkillGroupPriority=0 SkillGroupState=AGENT_STATE_NOT_READY(2)}]"}},
		{3, []string{" -> SET_AGENT_STATE_REQ InvokeID=2 PeripheralID=5000"}},
		{4, []string{"FAILURE_CONF InvokeID=1 Status=E_CTI_INVALID_VERSION(1)"}},
		{5, []string{"<- QUERY_DEVICE_INFO_REQ(78) raw body (8 bytes) 0x0000000900001388"}},
		{6, []string{"SYSTEM_EVENT(31) undecodable: ", "0x0102"}},
	} {
		l := line(c.i)
		for _, w := range c.want {
			if !strings.Contains(l, w) {
				t.Errorf("%s: line lacks %q:\n%s", msgs[c.i].name, w, l)
			}
		}
		if strings.Contains(l, "CallVariable3") || strings.Contains(l, "Present") {
			t.Errorf("%s: absent floats or Present printed:\n%s", msgs[c.i].name, l)
		}
	}
}

// Every laid-out message can be built and printed at every version the
// emulator serves, so layouts added to the codec work here unchanged.
func TestEveryLayoutBuildsAndPrints(t *testing.T) {
	index()
	for mt := range byType {
		if !mt.HasLayout() {
			continue // laid out in spec, code not regenerated yet: decoded raw
		}
		for pv := cti.ProtocolVersion(13); pv <= 24; pv++ {
			if since, _ := mt.Since(); since > pv {
				continue
			}
			m, err := newMessage(mt, pv)
			if err != nil {
				t.Errorf("%s PV%d: %v", mt, pv, err)
				continue
			}
			if m.MessageType() != mt {
				t.Errorf("%s PV%d: built %s", mt, pv, m.MessageType())
			}
			if l := FormatLine(at, Received, m, pv); !strings.Contains(l, mt.String()) {
				t.Errorf("%s: %s", mt, l)
			}
			var v any
			if err := json.Unmarshal([]byte(FormatJSON(at, Received, m, pv)), &v); err != nil {
				t.Errorf("%s: bad JSON: %v", mt, err)
			}
		}
	}
}

func TestCallEventMaskFollowsTheVersion(t *testing.T) {
	m13, m24 := AllCallEvents(13), AllCallEvents(24)
	if m13&cti.AgentPreCallMask == 0 || m13&cti.BeginCallMask == 0 || m13&cti.CallDeliveredMask == 0 {
		t.Errorf("PV13 mask %#x lacks basic call events", uint32(m13))
	}
	if m13&cti.CallAgentGreetingMask != 0 || m13&cti.NetworkRecordingStartedMask != 0 {
		t.Errorf("PV13 mask %#x has events of later versions", uint32(m13))
	}
	if m24&cti.NetworkRecordingStartedMask == 0 || m24&cti.CallAgentGreetingMask == 0 {
		t.Errorf("PV24 mask %#x lacks PV15/PV23 events", uint32(m24))
	}
	if m24&cti.CallTerminationMask != 0 {
		t.Errorf("PV24 mask %#x has the reserved CALL_TERMINATION bit", uint32(m24))
	}
	if AllAgentStates() != 0x3FFF {
		t.Errorf("agent state mask %#x", uint32(AllAgentStates()))
	}
}
