package ctiserver

import (
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"strconv"

	"github.com/ipcclab/ipcclab/emulator/icm"
	"github.com/ipcclab/ipcclab/emulator/pg"
	"github.com/ipcclab/ipcclab/protocol/cti"
)

// The configuration a CTI client downloads (§5.3) is built from the PG (skill
// groups, agents, lines) and the router (call types), then rendered as the
// CONFIG_*_EVENT records of §7. Records are built once per request, without
// regard to the session's protocol version: the encoder leaves out what a
// version does not have.

// voiceMRD is the Media Routing Domain of every voice skill group: the
// Cisco_Voice MRD has ID 1 in every ICM.
const voiceMRD = 1

// callTypeViewer is the part of the router that lists call types with their
// scripts; the Stats a Server is given may have it (icm.Router does).
type callTypeViewer interface {
	CallTypeViews() []icm.CallTypeView
}

// Present bits of the record members the §7 capture sends even when zero or
// empty (bit k = member k of the generated record struct).
const (
	sgPresentCapture = 1<<1 | 1<<2 | 1<<3 | 1<<4 | 1<<5 | 1<<6 | 1<<7 | 1<<8 | 1<<9 | 1<<10
	// RecordType, PeripheralID, AgentType, LoginID, LoginName, LastName,
	// FirstName, Extension, Description, AgentSkillTargetID, NumSkills.
	agentPresentCapture = 1<<1 | 1<<2 | 1<<3 | 1<<4 | 1<<5 | 1<<6 | 1<<7 | 1<<8 | 1<<9 | 1<<10
	// PeripheralID, PeripheralNumber, ServiceSkillTargetID, name,
	// description, extension, service level threshold and type, config
	// param, NumServiceMembers.
	servicePresent = 1<<1 | 1<<2 | 1<<3 | 1<<4 | 1<<5 | 1<<6 | 1<<7 | 1<<8 | 1<<9 | 1<<11
	// PeripheralID, PeripheralNumber, DeviceType, Extension, name,
	// description, MRDomainID.
	devicePresent = 1<<1 | 1<<2 | 1<<3 | 1<<4 | 1<<7 | 1<<8 | 1<<10
	// CallTypeID, CustomerDefinitionID, EnterpriseName, Description.
	callTypePresent = 1<<1 | 1<<2 | 1<<3 | 1<<4
	// MRDomainID, EnterpriseName, Description, MaxTaskDuration,
	// Interruptible.
	mrdPresent = 1<<1 | 1<<2 | 1<<3 | 1<<4 | 1<<5
	// ConfigPeripheralID, PeripheralName, Description.
	peripheralPresent = 1<<1 | 1<<2 | 1<<3
)

// team is one agent team of AGENT_TEAM_CONFIG_EVENT: one per skill group
// that has agents (see teams).
type team struct {
	id      uint32
	name    string
	members []pg.AgentStatus // configuration order; members[0] is the primary supervisor
}

// configSnapshot is the whole configuration as records, per family.
type configSnapshot struct {
	services    []cti.ConfigServiceRecord
	skillGroups []cti.ConfigSkillGroupRecord
	agents      []cti.ConfigAgentRecord
	devices     []cti.ConfigDeviceRecord
	callTypes   []cti.ConfigCallTypeRecord
	mrds        []cti.ConfigMRDRecord
	peripherals []cti.ConfigPeripheralRecord
	deskSets    []cti.ConfigAgentDeskSettingsRecord // none: desk settings are not published
	teams       []team
}

// teams defines the agent teams deterministically: one team per skill group
// of the PG that has at least one agent, in skill group order. TeamID is the
// skill group's skill target ID, the team name its name, the members its
// agents in configuration order, and the first of them is the team's
// primary supervisor.
func teams(sgs []pg.SkillGroupConfig, agents []pg.AgentStatus) []team {
	var out []team
	for _, sg := range sgs {
		t := team{id: sg.ID, name: sg.Name}
		for _, a := range agents {
			for _, m := range a.SkillGroups {
				if m.Number == sg.Number {
					t.members = append(t.members, a)
					break
				}
			}
		}
		if len(t.members) > 0 {
			out = append(out, t)
		}
	}
	return out
}

// configSnapshot builds the records of every family from the PG and router.
func (s *Server) configSnapshot() *configSnapshot {
	pid := s.pg.PeripheralID()
	sgs := s.pg.SkillGroups()
	agents := s.pg.Agents()
	c := &configSnapshot{teams: teams(sgs, agents)}

	supervisor := map[string]bool{}
	for _, t := range c.teams {
		supervisor[t.members[0].AgentID] = true
	}

	for _, sg := range sgs {
		c.skillGroups = append(c.skillGroups, cti.ConfigSkillGroupRecord{
			RecordType:              cti.ConfigRecordAdd,
			PeripheralID:            pid,
			PeripheralNumber:        sg.Number,
			SkillGroupSkillTargetID: sg.ID,
			PeripheralName:          sg.Name,
			MRDomainID:              voiceMRD,
			Present:                 sgPresentCapture,
		})
	}

	for _, a := range agents {
		first, last, login := agentNames(a.AgentID)
		r := cti.ConfigAgentRecord{
			RecordType:         cti.ConfigRecordAdd,
			PeripheralID:       pid,
			AgentType:          cti.AgentTypeAgent,
			LoginID:            a.AgentID,
			LoginName:          login,
			LastName:           last,
			FirstName:          first,
			Extension:          a.Extension,
			AgentSkillTargetID: a.ICMAgentID,
			Present:            agentPresentCapture,
		}
		if supervisor[a.AgentID] {
			r.AgentType = cti.AgentTypeSupervisor
		}
		for _, m := range a.SkillGroups {
			r.Skills = append(r.Skills, cti.SkillGroupPriorityPair{SkillGroupNumber: int32(m.Number), SkillGroupPriority: m.Priority})
		}
		c.agents = append(c.agents, r)
	}

	// Devices: the agents' instruments, then the outbound-only lines.
	for _, a := range agents {
		c.devices = append(c.devices, cti.ConfigDeviceRecord{
			RecordType:       cti.ConfigRecordAdd,
			PeripheralID:     pid,
			PeripheralNumber: deviceNumber(a.Instrument),
			DeviceType:       cti.DevIDDeviceIdentifier,
			Extension:        a.Instrument,
			PeripheralName:   a.Instrument,
			Description:      fmt.Sprintf("agent %s phone (extension %s)", a.AgentID, a.Extension),
			MRDomainID:       voiceMRD,
			Present:          devicePresent,
		})
	}
	for _, l := range s.pg.Lines() {
		c.devices = append(c.devices, cti.ConfigDeviceRecord{
			RecordType:       cti.ConfigRecordAdd,
			PeripheralID:     pid,
			PeripheralNumber: deviceNumber(l.Instrument),
			DeviceType:       cti.DevIDDeviceIdentifier,
			Extension:        l.Instrument,
			PeripheralName:   l.Instrument,
			Description:      fmt.Sprintf("outbound line (extension %s)", l.Extension),
			MRDomainID:       voiceMRD,
			Present:          devicePresent,
		})
	}

	// Call types, and the same call types seen as ICM services: the
	// service's members are the skill groups of the call type's script.
	if v, ok := s.stats.(callTypeViewer); ok {
		for _, ct := range v.CallTypeViews() {
			c.callTypes = append(c.callTypes, cti.ConfigCallTypeRecord{
				RecordType:     cti.ConfigRecordAdd,
				CallTypeID:     ct.ID,
				EnterpriseName: ct.Name,
				Description:    dialedNumbers(ct.DialedNumbers),
				Present:        callTypePresent,
			})
			svc := cti.ConfigServiceRecord{
				RecordType:            cti.ConfigRecordAdd,
				PeripheralID:          pid,
				PeripheralNumber:      ct.ID,
				ServiceSkillTargetID:  ct.ID,
				PeripheralName:        ct.Name,
				Description:           dialedNumbers(ct.DialedNumbers),
				ServiceLevelThreshold: uint32(ct.ServiceLevelThreshold),
				ServiceLevelType:      uint32(ct.ServiceLevelType),
				Present:               servicePresent,
			}
			if len(ct.DialedNumbers) > 0 {
				svc.Extension = ct.DialedNumbers[0]
			}
			for _, t := range ct.Targets {
				svc.ServiceMembers = append(svc.ServiceMembers, cti.ServiceMember{ServiceMemberSkillTargetID: t.SkillGroupID, ServicePriority: uint16(t.Priority)})
			}
			c.services = append(c.services, svc)
		}
	}

	c.mrds = []cti.ConfigMRDRecord{{
		RecordType:     cti.ConfigRecordAdd,
		MRDomainID:     voiceMRD,
		EnterpriseName: "Cisco_Voice",
		Description:    "voice calls",
		Present:        mrdPresent,
	}}
	var pidBytes [4]byte
	binary.BigEndian.PutUint32(pidBytes[:], pid)
	c.peripherals = []cti.ConfigPeripheralRecord{{
		RecordType:         cti.ConfigRecordAdd,
		ConfigPeripheralID: pidBytes[:],
		PeripheralName:     "CUCM_PG_" + strconv.FormatUint(uint64(pid), 10),
		Description:        "emulated Unified CM peripheral",
		Present:            peripheralPresent,
	}}
	return c
}

// deviceNumber is a device's peripheral number: its directory number when
// that is numeric, else 0.
func deviceNumber(dn string) uint32 {
	n, err := strconv.ParseUint(dn, 10, 32)
	if err != nil {
		return 0
	}
	return uint32(n)
}

func dialedNumbers(dns []string) string {
	if len(dns) == 0 {
		return ""
	}
	s := "dialed numbers"
	for i, dn := range dns {
		sep := ", "
		if i == 0 {
			sep = " "
		}
		if len(s)+len(sep)+len(dn) > 120 { // DESCRIPTION_TAG: STRING 128
			return s + ", ..."
		}
		s += sep + dn
	}
	return s
}

// configKeys are the 8-byte config keys of §4.17 (tags 177-180, 209, 269,
// 270): a hash of each family's records, so that an unchanged
// configuration gives the same keys (the client may skip the download)
// and any change of a family changes that family's key.
type configKeys struct {
	service, skillGroup, agent, device, callType, peripheral, deskSettings []byte
}

func familyKey(family string, records any) []byte {
	h := fnv.New64a()
	_, _ = h.Write([]byte(family))
	_, _ = fmt.Fprintf(h, "%+v", records)
	return binary.BigEndian.AppendUint64(nil, h.Sum64())
}

func (c *configSnapshot) keys() configKeys {
	return configKeys{
		service:      familyKey("service", c.services),
		skillGroup:   familyKey("skill group", c.skillGroups),
		agent:        familyKey("agent", c.agents),
		device:       familyKey("device", c.devices),
		callType:     familyKey("call type", c.callTypes),
		peripheral:   familyKey("peripheral", c.peripherals),
		deskSettings: familyKey("agent desk settings", c.deskSets),
	}
}
