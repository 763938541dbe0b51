package ctiserver

import (
	"github.com/ipcclab/ipcclab/emulator/icm"
	"github.com/ipcclab/ipcclab/emulator/pg"
	"github.com/ipcclab/ipcclab/protocol/cti"
)

// PGEvent renders one PG event as its CTI message and sends it to every open
// ALL_EVENTS session whose CallMsgMask or AgentStateMask selects it (§5.9).
// The message is encoded once per protocol version in use, not once per
// session.
func (s *Server) PGEvent(ev pg.Event) {
	if s.standby {
		// A standby side sends no events (§5.10) but keeps each live
		// call's BEGIN_CALL, to hand its clients when it becomes active.
		s.trackBegins(ev)
		return
	}
	if s.inRequest {
		s.held = append(s.held, ev)
		return
	}
	if len(s.order) == 0 {
		if e, ok := ev.(*pg.EndCallEvent); ok {
			delete(s.begins, e.Connection.CallID)
		}
		return
	}
	msg, callBit, agentState, isAgent := render(ev)
	if msg == nil {
		return
	}
	if b, ok := msg.(*cti.BeginCallEvent); ok {
		s.begins[b.ConnectionCallID] = b
	}
	if e, ok := ev.(*pg.EndCallEvent); ok {
		defer delete(s.begins, e.Connection.CallID)
	}
	s.enc.reset(msg)
	for _, ss := range s.order {
		// Monitors and registered variables (services.go).
		if ss.svc != nil && s.serviceEvent(ss, ev, msg, callBit, agentState, isAgent) {
			continue
		}
		if ss.services&cti.ServiceAllEvents == 0 {
			if ss.desk != nil {
				s.deskEvent(ss, ev, msg, callBit, agentState, isAgent)
			}
			continue
		}
		if isAgent {
			if ss.agtMask&(1<<agentState) == 0 {
				continue
			}
			if ss.services&cti.ServiceIgnoreDuplicateAgentEvents != 0 {
				ae := ev.(*pg.AgentStateEvent)
				if ss.lastSent == nil {
					ss.lastSent = map[string]pg.AgentState{}
				}
				if last, ok := ss.lastSent[ae.Agent.AgentID]; ok && last == ae.State {
					continue
				}
				ss.lastSent[ae.Agent.AgentID] = ae.State
			}
		} else if ss.callMask&callBit == 0 {
			continue
		}
		frame, err := s.enc.frame(ss.pv)
		if err != nil {
			s.logf("cti: cannot encode %v for PV%d: %v", msg.MessageType(), ss.pv, err)
			continue
		}
		ss.sendFrame(frame)
	}
}

// encodeCache holds the frames of the current event per protocol version.
type encodeCache struct {
	msg    cti.Message
	pvs    []cti.ProtocolVersion
	frames [][]byte
	bufs   [][]byte
}

func (c *encodeCache) reset(m cti.Message) {
	c.msg = m
	c.pvs = c.pvs[:0]
	c.frames = c.frames[:0]
}

func (c *encodeCache) frame(pv cti.ProtocolVersion) ([]byte, error) {
	for i, v := range c.pvs {
		if v == pv {
			return c.frames[i], nil
		}
	}
	i := len(c.pvs)
	if i >= len(c.bufs) {
		c.bufs = append(c.bufs, nil)
	}
	b, err := cti.AppendMessage(c.bufs[i][:0], c.msg, pv)
	if err != nil {
		return nil, err
	}
	c.bufs[i] = b
	c.pvs = append(c.pvs, pv)
	c.frames = append(c.frames, b)
	return b, nil
}

func dev(d pg.Device) (cti.DeviceIDType, string) {
	if d.ID == "" {
		return cti.DevIDNone, ""
	}
	return cti.DeviceIDType(d.Type), d.ID
}

// render maps a PG event to its CTI message and the mask bit that selects it.
func render(ev pg.Event) (m cti.Message, callBit cti.CallEventMask, agentState uint, isAgent bool) {
	switch e := ev.(type) {
	case *pg.AgentStateEvent:
		a := &cti.AgentStateEvent{
			PeripheralID:            e.PeripheralID,
			PeripheralType:          cti.PeripheralType(e.PeripheralType),
			SkillGroupState:         cti.AgentState(e.SkillGroupState),
			StateDuration:           e.StateDuration,
			SkillGroupNumber:        e.SkillGroup.Number,
			SkillGroupID:            e.SkillGroup.ID,
			SkillGroupPriority:      e.SkillGroup.Priority,
			AgentState:              cti.AgentState(e.State),
			EventReasonCode:         e.ReasonCode,
			MRDID:                   1,
			AgentMode:               cti.AgentMode(e.AgentMode),
			MaxTaskLimit:            1,
			ICMAgentID:              int32(e.Agent.ICMAgentID),
			AgentAvailabilityStatus: cti.AgentAvailabilityStatus(e.Availability),
			AgentID:                 e.Agent.AgentID,
			AgentExtension:          e.Agent.Extension,
			AgentInstrument:         e.Agent.Instrument,
			Direction:               cti.Direction(e.Direction),
		}
		if e.State == pg.StateTalking || e.State == pg.StateHold || e.State == pg.StateReserved {
			a.NumTasks = 1
		}
		if e.HasNextAgentState {
			a.NextAgentState = cti.AgentState(e.NextAgentState)
			a.SetPresent(cti.TagExtAgentState)
		}
		for _, g := range e.SkillGroups {
			a.FltSkillGroups = append(a.FltSkillGroups, cti.FltSkillGroup{
				FltSkillGroupNumber:   int32(g.Number),
				FltSkillGroupID:       g.ID,
				FltSkillGroupPriority: g.Priority,
				FltSkillGroupState:    cti.AgentState(g.State),
			})
		}
		a.NumFltSkillGroups = uint16(len(a.FltSkillGroups))
		return a, 0, uint(e.State), true
	case *pg.AgentPreCallEvent:
		p := &cti.AgentPreCallEvent{
			ServiceID:                   e.ServiceID,
			ServiceNumber:               0xFFFFFFFF,
			SkillGroupNumber:            e.SkillGroup.Number,
			SkillGroupID:                e.SkillGroup.ID,
			SkillGroupPriority:          e.SkillGroup.Priority,
			MRDID:                       1,
			AgentSkillTargetID:          e.Agent.ICMAgentID,
			AgentInstrument:             e.Agent.Instrument,
			AgentID:                     e.Agent.AgentID,
			RouterCallKeyDay:            e.Data.RouterCallKey.Day,
			RouterCallKeyCallID:         e.Data.RouterCallKey.CallID,
			RouterCallKeySequenceNumber: e.Data.RouterCallKey.Sequence,
			ANI:                         e.Data.ANI,
			DialedNumber:                e.Data.DialedNumber,
			CallerEnteredDigits:         e.Data.CallerEnteredDigits,
			FltCallTypeID:               e.Data.CallTypeID,
			NamedVariables:              namedToCTI(e.Data.NamedVariables),
		}
		p.SetPresent(cti.TagRouterCallKeyDay)
		p.SetPresent(cti.TagRouterCallKeyCallID)
		p.SetPresent(cti.TagRouterCallKeySequenceNum)
		cti.SetCallVars(p, e.Data.CallVariables)
		return p, cti.AgentPreCallMask, 0, false
	case *pg.AgentPreCallAbortEvent:
		p := &cti.AgentPreCallAbortEvent{
			MRDID:                       1,
			AgentInstrument:             e.Agent.Instrument,
			RouterCallKeyDay:            e.RouterCallKey.Day,
			RouterCallKeyCallID:         e.RouterCallKey.CallID,
			RouterCallKeySequenceNumber: e.RouterCallKey.Sequence,
		}
		p.SetPresent(cti.TagRouterCallKeyDay)
		p.SetPresent(cti.TagRouterCallKeyCallID)
		p.SetPresent(cti.TagRouterCallKeySequenceNum)
		return p, cti.AgentPreCallAbortMask, 0, false
	case *pg.BeginCallEvent:
		b := &cti.BeginCallEvent{
			PeripheralID:           e.PeripheralID,
			PeripheralType:         cti.PeripheralType(e.PeripheralType),
			CallType:               cti.CallType(e.Data.CallType),
			ConnectionDeviceIDType: cti.ConnectionDeviceIDType(e.Connection.DeviceIDType),
			ConnectionCallID:       e.Connection.CallID,
			CalledPartyDisposition: 0,
			ConnectionDeviceID:     e.Connection.DeviceID,
			ANI:                    e.Data.ANI,
			DNIS:                   e.Data.DNIS,
			DialedNumber:           e.Data.DialedNumber,
			CallerEnteredDigits:    e.Data.CallerEnteredDigits,
			CallWrapupData:         e.Data.CallWrapupData,
			NamedVariables:         namedToCTI(e.Data.NamedVariables),
		}
		if !e.Data.RouterCallKey.IsZero() {
			b.RouterCallKeyDay, b.RouterCallKeyCallID, b.RouterCallKeySequenceNumber = e.Data.RouterCallKey.Day, e.Data.RouterCallKey.CallID, e.Data.RouterCallKey.Sequence
			b.SetPresent(cti.TagRouterCallKeyDay)
			b.SetPresent(cti.TagRouterCallKeyCallID)
			b.SetPresent(cti.TagRouterCallKeySequenceNum)
		}
		cti.SetCallVars(b, e.Data.CallVariables)
		return b, cti.BeginCallMask, 0, false
	case *pg.CallDeliveredEvent:
		d := &cti.CallDeliveredEvent{
			PeripheralID:           e.PeripheralID,
			PeripheralType:         cti.PeripheralType(e.PeripheralType),
			ConnectionDeviceIDType: cti.ConnectionDeviceIDType(e.Connection.DeviceIDType),
			ConnectionCallID:       e.Connection.CallID,
			LineHandle:             0xFFFF,
			LineType:               0xFFFF,
			ServiceNumber:          e.ServiceNumber,
			ServiceID:              e.ServiceID,
			SkillGroupNumber:       e.SkillGroup.Number,
			SkillGroupID:           e.SkillGroup.ID,
			SkillGroupPriority:     e.SkillGroup.Priority,
			LocalConnectionState:   cti.LocalConnectionState(e.State),
			EventCause:             cti.EventCause(e.Cause),
			ConnectionDeviceID:     e.Connection.DeviceID,
			ANI:                    e.Data.ANI,
			DNIS:                   e.Data.DNIS,
			DialedNumber:           e.Data.DialedNumber,
			CallerEnteredDigits:    e.Data.CallerEnteredDigits,
			NamedVariables:         namedToCTI(e.Data.NamedVariables),
		}
		d.AlertingDeviceType, d.AlertingDeviceID = dev(e.Alerting)
		d.CallingDeviceType, d.CallingDeviceID = dev(e.Calling)
		d.CalledDeviceType, d.CalledDeviceID = dev(e.Called)
		d.LastRedirectDeviceType, d.LastRedirectDeviceID = dev(e.LastRedirect)
		cti.SetCallVars(d, e.Data.CallVariables)
		return d, cti.CallDeliveredMask, 0, false
	case *pg.CallEstablishedEvent:
		d := &cti.CallEstablishedEvent{
			PeripheralID:           e.PeripheralID,
			PeripheralType:         cti.PeripheralType(e.PeripheralType),
			ConnectionDeviceIDType: cti.ConnectionDeviceIDType(e.Connection.DeviceIDType),
			ConnectionCallID:       e.Connection.CallID,
			LineHandle:             0xFFFF,
			LineType:               0xFFFF,
			ServiceNumber:          e.ServiceNumber,
			ServiceID:              e.ServiceID,
			SkillGroupNumber:       e.SkillGroup.Number,
			SkillGroupID:           e.SkillGroup.ID,
			SkillGroupPriority:     e.SkillGroup.Priority,
			LocalConnectionState:   cti.LocalConnectionState(e.State),
			EventCause:             cti.EventCause(e.Cause),
			ConnectionDeviceID:     e.Connection.DeviceID,
		}
		d.AnsweringDeviceType, d.AnsweringDeviceID = dev(e.Answering)
		d.CallingDeviceType, d.CallingDeviceID = dev(e.Calling)
		d.CalledDeviceType, d.CalledDeviceID = dev(e.Called)
		d.LastRedirectDeviceType, d.LastRedirectDeviceID = dev(e.LastRedirect)
		return d, cti.CallEstablishedMask, 0, false
	case *pg.CallOriginatedEvent:
		d := &cti.CallOriginatedEvent{
			PeripheralID:           e.PeripheralID,
			PeripheralType:         cti.PeripheralType(e.PeripheralType),
			ConnectionDeviceIDType: cti.ConnectionDeviceIDType(e.Connection.DeviceIDType),
			ConnectionCallID:       e.Connection.CallID,
			LineHandle:             0xFFFF,
			LineType:               0xFFFF,
			ServiceNumber:          e.ServiceNumber,
			ServiceID:              e.ServiceID,
			SkillGroupNumber:       e.SkillGroup.Number,
			SkillGroupID:           e.SkillGroup.ID,
			SkillGroupPriority:     e.SkillGroup.Priority,
			LocalConnectionState:   cti.LocalConnectionState(e.State),
			EventCause:             cti.EventCause(e.Cause),
			ConnectionDeviceID:     e.Connection.DeviceID,
		}
		d.CallingDeviceType, d.CallingDeviceID = dev(e.Calling)
		d.CalledDeviceType, d.CalledDeviceID = dev(e.Called)
		return d, cti.CallOriginatedMask, 0, false
	case *pg.CallFailedEvent:
		d := &cti.CallFailedEvent{
			PeripheralID:           e.PeripheralID,
			PeripheralType:         cti.PeripheralType(e.PeripheralType),
			ConnectionDeviceIDType: cti.ConnectionDeviceIDType(e.Connection.DeviceIDType),
			ConnectionCallID:       e.Connection.CallID,
			LocalConnectionState:   cti.LocalConnectionState(e.State),
			EventCause:             cti.EventCause(e.Cause),
			ConnectionDeviceID:     e.Connection.DeviceID,
		}
		d.FailingDeviceType, d.FailingDeviceID = dev(e.Failing)
		d.CalledDeviceType, d.CalledDeviceID = dev(e.Called)
		return d, cti.CallFailedMask, 0, false
	case *pg.CallConnectionClearedEvent:
		d := &cti.CallConnectionClearedEvent{
			PeripheralID:           e.PeripheralID,
			PeripheralType:         cti.PeripheralType(e.PeripheralType),
			ConnectionDeviceIDType: cti.ConnectionDeviceIDType(e.Connection.DeviceIDType),
			ConnectionCallID:       e.Connection.CallID,
			LocalConnectionState:   cti.LocalConnectionState(e.State),
			EventCause:             cti.EventCause(e.Cause),
			ConnectionDeviceID:     e.Connection.DeviceID,
		}
		d.ReleasingDeviceType, d.ReleasingDeviceID = dev(e.Releasing)
		return d, cti.CallConnectionClearedMask, 0, false
	case *pg.CallClearedEvent:
		return &cti.CallClearedEvent{
			PeripheralID:           e.PeripheralID,
			PeripheralType:         cti.PeripheralType(e.PeripheralType),
			ConnectionDeviceIDType: cti.ConnectionDeviceIDType(e.Connection.DeviceIDType),
			ConnectionCallID:       e.Connection.CallID,
			LocalConnectionState:   cti.LocalConnectionState(e.State),
			EventCause:             cti.EventCause(e.Cause),
			ConnectionDeviceID:     e.Connection.DeviceID,
		}, cti.CallClearedMask, 0, false
	case *pg.EndCallEvent:
		return &cti.EndCallEvent{
			PeripheralID:           e.PeripheralID,
			PeripheralType:         cti.PeripheralType(e.PeripheralType),
			ConnectionDeviceIDType: cti.ConnectionDeviceIDType(e.Connection.DeviceIDType),
			ConnectionCallID:       e.Connection.CallID,
			ConnectionDeviceID:     e.Connection.DeviceID,
		}, cti.EndCallMask, 0, false
	case *pg.CallDataUpdateEvent:
		d := &cti.CallDataUpdateEvent{
			PeripheralID:              e.PeripheralID,
			PeripheralType:            cti.PeripheralType(e.PeripheralType),
			CallType:                  cti.CallType(e.Data.CallType),
			ConnectionDeviceIDType:    cti.ConnectionDeviceIDType(e.Connection.DeviceIDType),
			ConnectionCallID:          e.Connection.CallID,
			NewConnectionDeviceIDType: cti.ConnectionDeviceIDType(e.Connection.DeviceIDType),
			NewConnectionCallID:       e.Connection.CallID,
			ConnectionDeviceID:        e.Connection.DeviceID,
			NewConnectionDeviceID:     e.Connection.DeviceID,
			ANI:                       e.Data.ANI,
			DNIS:                      e.Data.DNIS,
			DialedNumber:              e.Data.DialedNumber,
			CallerEnteredDigits:       e.Data.CallerEnteredDigits,
			CallWrapupData:            e.Data.CallWrapupData,
			NamedVariables:            namedToCTI(e.Data.NamedVariables),
		}
		cti.SetCallVars(d, e.Data.CallVariables)
		return d, cti.CallDataUpdateMask, 0, false
	case *pg.CallHeldEvent, *pg.CallRetrievedEvent, *pg.CallConferencedEvent, *pg.CallTransferredEvent,
		*pg.CallDivertedEvent, *pg.CallServiceInitiatedEvent:
		m, bit := renderCallControl(ev)
		return m, bit, 0, false
	case *pg.SystemEvent:
		return &cti.SystemEvent{
			PGStatus:                 cti.PGStatus(e.PGStatus),
			ICMCentralControllerTime: cti.TimeOf(e.Time),
			SystemEventID:            cti.SystemEventID(e.ID),
			SystemEventArg1:          e.Arg1,
			EventDeviceType:          cti.DevIDNone,
			Text:                     e.Text,
		}, allCallEvents, 0, false
	}
	return nil, 0, 0, false
}

// allCallEvents selects SYSTEM_EVENTs for every ALL_EVENTS session: they are
// not governed by CallMsgMask.
const allCallEvents cti.CallEventMask = 0xFFFFFFFF

func namedToCTI(in []pg.NamedVariable) []cti.NamedVar {
	if len(in) == 0 {
		return nil
	}
	out := make([]cti.NamedVar, len(in))
	for i, v := range in {
		out[i] = cti.NamedVar{Name: v.Name, Value: v.Value}
	}
	return out
}

// querySkillGroup answers QUERY_SKILL_GROUP_STATISTICS_REQ from the router's
// real-time figures (ipcc-behaviour.md §1.6). Fields the emulator does not
// model keep 0; queue figures use 0xFFFFFFFF for "unknown" only when the
// router has no value.
func (ss *Session) querySkillGroup(m *cti.QuerySkillGroupStatisticsReq) {
	key := m.SkillGroupNumber
	if key == 0 || key == 0xFFFFFFFF {
		key = m.SkillGroupID
	}
	st, err := ss.srv.stats.SkillGroupStats(key)
	if err != nil {
		ss.send(&cti.FailureConf{InvokeID: m.InvokeID, Status: cti.StatusInvalidSkillGroup}, ss.pv)
		return
	}
	ss.send(skillGroupConf(m.InvokeID, ss.srv.pg.PeripheralID(), st), ss.pv)
}

func skillGroupConf(inv, periph uint32, st icm.SkillGroupStats) *cti.QuerySkillGroupStatisticsConf {
	return &cti.QuerySkillGroupStatisticsConf{
		InvokeID:                        inv,
		PeripheralID:                    periph,
		SkillGroupNumber:                st.SkillGroupNumber,
		SkillGroupID:                    st.SkillGroupID,
		AgentsLoggedOn:                  st.AgentsLoggedOn,
		AgentsAvail:                     st.AgentsAvail,
		AgentsNotReady:                  st.AgentsNotReady,
		AgentsReady:                     st.AgentsReady,
		AgentsTalkingIn:                 st.AgentsTalkingIn,
		AgentsTalkingOut:                st.AgentsTalkingOut,
		AgentsTalkingOther:              st.AgentsTalkingOther,
		AgentsWorkNotReady:              st.AgentsWorkNotReady,
		AgentsWorkReady:                 st.AgentsWorkReady,
		AgentsBusyOther:                 st.AgentsBusyOther,
		AgentsReserved:                  st.AgentsReserved,
		AgentsHold:                      st.AgentsHold,
		AgentsICMAvailable:              st.AgentsICMAvailable,
		AgentsApplicationAvailable:      st.AgentsApplicationAvailable,
		AgentsTalkingAutoOut:            st.AgentsTalkingAutoOut,
		AgentsTalkingPreview:            st.AgentsTalkingPreview,
		AgentsTalkingReservation:        st.AgentsTalkingReservation,
		RouterCallsQNow:                 st.RouterCallsQNow,
		LongestRouterCallQNow:           st.LongestRouterCallQNow,
		CallsQNow:                       st.CallsQNow,
		CallsQTimeNow:                   st.CallsQTimeNow,
		LongestCallQNow:                 st.LongestCallQNow,
		HandledCallsTo5:                 st.HandledCallsTo5,
		HandledCallsTalkTimeTo5:         st.HandledCallsTalkTimeTo5,
		HandledCallsAfterCallTimeTo5:    st.HandledCallsAfterCallTimeTo5,
		HandledCallsTimeTo5:             st.HandledCallsTimeTo5,
		HandledCallsToHalf:              st.HandledCallsToHalf,
		HandledCallsTalkTimeToHalf:      st.HandledCallsTalkTimeToHalf,
		HandledCallsAfterCallTimeToHalf: st.HandledCallsAfterCallTimeToHalf,
		HandledCallsTimeToHalf:          st.HandledCallsTimeToHalf,
	}
}
