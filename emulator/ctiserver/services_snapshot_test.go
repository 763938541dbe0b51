package ctiserver_test

import (
	"testing"
	"time"

	"github.com/ipcclab/ipcclab/emulator/pg"
	"github.com/ipcclab/ipcclab/protocol/cti"
)

// A live inbound call routed to an agent: SNAPSHOT_CALL_CONF carries the
// call's context as BEGIN_CALL announced it and its two connections
// (customer and agent, both connected); SNAPSHOT_DEVICE_CONF lists the call
// at the agent's phone.
func TestSnapshotOfALiveInboundCall(t *testing.T) {
	f := newFixture(t, 600)
	c := f.openWith(t, 24, "bridge", cti.ServiceAllEvents)
	var begin *cti.BeginCallEvent
	var est *cti.CallEstablishedEvent
	for i := 0; i < 600 && est == nil; i++ {
		f.loop.RunVirtual(f.loop.Now().Add(time.Second))
		for _, m := range c.received() {
			switch e := m.(type) {
			case *cti.BeginCallEvent:
				begin = e
			case *cti.CallEstablishedEvent:
				if begin != nil && e.ConnectionCallID == begin.ConnectionCallID {
					est = e
				}
			}
		}
	}
	if est == nil {
		t.Fatal("no inbound call was answered within 10 minutes")
	}
	agent := est.AnsweringDeviceID
	c.send(&cti.SnapshotCallReq{InvokeID: 1, PeripheralID: 5000, ConnectionCallID: begin.ConnectionCallID,
		ConnectionDeviceIDType: begin.ConnectionDeviceIDType, ConnectionDeviceID: begin.ConnectionDeviceID})
	sc, ok := c.answer().(*cti.SnapshotCallConf)
	if !ok || sc.InvokeID != 1 {
		t.Fatalf("SNAPSHOT_CALL_REQ answered %+v", sc)
	}
	if sc.CallType != begin.CallType || sc.ANI != begin.ANI || sc.DNIS != begin.DNIS || sc.DialedNumber != "8005550100" ||
		sc.DialedNumber != begin.DialedNumber || sc.CallerEnteredDigits != begin.CallerEnteredDigits ||
		sc.CallVariable1 != begin.CallVariable1 || sc.RouterCallKeyDay != begin.RouterCallKeyDay || sc.RouterCallKeyCallID != begin.RouterCallKeyCallID ||
		len(sc.NamedVariables) != len(begin.NamedVariables) {
		t.Fatalf("snapshot %+v\ndoes not match BEGIN_CALL %+v", sc, begin)
	}
	if len(sc.CallDevices) != 2 {
		t.Fatalf("call devices %+v, want customer and agent", sc.CallDevices)
	}
	var sawAgent bool
	for _, d := range sc.CallDevices {
		if d.CallConnectionCallID != begin.ConnectionCallID || d.CallDeviceConnectionState != cti.LCSConnect {
			t.Errorf("call device %+v", d)
		}
		if d.CallDeviceID == agent && d.CallConnectionDeviceID == agent && d.CallDeviceType == cti.DevIDDeviceIdentifier {
			sawAgent = true
		}
	}
	if !sawAgent {
		t.Fatalf("agent %s missing from %+v", agent, sc.CallDevices)
	}
	c.send(&cti.SnapshotDeviceReq{InvokeID: 2, PeripheralID: 5000, SnapshotDeviceType: cti.DevIDDeviceIdentifier, AgentInstrument: agent})
	sd, ok := c.answer().(*cti.SnapshotDeviceConf)
	if !ok || sd.InvokeID != 2 || len(sd.Calls) != 1 || sd.Calls[0].CallConnectionCallID != begin.ConnectionCallID ||
		sd.Calls[0].CallConnectionDeviceID != agent || sd.Calls[0].CallState != cti.LCSConnect {
		t.Fatalf("SNAPSHOT_DEVICE_CONF %+v", sd)
	}
}

// After a consultative transfer the surviving call has the customer and the
// transferred-to agent; the transferring agent has no call; the customer's
// first call is gone (CF_INVALID_CSTA_CALL_IDENTIFIER).
func TestSnapshotOfATransferredCall(t *testing.T) {
	f := newFixture(t, 0)
	ctl := f.openWith(t, 24, "ctl", cti.ServiceAllEvents|cti.ServiceClientControl)
	ctl.send(&cti.MakePredictiveCallReq{InvokeID: 1, PeripheralID: 5000, OriginatingDeviceID: "2201", DialedNumber: "15550100",
		CallVariable3: "cv3", NamedVariables: []cti.NamedVar{{Name: "user.acct", Value: "42"}}})
	f.loop.RunVirtual(f.loop.Now().Add(6 * time.Second))
	customer := ctl.received()[0].(*cti.MakePredictiveCallConf).NewConnectionCallID
	ctl.send(&cti.ConsultationCallReq{InvokeID: 2, PeripheralID: 5000, ActiveConnectionCallID: customer, ActiveConnectionDeviceID: "2201",
		AgentInstrument: "2201", DialedNumber: "2001", ConsultType: 1})
	f.loop.RunVirtual(f.loop.Now().Add(4 * time.Second))
	consult := ctl.received()[0].(*cti.ConsultationCallConf).NewConnectionCallID
	ctl.send(&cti.TransferCallReq{InvokeID: 3, PeripheralID: 5000, HeldConnectionCallID: customer, HeldConnectionDeviceID: "2201",
		ActiveConnectionCallID: consult, ActiveConnectionDeviceID: "2201", AgentInstrument: "2201"})
	f.loop.RunVirtual(f.loop.Now().Add(2 * time.Second))
	if tc, ok := ctl.received()[0].(*cti.TransferCallConf); !ok || tc.InvokeID != 3 {
		t.Fatal("transfer failed")
	}
	ctl.send(&cti.SnapshotCallReq{InvokeID: 4, PeripheralID: 5000, ConnectionCallID: consult, ConnectionDeviceIDType: cti.ConnectionIDStatic, ConnectionDeviceID: "2001"})
	sc, ok := ctl.answer().(*cti.SnapshotCallConf)
	if !ok {
		t.Fatal("no SNAPSHOT_CALL_CONF for the surviving call")
	}
	devs := map[string]cti.LocalConnectionState{}
	for _, d := range sc.CallDevices {
		devs[d.CallDeviceID] = d.CallDeviceConnectionState
		if d.CallConnectionCallID != consult {
			t.Errorf("device %+v not on the surviving call %d", d, consult)
		}
	}
	if len(devs) != 2 || devs["2001"] != cti.LCSConnect || devs["15550100"] != cti.LCSConnect {
		t.Fatalf("surviving call devices %v, want customer and 2001 connected", devs)
	}
	// The surviving call took over the customer call's context.
	if sc.CallVariable3 != "cv3" || len(sc.NamedVariables) != 1 || sc.NamedVariables[0] != (cti.NamedVar{Name: "user.acct", Value: "42"}) {
		t.Fatalf("surviving call context %+v", sc)
	}
	ctl.send(&cti.SnapshotDeviceReq{InvokeID: 5, PeripheralID: 5000, AgentInstrument: "2201"})
	if sd, ok := ctl.answer().(*cti.SnapshotDeviceConf); !ok || len(sd.Calls) != 0 {
		t.Fatalf("the transferring agent still has calls: %+v", sd)
	}
	ctl.send(&cti.SnapshotDeviceReq{InvokeID: 6, PeripheralID: 5000, AgentInstrument: "2001"})
	if sd, ok := ctl.answer().(*cti.SnapshotDeviceConf); !ok || len(sd.Calls) != 1 || sd.Calls[0].CallConnectionCallID != consult {
		t.Fatalf("SNAPSHOT_DEVICE of 2001: %+v", sd)
	}
	ctl.send(&cti.SnapshotCallReq{InvokeID: 7, PeripheralID: 5000, ConnectionCallID: customer, ConnectionDeviceID: "2201"})
	if cf, ok := ctl.answer().(*cti.ControlFailureConf); !ok || cf.InvokeID != 7 || cf.FailureCode != cti.CFInvalidCSTACallIdentifier {
		t.Fatal("snapshot of the ended customer call must fail with CF_INVALID_CSTA_CALL_IDENTIFIER")
	}
}

func TestSnapshotAndDeviceInfoRefusals(t *testing.T) {
	f := newFixture(t, 0)
	c := f.openWith(t, 24, "bridge", cti.ServiceAllEvents)
	cases := []struct {
		name string
		req  cti.Message
		want cti.ControlFailureCode
	}{
		{"SNAPSHOT_CALL unknown call", &cti.SnapshotCallReq{InvokeID: 1, ConnectionCallID: 4242, ConnectionDeviceID: "2001"}, cti.CFInvalidCSTACallIdentifier},
		{"SNAPSHOT_DEVICE unknown device", &cti.SnapshotDeviceReq{InvokeID: 2, AgentInstrument: "9999"}, cti.CFInvalidCSTADeviceIdentifier},
		{"QUERY_DEVICE_INFO unknown device", &cti.QueryDeviceInfoReq{InvokeID: 3, AgentInstrument: "9999"}, cti.CFInvalidCSTADeviceIdentifier},
		{"AGENT_DESK_SETTINGS unknown agent", &cti.AgentDeskSettingsReq{InvokeID: 4, PeripheralID: 5000, AgentID: "4242"}, cti.ControlFailureCode(pg.CFInvalidAgentID)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c.t = t
			c.send(tc.req)
			cf, ok := c.answer().(*cti.ControlFailureConf)
			if !ok || cf.InvokeID != tc.req.(cti.InvokeIDer).GetInvokeID() || cf.FailureCode != tc.want {
				t.Fatalf("got %+v, want CONTROL_FAILURE_CONF %v", cf, tc.want)
			}
		})
	}
}

func TestQueryDeviceInfo(t *testing.T) {
	f := newFixture(t, 0)
	c := f.openWith(t, 24, "bridge", cti.ServiceAllEvents)
	before := f.cen.PG().EventsEmitted()
	c.send(&cti.QueryDeviceInfoReq{InvokeID: 9, PeripheralID: 5000, AgentInstrument: "2001"})
	qc, ok := c.answer().(*cti.QueryDeviceInfoConf)
	if !ok || qc.InvokeID != 9 {
		t.Fatalf("QUERY_DEVICE_INFO_REQ answered %+v", qc)
	}
	if f.cen.PG().EventsEmitted() != before {
		t.Fatal("computing the capabilities changed the PG")
	}
	if qc.PeripheralType != cti.PeripheralType(17) || qc.TypeOfDevice != cti.DeviceTypeStation || qc.ClassOfDevice != cti.DeviceClassVoice ||
		len(qc.Lines) != 1 || qc.Lines[0].LineType != cti.LineTypeInboundACD ||
		qc.MaxActiveCalls != 1 || qc.MaxHeldCalls != 1 || qc.MaxDevicesInConference != 16 || qc.MakeCallSetup != cti.AgentNotReadyMask ||
		qc.OtherFeaturesSupported != cti.FeatureUniqueConsultCallID {
		t.Fatalf("QUERY_DEVICE_INFO_CONF %+v", qc)
	}
	// Every call event the PG produces, nothing it does not (UCCE never
	// sends CALL_QUEUED, CALL_DEQUEUED, CALL_TRANSLATION_ROUTE, §5.9).
	wantEvents := cti.CallDeliveredMask | cti.CallEstablishedMask | cti.CallHeldMask | cti.CallRetrievedMask | cti.CallClearedMask |
		cti.CallConnectionClearedMask | cti.CallOriginatedMask | cti.CallConferencedMask | cti.CallTransferredMask | cti.CallDivertedMask |
		cti.CallServiceInitiatedMask | cti.BeginCallMask | cti.EndCallMask | cti.CallDataUpdateMask | cti.CallFailedMask |
		cti.AgentPreCallMask | cti.AgentPreCallAbortMask
	if qc.CallEventsSupported != wantEvents {
		t.Fatalf("CallEventsSupported %v, want %v", qc.CallEventsSupported, wantEvents)
	}
	// Every CONTROL_* request is served today (§4.16: bits 0x1..0x40000).
	if qc.CallControlSupported != 0x7FFFF {
		t.Fatalf("CallControlSupported %v, want all 19 CONTROL_* bits", qc.CallControlSupported)
	}
}

func TestAgentDeskSettings(t *testing.T) {
	f := newFixture(t, 0)
	c := f.openWith(t, 15, "bridge", cti.ServiceAllEvents)
	for _, agent := range []string{"1001", "1201"} {
		ds, err := f.cen.PG().AgentDeskSettings(agent)
		if err != nil {
			t.Fatal(err)
		}
		c.send(&cti.AgentDeskSettingsReq{InvokeID: 3, PeripheralID: 5000, AgentID: agent})
		dc, ok := c.answer().(*cti.AgentDeskSettingsConf)
		if !ok || dc.InvokeID != 3 || dc.PeripheralID != 5000 {
			t.Fatalf("AGENT_DESK_SETTINGS_CONF %+v", dc)
		}
		wrap := func(on bool) uint32 {
			if on {
				return 0 // required
			}
			return 2 // not allowed
		}
		rna := uint32(0xFFFFFFFF)
		if ds.RingNoAnswer > 0 {
			rna = uint32(ds.RingNoAnswer / time.Second)
		}
		if dc.WrapupDataIncomingMode != wrap(ds.WrapUpIncoming) || dc.WrapupDataOutgoingMode != wrap(ds.WrapUpOutgoing) ||
			dc.RingNoAnswerTime != rna || (dc.DeskSettingsMask&cti.DeskAvailAfterIncomingMask != 0) == ds.NotReadyAfterIncoming ||
			(dc.DeskSettingsMask&cti.DeskIdleReasonRequiredMask != 0) != ds.IdleReasonRequired ||
			dc.LogoutNonActivityTime != 0xFFFFFFFF || dc.QualityRecordingRate != 0xFFFFFFFF || !dc.Has(cti.TagDefaultDevicePortAddress) {
			t.Fatalf("agent %s desk %+v: conf %+v", agent, ds, dc)
		}
	}
	// A desktop asks for its own agent's settings without naming it.
	desk := f.connect(t, 24)
	desk.open(deskReq("desk", "2001", 24))
	desk.received()
	desk.send(&cti.AgentDeskSettingsReq{InvokeID: 4, PeripheralID: 5000})
	if dc, ok := desk.answer().(*cti.AgentDeskSettingsConf); !ok || dc.InvokeID != 4 {
		t.Fatalf("desktop's own desk settings: %+v", dc)
	}
}
