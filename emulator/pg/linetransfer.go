package pg

import "time"

// Single-step transfer from a line without an ICM agent (Config.Lines).
//
// A dialer places predictive calls from CallManager lines with nobody
// behind them (dialer ports, CTI ports): the answered customer is connected
// to the port and waits there until the dialer moves it to a free campaign
// agent with TRANSFER_CALL_REQ, single-step form (HeldConnectionCallID
// 0xFFFFFFFF, DialedNumber the agent's extension). Outbound campaign agents
// are auto-answer: the customer is connected to the target at once, nothing
// rings. The call keeps its ConnectionCallID and its context (BEGIN_CALL
// and END_CALL stay on the customer's connection), and from then on it is
// exactly a predictive call connected to that agent (or line): the same
// end-of-call handling, wrap-up per the agent's desk settings after
// outgoing calls, CallHandled with the talk time since the transfer.

// lineTransfer moves the predictive call r.ActiveCallID connected to line l
// to r.DialedNumber: an ICM agent's extension or instrument (the agent must
// be logged on, Available or Not Ready, with no call and nothing held) or
// another line (with no connected call). Events, in order:
// CALL_DELIVERED and CALL_ESTABLISHED at the target (Calling the customer,
// LastRedirect the line), CALL_TRANSFERRED (transferring the line,
// transferred the target, Primary and Secondary the line's connection on
// the call, parties the customer and the target, LCS_CONNECT,
// CEC_TRANSFER), then for an agent AGENT_STATE TALKING with Direction 7
// (outbound predictive) and Hooks.CallAnswered; last Hooks.LineTransferred.
//
// Failures change nothing (the customer stays on the line):
// CF_RESOURCE_OUT_OF_SERVICE offline; CF_INVALID_CALLID for an unknown call
// or a call not at the line; CF_NO_ACTIVE_CALL for the line's call that is
// not connected yet; CF_INVALID_DESTINATION for an empty number, the line
// itself or a number that is neither an agent's device nor a line;
// CF_RESOURCE_BUSY for a target that is not free (an agent logged out,
// talking, reserved, holding or wrapping up; a line with a call).
func (p *PG) lineTransfer(l *line, r TransferRequest) (CallControlResult, error) {
	if err := p.onlineErr(); err != nil {
		return CallControlResult{}, err
	}
	c, ok := p.calls[r.ActiveCallID]
	if !ok {
		return CallControlResult{}, failf(CFInvalidCallID, "no call %d", r.ActiveCallID)
	}
	if c.line != l {
		return CallControlResult{}, failf(CFInvalidCallID, "call %d is not at line %s", c.id, l.inst)
	}
	if c.phase != phaseConnected || l.call != c {
		return CallControlResult{}, failf(CFNoActiveCall, "call %d is not connected at line %s (%s)", c.id, l.inst, phaseNames[c.phase])
	}
	n := r.DialedNumber
	switch {
	case n == "":
		return CallControlResult{}, failf(CFInvalidDestination, "no dialed number")
	case n == l.ext || n == l.inst:
		return CallControlResult{}, failf(CFInvalidDestination, "%q is the transferring line itself", n)
	}
	if a, ok := p.byDev[n]; ok {
		if !p.free(a) {
			why := a.state.String()
			if !a.loggedOn {
				why = "logged out"
			}
			return CallControlResult{}, failf(CFResourceBusy, "agent %s at %s is %s", a.info.AgentID, n, why)
		}
		return p.lineToAgent(c, l, a), nil
	}
	if to, ok := p.byLine[n]; ok {
		if to.call != nil {
			return CallControlResult{}, failf(CFResourceBusy, "line %s has call %d", to.inst, to.call.id)
		}
		return p.lineToLine(c, l, to), nil
	}
	return CallControlResult{}, failf(CFInvalidDestination, "%q is neither an agent's device nor a line", n)
}

// leaveLine takes the call off the transferring line (its connected time
// counts for the line).
func (p *PG) leaveLine(c *call, l *line, now time.Time) {
	c.endLeg(now, LegAgent)
	l.call, l.since = nil, now
	l.calls++
	l.talk += now.Sub(c.answered)
	c.line = nil
}

// transferred emits CALL_DELIVERED and CALL_ESTABLISHED at the target, then
// CALL_TRANSFERRED, and returns the result for TRANSFER_CALL_CONF.
func (p *PG) transferred(c *call, from *line, to Device, conn Connection) CallControlResult {
	p.emit(&CallDeliveredEvent{Header: p.header(), Connection: conn, ServiceNumber: NullService, ServiceID: NullService,
		SkillGroup: c.sg, Alerting: to, Calling: c.customer, Called: to, LastRedirect: from.device(),
		State: LCSAlerting, Cause: CauseNewCall, Data: c.data.clone()})
	p.emit(&CallEstablishedEvent{Header: p.header(), Connection: conn, ServiceNumber: NullService, ServiceID: NullService,
		SkillGroup: c.sg, Answering: to, Calling: c.customer, Called: to, LastRedirect: from.device(),
		State: LCSConnect, Cause: CauseNone})
	cust := Connection{CallID: c.id, DeviceIDType: ConnectionDynamic, DeviceID: c.customer.ID}
	res := CallControlResult{Connection: conn, Parties: []ConnectedParty{
		{Connection: cust, DeviceType: c.customer.Type}, {Connection: conn, DeviceType: to.Type}}}
	p.emit(&CallTransferredEvent{Header: p.header(), Primary: from.conn(c.id), Secondary: from.conn(c.id), SkillGroup: c.sg,
		Transferring: from.device(), Transferred: to, Parties: res.Parties, State: LCSConnect, Cause: CauseTransfer})
	return res
}

// lineToAgent connects the line's call to a free ICM agent, as TrunkAnswered
// connects a predictive call to its originating agent.
func (p *PG) lineToAgent(c *call, from *line, a *agent) CallControlResult {
	now := p.sched.Now()
	p.leaveLine(c, from, now)
	c.agent, c.origin, c.answered = a, a, now
	a.call, a.prior, a.priorReason = c, a.state, a.reason
	if c.sg.Number != NullSkillGroup {
		a.callSG = c.sg.Number
	}
	c.addLeg(now, LegAgent, a.device())
	res := p.transferred(c, from, a.device(), a.conn(c.id))
	p.setState(a, StateTalking, 0, DirectionOutboundPredictive)
	if p.cfg.Hooks.CallAnswered != nil {
		p.cfg.Hooks.CallAnswered(c.id, p.status(a))
	}
	if p.cfg.Hooks.LineTransferred != nil {
		p.cfg.Hooks.LineTransferred(c.id, a.device())
	}
	return res
}

// lineToLine connects the line's call to another free line, as connectLine
// does (no agent state, no CallAnswered: ICM has no agent there).
func (p *PG) lineToLine(c *call, from, to *line) CallControlResult {
	now := p.sched.Now()
	p.leaveLine(c, from, now)
	c.line, c.answered = to, now
	to.call, to.since = c, now
	c.addLeg(now, LegAgent, to.device())
	res := p.transferred(c, from, to.device(), to.conn(c.id))
	if p.cfg.Hooks.LineTransferred != nil {
		p.cfg.Hooks.LineTransferred(c.id, to.device())
	}
	return res
}
