package icm

import (
	"fmt"
	"math"
	"time"

	"github.com/ipcclab/ipcclab/emulator/pg"
)

// SkillGroupStats is a snapshot of one skill group. Field names follow
// QUERY_SKILL_GROUP_STATISTICS_CONF (cti-protocol.md §3.2) and the
// Skill_Group_Real_Time table (ipcc-behaviour.md §1.5–1.6), so the CTI Server
// copies them across. Counts of agents are "Now" values; the To5, ToHalf and
// Today counters are in the embedded SkillGroupWindows (times in seconds).
// ServiceLevel* is a fraction 0..1 computed with the group's ServiceLevelType.
type SkillGroupStats struct {
	SkillGroupNumber      uint32
	SkillGroupID          uint32
	Name                  string
	ServiceLevelThreshold time.Duration
	ServiceLevelType      SLType

	AgentsLoggedOn             uint32
	AgentsAvail                uint32
	AgentsNotReady             uint32
	AgentsReady                uint32
	AgentsTalkingIn            uint32
	AgentsTalkingOut           uint32
	AgentsTalkingOther         uint32
	AgentsWorkNotReady         uint32
	AgentsWorkReady            uint32
	AgentsBusyOther            uint32
	AgentsReserved             uint32
	AgentsHold                 uint32
	AgentsICMAvailable         uint32
	AgentsApplicationAvailable uint32
	AgentsTalkingAutoOut       uint32
	AgentsTalkingPreview       uint32
	AgentsTalkingReservation   uint32
	// RouterCallsQNow is the number of calls in the router queue for the
	// group; LongestRouterCallQNow the longest one's wait in seconds.
	RouterCallsQNow       uint32
	LongestRouterCallQNow uint32
	// CallsQNow, CallsQTimeNow, LongestCallQNow are peripheral (ACD) queue
	// values, always 0 on IPCC where the router queues (§1.3).
	CallsQNow       uint32
	CallsQTimeNow   uint32
	LongestCallQNow uint32

	SkillGroupWindows
}

// CallTypeStats is a snapshot of one call type with Call_Type_Real_Time
// names (ipcc-behaviour.md §1.5); the window counters are in the embedded
// CallTypeWindows (suffixes To5, Half, Today; times in seconds).
type CallTypeStats struct {
	CallTypeID            uint32
	Name                  string
	ServiceLevelThreshold time.Duration
	ServiceLevelType      SLType
	RouterCallsQNow       uint32
	// RouterLongestCallQ is the longest queued call's wait in seconds.
	RouterLongestCallQ uint32
	// CallsAtAgentNow counts calls routed to (reserved/ringing) or talking
	// with an agent.
	CallsAtAgentNow uint32

	CallTypeWindows
}

func u32(v int64) uint32 {
	if v < 0 {
		return 0
	}
	if v > math.MaxUint32 {
		return math.MaxUint32
	}
	return uint32(v)
}

func secs(d time.Duration) uint32 { return u32(int64((d + time.Second/2) / time.Second)) }

func (r *Router) skillGroup(numberOrID uint32) (*skillGroup, error) {
	if sg := r.sgByNum[numberOrID]; sg != nil {
		return sg, nil
	}
	if sg := r.sgByID[numberOrID]; sg != nil {
		return sg, nil
	}
	return nil, fmt.Errorf("icm: no skill group with number or id %d", numberOrID)
}

// SkillGroupStats returns the snapshot of the skill group with this number
// (peripheral number) or, failing that, this ID (skill target ID).
func (r *Router) SkillGroupStats(numberOrID uint32) (SkillGroupStats, error) {
	sg, err := r.skillGroup(numberOrID)
	if err != nil {
		return SkillGroupStats{}, err
	}
	now := r.sched.Now()
	s := SkillGroupStats{SkillGroupNumber: sg.cfg.Number, SkillGroupID: sg.cfg.ID, Name: sg.cfg.Name,
		ServiceLevelThreshold: sg.thr, ServiceLevelType: sg.typ}
	for _, a := range sg.members {
		st := a.st
		if !st.LoggedOn {
			continue
		}
		s.AgentsLoggedOn++
		state := st.State
		if st.CallSkillGroup != pg.NullSkillGroup && st.CallSkillGroup != sg.cfg.Number &&
			(state == pg.StateTalking || state == pg.StateHold || state == pg.StateReserved ||
				state == pg.StateWorkReady || state == pg.StateWorkNotReady) {
			state = pg.StateBusyOther
		}
		switch state {
		case pg.StateNotReady, pg.StateLogin:
			s.AgentsNotReady++
		case pg.StateAvailable:
			s.AgentsAvail++
		case pg.StateTalking:
			switch st.Direction {
			case pg.DirectionIn:
				s.AgentsTalkingIn++
			case pg.DirectionOut:
				s.AgentsTalkingOut++
			case pg.DirectionOutboundPredictive:
				s.AgentsTalkingAutoOut++
			case pg.DirectionOutboundPreview:
				s.AgentsTalkingPreview++
			case pg.DirectionOutboundReserve:
				s.AgentsTalkingReservation++
			default:
				s.AgentsTalkingOther++
			}
		case pg.StateWorkNotReady:
			s.AgentsWorkNotReady++
		case pg.StateWorkReady:
			s.AgentsWorkReady++
		case pg.StateBusyOther:
			s.AgentsBusyOther++
		case pg.StateReserved:
			s.AgentsReserved++
		case pg.StateHold:
			s.AgentsHold++
		}
		switch st.Availability {
		case pg.ICMAvailable:
			s.AgentsICMAvailable++
		case pg.ApplicationAvailable:
			s.AgentsApplicationAvailable++
		}
	}
	// AgentsReady = LoggedOn − NotReady (ipcc-behaviour.md §1.6).
	s.AgentsReady = s.AgentsLoggedOn - s.AgentsNotReady
	s.RouterCallsQNow = uint32(len(sg.queue))
	for _, e := range sg.queue {
		if w := secs(now.Sub(e.since)); w > s.LongestRouterCallQNow {
			s.LongestRouterCallQNow = w
		}
	}
	for _, w := range []Window{To5, ToHalf, Today} {
		fillSkillGroupWindow(&s.SkillGroupWindows, w, r.window(sg.w, w), sg.typ)
	}
	return s, nil
}

// CallTypeStats returns the snapshot of a call type.
func (r *Router) CallTypeStats(id uint32) (CallTypeStats, error) {
	ct := r.ctByID[id]
	if ct == nil {
		return CallTypeStats{}, fmt.Errorf("icm: no call type %d", id)
	}
	now := r.sched.Now()
	s := CallTypeStats{CallTypeID: id, Name: ct.cfg.Name, ServiceLevelThreshold: ct.thr, ServiceLevelType: ct.typ,
		RouterCallsQNow: u32(int64(ct.queued))}
	for _, c := range r.calls {
		if c.ct != ct {
			continue
		}
		if c.state == csQueued && c.everQ {
			if w := secs(now.Sub(c.queuedAt)); w > s.RouterLongestCallQ {
				s.RouterLongestCallQ = w
			}
		} else if c.state == csRouted || c.state == csAnswered {
			s.CallsAtAgentNow++
		}
	}
	for _, w := range []Window{To5, ToHalf, Today} {
		fillCallTypeWindow(&s.CallTypeWindows, w, r.window(ct.w, w), ct.typ)
	}
	return s, nil
}

// CallTypeCounters returns a call type's raw counters in one window.
func (r *Router) CallTypeCounters(id uint32, w Window) (Counters, error) {
	ct := r.ctByID[id]
	if ct == nil {
		return Counters{}, fmt.Errorf("icm: no call type %d", id)
	}
	return r.window(ct.w, w), nil
}

// SkillGroupCounters returns a skill group's raw counters in one window.
func (r *Router) SkillGroupCounters(numberOrID uint32, w Window) (Counters, error) {
	sg, err := r.skillGroup(numberOrID)
	if err != nil {
		return Counters{}, err
	}
	return r.window(sg.w, w), nil
}

// CallTypeInfo describes a configured call type.
type CallTypeInfo struct {
	ID                    uint32
	Name                  string
	ServiceLevelThreshold time.Duration
	ServiceLevelType      SLType
}

// CallTypes lists the call types in configuration order with their
// effective thresholds and types.
func (r *Router) CallTypes() []CallTypeInfo {
	out := make([]CallTypeInfo, len(r.cts))
	for i, ct := range r.cts {
		out[i] = CallTypeInfo{ID: ct.cfg.ID, Name: ct.cfg.Name, ServiceLevelThreshold: ct.thr, ServiceLevelType: ct.typ}
	}
	return out
}

// SkillGroups lists the skill groups in configuration order with their
// effective thresholds and types.
func (r *Router) SkillGroups() []SkillGroupConfig {
	out := make([]SkillGroupConfig, len(r.sgs))
	for i, sg := range r.sgs {
		out[i] = sg.cfg
		out[i].ServiceLevelThreshold, out[i].ServiceLevelType = sg.thr, sg.typ
	}
	return out
}
