package cti

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// parseVectors reads an annotated hex file (see testdata/vectors/README.md)
// and returns its protocol version and frames.
func parseVectors(t testing.TB, path string) (ProtocolVersion, [][]byte) {
	t.Helper()
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var pv ProtocolVersion
	var raw []byte
	var digits []byte
	for _, line := range strings.Split(string(src), "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "# pv:"); ok {
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil {
				t.Fatalf("%s: bad pv line %q", path, line)
			}
			pv = ProtocolVersion(n)
			continue
		}
		for i := 0; i < len(line); i++ {
			c := line[i]
			switch {
			case c == '#':
				i = len(line)
			case c == '"':
				j := i + 1
				for ; j < len(line) && line[j] != '"'; j++ {
					if line[j] == '\\' && j+1 < len(line) {
						j++
						if line[j] == '0' {
							digits = append(digits, "00"...)
						} else {
							digits = append(digits, hex.EncodeToString([]byte{line[j]})...)
						}
						continue
					}
					digits = append(digits, hex.EncodeToString([]byte{line[j]})...)
				}
				i = j
			case c == ' ' || c == '\t' || c == '|' || c == '\r':
			default:
				digits = append(digits, c)
			}
		}
	}
	raw, err = hex.DecodeString(string(digits))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var frames [][]byte
	for len(raw) > 0 {
		if len(raw) < HeaderSize {
			t.Fatalf("%s: trailing %d bytes", path, len(raw))
		}
		n := int(binary.BigEndian.Uint32(raw)) + HeaderSize
		if n > len(raw) {
			t.Fatalf("%s: frame %d: length %d but %d bytes left", path, len(frames), n, len(raw))
		}
		frames = append(frames, raw[:n])
		raw = raw[n:]
	}
	return pv, frames
}

func present[T interface{ SetPresent(Tag) }](m T, tags ...Tag) T {
	for _, t := range tags {
		m.SetPresent(t)
	}
	return m
}

// goldenWant lists the documented field values of every frame of every
// vector file (§7, §1.3).
var goldenWant = map[string][]Message{
	"pv15_open_req.hex": {present(&OpenReq{
		InvokeID: 1, VersionNumber: 15, IdleTimeout: 0x7fffffff, PeripheralID: 5000,
		ServicesRequested: ServiceIgnoreDuplicateAgentEvents | ServiceUpdateEvents | ServiceConfigEvents | 0x200 | ServiceSupervisor | ServiceAllEvents | ServiceClientControl | ServiceCallDataUpdate,
		CallMsgMask:       0x0fffffff, AgentStateMask: 0x3ff, ConfigMsgMask: ConfigService | ConfigSkillGroup,
		ClientID: "CTIOSServer", ClientPassword: []byte("CTIOSServer\x00"), ClientSignature: "CTIOSServer",
	}, TagClientID, TagClientPassword, TagClientSignature)},
	"pv15_open_conf.hex": {present(&OpenConf{
		InvokeID: 1, ServicesGranted: 0x001c0296, MonitorID: 0, PGStatus: PGSPeripheralOffline,
		ICMCentralControllerTime: 0x4c8e1f00, PeripheralOnline: false, PeripheralType: PTEnterpriseAgent, AgentState: AgentStateUnknown,
		NumPeripherals: 1, Peripherals: []PeripheralLine{{FltPeripheralID: 5000, MultilineAgentControl: MultilineSingleLine, Present: 2}},
	}, TagNumPeripherals)},
	"pv15_system_event.hex": {
		&SystemEvent{PGStatus: PGSPeripheralOffline, ICMCentralControllerTime: 0x4c8e1f00, SystemEventID: SysPeripheralOnline, SystemEventArg1: 5000, EventDeviceType: DevIDNone},
		&SystemEvent{PGStatus: PGSPeripheralOffline, ICMCentralControllerTime: 0x4c8e1f00, SystemEventID: SysPeripheralOnline, SystemEventArg1: 5001, EventDeviceType: DevIDNone},
		&SystemEvent{PGStatus: PGSPeripheralOffline, ICMCentralControllerTime: 0x4c8e1f00, SystemEventID: SysPeripheralOffline, SystemEventArg1: 5003, EventDeviceType: DevIDNone},
	},
	"pv15_client_event_report.hex": {
		present(&ClientEventReportReq{InvokeID: 2, State: ClientEventStateNormal, Text: "1", ObjectName: "CTIOS_NUM_CLIENTS"}, TagText, TagObjectName),
		&ClientEventReportConf{InvokeID: 2},
	},
	"pv15_query_agent_state.hex": {
		present(&QueryAgentStateReq{InvokeID: 3, PeripheralID: 5000, AgentID: "2", AgentInstrument: "1000"}, TagAgentID, TagAgentInstrument),
		present(&QueryAgentStateReq{InvokeID: 4, PeripheralID: 5000, MRDID: 1, AgentID: "1"}, TagAgentID),
		present(&QueryAgentStateConf{
			InvokeID: 3, AgentState: AgentStateLogout, NumSkillGroups: 3, MRDID: 1, ICMAgentID: 5007,
			AgentID: "2", AgentExtension: "1000", AgentInstrument: "1000",
			SkillGroups: []SkillGroup{
				{SkillGroupNumber: 0xbf71, SkillGroupID: 5000, SkillGroupState: AgentStateLogout},
				{SkillGroupNumber: 100, SkillGroupID: 5005, SkillGroupState: AgentStateLogout},
				{SkillGroupNumber: 103, SkillGroupID: 5046, SkillGroupState: AgentStateLogout},
			},
		}, TagAgentID, TagAgentExtension, TagAgentInstrument),
		present(&QueryAgentStateConf{
			InvokeID: 4, AgentState: AgentStateNotReady, NumSkillGroups: 3, MRDID: 1, AgentMode: AgentModeRoutable, MaxTaskLimit: 1, ICMAgentID: 5007,
			AgentID: "10001", AgentExtension: "100001", AgentInstrument: "100001",
			SkillGroups: []SkillGroup{
				{SkillGroupNumber: 0xbf71, SkillGroupID: 5000, SkillGroupState: AgentStateNotReady},
				{SkillGroupNumber: 100, SkillGroupID: 5005, SkillGroupState: AgentStateNotReady},
				{SkillGroupNumber: 103, SkillGroupID: 5046, SkillGroupState: AgentStateNotReady},
			},
		}, TagAgentID, TagAgentExtension, TagAgentInstrument),
	},
	"pv15_agent_team_config_event.hex": {
		&AgentTeamConfigEvent{PeripheralID: 5000, TeamID: 5000, NumberOfAgents: 1, ConfigOperation: ConfigOperationAdd,
			Agents: []TeamAgent{{AtcAgentID: "1", AgentFlags: AgentFlagPrimarySupervisor, AtcAgentState: AgentStateLogout, AtcStateDuration: 0x1b8a05}}},
		&AgentTeamConfigEvent{PeripheralID: 5000, TeamID: 5001, NumberOfAgents: 2, ConfigOperation: ConfigOperationAdd,
			Agents: []TeamAgent{
				{AtcAgentID: "2", AtcAgentState: AgentStateLogout, AtcStateDuration: 0x11fab},
				{AtcAgentID: "4", AtcAgentState: AgentStateLogout, AtcStateDuration: 0x1b8a05},
			}},
	},
	"pv15_agent_desk_settings.hex": {
		present(&AgentDeskSettingsReq{InvokeID: 5, PeripheralID: 5000, AgentID: "2"}, TagAgentID),
		present(&AgentDeskSettingsConf{InvokeID: 5, PeripheralID: 5000, DeskSettingsMask: DeskOutboundAccessPrivateNetMask,
			WrapupDataIncomingMode: 1, WrapupDataOutgoingMode: 1, LogoutNonActivityTime: 0xffffffff, QualityRecordingRate: 0xffffffff,
			RingNoAnswerTime: 0xffffffff, WorkModeTimer: 7200}, TagDefaultDevicePortAddress),
	},
	"pv15_config_download.hex": {
		present(&ConfigRequestKeyEvent{PeripheralID: 5000}, TagCustomerID),
		present(&ConfigKeyEvent{ConfigKeyStatus: ConfigKeySuccess,
			ServiceConfigKey: key(0x11), SkillGroupConfigKey: key(0x22), AgentConfigKey: key(0x33), DeviceConfigKey: key(0x44), CallTypeConfigKey: key(0x55)},
			TagServiceConfigKey, TagSkillGroupConfigKey, TagAgentConfigKey, TagDeviceConfigKey, TagCallTypeKeyConfig),
		present(&ConfigRequestEvent{ConfigInformation: ConfigSkillGroup | ConfigAgent, PeripheralID: 5000}, TagCustomerID),
		present(&ConfigBeginEvent{ConfigType: ConfigTypeSolicited, ConfigInformation: ConfigSkillGroup | ConfigAgent, SkillGroupConfigKey: key(0x22), AgentConfigKey: key(0x33)},
			TagSkillGroupConfigKey, TagAgentConfigKey),
		&ConfigEndEvent{},
	},
	"pv20_failures.hex": {
		&FailureConf{InvokeID: 0x01020304, Status: StatusInvalidMonitorStatus},
		&ControlFailureConf{InvokeID: 0x01020304, FailureCode: CFRequestTimeoutRejection, PeripheralErrorCode: 0x02030405},
		&FailureEvent{Status: StatusUnspecifiedFailure},
	},
	"pv20_open_req.hex": {present(&OpenReq{
		InvokeID: 0x01020304, VersionNumber: 20, IdleTimeout: 30, PeripheralID: NullPeripheralID,
		ServicesRequested: ServiceCallDataUpdate | ServiceAllEvents, CallMsgMask: BeginCallMask | EndCallMask,
		ClientID: "ClientID", ClientPassword: []byte{}, ApplicationPathID: 0x03040506,
	}, TagClientID, TagClientPassword, TagAppPathID)},
	"pv20_begin_call_event.hex": {present(&BeginCallEvent{
		MonitorID: 0x01020304, PeripheralID: 0x02030405, PeripheralType: PTEnterpriseAgent,
		NumNamedVariables: 1, NumNamedArrays: 1, CallType: CallTypePrerouteACDIn, ConnectionDeviceIDType: ConnectionIDStatic,
		ConnectionCallID: 0x06070809, CalledPartyDisposition: 13, ConnectionDeviceID: "ConnectionDeviceID",
		NamedVariables: []NamedVar{{Name: "ECCVar", Value: "ECCVal"}},
		NamedArrays:    []NamedArray{{Index: 1, Name: "ECCArr", Value: "ECCArrVal"}},
	}, TagConnectionDevID)},
}

// key returns an 8-byte config key 0x00000000000000NN.
func key(n byte) []byte { return []byte{0, 0, 0, 0, 0, 0, 0, n} }

func TestGoldenVectors(t *testing.T) {
	files, err := filepath.Glob("testdata/vectors/*.hex")
	if err != nil || len(files) == 0 {
		t.Fatalf("no vectors: %v", err)
	}
	for _, path := range files {
		name := filepath.Base(path)
		t.Run(name, func(t *testing.T) {
			want, ok := goldenWant[name]
			if !ok {
				t.Fatalf("no expectations for %s", name)
			}
			pv, frames := parseVectors(t, path)
			if len(frames) != len(want) {
				t.Fatalf("%d frames, %d expectations", len(frames), len(want))
			}
			for i, frame := range frames {
				got, err := DecodeMessage(frame, pv)
				if err != nil {
					t.Fatalf("frame %d: decode: %v", i, err)
				}
				if !reflect.DeepEqual(got, want[i]) {
					t.Errorf("frame %d: decoded\n got %+v\nwant %+v", i, got, want[i])
				}
				// Re-encode the decoded value and the hand-built expectation:
				// both must reproduce the wire bytes exactly.
				for j, m := range []Message{got, want[i]} {
					enc, err := AppendMessage(nil, m, pv)
					if err != nil {
						t.Fatalf("frame %d: encode: %v", i, err)
					}
					if !bytes.Equal(enc, frame) {
						t.Errorf("frame %d (%d): re-encoded\n got %x\nwant %x", i, j, enc, frame)
					}
				}
			}
		})
	}
}

func TestFixedSizes(t *testing.T) {
	// §3.1 sizes that depend on the version.
	cases := []struct {
		m    interface{ FixedSize(ProtocolVersion) int }
		pv   ProtocolVersion
		want int
	}{
		{&OpenConf{}, 15, 26}, {&OpenConf{}, 19, 30}, {&OpenConf{}, 23, 30}, {&OpenConf{}, 24, 32},
		{&AgentStateEvent{}, 15, 58}, {&AgentStateEvent{}, 18, 58}, {&AgentStateEvent{}, 19, 62}, {&AgentStateEvent{}, 24, 62},
		{&QueryAgentStateConf{}, 15, 30}, {&QueryAgentStateConf{}, 19, 34},
		{&AgentPreCallEvent{}, 19, 30}, {&AgentPreCallEvent{}, 20, 34},
		{&SetAgentStateReq{}, 24, 21},
		{&OpenReq{}, 24, 44}, {&SystemEvent{}, 15, 26}, {&CallDeliveredEvent{}, 24, 54}, {&CallEstablishedEvent{}, 24, 50},
		{&BeginCallEvent{}, 24, 26}, {&CallDataUpdateEvent{}, 24, 40}, {&SetCallDataReq{}, 24, 30},
		{&MakePredictiveCallReq{}, 24, 42}, {&MakeCallReq{}, 24, 32}, {&MakeCallReq{}, 13, 28},
		{&ControlFailureConf{}, 24, 10}, {&FailureConf{}, 24, 8},
		{&QuerySkillGroupStatisticsConf{}, 24, 596},
		{&CallQueuedEvent{}, 24, 40}, {&CallConferencedEvent{}, 24, 46}, {&CallServiceInitiatedEvent{}, 24, 44},
		{&ConferenceCallReq{}, 24, 40}, {&TransferCallReq{}, 24, 40}, {&ConsultationCallReq{}, 24, 36},
		{&ClearConnectionReq{}, 13, 14}, {&ClearConnectionReq{}, 14, 16},
		{&SendDTMFSignalReq{}, 9, 18}, {&SendDTMFSignalReq{}, 10, 20},
		{&RTPStartedEvent{}, 24, 34}, {&QueryDeviceInfoConf{}, 24, 40}, {&QueryAgentStatisticsConf{}, 24, 344},
	}
	for _, c := range cases {
		if got := c.m.FixedSize(c.pv); got != c.want {
			t.Errorf("%T at PV%d: fixed size %d, want %d", c.m, c.pv, got, c.want)
		}
	}
}

func TestStringers(t *testing.T) {
	for _, c := range []struct{ got, want string }{
		{MsgFailureConf.String(), "FAILURE_CONF"},
		{MsgSetAgentServiceDataConf.String(), "SET_AGENT_SERVICE_DATA_CONF"},
		{MessageType(9999).String(), "MessageType(9999)"},
		{TagNamedVariable.String(), "NAMED_VARIABLE_TAG"},
		{AgentStateLogin.String(), "AGENT_STATE_LOGIN"},
		{AgentStateLogout.String(), "AGENT_STATE_LOGOUT"},
		{StatusInvalidMessageType.String(), "E_CTI_INVALID_MESSAGE_LENGTH"},
		{StatusInvalidConfigMsgMask.String(), "E_INVALID_CONFIG_MSG_MASK"},
		{ServiceMask(0x001c0296).String(), "CTI_SERVICE_CALL_DATA_UPDATE|CTI_SERVICE_CLIENT_CONTROL|CTI_SERVICE_ALL_EVENTS|CTI_SERVICE_SUPERVISOR|CTI_SERVICE_CONFIG_EVENTS|CTI_SERVICE_UPDATE_EVENTS|CTI_SERVICE_IGNORE_DUPLICATE_AGENT_EVENTS|0x200"},
		{CFAgentGreetingControlOperationFailure.String(), "CF_AGENT_GREETING_CONTROL_OPERATION_FAILURE"},
		{CECXAbandNetwork.String(), "CECX_ABAND_NETWORK"},
		{EventCause(9).String(), "CEC_CALL_FORWARD"},
		{AgentState(99).String(), "AgentState(99)"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
	// Every §2 type has a name.
	n := 0
	for mt := MessageType(0); mt < 300; mt++ {
		if _, ok := mt.Since(); ok {
			n++
			if strings.HasPrefix(mt.String(), "MessageType(") {
				t.Errorf("%d has no name", mt)
			}
		}
	}
	if n < 240 {
		t.Errorf("only %d message types known", n)
	}
	_ = fmt.Sprint
}
