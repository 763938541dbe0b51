package ctitool

import (
	"reflect"
	"strings"
	"testing"

	"github.com/ipcclab/ipcclab/protocol/cti"
	"github.com/ipcclab/ipcclab/protocol/cti/spec"
)

func TestBuildMessage(t *testing.T) {
	m, err := BuildMessage("set_agent_state", []string{"AgentID=1201", "AgentState=AVAILABLE", "PeripheralID=5000", "EventReasonCode=101"}, 24)
	if err != nil {
		t.Fatal(err)
	}
	want := &cti.SetAgentStateReq{AgentID: "1201", AgentState: cti.AgentStateAvailable, PeripheralID: 5000, EventReasonCode: 101}
	want.SetPresent(cti.TagAgentID)
	if !reflect.DeepEqual(m, want) {
		t.Errorf("got %+v\nwant %+v", m, want)
	}

	for _, c := range []struct {
		name string
		args []string
		want cti.Message
	}{
		{"SET_AGENT_STATE_REQ", []string{"agentstate=AGENT_STATE_NOT_READY", "PeripheralID=0x1388", "AgentWorkMode=0"},
			&cti.SetAgentStateReq{AgentState: cti.AgentStateNotReady, PeripheralID: 5000}},
		{"Set_Agent_State_Req", []string{"AgentState=2", "ForcedFlag=TRUE", "AgentInstrument="},
			func() cti.Message {
				m := &cti.SetAgentStateReq{AgentState: cti.AgentStateNotReady, ForcedFlag: 1}
				m.SetPresent(cti.TagAgentInstrument) // an explicit empty string is sent
				return m
			}()},
		{"query_agent_state", []string{"PeripheralID=5000", "AgentInstrument=2201", "MRDID=-1"},
			func() cti.Message {
				m := &cti.QueryAgentStateReq{PeripheralID: 5000, AgentInstrument: "2201", MRDID: -1}
				m.SetPresent(cti.TagAgentInstrument)
				return m
			}()},
		{"set_agent_state", []string{"SkillGroupNumber=10", "SkillGroupPriority=1", "SkillGroupNumber=11"},
			&cti.SetAgentStateReq{SkillGroups: []cti.SkillGroupPriorityPair{{SkillGroupNumber: 10, SkillGroupPriority: 1}, {SkillGroupNumber: 11}}}},
		{"make_predictive_call", []string{"NamedVariable=user.account=12345", "NamedVariable=user.x=a=b", "CallVariable1=hello"},
			func() cti.Message {
				m := &cti.MakePredictiveCallReq{CallVariable1: "hello",
					NamedVariables: []cti.NamedVar{{Name: "user.account", Value: "12345"}, {Name: "user.x", Value: "a=b"}}}
				m.SetPresent(cti.TagCallVar1)
				return m
			}()},
	} {
		got, err := BuildMessage(c.name, c.args, 24)
		if err != nil {
			t.Errorf("%s %v: %v", c.name, c.args, err)
			continue
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s %v:\n got %+v\nwant %+v", c.name, c.args, got, c.want)
		}
		// What is built is what goes on the wire.
		b, err := cti.AppendMessage(nil, got, 24)
		if err != nil {
			t.Errorf("%s: encode: %v", c.name, err)
			continue
		}
		if _, err := cti.DecodeMessage(b, 24); err != nil {
			t.Errorf("%s: decode: %v", c.name, err)
		}
	}
}

func TestBuildMessageRefusesBadInput(t *testing.T) {
	for _, c := range []struct {
		name string
		args []string
		want []string // all must appear in the error
	}{
		{"no_such_thing", nil, []string{`unknown message "no_such_thing"`, "SET_AGENT_STATE_REQ", "QUERY_AGENT_STATE_REQ"}},
		{"set_agent_state", []string{"AgentIdentifier=1"}, []string{`unknown field "AgentIdentifier"`, "AgentID", "AgentState", "EventReasonCode"}},
		{"set_agent_state", []string{"AgentState=SLEEPING"}, []string{"AgentState", `"SLEEPING" is not a AgentState`, "AGENT_STATE_AVAILABLE"}},
		{"set_agent_state", []string{"AgentState=70000"}, []string{"AgentState", "out of range"}},
		{"set_agent_state", []string{"EventReasonCode=65536"}, []string{"EventReasonCode", "out of range (0..65535)"}},
		{"set_agent_state", []string{"EventReasonCode=-1"}, []string{"EventReasonCode", "not a number"}},
		{"set_agent_state", []string{"PeripheralID=12x"}, []string{"PeripheralID", `"12x" is not a number`}},
		{"set_agent_state", []string{"ForcedFlag=256"}, []string{"ForcedFlag", "out of range"}},
		{"query_agent_state", []string{"MRDID=2147483648"}, []string{"MRDID", "out of range"}},
		{"set_agent_state", []string{"AgentID=1234567890123"}, []string{"AgentID", "13 characters exceed the maximum of 11"}},
		{"set_agent_state", []string{"AgentID"}, []string{`"AgentID" is not FIELD=VALUE`}},
		{"set_agent_state", []string{"InvokeID=3"}, []string{"InvokeID is assigned by the session"}},
		{"set_agent_state", []string{"SkillGroupPriority=1"}, []string{"SkillGroupPriority", "assign SkillGroupNumber first"}},
		{"set_agent_state", []string{"ActiveTerminal=x"}, []string{"ActiveTerminal", "exists from protocol version 25"}},
		{"make_predictive_call", []string{"NamedVariable=novalue"}, []string{"NamedVariable", "name=value"}},
		{"make_predictive_call", []string{"NamedVariable=n=" + strings.Repeat("v", 211)}, []string{"NamedVariable", "211 characters, more than the maximum of 210"}},
	} {
		_, err := BuildMessage(c.name, c.args, 24)
		if err == nil {
			t.Errorf("%s %v: accepted", c.name, c.args)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s %v: error %q lacks %q", c.name, c.args, err, w)
			}
		}
	}
}

// A known message type whose layout is not in the codec yet is named as such.
func TestBuildMessageWithoutLayout(t *testing.T) {
	for _, mt := range spec.MessageTypes {
		if !strings.HasSuffix(mt.Name, "_REQ") || cti.MessageType(mt.Type).HasLayout() {
			continue
		}
		_, err := BuildMessage(strings.ToLower(mt.Name), nil, 24)
		if err == nil || !strings.Contains(err.Error(), mt.Name+" has no") || !strings.Contains(err.Error(), "SET_AGENT_STATE_REQ") {
			t.Errorf("%s: %v", mt.Name, err)
		}
		return
	}
	t.Skip("every request has a layout")
}

func TestParseEnum(t *testing.T) {
	for _, c := range []struct {
		enum, in string
		want     uint64
	}{
		{"AgentState", "AVAILABLE", 3},
		{"AgentState", "agent_state_not_ready", 2},
		{"AgentState", "AgentStateTalking", 4},
		{"AgentState", "0x5", 5},
		{"Status", "INVALID_VERSION", 1},
		{"ServiceMask", "ALL_EVENTS|CLIENT_CONTROL", 0x14},
		{"ServiceMask", "CTI_SERVICE_ALL_EVENTS,0x200", 0x210},
		{"CallEventMask", "BEGIN_CALL|END_CALL_MASK", 0x6000},
	} {
		got, err := ParseEnum(c.enum, c.in)
		if err != nil || got != c.want {
			t.Errorf("ParseEnum(%s, %q) = %#x, %v; want %#x", c.enum, c.in, got, err, c.want)
		}
	}
	if _, err := ParseEnum("ServiceMask", "EVERYTHING"); err == nil || !strings.Contains(err.Error(), "CTI_SERVICE_ALL_EVENTS") {
		t.Errorf("bad service name: %v", err)
	}
}
