package ctiserver

import (
	"errors"
	"fmt"
	"time"

	"github.com/ipcclab/ipcclab/emulator/pg"
	"github.com/ipcclab/ipcclab/protocol/cti"
)

// dispatch handles one decoded request on an open session. Every *_REQ gets
// exactly one answer carrying its InvokeID: the positive *_CONF, a
// CONTROL_FAILURE_CONF for a well-formed control request the PG cannot carry
// out, or a FAILURE_CONF for a session-level problem (§5.7).
func (s *Server) dispatch(ss *Session, msg cti.Message) {
	s.inRequest = true
	defer func() {
		s.inRequest = false
		held := s.held
		s.held = nil
		for _, ev := range held {
			s.PGEvent(ev)
		}
	}()
	if s.standbyRefuses(ss, msg) || s.callControl(ss, msg) || s.serviceRequest(ss, msg) || s.configRequest(ss, msg) {
		return
	}
	switch m := msg.(type) {
	case *cti.HeartbeatReq:
		ss.send(&cti.HeartbeatConf{InvokeID: m.InvokeID}, ss.pv)
	case *cti.CloseReq:
		ss.send(&cti.CloseConf{InvokeID: m.InvokeID}, ss.pv)
		ss.teardown(fmt.Sprintf("CLOSE_REQ with status %v", m.Status))
	case *cti.OpenReq:
		ss.send(&cti.FailureConf{InvokeID: m.InvokeID, Status: cti.StatusSessionAlreadyOpen}, ss.pv)
	case *cti.ClientEventReportReq:
		s.logf("cti session %d (%s): client event report state %d %s: %s", ss.id, ss.clientID, m.State, m.ObjectName, m.Text)
		ss.positive(&cti.ClientEventReportConf{InvokeID: m.InvokeID})
	case *cti.SetAgentStateReq:
		if !ss.canControlAgents() {
			ss.noControl(m.InvokeID, "SET_AGENT_STATE_REQ")
			return
		}
		if err := ss.ownDesk(&m.AgentID, &m.AgentInstrument); err != nil {
			ss.controlFailed(m.InvokeID, &pg.ControlFailure{Code: pg.CFInvalidDeviceID, Msg: err.Error()})
			return
		}
		err := s.pg.SetAgentState(pg.SetAgentStateRequest{
			AgentID:    m.AgentID,
			Instrument: m.AgentInstrument,
			State:      pg.AgentState(m.AgentState),
			ReasonCode: m.EventReasonCode,
			WorkMode:   uint16(m.AgentWorkMode),
			Password:   m.AgentPassword,
		})
		if ss.controlFailed(m.InvokeID, err) {
			return
		}
		ss.positive(&cti.SetAgentStateConf{InvokeID: m.InvokeID})
	case *cti.QueryAgentStateReq:
		st, err := s.pg.QueryAgentState(pg.AgentSelector{AgentID: m.AgentID, Instrument: firstNonEmpty(m.AgentInstrument, m.AgentExtension)})
		if ss.controlFailed(m.InvokeID, err) {
			return
		}
		ss.send(queryAgentStateConf(m.InvokeID, st, ss.srv.sched.Now()), ss.pv)
	case *cti.QuerySkillGroupStatisticsReq:
		ss.querySkillGroup(m)
	case *cti.MakePredictiveCallReq:
		if !ss.canControlCalls() {
			ss.noControl(m.InvokeID, "MAKE_PREDICTIVE_CALL_REQ")
			return
		}
		req := pg.PredictiveCallRequest{
			DialedNumber:      m.DialedNumber,
			OriginatingDevice: m.OriginatingDeviceID,
			CallVariables:     cti.GetCallVars(m),
			NamedVariables:    namedFromCTI(m.NamedVariables),
		}
		if m.AlertRings > 0 {
			// AlertRings: rings before the call counts as no answer; 6 s per
			// ring is the North American cadence (2 s on, 4 s off).
			req.RingTimeout = time.Duration(m.AlertRings) * 6 * time.Second
		}
		id, err := s.pg.MakePredictiveCall(req)
		if ss.controlFailed(m.InvokeID, err) {
			return
		}
		ss.positive(&cti.MakePredictiveCallConf{
			InvokeID:                  m.InvokeID,
			NewConnectionCallID:       id,
			NewConnectionDeviceIDType: cti.ConnectionIDDynamic,
			NewConnectionDeviceID:     m.OriginatingDeviceID,
			LineHandle:                0xFFFF,
			LineType:                  0xFFFF,
		})
	case *cti.SetCallDataReq:
		if !ss.canControlCalls() {
			ss.noControl(m.InvokeID, "SET_CALL_DATA_REQ")
			return
		}
		u := pg.CallDataUpdate{CallVariables: map[int]string{}, NamedVariables: namedFromCTI(m.NamedVariables)}
		for i, v := range cti.GetCallVars(m) {
			if v != "" || m.Has(cti.TagCallVar1+cti.Tag(i)) {
				u.CallVariables[i+1] = v
			}
		}
		if m.Has(cti.TagCED) {
			v := m.CallerEnteredDigits
			u.CallerEnteredDigits = &v
		}
		if m.Has(cti.TagCallWrapupData) {
			v := m.CallWrapupData
			u.CallWrapupData = &v
		}
		if ss.controlFailed(m.InvokeID, s.pg.SetCallData(m.ConnectionCallID, u)) {
			return
		}
		ss.positive(&cti.SetCallDataConf{InvokeID: m.InvokeID})
	case *cti.ReleaseCallReq:
		if ss.controlFailed(m.InvokeID, s.pg.ReleaseCall(m.ConnectionCallID)) {
			return
		}
		ss.positive(&cti.ReleaseCallConf{InvokeID: m.InvokeID})
	default:
		inv := uint32(0)
		if r, ok := msg.(cti.InvokeIDer); ok {
			inv = r.GetInvokeID()
		}
		// A message we decode but do not serve (an event sent by a client,
		// or a request of a later issue's services).
		ss.send(&cti.FailureConf{InvokeID: inv, Status: cti.StatusFunctionNotAvailable}, ss.pv)
		s.logf("cti session %d (%s): %v not served by this emulator", ss.id, ss.clientID, msg.MessageType())
	}
}

// positive sends a positive confirmation unless the session asked for
// CTI_SERVICE_IGNORE_CONF (§5.7).
func (ss *Session) positive(m cti.Message) {
	if ss.services&cti.ServiceIgnoreConf != 0 {
		return
	}
	ss.send(m, ss.pv)
}

func (ss *Session) canControlAgents() bool {
	return ss.services&(cti.ServiceClientControl|cti.ServiceAgentStateControlOnly) != 0
}

func (ss *Session) canControlCalls() bool { return ss.services&cti.ServiceClientControl != 0 }

func (ss *Session) noControl(inv uint32, what string) {
	ss.send(&cti.FailureConf{InvokeID: inv, Status: cti.StatusFunctionNotAvailable}, ss.pv)
	ss.srv.logf("cti session %d (%s): %s refused: session was not granted control", ss.id, ss.clientID, what)
}

// controlFailed answers CONTROL_FAILURE_CONF for a PG refusal and reports
// whether it did.
func (ss *Session) controlFailed(inv uint32, err error) bool {
	if err == nil {
		return false
	}
	code := cti.ControlFailureCode(70) // CF_GENERIC_UNSPECIFIED_REJECTION, the guide's default (§5.7)
	var cf *pg.ControlFailure
	if errors.As(err, &cf) {
		code = cti.ControlFailureCode(cf.Code)
	}
	ss.send(&cti.ControlFailureConf{InvokeID: inv, FailureCode: code}, ss.pv)
	ss.srv.logf("cti session %d (%s): control failure %v: %v", ss.id, ss.clientID, code, err)
	return true
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func namedFromCTI(in []cti.NamedVar) []pg.NamedVariable {
	if len(in) == 0 {
		return nil
	}
	out := make([]pg.NamedVariable, len(in))
	for i, v := range in {
		out[i] = pg.NamedVariable{Name: v.Name, Value: v.Value}
	}
	return out
}

func queryAgentStateConf(inv uint32, st pg.AgentStatus, now time.Time) *cti.QueryAgentStateConf {
	c := &cti.QueryAgentStateConf{
		InvokeID:                inv,
		AgentState:              cti.AgentState(st.State),
		MRDID:                   1, // voice
		AgentMode:               cti.AgentMode(st.Mode),
		MaxTaskLimit:            1,
		ICMAgentID:              int32(st.ICMAgentID),
		AgentAvailabilityStatus: cti.AgentAvailabilityStatus(st.Availability),
		AgentID:                 st.AgentID,
		AgentExtension:          st.Extension,
		AgentInstrument:         st.Instrument,
	}
	if st.CallID != 0 {
		c.NumTasks = 1
	}
	for _, g := range st.SkillGroups {
		c.SkillGroups = append(c.SkillGroups, cti.SkillGroup{
			SkillGroupNumber:   g.Number,
			SkillGroupID:       g.ID,
			SkillGroupPriority: g.Priority,
			SkillGroupState:    cti.AgentState(st.State),
		})
	}
	c.NumSkillGroups = uint16(len(c.SkillGroups))
	return c
}
