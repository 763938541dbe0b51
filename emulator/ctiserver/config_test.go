package ctiserver_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/ipcclab/ipcclab/emulator/ctiserver"
	"github.com/ipcclab/ipcclab/emulator/icm"
	"github.com/ipcclab/ipcclab/emulator/pg"
	"github.com/ipcclab/ipcclab/internal/sim"
	"github.com/ipcclab/ipcclab/protocol/cti"
)

// cfgFixture is a PG and router built directly (no traffic), so that skill
// group priorities, lines and call types are under the test's control.
type cfgFixture struct {
	loop   *sim.Loop
	pg     *pg.PG
	router *icm.Router
	srv    *ctiserver.Server
	sgs    []pg.SkillGroupConfig
	agents []pg.AgentConfig
	lines  []pg.LineConfig
}

type cfgSpec struct {
	sgs    int // skill groups 101.. (the last one has no agents when agents > 0)
	agents int // agents 2001.., each in two skill groups
	skills int // when > 0: every agent is in this many skill groups instead
	lines  int
	rename string // a different name for skill group 101
}

var cfgEpoch = time.Date(2026, 1, 5, 8, 0, 0, 0, time.UTC)

func newCfgFixture(t *testing.T, sp cfgSpec) *cfgFixture {
	t.Helper()
	f := &cfgFixture{loop: sim.NewLoop(cfgEpoch)}
	var isgs []icm.SkillGroupConfig
	for i := 0; i < sp.sgs; i++ {
		name := fmt.Sprintf("SG_%s_%02d", []string{"Sales", "Support", "Billing", "Retention"}[i%4], i+1)
		if i == 0 && sp.rename != "" {
			name = sp.rename
		}
		sg := pg.SkillGroupConfig{Number: uint32(101 + i), ID: uint32(6001 + i), Name: name}
		f.sgs = append(f.sgs, sg)
		isgs = append(isgs, icm.SkillGroupConfig{Number: sg.Number, ID: sg.ID, Name: sg.Name})
	}
	withAgents := sp.sgs - 1 // the last skill group stays empty
	if withAgents < 1 {
		withAgents = sp.sgs
	}
	for i := 0; i < sp.agents; i++ {
		a := pg.AgentConfig{AgentID: strconv.Itoa(2001 + i), Extension: strconv.Itoa(3001 + i), ICMAgentID: uint32(7001 + i)}
		if sp.skills > 0 {
			for k := 0; k < sp.skills; k++ {
				a.SkillGroups = append(a.SkillGroups, pg.Membership{SkillGroup: uint32(101 + k), Priority: uint16(k % 4)})
			}
		} else {
			first := i % withAgents
			second := (i + 5) % withAgents
			a.SkillGroups = append(a.SkillGroups, pg.Membership{SkillGroup: uint32(101 + first), Priority: uint16(i % 3)})
			if second != first {
				a.SkillGroups = append(a.SkillGroups, pg.Membership{SkillGroup: uint32(101 + second), Priority: 1})
			}
		}
		f.agents = append(f.agents, a)
	}
	for i := 0; i < sp.lines; i++ {
		f.lines = append(f.lines, pg.LineConfig{Extension: strconv.Itoa(4001 + i)})
	}
	var cts []icm.CallTypeConfig
	if sp.sgs >= 3 {
		cts = []icm.CallTypeConfig{
			{ID: 1, Name: "SalesIn", DialedNumbers: []string{"8005550100"}, Targets: []icm.Target{{SkillGroup: 101}, {SkillGroup: 102, Priority: 3}}},
			{ID: 2, Name: "SupportIn", DialedNumbers: []string{"8005550200", "8005550201"}, Targets: []icm.Target{{SkillGroup: 103, Priority: 7}}},
		}
	}
	var err error
	f.router, err = icm.New(icm.Config{Scheduler: f.loop, SkillGroups: isgs, CallTypes: cts, Deliver: func(icm.Delivery) error { return nil }})
	if err != nil {
		t.Fatal(err)
	}
	f.pg, err = pg.New(pg.Config{Scheduler: f.loop, SkillGroups: f.sgs, Agents: f.agents, Lines: f.lines,
		Emit: func(e pg.Event) {
			if f.srv != nil {
				f.srv.PGEvent(e)
			}
		},
		Hooks: pg.Hooks{AgentChanged: f.router.AgentChanged}})
	if err != nil {
		t.Fatal(err)
	}
	f.srv, err = ctiserver.New(ctiserver.DefaultConfig(), f.loop, f.pg, f.router)
	if err != nil {
		t.Fatal(err)
	}
	f.loop.RunVirtual(cfgEpoch.Add(time.Minute))
	return f
}

// login logs the agent on and makes it AVAILABLE.
func (f *cfgFixture) login(t *testing.T, i int) {
	t.Helper()
	a := f.agents[i]
	if err := f.pg.SetAgentState(pg.SetAgentStateRequest{AgentID: a.AgentID, Instrument: a.Extension, State: pg.StateLogin}); err != nil {
		t.Fatal(err)
	}
	if err := f.pg.SetAgentState(pg.SetAgentStateRequest{AgentID: a.AgentID, State: pg.StateAvailable}); err != nil {
		t.Fatal(err)
	}
}

func (f *cfgFixture) advance(d time.Duration) { f.loop.RunVirtual(f.loop.Now().Add(d)) }

// cfgConn is a fake client connection.
type cfgConn struct {
	t      *testing.T
	pv     cti.ProtocolVersion
	sess   *ctiserver.Session
	frames [][]byte
}

func (c *cfgConn) Send(frame []byte) { c.frames = append(c.frames, append([]byte(nil), frame...)) }
func (c *cfgConn) Close()            {}

func (c *cfgConn) send(m cti.Message) {
	c.t.Helper()
	b, err := cti.AppendMessage(nil, m, c.pv)
	if err != nil {
		c.t.Fatal(err)
	}
	c.sess.Receive(b)
}

// take returns the frames received so far, decoded, and forgets them.
func (c *cfgConn) take() ([]cti.Message, [][]byte) {
	c.t.Helper()
	frames := c.frames
	c.frames = nil
	var out []cti.Message
	for _, fr := range frames {
		m, err := cti.DecodeMessage(fr, c.pv)
		if err != nil {
			c.t.Fatalf("server sent an undecodable frame % x: %v", fr, err)
		}
		out = append(out, m)
	}
	return out, frames
}

// cfgOpenReq is the §7 configuration client's OPEN_REQ: ServicesRequested
// 0x001c0296 (ALL_EVENTS, CONFIG_EVENTS, ...), ConfigMsgMask 3.
func cfgOpenReq(pv cti.ProtocolVersion, callMask cti.CallEventMask) *cti.OpenReq {
	r := &cti.OpenReq{InvokeID: 1, VersionNumber: uint32(pv), IdleTimeout: 0x7FFFFFFF, PeripheralID: pg.DefaultPeripheralID,
		ServicesRequested: 0x001c0296, CallMsgMask: callMask, AgentStateMask: 0x3FF, ConfigMsgMask: 3,
		ClientID: "CTIOSServer", ClientPassword: []byte("CTIOSServer\x00"), ClientSignature: "CTIOSServer"}
	return r
}

func (f *cfgFixture) open(t *testing.T, pv cti.ProtocolVersion, req *cti.OpenReq) (*cfgConn, []cti.Message) {
	t.Helper()
	c := &cfgConn{t: t, pv: pv}
	c.sess = f.srv.Accept(c, "cfg-test")
	c.send(req)
	msgs, _ := c.take()
	if len(msgs) == 0 {
		t.Fatal("no answer to OPEN_REQ")
	}
	if _, ok := msgs[0].(*cti.OpenConf); !ok {
		t.Fatalf("OPEN_REQ answered with %T %+v", msgs[0], msgs[0])
	}
	return c, msgs[1:]
}

func (c *cfgConn) keys() *cti.ConfigKeyEvent {
	c.t.Helper()
	c.take() // agent and call events so far
	c.send(&cti.ConfigRequestKeyEvent{PeripheralID: pg.DefaultPeripheralID})
	msgs, _ := c.take()
	if len(msgs) != 1 {
		c.t.Fatalf("CONFIG_REQUEST_KEY_EVENT: want one CONFIG_KEY_EVENT, got %d messages", len(msgs))
	}
	k, ok := msgs[0].(*cti.ConfigKeyEvent)
	if !ok {
		c.t.Fatalf("CONFIG_REQUEST_KEY_EVENT answered with %T %+v", msgs[0], msgs[0])
	}
	return k
}

// download is one CONFIG_BEGIN … CONFIG_END sequence, by family.
type download struct {
	begin       *cti.ConfigBeginEvent
	order       []cti.MessageType
	services    []cti.ConfigServiceRecord
	skillGroups []cti.ConfigSkillGroupRecord
	agents      []cti.ConfigAgentRecord
	devices     []cti.ConfigDeviceRecord
	callTypes   []cti.ConfigCallTypeRecord
	mrds        []cti.ConfigMRDRecord
	peripherals []cti.ConfigPeripheralRecord
	msgs        map[cti.MessageType]int
	frames      [][]byte
}

// parseDownloads splits msgs into downloads, failing on anything outside a
// BEGIN … END bracket.
func parseDownloads(t *testing.T, msgs []cti.Message, frames [][]byte) []*download {
	t.Helper()
	var out []*download
	var d *download
	for i, m := range msgs {
		if b, ok := m.(*cti.ConfigBeginEvent); ok {
			if d != nil {
				t.Fatalf("message %d: CONFIG_BEGIN_EVENT inside a download", i)
			}
			d = &download{begin: b, msgs: map[cti.MessageType]int{}}
			continue
		}
		if d == nil {
			t.Fatalf("message %d: %v outside CONFIG_BEGIN … CONFIG_END", i, m.MessageType())
		}
		d.frames = append(d.frames, frames[i])
		if _, ok := m.(*cti.ConfigEndEvent); ok {
			out = append(out, d)
			d = nil
			continue
		}
		if n := len(d.order); n == 0 || d.order[n-1] != m.MessageType() {
			d.order = append(d.order, m.MessageType())
		}
		d.msgs[m.MessageType()]++
		switch m := m.(type) {
		case *cti.ConfigServiceEvent:
			d.services = append(d.services, m.Records...)
		case *cti.ConfigSkillGroupEvent:
			d.skillGroups = append(d.skillGroups, m.Records...)
		case *cti.ConfigAgentEvent:
			d.agents = append(d.agents, m.Records...)
		case *cti.ConfigDeviceEvent:
			d.devices = append(d.devices, m.Records...)
		case *cti.ConfigCallTypeEvent:
			d.callTypes = append(d.callTypes, m.Records...)
		case *cti.ConfigMRDEvent:
			d.mrds = append(d.mrds, m.Records...)
		case *cti.ConfigPeripheralEvent:
			d.peripherals = append(d.peripherals, m.Records...)
		default:
			t.Fatalf("message %d: unexpected %T in a download", i, m)
		}
	}
	if d != nil {
		t.Fatal("download without CONFIG_END_EVENT")
	}
	return out
}

func (c *cfgConn) download(mask cti.ConfigInformation) *download {
	c.t.Helper()
	c.take() // agent and call events so far
	c.send(&cti.ConfigRequestEvent{ConfigInformation: mask, PeripheralID: pg.DefaultPeripheralID})
	msgs, frames := c.take()
	ds := parseDownloads(c.t, msgs, frames)
	if len(ds) != 1 {
		c.t.Fatalf("want one download, got %d", len(ds))
	}
	return ds[0]
}

func TestConfigDownload(t *testing.T) {
	for _, tc := range []struct {
		pv    cti.ProtocolVersion
		mask  cti.ConfigInformation
		order []cti.MessageType
	}{
		{15, 0x1F, []cti.MessageType{cti.MsgConfigServiceEvent, cti.MsgConfigSkillGroupEvent, cti.MsgConfigAgentEvent, cti.MsgConfigDeviceEvent, cti.MsgConfigCallTypeEvent}},
		{24, 0xFF, []cti.MessageType{cti.MsgConfigServiceEvent, cti.MsgConfigSkillGroupEvent, cti.MsgConfigAgentEvent, cti.MsgConfigDeviceEvent, cti.MsgConfigCallTypeEvent, cti.MsgConfigMRDEvent, cti.MsgConfigPeripheralEvent}},
		// §7: ConfigInformation 6, skill groups then agents.
		{15, 0x06, []cti.MessageType{cti.MsgConfigSkillGroupEvent, cti.MsgConfigAgentEvent}},
	} {
		t.Run(fmt.Sprintf("PV%d/%#x", tc.pv, uint32(tc.mask)), func(t *testing.T) {
			f := newCfgFixture(t, cfgSpec{sgs: 13, agents: 23, lines: 2})
			f.login(t, 0)
			c, _ := f.open(t, tc.pv, cfgOpenReq(tc.pv, 0))
			k := c.keys()
			if k.ConfigKeyStatus != cti.ConfigKeySuccess {
				t.Fatalf("ConfigKeyStatus %v", k.ConfigKeyStatus)
			}
			all := [][]byte{k.ServiceConfigKey, k.SkillGroupConfigKey, k.AgentConfigKey, k.DeviceConfigKey, k.CallTypeConfigKey}
			if tc.pv >= 22 {
				all = append(all, k.PeripheralConfigKey, k.AgentDeskSettingsConfigKey)
			} else if k.PeripheralConfigKey != nil || k.AgentDeskSettingsConfigKey != nil {
				t.Error("PV22 keys sent below PV22")
			}
			for i, key := range all {
				if len(key) != 8 {
					t.Errorf("key %d is %d bytes, want 8", i, len(key))
				}
			}

			d := c.download(tc.mask)
			b := d.begin
			if b.ConfigType != cti.ConfigTypeSolicited || b.ConfigInformation != tc.mask {
				t.Errorf("CONFIG_BEGIN_EVENT ConfigType %v ConfigInformation %v", b.ConfigType, b.ConfigInformation)
			}
			for _, kc := range []struct {
				bit      cti.ConfigInformation
				got, key []byte
			}{
				{cti.ConfigService, b.ServiceConfigKey, k.ServiceConfigKey},
				{cti.ConfigSkillGroup, b.SkillGroupConfigKey, k.SkillGroupConfigKey},
				{cti.ConfigAgent, b.AgentConfigKey, k.AgentConfigKey},
				{cti.ConfigDevice, b.DeviceConfigKey, k.DeviceConfigKey},
				{cti.ConfigCallType, b.CallTypeConfigKey, k.CallTypeConfigKey},
			} {
				want := []byte(nil)
				if tc.mask&kc.bit != 0 {
					want = kc.key
				}
				if !bytes.Equal(kc.got, want) {
					t.Errorf("CONFIG_BEGIN_EVENT key of %v: % x, want % x", kc.bit, kc.got, want)
				}
			}
			if fmt.Sprint(d.order) != fmt.Sprint(tc.order) {
				t.Errorf("families in order %v, want %v", d.order, tc.order)
			}

			if tc.mask&cti.ConfigSkillGroup != 0 {
				// 13 skill groups: 10 in the first message, 3 in the second (§7: 10 + 2).
				if len(d.skillGroups) != len(f.sgs) || d.msgs[cti.MsgConfigSkillGroupEvent] != 2 {
					t.Errorf("%d skill group records in %d messages, want %d in 2", len(d.skillGroups), d.msgs[cti.MsgConfigSkillGroupEvent], len(f.sgs))
				}
				for i, r := range d.skillGroups {
					sg := f.sgs[i]
					if r.RecordType != cti.ConfigRecordAdd || r.PeripheralID != pg.DefaultPeripheralID || r.PeripheralNumber != sg.Number ||
						r.SkillGroupSkillTargetID != sg.ID || r.PeripheralName != sg.Name || r.MRDomainID != 1 || r.SkillGroupPriority != 0 {
						t.Errorf("skill group record %d: %+v, want %+v", i, r, sg)
					}
				}
			}
			if tc.mask&cti.ConfigAgent != 0 {
				if len(d.agents) != len(f.agents) || d.msgs[cti.MsgConfigAgentEvent] != 3 {
					t.Errorf("%d agent records in %d messages, want %d in 3", len(d.agents), d.msgs[cti.MsgConfigAgentEvent], len(f.agents))
				}
				logins := map[string]bool{}
				supervisors := 0
				for i, r := range d.agents {
					a := f.agents[i]
					if r.LoginID != a.AgentID || r.Extension != a.Extension || r.AgentSkillTargetID != a.ICMAgentID || r.PeripheralID != pg.DefaultPeripheralID {
						t.Errorf("agent record %d: %+v, want %+v", i, r, a)
					}
					if r.FirstName == "" || r.LastName == "" || r.LoginName == "" || logins[r.LoginName] {
						t.Errorf("agent record %d: names %q %q login %q (empty or duplicate)", i, r.FirstName, r.LastName, r.LoginName)
					}
					logins[r.LoginName] = true
					if int(r.NumSkills) != len(a.SkillGroups) || len(r.Skills) != len(a.SkillGroups) {
						t.Fatalf("agent record %d: %d skills, want %d", i, len(r.Skills), len(a.SkillGroups))
					}
					for j, m := range a.SkillGroups {
						if r.Skills[j].SkillGroupNumber != int32(m.SkillGroup) || r.Skills[j].SkillGroupPriority != m.Priority {
							t.Errorf("agent %s skill %d: %+v, want %+v", a.AgentID, j, r.Skills[j], m)
						}
					}
					if r.AgentType == cti.AgentTypeSupervisor {
						supervisors++
					}
				}
				// One primary supervisor per team (12 skill groups with agents);
				// an agent may lead two teams.
				if supervisors == 0 || supervisors > 12 {
					t.Errorf("%d supervisors", supervisors)
				}
			}
			if tc.mask&cti.ConfigDevice != 0 {
				if len(d.devices) != len(f.agents)+len(f.lines) {
					t.Errorf("%d device records, want %d agent phones + %d lines", len(d.devices), len(f.agents), len(f.lines))
				}
				if last := d.devices[len(d.devices)-1]; last.Extension != "4002" || last.DeviceType != cti.DevIDDeviceIdentifier {
					t.Errorf("last device %+v, want line 4002", last)
				}
			}
			if tc.mask&cti.ConfigService != 0 {
				if len(d.services) != 2 || len(d.services[0].ServiceMembers) != 2 || d.services[0].ServiceMembers[0] != (cti.ServiceMember{ServiceMemberSkillTargetID: 6001, ServicePriority: 5}) ||
					d.services[1].Extension != "8005550200" || d.services[0].ServiceLevelThreshold != 20 {
					t.Errorf("service records %+v", d.services)
				}
			}
			if tc.mask&cti.ConfigCallType != 0 {
				if len(d.callTypes) != 2 || d.callTypes[1].CallTypeID != 2 || d.callTypes[1].EnterpriseName != "SupportIn" {
					t.Errorf("call type records %+v", d.callTypes)
				}
			}
			if tc.mask&cti.ConfigMRD != 0 {
				if len(d.mrds) != 1 || d.mrds[0].MRDomainID != 1 || d.mrds[0].EnterpriseName != "Cisco_Voice" {
					t.Errorf("MRD records %+v", d.mrds)
				}
			}
			if tc.mask&cti.ConfigPeripheral != 0 {
				if len(d.peripherals) != 1 || binary.BigEndian.Uint32(d.peripherals[0].ConfigPeripheralID) != pg.DefaultPeripheralID {
					t.Errorf("peripheral records %+v", d.peripherals)
				}
			}
		})
	}
}

func TestConfigKeysStable(t *testing.T) {
	f := newCfgFixture(t, cfgSpec{sgs: 13, agents: 23, lines: 2})
	c1, _ := f.open(t, 15, cfgOpenReq(15, 0))
	k1 := c1.keys()
	// Agent state is not configuration: logging agents on and time passing
	// change no key.
	f.login(t, 0)
	f.login(t, 5)
	f.advance(10 * time.Minute)
	c2, _ := f.open(t, 24, cfgOpenReq(24, 0))
	k2 := c2.keys()
	k1b := c1.keys()
	for i, pair := range [][2][]byte{
		{k1.ServiceConfigKey, k2.ServiceConfigKey}, {k1.SkillGroupConfigKey, k2.SkillGroupConfigKey},
		{k1.AgentConfigKey, k2.AgentConfigKey}, {k1.DeviceConfigKey, k2.DeviceConfigKey}, {k1.CallTypeConfigKey, k2.CallTypeConfigKey},
		{k1.SkillGroupConfigKey, k1b.SkillGroupConfigKey}, {k1.AgentConfigKey, k1b.AgentConfigKey},
	} {
		if !bytes.Equal(pair[0], pair[1]) {
			t.Errorf("key pair %d changed: % x → % x", i, pair[0], pair[1])
		}
	}
	seen := map[string]bool{}
	for _, k := range [][]byte{k2.ServiceConfigKey, k2.SkillGroupConfigKey, k2.AgentConfigKey, k2.DeviceConfigKey, k2.CallTypeConfigKey, k2.PeripheralConfigKey, k2.AgentDeskSettingsConfigKey} {
		if seen[string(k)] {
			t.Errorf("two families share the key % x", k)
		}
		seen[string(k)] = true
	}

	// The same configuration in another PG gives the same keys; a renamed
	// skill group changes the skill group key only.
	same := newCfgFixture(t, cfgSpec{sgs: 13, agents: 23, lines: 2})
	c3, _ := same.open(t, 15, cfgOpenReq(15, 0))
	if k3 := c3.keys(); !bytes.Equal(k3.SkillGroupConfigKey, k1.SkillGroupConfigKey) || !bytes.Equal(k3.AgentConfigKey, k1.AgentConfigKey) {
		t.Error("identical configurations give different keys")
	}
	renamed := newCfgFixture(t, cfgSpec{sgs: 13, agents: 23, lines: 2, rename: "SG_Renamed"})
	c4, _ := renamed.open(t, 15, cfgOpenReq(15, 0))
	k4 := c4.keys()
	if bytes.Equal(k4.SkillGroupConfigKey, k1.SkillGroupConfigKey) {
		t.Error("renaming a skill group kept the skill group key")
	}
	if !bytes.Equal(k4.AgentConfigKey, k1.AgentConfigKey) || !bytes.Equal(k4.DeviceConfigKey, k1.DeviceConfigKey) {
		t.Error("renaming a skill group changed the agent or device key")
	}
}

func TestConfigMessageSizeBound(t *testing.T) {
	// 60 skill groups with long names, 45 agents each in 40 skill groups,
	// 30 lines: records that would overflow a 5,000-byte slot ten at a time.
	f := newCfgFixture(t, cfgSpec{sgs: 60, agents: 45, skills: 40, lines: 30})
	for _, pv := range []cti.ProtocolVersion{15, 24} {
		c, _ := f.open(t, pv, cfgOpenReq(pv, cti.AgentTeamConfigMask))
		_, teamFrames := c.take()
		d := c.download(0x1F)
		if len(d.agents) != 45 || len(d.skillGroups) != 60 || len(d.devices) != 75 {
			t.Fatalf("PV%d: %d agents, %d skill groups, %d devices", pv, len(d.agents), len(d.skillGroups), len(d.devices))
		}
		if d.msgs[cti.MsgConfigAgentEvent] <= 5 {
			t.Errorf("PV%d: 45 large agent records in only %d messages", pv, d.msgs[cti.MsgConfigAgentEvent])
		}
		for _, fr := range append(d.frames, teamFrames...) {
			if len(fr) > 4000 {
				t.Errorf("PV%d: %v frame of %d bytes exceeds 4000", pv, cti.MessageType(binary.BigEndian.Uint32(fr[4:])), len(fr))
			}
		}
	}
}

func TestConfigOneRequestAtATime(t *testing.T) {
	f := newCfgFixture(t, cfgSpec{sgs: 13, agents: 23, lines: 2})
	c, _ := f.open(t, 15, cfgOpenReq(15, 0))
	// Two requests before the client reads anything: the second is served
	// after the first one's CONFIG_END_EVENT, never interleaved.
	c.send(&cti.ConfigRequestEvent{ConfigInformation: cti.ConfigSkillGroup | cti.ConfigAgent, PeripheralID: pg.DefaultPeripheralID})
	c.send(&cti.ConfigRequestEvent{ConfigInformation: cti.ConfigDevice, PeripheralID: pg.DefaultPeripheralID})
	msgs, frames := c.take()
	ds := parseDownloads(t, msgs, frames)
	if len(ds) != 2 {
		t.Fatalf("want two downloads, got %d", len(ds))
	}
	if ds[0].begin.ConfigInformation != 6 || len(ds[0].agents) != 23 || len(ds[0].devices) != 0 {
		t.Errorf("first download %v: %d agents %d devices", ds[0].begin.ConfigInformation, len(ds[0].agents), len(ds[0].devices))
	}
	if ds[1].begin.ConfigInformation != cti.ConfigDevice || len(ds[1].devices) != 25 || len(ds[1].agents) != 0 {
		t.Errorf("second download %v: %d agents %d devices", ds[1].begin.ConfigInformation, len(ds[1].agents), len(ds[1].devices))
	}
}

func TestConfigRefusals(t *testing.T) {
	f := newCfgFixture(t, cfgSpec{sgs: 3, agents: 4})
	noConfig := cfgOpenReq(15, 0)
	noConfig.ServicesRequested &^= cti.ServiceConfigEvents
	noConfig.ConfigMsgMask = 0
	for _, tc := range []struct {
		name string
		pv   cti.ProtocolVersion
		req  *cti.OpenReq
		msg  cti.Message
		want cti.Status
	}{
		{"mask 0", 15, nil, &cti.ConfigRequestEvent{PeripheralID: pg.DefaultPeripheralID}, cti.StatusInvalidConfigMsgMask},
		{"undefined bit", 24, nil, &cti.ConfigRequestEvent{ConfigInformation: 0x402, PeripheralID: pg.DefaultPeripheralID}, cti.StatusInvalidConfigMsgMask},
		{"MRD at PV15", 15, nil, &cti.ConfigRequestEvent{ConfigInformation: cti.ConfigSkillGroup | cti.ConfigMRD, PeripheralID: pg.DefaultPeripheralID}, cti.StatusInvalidConfigMsgMask},
		{"peripheral at PV20", 20, nil, &cti.ConfigRequestEvent{ConfigInformation: cti.ConfigPeripheral, PeripheralID: pg.DefaultPeripheralID}, cti.StatusInvalidConfigMsgMask},
		{"no config service: request", 15, noConfig, &cti.ConfigRequestEvent{ConfigInformation: 6, PeripheralID: pg.DefaultPeripheralID}, cti.StatusInvalidConfigMsgMask},
		{"no config service: keys", 15, noConfig, &cti.ConfigRequestKeyEvent{PeripheralID: pg.DefaultPeripheralID}, cti.StatusInvalidConfigMsgMask},
		{"other peripheral: request", 15, nil, &cti.ConfigRequestEvent{ConfigInformation: 6, PeripheralID: 5001}, cti.StatusInvalidPeripheralID},
		{"other peripheral: keys", 15, nil, &cti.ConfigRequestKeyEvent{PeripheralID: 5001}, cti.StatusInvalidPeripheralID},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := tc.req
			if req == nil {
				req = cfgOpenReq(tc.pv, 0)
			}
			c, _ := f.open(t, tc.pv, req)
			c.send(tc.msg)
			msgs, _ := c.take()
			if len(msgs) != 1 {
				t.Fatalf("want one FAILURE_CONF, got %d messages", len(msgs))
			}
			fc, ok := msgs[0].(*cti.FailureConf)
			if !ok || fc.Status != tc.want || fc.InvokeID != 0 {
				t.Fatalf("got %T %+v, want FAILURE_CONF InvokeID 0 status %v", msgs[0], msgs[0], tc.want)
			}
			// The session is still usable.
			if _, ok := tc.msg.(*cti.ConfigRequestEvent); ok && tc.req == nil && tc.want == cti.StatusInvalidConfigMsgMask {
				if d := c.download(cti.ConfigSkillGroup); len(d.skillGroups) != 3 {
					t.Errorf("after the refusal: %d skill groups", len(d.skillGroups))
				}
			}
		})
	}
	// 0xFFFFFFFF names any peripheral.
	c, _ := f.open(t, 15, cfgOpenReq(15, 0))
	c.send(&cti.ConfigRequestEvent{ConfigInformation: cti.ConfigAgent, PeripheralID: 0xFFFFFFFF})
	msgs, frames := c.take()
	if ds := parseDownloads(t, msgs, frames); len(ds) != 1 || len(ds[0].agents) != 4 {
		t.Error("PeripheralID 0xFFFFFFFF not served")
	}
}

func TestAgentTeamConfigAfterOpen(t *testing.T) {
	f := newCfgFixture(t, cfgSpec{sgs: 13, agents: 23, lines: 2})
	f.login(t, 0) // agent 2001: SG 101 and 106
	f.advance(95 * time.Second)
	for _, pv := range []cti.ProtocolVersion{15, 24} {
		t.Run(fmt.Sprint("PV", pv), func(t *testing.T) {
			// §7's CallMsgMask 0x0FFFFFFF includes AGENT_TEAM_CONFIG_MASK.
			_, after := f.open(t, pv, cfgOpenReq(pv, 0x0FFFFFFF&^cti.AgentTeamConfigMask))
			for _, m := range after {
				if m.MessageType() == cti.MsgAgentTeamConfigEvent {
					t.Fatal("AGENT_TEAM_CONFIG_EVENT without AGENT_TEAM_CONFIG_MASK")
				}
			}
			_, after = f.open(t, pv, cfgOpenReq(pv, 0x0FFFFFFF))
			var evs []*cti.AgentTeamConfigEvent
			for _, m := range after {
				if e, ok := m.(*cti.AgentTeamConfigEvent); ok {
					evs = append(evs, e)
				}
			}
			// One team per skill group with agents: 12 (SG 113 has none).
			if len(evs) != 12 {
				t.Fatalf("%d AGENT_TEAM_CONFIG_EVENTs, want 12", len(evs))
			}
			for i, e := range evs {
				sg := f.sgs[i]
				if e.PeripheralID != pg.DefaultPeripheralID || e.TeamID != sg.ID || e.ConfigOperation != cti.ConfigOperationAdd ||
					int(e.NumberOfAgents) != len(e.Agents) {
					t.Errorf("team %d: %+v", i, e)
				}
				if pv >= 16 && e.AgentTeamName != sg.Name {
					t.Errorf("team %d name %q, want %q", i, e.AgentTeamName, sg.Name)
				}
				var want []string
				for _, a := range f.agents {
					for _, m := range a.SkillGroups {
						if m.SkillGroup == sg.Number {
							want = append(want, a.AgentID)
						}
					}
				}
				var got []string
				for j, m := range e.Agents {
					got = append(got, m.AtcAgentID)
					flags := cti.AgentFlags(0)
					if j == 0 {
						flags = cti.AgentFlagPrimarySupervisor
					}
					if m.AgentFlags != flags {
						t.Errorf("team %d member %s flags %v, want %v", i, m.AtcAgentID, m.AgentFlags, flags)
					}
					if m.AtcAgentID == "2001" {
						if m.AtcAgentState != cti.AgentStateAvailable || m.AtcStateDuration != 95 {
							t.Errorf("agent 2001: %v for %d s, want AVAILABLE for 95 s", m.AtcAgentState, m.AtcStateDuration)
						}
					} else if m.AtcAgentState != cti.AgentStateLogout || m.AtcStateDuration != 60+95 {
						t.Errorf("agent %s: %v for %d s, want LOGOUT for 155 s", m.AtcAgentID, m.AtcAgentState, m.AtcStateDuration)
					}
				}
				if fmt.Sprint(got) != fmt.Sprint(want) {
					t.Errorf("team %d members %v, want %v", i, got, want)
				}
			}
		})
	}
}

// floats lists the floating fields of a frame's body from offset fixed:
// tag and length of each.
func floats(t *testing.T, frame []byte, fixed int, pv cti.ProtocolVersion) (tags []int, lens []int) {
	t.Helper()
	b := frame[cti.HeaderSize+fixed:]
	for len(b) > 0 {
		var tag, n int
		if pv < 20 {
			tag, n, b = int(b[0]), int(b[1]), b[2:]
		} else {
			tag, n, b = int(binary.BigEndian.Uint16(b)), int(binary.BigEndian.Uint16(b[2:])), b[4:]
		}
		if n > len(b) {
			t.Fatalf("floating field %d of %d bytes overruns the frame", tag, n)
		}
		tags, lens, b = append(tags, tag), append(lens, n), b[n:]
	}
	return tags, lens
}

// TestConfigRecordLayoutMatchesCapture compares the floating fields of our
// records with the real PV15 bytes of §7, tag by tag (and width by width
// where the capture's widths do not depend on the data).
func TestConfigRecordLayoutMatchesCapture(t *testing.T) {
	f := newCfgFixture(t, cfgSpec{sgs: 13, agents: 23, lines: 2})
	c, _ := f.open(t, 15, cfgOpenReq(15, 0))
	c.send(&cti.ConfigRequestEvent{ConfigInformation: 6, PeripheralID: pg.DefaultPeripheralID})
	_, frames := c.take()
	mt := func(fr []byte) cti.MessageType { return cti.MessageType(binary.BigEndian.Uint32(fr[4:])) }

	// CONFIG_SKILL_GROUP_EVENT: NumRecords 000a, then per record
	// b7 02 | d0 04 | b8 04 | 40 02 | c0 04 | b9 02 | ad 01 | 85 nn | 86 01 | d8 04 | b0 01.
	sgTags := []int{183, 208, 184, 64, 192, 185, 173, 133, 134, 216, 176}
	sgLens := []int{2, 4, 4, 2, 4, 2, 1, -1, 1, 4, 1}
	fr := frames[1]
	if mt(fr) != cti.MsgConfigSkillGroupEvent || binary.BigEndian.Uint16(fr[cti.HeaderSize:]) != 10 {
		t.Fatalf("second frame % x: want CONFIG_SKILL_GROUP_EVENT with NumRecords 10", fr[:10])
	}
	tags, lens := floats(t, fr, 2, 15)
	if len(tags) != 10*len(sgTags) {
		t.Fatalf("%d floating fields, want 10 records × %d", len(tags), len(sgTags))
	}
	for i := range tags {
		k := i % len(sgTags)
		if tags[i] != sgTags[k] || (sgLens[k] >= 0 && lens[i] != sgLens[k]) {
			t.Fatalf("record %d field %d: tag %d len %d, capture has tag %d len %d", i/len(sgTags), k, tags[i], lens[i], sgTags[k], sgLens[k])
		}
	}
	// The first record in bytes, with the name the capture's way (NUL-terminated).
	first := fr[cti.HeaderSize+2:]
	want := []byte{0xb7, 0x02, 0, 0, 0xd0, 0x04, 0, 0, 0x13, 0x88, 0xb8, 0x04, 0, 0, 0, 101, 0x40, 0x02, 0, 0,
		0xc0, 0x04, 0, 0, 0x17, 0x71, 0xb9, 0x02, 0, 0, 0xad, 0x01, 0, 0x85, byte(len(f.sgs[0].Name) + 1)}
	want = append(want, f.sgs[0].Name...)
	want = append(want, 0, 0x86, 0x01, 0, 0xd8, 0x04, 0, 0, 0, 1, 0xb0, 0x01, 0)
	if !bytes.Equal(first[:len(want)], want) {
		t.Errorf("first skill group record\n got % x\nwant % x", first[:len(want)], want)
	}

	// CONFIG_AGENT_EVENT: b7 02 | d0 04 | bd 02 | be nn | cf nn | 8a nn | 89 nn | ad nn | 86 01 | 8d 04 | bf 02 | (3e 04 | 40 02) × count.
	agentTags := []int{183, 208, 189, 190, 207, 138, 137, 173, 134, 141, 191}
	var fa []byte
	for _, fr := range frames {
		if mt(fr) == cti.MsgConfigAgentEvent {
			fa = fr
			break
		}
	}
	if fa == nil {
		t.Fatal("no CONFIG_AGENT_EVENT")
	}
	tags, lens = floats(t, fa, 2, 15)
	for i, rec := 0, 0; i < len(tags); rec++ {
		for k, tag := range agentTags {
			if tags[i+k] != tag {
				t.Fatalf("agent record %d field %d: tag %d, capture has %d", rec, k, tags[i+k], tag)
			}
		}
		if lens[i+2] != 2 || lens[i+8] != 1 || lens[i+9] != 4 || lens[i+10] != 2 {
			t.Errorf("agent record %d: widths of AgentType/Description/AgentSkillTargetID/NumSkills %d/%d/%d/%d, capture 2/1/4/2",
				rec, lens[i+2], lens[i+8], lens[i+9], lens[i+10])
		}
		i += len(agentTags)
		for i < len(tags) && tags[i] != 183 {
			if tags[i] != 62 || lens[i] != 4 || tags[i+1] != 64 || lens[i+1] != 2 {
				t.Fatalf("agent record %d skill pair: tags %d/%d lens %d/%d, capture 62/64 4/2", rec, tags[i], tags[i+1], lens[i], lens[i+1])
			}
			i += 2
		}
	}

	// CONFIG_KEY_EVENT: 00000036 000000e7 00000000 | b1 08 | b2 08 | b3 08 | b4 08 | d1 08.
	c.send(&cti.ConfigRequestKeyEvent{PeripheralID: pg.DefaultPeripheralID})
	_, kf := c.take()
	if len(kf) != 1 || !bytes.Equal(kf[0][:12], []byte{0, 0, 0, 0x36, 0, 0, 0, 0xe7, 0, 0, 0, 0}) {
		t.Fatalf("CONFIG_KEY_EVENT % x", kf)
	}
	if tags, lens := floats(t, kf[0], 4, 15); fmt.Sprint(tags, lens) != "[177 178 179 180 209] [8 8 8 8 8]" {
		t.Errorf("CONFIG_KEY_EVENT keys: tags %v lens %v", tags, lens)
	}

	// CONFIG_END_EVENT: 00000004 000000ea 00000000.
	if end := frames[len(frames)-1]; !bytes.Equal(end, []byte{0, 0, 0, 4, 0, 0, 0, 0xea, 0, 0, 0, 0}) {
		t.Errorf("CONFIG_END_EVENT % x", end)
	}
	// CONFIG_BEGIN_EVENT: 0000001a 000000e9 0001 00000006 | b2 08 <key> | b3 08 <key>.
	if b := frames[0]; len(b) != 0x1a+8 || !bytes.Equal(b[:14], []byte{0, 0, 0, 0x1a, 0, 0, 0, 0xe9, 0, 1, 0, 0, 0, 6}) || b[14] != 0xb2 || b[15] != 8 || b[24] != 0xb3 || b[25] != 8 {
		t.Errorf("CONFIG_BEGIN_EVENT % x", b)
	}
}

// TestAgentTeamConfigLayoutMatchesCapture: §7 AGENT_TEAM_CONFIG_EVENT at
// PV15 — PeripheralID, TeamID, NumberOfAgents, ConfigOperation, then the
// groups 56 | 57 | 58 | 59 per member (AgentTeamName exists from PV16).
func TestAgentTeamConfigLayoutMatchesCapture(t *testing.T) {
	f := newCfgFixture(t, cfgSpec{sgs: 3, agents: 4})
	c := &cfgConn{t: t, pv: 15}
	c.sess = f.srv.Accept(c, "cfg-test")
	c.send(cfgOpenReq(15, cti.AgentTeamConfigMask))
	_, frames := c.take()
	var fr []byte
	for _, x := range frames {
		if cti.MessageType(binary.BigEndian.Uint32(x[4:])) == cti.MsgAgentTeamConfigEvent {
			fr = x
			break
		}
	}
	if fr == nil {
		t.Fatal("no AGENT_TEAM_CONFIG_EVENT")
	}
	body := fr[cti.HeaderSize:]
	n := int(binary.BigEndian.Uint16(body[8:]))
	if binary.BigEndian.Uint32(body) != pg.DefaultPeripheralID || binary.BigEndian.Uint32(body[4:]) != 6001 || binary.BigEndian.Uint16(body[10:]) != 1 {
		t.Errorf("fixed part % x", body[:12])
	}
	tags, lens := floats(t, fr, 12, 15)
	if len(tags) != 4*n {
		t.Fatalf("tags %v", tags)
	}
	for m := 0; m < n; m++ {
		g := tags[4*m : 4+4*m]
		gl := lens[4*m : 4+4*m]
		if fmt.Sprint(g) != "[86 87 88 89]" || gl[1] != 2 || gl[2] != 2 || gl[3] != 4 {
			t.Errorf("member %d: tags %v lens %v, capture 86 87 88 89 with 2/2/4", m, g, gl)
		}
	}
}
