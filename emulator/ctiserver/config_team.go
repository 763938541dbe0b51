package ctiserver

import (
	"time"

	"github.com/ipcclab/ipcclab/protocol/cti"
)

// afterOpen sends what follows OPEN_CONF besides the SYSTEM_EVENT: one
// AGENT_TEAM_CONFIG_EVENT per agent team (§5.3, bytes in §7) to a session
// whose CallMsgMask has AGENT_TEAM_CONFIG_MASK. handleOpen calls it after
// OPEN_CONF for the sessions it opened. A standby side sends no events
// (§5.10).
//
// Teams are defined by teams() (config_data.go): one per skill group with
// agents, TeamID = the skill group's skill target ID, AgentTeamName (PV16+)
// = its name, members = its agents in configuration order, the first one
// primary supervisor (AgentFlags 1; the others 0, as in §7). Each member's
// AtcAgentState is the agent's current state and AtcStateDuration the
// seconds since it entered that state, both from the PG. ConfigOperation is
// 1 (add), as in §7; a team with more than teamMaxMembers members, or too
// many bytes for one frame, continues in further events of the same team.
func (s *Server) afterOpen(ss *Session) {
	if ss.state != open || s.Standby() || ss.callMask&cti.AgentTeamConfigMask == 0 {
		return
	}
	now := s.sched.Now()
	pid := s.pg.PeripheralID()
	for _, t := range teams(s.pg.SkillGroups(), s.pg.Agents()) {
		members := make([]cti.TeamAgent, len(t.members))
		for i, a := range t.members {
			state := cti.AgentState(a.State)
			if !a.LoggedOn {
				state = cti.AgentStateLogout
			}
			var flags cti.AgentFlags
			if i == 0 {
				flags = cti.AgentFlagPrimarySupervisor
			}
			members[i] = cti.TeamAgent{AtcAgentID: a.AgentID, AgentFlags: flags, AtcAgentState: state,
				AtcStateDuration: durationSeconds(now.Sub(a.Since))}
		}
		sendInPieces(ss, members, teamMaxMembers, func(m []cti.TeamAgent) cti.Message {
			return &cti.AgentTeamConfigEvent{PeripheralID: pid, TeamID: t.id, ConfigOperation: cti.ConfigOperationAdd,
				AgentTeamName: t.name, Agents: m}
		})
	}
}

// durationSeconds rounds d down to whole seconds, 0 if negative.
func durationSeconds(d time.Duration) uint32 {
	if d <= 0 {
		return 0
	}
	sec := d / time.Second
	if sec > 0xFFFFFFFF {
		return 0xFFFFFFFF
	}
	return uint32(sec)
}
