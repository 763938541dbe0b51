package pg

import "strings"

// Reservation calls: a dialer reserves an agent by calling the agent's phone
// from one of its ports (Cisco Outbound Option, dialer-anchors.md §2.1;
// what the agent's desktop sees, cti-protocol.md §5.9(d)). Over CTI that is
// MAKE_CALL_REQ with AgentInstrument a dialer port (a line without an ICM
// agent, Config.Lines) and DialedNumber the agent's extension or
// instrument (or another line: an outbound-only agent's phone). The call
// carries the customer record the dialer presents in its ECC variables
// (BACampaign, BAAccountNumber, BADialedListID, BAStatus, BAResponse …) and
// call variables; the agent (or its desktop) answers a preview by setting
// BAResponse with SET_CALL_DATA_REQ (Accept, Skip, Reject …), which every
// CTI client sees as CALL_DATA_UPDATE_EVENT; the dialer then clears the
// reservation call.
//
// The reservation is delivered as a direct call is (DirectIncoming): the
// campaign agent's phone auto-answers, so CALL_DELIVERED and
// CALL_ESTABLISHED follow each other at once. Events, after MAKE_CALL_CONF:
// BEGIN_CALL at the agent's connection (CallType from BAStatus, see
// reservationCallType; the ECC variables and call variables),
// CALL_DELIVERED at the agent (LCS_ALERTING, CEC_NEW_CALL, calling device
// the port; AGENT_STATE RESERVED with Direction 5 outbound-reserve if the
// agent was Available), CALL_ESTABLISHED at the agent and AGENT_STATE
// TALKING (Direction 5). When the call is cleared (CLEAR_CALL_REQ, or either
// side hanging up): CALL_CONNECTION_CLEARED for the party leaving,
// CALL_CLEARED, the agent back in the state it had (no wrap-up: nobody
// talked to a customer), END_CALL. At a line: the same call events, no
// agent state.
//
// The port is busy while the reservation lasts (a second MAKE_CALL or a
// predictive call's answer finds it taken).

// Outbound Option BAStatus values (Finesse "Outbound Call Types and
// BAStatus"); blended agents' calls carry them with the prefix BLENDED_.
const (
	BAStatusPreviewReservation       = "PREVIEW_OUTBOUND_RESERVATION"
	BAStatusDirectPreviewReservation = "DIRECT_PREVIEW_OUTBOUND_RESERVATION"
	BAStatusPreview                  = "PREVIEW_OUTBOUND"
)

// baStatus returns the call's BAStatus without the BLENDED_ prefix.
func baStatus(vars []NamedVariable) string {
	for _, v := range vars {
		if v.Name == "BAStatus" {
			return strings.TrimPrefix(v.Value, "BLENDED_")
		}
	}
	return ""
}

// reservationCallType types a dialer port's call to an agent: a preview
// reservation (RESERVATION_PREVIEW 27), a direct-preview one
// (RESERVATION_PREVIEW_DIRECT 28), or a reservation of no known mode
// (RESERVATION 18).
func reservationCallType(vars []NamedVariable) CallType {
	switch baStatus(vars) {
	case BAStatusPreviewReservation:
		return CallTypeReservationPreview
	case BAStatusDirectPreviewReservation:
		return CallTypeReservationPreviewDirect
	}
	return CallTypeReservation
}

// customerCallType types a predictive call: the customer call of an
// accepted preview (CUSTOMER_PREVIEW 32) when its BAStatus says so, else
// AUTO_OUT as ever.
func customerCallType(vars []NamedVariable) CallType {
	if baStatus(vars) == BAStatusPreview {
		return CallTypeCustomerPreview
	}
	return CallTypeAutoOut
}

// IsReservation reports the call types of reservation calls.
func IsReservation(t CallType) bool {
	return t == CallTypeReservation || t == CallTypeReservationPreview || t == CallTypeReservationPreviewDirect
}

// portCall places a dialer port's reservation call (MakeCall from a line,
// see above). Failures change nothing: CF_RESOURCE_BUSY (33) for a port
// with a call or a target that is not free (an agent logged out, on a call,
// wrapping up; a line with a call); CF_INVALID_DESTINATION (14) for an empty
// number, the port itself, or a number that is neither an agent's device
// nor a line (a port's outside calls are MAKE_PREDICTIVE_CALL).
func (p *PG) portCall(l *line, r MakeCallRequest) (Connection, error) {
	if l.call != nil {
		return Connection{}, failf(CFResourceBusy, "port %s has call %d", l.inst, l.call.id)
	}
	n := r.DialedNumber
	switch {
	case n == "":
		return Connection{}, failf(CFInvalidDestination, "no dialed number")
	case n == l.ext || n == l.inst:
		return Connection{}, failf(CFInvalidDestination, "%q is the calling port itself", n)
	}
	a, toAgent := p.byDev[n]
	to, toLine := p.byLine[n]
	switch {
	case toAgent && !p.free(a):
		why := a.state.String()
		if !a.loggedOn {
			why = "logged out"
		}
		return Connection{}, failf(CFResourceBusy, "agent %s at %s is %s", a.info.AgentID, n, why)
	case toLine && to.call != nil:
		return Connection{}, failf(CFResourceBusy, "line %s has call %d", to.inst, to.call.id)
	case !toAgent && !toLine:
		return Connection{}, failf(CFInvalidDestination, "%q is neither an agent's device nor a line (a port dials customers with MAKE_PREDICTIVE_CALL)", n)
	}
	now := p.sched.Now()
	c := p.newCall(kindAgent)
	c.multi, c.visible = true, true
	c.data = CallData{CallType: reservationCallType(r.NamedVariables), ANI: l.ext, DNIS: n, DialedNumber: n,
		CallVariables: r.CallVariables, NamedVariables: append([]NamedVariable(nil), r.NamedVariables...)}
	c.calling, c.customer = l.device(), l.device()
	port := &party{dev: l.device(), conn: l.conn(c.id), line: l, lcs: LCSConnect}
	c.parties = append(c.parties, port)
	c.addLeg(now, LegPort, l.device())
	l.call, l.since = c, now
	p.deferEvents()
	if toAgent {
		c.begin = a.conn(c.id)
		p.emit(&BeginCallEvent{Header: p.header(), Connection: c.begin, Data: c.data.clone()})
		p.offer(c, destination{agent: a}, CauseNewCall, NoDevice, modeDirect, DirectionOutboundReserve, 0)
		if pt := c.partyOf(a); pt != nil && pt.lcs == LCSAlerting {
			p.answerParty(c, pt) // auto-answer
		}
		return port.conn, nil
	}
	c.begin = to.conn(c.id)
	pt := &party{dev: to.device(), conn: c.begin, line: to, lcs: LCSAlerting}
	c.parties = append(c.parties, pt)
	c.addLeg(now, LegAgent, to.device())
	to.call, to.since = c, now
	p.emit(&BeginCallEvent{Header: p.header(), Connection: c.begin, Data: c.data.clone()})
	p.emit(&CallDeliveredEvent{Header: p.header(), Connection: c.begin, ServiceNumber: NullService, ServiceID: NullService,
		SkillGroup: c.sg, Alerting: to.device(), Calling: c.calling, Called: to.device(), LastRedirect: NoDevice,
		State: LCSAlerting, Cause: CauseNewCall, Data: c.data.clone()})
	p.answerParty(c, pt) // auto-answer
	return port.conn, nil
}
