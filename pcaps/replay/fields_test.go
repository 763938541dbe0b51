package replay

import (
	"flag"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/ipcclab/ipcclab/protocol/cti"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := "testdata/" + name
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if string(want) != got {
		t.Errorf("%s differs (go test -update rewrites it):\n--- got\n%s--- want\n%s", path, got, want)
	}
}

// The form every divergence quotes messages in: type, then fields by name
// with enumerations by their reference names, strings quoted, repeated
// groups element by element, TIME fields as UTC; no InvokeID.
func TestDescribeGolden(t *testing.T) {
	sg := &cti.SetAgentStateReq{InvokeID: 7, PeripheralID: 5000, AgentID: "1201", AgentInstrument: "2201", AgentState: cti.AgentStateNotReady,
		EventReasonCode: 101, NumSkillGroups: 2, SkillGroups: []cti.SkillGroupPriorityPair{{SkillGroupNumber: 100, SkillGroupPriority: 1}, {SkillGroupNumber: 200}}}
	msgs := []cti.Message{
		openReq(1),
		openConf(1),
		sg,
		agentEvent("1001", cti.AgentStateLogin),
		&cti.MakePredictiveCallReq{InvokeID: 3, PeripheralID: 5000, OriginatingDeviceID: "2301", DialedNumber: "15550001", AlertRings: 3, CallVariable1: "Renewals"},
		&cti.FailureConf{InvokeID: 4, Status: cti.StatusInvalidObjectState},
		&cti.HeartbeatReq{InvokeID: 5},
		&cti.SystemEvent{PGStatus: cti.PGSPeripheralOffline | cti.PGSCTIServerOffline, SystemEventID: cti.SysPeripheralOffline,
			ICMCentralControllerTime: cti.TimeOf(time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC))},
		&cti.RawMessage{Type: cti.MessageType(999), Body: []byte{0, 0, 0, 1, 0xAB}},
	}
	var b strings.Builder
	for _, m := range msgs {
		b.WriteString(describe(m))
		b.WriteString("\n")
	}
	golden(t, "describe.golden", b.String())
}

func TestCompareIgnoresVolatileFieldsAndMapsIdentifiers(t *testing.T) {
	at := func(h int) cti.Time { return cti.TimeOf(time.Date(2026, 3, 2, h, 0, 0, 0, time.UTC)) }
	ids := newIDMap()
	ids.commit([]bind{{ns: "call", want: 500, got: 9000}})
	tests := []struct {
		name      string
		want, got cti.Message
		ids       *idMap
		diffs     string
		binds     int
	}{
		{"InvokeID and TIME fields are ignored",
			&cti.OpenConf{InvokeID: 1, ICMCentralControllerTime: at(9), PeripheralOnline: true},
			&cti.OpenConf{InvokeID: 77, ICMCentralControllerTime: at(17), PeripheralOnline: true}, nil, "", 0},
		{"a field that differs is named with both values",
			setState(1, "1201", cti.AgentStateAvailable), setState(1, "1201", cti.AgentStateNotReady), nil,
			"AgentState=AGENT_STATE_NOT_READY (captured AGENT_STATE_AVAILABLE)", 0},
		{"repeated groups are compared element by element",
			&cti.SetAgentStateReq{NumSkillGroups: 1, SkillGroups: []cti.SkillGroupPriorityPair{{SkillGroupNumber: 100}}},
			&cti.SetAgentStateReq{NumSkillGroups: 1, SkillGroups: []cti.SkillGroupPriorityPair{{SkillGroupNumber: 200}}}, nil,
			"SkillGroups[0].SkillGroupNumber=200 (captured 100)", 0},
		{"a group of another length is shown whole",
			&cti.SetAgentStateReq{SkillGroups: []cti.SkillGroupPriorityPair{{SkillGroupNumber: 100}}},
			&cti.SetAgentStateReq{}, nil,
			"SkillGroups=0 elements [] (captured 1 elements [{SkillGroupNumber=100 SkillGroupPriority=0}])", 0},
		{"without a mapping identifiers must be equal",
			endCall(500), endCall(9000), nil, "ConnectionCallID=9000 (captured 500)", 0},
		{"a mapped identifier matches its live value",
			endCall(500), endCall(9000), ids, "", 0},
		{"a mapped identifier does not match another",
			endCall(500), endCall(9001), ids, "ConnectionCallID=9001 (captured 500 (seen as 9000 so far))", 0},
		{"a new identifier is bound on first sight",
			endCall(501), endCall(9001), ids, "", 1},
		{"a live value already bound to another captured one",
			endCall(502), endCall(9000), ids, "ConnectionCallID=9000 (already the replay's 500) (captured 502)", 0},
		{"null identifiers stand for themselves",
			endCall(cti.NullCallID), endCall(cti.NullCallID), ids, "", 0},
		{"raw bodies are compared without their InvokeID",
			&cti.RawMessage{Type: cti.MsgStartRecordingReq, Body: []byte{0, 0, 0, 1, 5}},
			&cti.RawMessage{Type: cti.MsgStartRecordingReq, Body: []byte{0, 0, 0, 2, 6}}, nil, "Body=06 (captured 05)", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			diffs, binds := compare(tc.want, tc.got, tc.ids)
			if got := joinDiffs(diffs); got != tc.diffs {
				t.Errorf("diffs %q\nwant  %q", got, tc.diffs)
			}
			if len(binds) != tc.binds {
				t.Errorf("binds %v, want %d", binds, tc.binds)
			}
		})
	}
}

// Requests the replay sends in the client role carry the live server's
// identifiers; an identifier it has not seen is reported.
func TestRewriteIDs(t *testing.T) {
	ids := newIDMap()
	ids.commit([]bind{{ns: "call", want: 500, got: 9000}})
	m := &cti.ClearCallReq{InvokeID: 3, ConnectionCallID: 500, ConnectionDeviceID: "2301"}
	changed, unmapped := rewriteIDs(m, ids)
	if !changed || m.ConnectionCallID != 9000 || len(unmapped) != 0 {
		t.Errorf("changed %v, call %d, unmapped %v", changed, m.ConnectionCallID, unmapped)
	}
	m = &cti.ClearCallReq{InvokeID: 4, ConnectionCallID: 501, ConnectionDeviceID: "2301"}
	changed, unmapped = rewriteIDs(m, ids)
	if changed || m.ConnectionCallID != 501 || strings.Join(unmapped, ",") != "ConnectionCallID=501" {
		t.Errorf("changed %v, call %d, unmapped %v", changed, m.ConnectionCallID, unmapped)
	}
}
