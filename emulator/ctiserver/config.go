package ctiserver

import (
	"github.com/ipcclab/ipcclab/protocol/cti"
)

// Configuration download (§5.3, bytes in §7). It is client-driven and has no
// InvokeIDs:
//
//	client CONFIG_REQUEST_KEY_EVENT → server CONFIG_KEY_EVENT (the keys)
//	client CONFIG_REQUEST_EVENT(ConfigInformation) → server CONFIG_BEGIN_EVENT
//	  (ConfigType 1, the mask, the keys of the requested families), the
//	  records of each requested family in bit order — CONFIG_SERVICE_EVENT,
//	  CONFIG_SKILL_GROUP_EVENT, CONFIG_AGENT_EVENT, CONFIG_DEVICE_EVENT,
//	  CONFIG_CALL_TYPE_EVENT, CONFIG_MRD_EVENT, CONFIG_PERIPHERAL_EVENT — and
//	  CONFIG_END_EVENT.
//
// Decisions (the guide does not say; documented here):
//
//   - One request at a time: the server renders a whole download, BEGIN to
//     END, while handling the CONFIG_REQUEST_EVENT, before it reads the
//     session's next frame. A second request can therefore never overlap
//     the first: it is served, completely, after the first one's
//     CONFIG_END_EVENT — requests queue in arrival order and none is
//     refused for being "outstanding".
//   - Who may ask: sessions granted CTI_SERVICE_CONFIG_EVENTS (0x40000, set
//     by the real configuration client of §7 together with its
//     ConfigMsgMask). Others get FAILURE_CONF (InvokeID 0, there is none)
//     with E_INVALID_CONFIG_MSG_MASK (95), as does a ConfigInformation of 0,
//     with bits §4.16 does not define, or with bits of a family newer than
//     the session's protocol version (MRD: PV20, peripheral and agent desk
//     settings: PV22, agent services: PV24, terminal: PV25).
//   - PeripheralID must be this PG's or 0xFFFFFFFF (any), else FAILURE_CONF
//     E_CTI_INVALID_PERIPHERAL_ID. CustomerID is ignored: an ICM Enterprise
//     has one customer.
//   - Records per message: at most 10 (the §7 capture sends 10 skill
//     groups, then 2) and at most configFrameLimit bytes per frame, well
//     under the 12,500-byte maximum and the 5,000-byte queue slots of a
//     production client (§9).
//   - Families the emulator has no data for (agent desk settings, terminal,
//     agent services) are accepted and answered with no records.
//   - Config keys: an FNV-64 hash of the family's records (config_data.go),
//     so an unchanged configuration keeps its keys. Agent state is not part
//     of any record, so state changes do not change keys.

const (
	// configFrameLimit bounds a CONFIG_*_EVENT or AGENT_TEAM_CONFIG_EVENT
	// frame, header included.
	configFrameLimit = 4000
	// configMaxRecords is the most records one CONFIG_*_EVENT carries.
	configMaxRecords = 10
	// teamMaxMembers is the most members one AGENT_TEAM_CONFIG_EVENT
	// carries (further members follow in more events, ConfigOperation add).
	teamMaxMembers = 25
	// definedConfigInformation are the ConfigInformation bits of §4.16.
	definedConfigInformation cti.ConfigInformation = 0x3FF
	// anyPeripheral in a request's PeripheralID.
	anyPeripheral = 0xFFFFFFFF
)

// configFamilyTypes gives, per ConfigInformation bit, the message type
// that carries it; the bit is defined from that type's protocol version.
var configFamilyTypes = [...]struct {
	bit cti.ConfigInformation
	mt  cti.MessageType
}{
	{cti.ConfigService, cti.MsgConfigServiceEvent},
	{cti.ConfigSkillGroup, cti.MsgConfigSkillGroupEvent},
	{cti.ConfigAgent, cti.MsgConfigAgentEvent},
	{cti.ConfigDevice, cti.MsgConfigDeviceEvent},
	{cti.ConfigCallType, cti.MsgConfigCallTypeEvent},
	{cti.ConfigMRD, cti.MsgConfigMRDEvent},
	{cti.ConfigPeripheral, cti.MsgConfigPeripheralEvent},
	{cti.ConfigAgentDeskSettings, cti.MsgConfigAgentDeskSettingsEvent},
	{cti.ConfigTerminal, cti.MsgConfigTerminalEvent},
	{cti.ConfigAgentServices, cti.MsgConfigAgentServiceEvent},
}

// configBitsFor are the ConfigInformation bits defined at protocol version pv.
func configBitsFor(pv cti.ProtocolVersion) cti.ConfigInformation {
	var m cti.ConfigInformation
	for _, f := range configFamilyTypes {
		if since, ok := f.mt.Since(); ok && pv >= since {
			m |= f.bit
		}
	}
	return m & definedConfigInformation
}

// configRequest handles the configuration download (CONFIG_REQUEST_KEY_EVENT,
// CONFIG_REQUEST_EVENT) and team configuration; it reports whether msg was
// one of them.
func (s *Server) configRequest(ss *Session, msg cti.Message) bool {
	switch m := msg.(type) {
	case *cti.ConfigRequestKeyEvent:
		if !s.configPermitted(ss, m.PeripheralID, "CONFIG_REQUEST_KEY_EVENT") {
			return true
		}
		k := s.configSnapshot().keys()
		ss.send(&cti.ConfigKeyEvent{
			ConfigKeyStatus:            cti.ConfigKeySuccess,
			ServiceConfigKey:           k.service,
			SkillGroupConfigKey:        k.skillGroup,
			AgentConfigKey:             k.agent,
			DeviceConfigKey:            k.device,
			CallTypeConfigKey:          k.callType,
			PeripheralConfigKey:        k.peripheral,   // PV22+ only (the encoder drops it below)
			AgentDeskSettingsConfigKey: k.deskSettings, // PV22+ only
		}, ss.pv)
	case *cti.ConfigRequestEvent:
		if !s.configPermitted(ss, m.PeripheralID, "CONFIG_REQUEST_EVENT") {
			return true
		}
		mask := m.ConfigInformation
		if mask == 0 || mask&^configBitsFor(ss.pv) != 0 {
			ss.send(&cti.FailureConf{Status: cti.StatusInvalidConfigMsgMask}, ss.pv)
			s.logf("cti session %d (%s): CONFIG_REQUEST_EVENT %v refused (E_INVALID_CONFIG_MSG_MASK): PV%d defines %v",
				ss.id, ss.clientID, mask, ss.pv, configBitsFor(ss.pv))
			return true
		}
		s.configDownload(ss, mask)
	default:
		return false
	}
	return true
}

// configPermitted checks who asks and for which peripheral, and refuses
// with FAILURE_CONF (InvokeID 0) when it must.
func (s *Server) configPermitted(ss *Session, peripheralID uint32, what string) bool {
	st := cti.StatusNoError
	why := ""
	switch {
	case !ss.configAllowed():
		st, why = cti.StatusInvalidConfigMsgMask, "session was not granted CTI_SERVICE_CONFIG_EVENTS"
	case peripheralID != anyPeripheral && peripheralID != s.pg.PeripheralID():
		st, why = cti.StatusInvalidPeripheralID, "peripheral is not served here"
	}
	if st == cti.StatusNoError {
		return true
	}
	ss.send(&cti.FailureConf{Status: st}, ss.pv)
	s.logf("cti session %d (%s): %s for peripheral %d refused with %v: %s", ss.id, ss.clientID, what, peripheralID, st, why)
	return false
}

// configAllowed reports whether the session may download configuration.
// The session keeps the services it was granted but not its OPEN_REQ
// ConfigMsgMask, so the test is on CTI_SERVICE_CONFIG_EVENTS, which the
// configuration client of §7 sets together with its ConfigMsgMask.
func (ss *Session) configAllowed() bool {
	return ss.services&cti.ServiceConfigEvents != 0
}

// configDownload sends CONFIG_BEGIN_EVENT, the records of the families in
// mask and CONFIG_END_EVENT, all at once (see the decisions above).
func (s *Server) configDownload(ss *Session, mask cti.ConfigInformation) {
	c := s.configSnapshot()
	k := c.keys()
	begin := &cti.ConfigBeginEvent{ConfigType: cti.ConfigTypeSolicited, ConfigInformation: mask}
	if mask&cti.ConfigService != 0 {
		begin.ServiceConfigKey = k.service
	}
	if mask&cti.ConfigSkillGroup != 0 {
		begin.SkillGroupConfigKey = k.skillGroup
	}
	if mask&cti.ConfigAgent != 0 {
		begin.AgentConfigKey = k.agent
	}
	if mask&cti.ConfigDevice != 0 {
		begin.DeviceConfigKey = k.device
	}
	if mask&cti.ConfigCallType != 0 {
		begin.CallTypeConfigKey = k.callType
	}
	if mask&cti.ConfigPeripheral != 0 {
		begin.PeripheralConfigKey = k.peripheral
	}
	if mask&cti.ConfigAgentDeskSettings != 0 {
		begin.AgentDeskSettingsConfigKey = k.deskSettings
	}
	ss.send(begin, ss.pv)
	frames := 0
	if mask&cti.ConfigService != 0 {
		frames += sendInPieces(ss, c.services, configMaxRecords, func(r []cti.ConfigServiceRecord) cti.Message {
			return &cti.ConfigServiceEvent{Records: r}
		})
	}
	if mask&cti.ConfigSkillGroup != 0 {
		frames += sendInPieces(ss, c.skillGroups, configMaxRecords, func(r []cti.ConfigSkillGroupRecord) cti.Message {
			return &cti.ConfigSkillGroupEvent{Records: r}
		})
	}
	if mask&cti.ConfigAgent != 0 {
		frames += sendInPieces(ss, c.agents, configMaxRecords, func(r []cti.ConfigAgentRecord) cti.Message {
			return &cti.ConfigAgentEvent{Records: r}
		})
	}
	if mask&cti.ConfigDevice != 0 {
		frames += sendInPieces(ss, c.devices, configMaxRecords, func(r []cti.ConfigDeviceRecord) cti.Message {
			return &cti.ConfigDeviceEvent{Records: r}
		})
	}
	if mask&cti.ConfigCallType != 0 {
		frames += sendInPieces(ss, c.callTypes, configMaxRecords, func(r []cti.ConfigCallTypeRecord) cti.Message {
			return &cti.ConfigCallTypeEvent{Records: r}
		})
	}
	if mask&cti.ConfigMRD != 0 {
		frames += sendInPieces(ss, c.mrds, configMaxRecords, func(r []cti.ConfigMRDRecord) cti.Message {
			return &cti.ConfigMRDEvent{Records: r}
		})
	}
	if mask&cti.ConfigPeripheral != 0 {
		frames += sendInPieces(ss, c.peripherals, configMaxRecords, func(r []cti.ConfigPeripheralRecord) cti.Message {
			return &cti.ConfigPeripheralEvent{Records: r}
		})
	}
	if mask&cti.ConfigAgentDeskSettings != 0 {
		frames += sendInPieces(ss, c.deskSets, configMaxRecords, func(r []cti.ConfigAgentDeskSettingsRecord) cti.Message {
			return &cti.ConfigAgentDeskSettingsEvent{Records: r}
		})
	}
	ss.send(&cti.ConfigEndEvent{}, ss.pv)
	s.logf("cti session %d (%s): configuration download %v: %d record messages", ss.id, ss.clientID, mask, frames)
}

// sendInPieces sends recs in as few messages as the limits allow: at most
// perMsg records and configFrameLimit bytes each. A single record over the
// byte limit still goes out alone (the codec refuses anything over the
// protocol's 12,500 bytes; such a record is logged and skipped). It returns
// the number of messages sent.
func sendInPieces[R any](ss *Session, recs []R, perMsg int, wrap func([]R) cti.Message) int {
	sent := 0
	for len(recs) > 0 {
		n := min(len(recs), perMsg)
		for {
			m := wrap(recs[:n])
			b, err := cti.AppendMessage(ss.buf[:0], m, ss.pv)
			if err == nil && (len(b) <= configFrameLimit || n == 1) {
				ss.buf = b
				ss.sendFrame(b)
				sent++
				break
			}
			if n == 1 {
				ss.srv.logf("cti session %d: cannot encode %v at PV%d: %v", ss.id, m.MessageType(), ss.pv, err)
				break
			}
			n--
		}
		recs = recs[n:]
	}
	return sent
}
