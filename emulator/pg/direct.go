package pg

// Direct calls: an outside call addressed straight to an agent's extension
// or to a line, with no routing. This is how the customer of a SIP dialer
// (Cisco Outbound Option's model, ipcc-behaviour.md §2.5 step 6) reaches
// the agent the dialer reserved: the dialer blind-transfers the answered
// customer with REFER, the gateway INVITEs CallManager for the agent's
// extension, and CallManager reports the call here. The device auto-answers
// (the reserved agent is waiting on the headset), so the call rings only
// for the moment the phone takes to send its 200 OK.
//
// Events at an agent: BEGIN_CALL, CALL_DELIVERED (LCS_ALERTING,
// CEC_NEW_CALL; AGENT_STATE RESERVED if the agent was Available), then on
// DirectAnswered CALL_ESTABLISHED and AGENT_STATE TALKING (Direction 7,
// outbound predictive); the call is a multi call from the start, so hold,
// transfer, conference and the end of call work as for call-control calls,
// and the agent returns to the state it had before (wrap-up per the
// outgoing desk setting). CallType is CALLTYPE_CUSTOMER_PREDICTIVE (34),
// the Outbound Option customer call. The router is not involved: no
// pre-call, and the call is not counted as a routed call answered.
//
// At a line without an ICM agent (Config.Lines): BEGIN_CALL and
// CALL_DELIVERED at the line's instrument, CALL_ESTABLISHED on
// DirectAnswered, no agent state — the same as a predictive call connected
// to a line.

// DirectIncoming takes an outside call addressed to device (an agent's
// extension or instrument, or a line) and rings it. The agent must be
// logged on with no call, Available or Not Ready (a dialer keeps its
// reserved agents out of routing either way); a line must have no connected
// call. Otherwise it fails with CF_RESOURCE_BUSY (33), and with
// CF_INVALID_DESTINATION for a device that is neither. It returns the
// call's ConnectionCallID; the network reports the customer hanging up with
// TrunkDisconnected and the device answering with DirectAnswered.
func (p *PG) DirectIncoming(in Incoming, device string) (uint32, error) {
	if err := p.onlineErr(); err != nil {
		return 0, err
	}
	data := CallData{CallType: CallTypeCustomerPredict, ANI: in.ANI, DNIS: in.DNIS, DialedNumber: in.DialedNumber,
		CallerEnteredDigits: in.CallerEnteredDigits, CallVariables: in.CallVariables,
		NamedVariables: append([]NamedVariable(nil), in.NamedVariables...)}
	customer := Device{ID: in.ANI, Type: DeviceExternal}
	now := p.sched.Now()
	if a, ok := p.byDev[device]; ok {
		if !p.free(a) {
			return 0, failf(CFResourceBusy, "agent %s at %s is %s", a.info.AgentID, device, a.state)
		}
		c := p.newCall(kindPredictive)
		c.multi, c.data, c.customer, c.calling, c.visible = true, data, customer, customer, true
		c.begin = a.conn(c.id)
		c.addLeg(now, LegCustomer, customer)
		c.addLeg(now, LegGateway, Device{ID: p.cfg.Trunk, Type: DeviceTrunk})
		c.parties = append(c.parties, &party{dev: customer, ext: true, trunkID: c.id, lcs: LCSConnect,
			conn: Connection{CallID: c.id, DeviceIDType: ConnectionDynamic, DeviceID: customer.ID}})
		p.emit(&BeginCallEvent{Header: p.header(), Connection: c.begin, Data: c.data.clone()})
		p.offer(c, destination{agent: a}, CauseNewCall, NoDevice, modeOutgoing, DirectionOutboundPredictive, 0)
		return c.id, nil
	}
	l, ok := p.byLine[device]
	if !ok {
		return 0, failf(CFInvalidDestination, "%q is neither an agent's device nor a line", device)
	}
	if l.call != nil {
		return 0, failf(CFResourceBusy, "line %s has call %d", device, l.call.id)
	}
	// A line's call is not a multi call: it rings in phaseDialing (what
	// TrunkDisconnected and ClearCall expect of a line's call that is not
	// connected yet) and connects like a predictive call at the line.
	c := p.newCall(kindPredictive)
	c.data, c.customer, c.line, c.visible, c.phase = data, customer, l, true, phaseDialing
	c.begin = l.conn(c.id)
	c.addLeg(now, LegCustomer, customer)
	c.addLeg(now, LegGateway, Device{ID: p.cfg.Trunk, Type: DeviceTrunk})
	p.emit(&BeginCallEvent{Header: p.header(), Connection: c.begin, Data: c.data.clone()})
	p.emit(&CallDeliveredEvent{Header: p.header(), Connection: c.begin, ServiceNumber: NullService, ServiceID: NullService,
		SkillGroup: c.sg, Alerting: l.device(), Calling: customer, Called: l.device(), LastRedirect: NoDevice,
		State: LCSAlerting, Cause: CauseNewCall, Data: c.data.clone()})
	return c.id, nil
}

// DirectAnswered: the device a DirectIncoming call rings at went off-hook
// (its 200 OK): CALL_ESTABLISHED, and at an agent AGENT_STATE TALKING.
func (p *PG) DirectAnswered(callID uint32) error {
	if err := p.onlineErr(); err != nil {
		return err
	}
	c, ok := p.calls[callID]
	if !ok {
		return failf(CFInvalidCallID, "no call %d", callID)
	}
	if c.data.CallType != CallTypeCustomerPredict {
		return failf(CFInvalidObjectState, "call %d is not a direct customer call", callID)
	}
	if c.multi {
		for _, pt := range c.parties {
			if pt.agent != nil && pt.lcs == LCSAlerting {
				p.answerParty(c, pt)
				return nil
			}
		}
		return failf(CFNoCallToAnswer, "call %d is not ringing at an agent", callID)
	}
	l := c.line
	if l == nil || c.phase != phaseDialing {
		return failf(CFNoCallToAnswer, "call %d is not ringing at a line", callID)
	}
	if l.call != nil {
		return failf(CFResourceBusy, "line %s has call %d", l.ext, l.call.id)
	}
	now := p.sched.Now()
	c.phase, c.answered = phaseConnected, now
	l.call, l.since = c, now
	c.addLeg(now, LegAgent, l.device())
	p.emit(&CallEstablishedEvent{Header: p.header(), Connection: c.begin, ServiceNumber: NullService, ServiceID: NullService,
		SkillGroup: c.sg, Answering: l.device(), Calling: c.customer, Called: l.device(), LastRedirect: NoDevice,
		State: LCSConnect, Cause: CauseNone})
	return nil
}
