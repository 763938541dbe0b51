package centre

import (
	"errors"
	"fmt"

	"github.com/ipcclab/ipcclab/emulator/icm"
	"github.com/ipcclab/ipcclab/emulator/pg"
	"github.com/ipcclab/ipcclab/emulator/pstn"
)

// Voice is the switching fabric: the voice gateway, CallManager, IP-IVR and
// phones — speaking SIP and RTP in the real driver (internal/lab), as SIP
// events in virtual time in the simulation (emulator/fabric). When Config.Voice is
// set the centre stops taking shortcuts through the PG and lets the fabric
// carry every call:
//   - a PSTN-model caller is handed to the gateway (Arrive), which places a
//     real INVITE; CallManager brings it back here with Incoming;
//   - the router's transfer to an agent rings the agent's phone
//     (pg.Hooks.Transfer), and the phone's 180 reports CALL_DELIVERED;
//   - the agents answer and hang up on their phones (AnswerCall and
//     ClearConnection below), whose 200 OK and BYE drive the PG;
//   - predictive calls are placed through the gateway (Dial).
//
// Every method is called on the centre's scheduler (the event loop) and
// must not block: the real fabric does its signalling on its own goroutines
// and comes back through the loop; the simulated one schedules it.
type Voice interface {
	// Arrive places a PSTN-model caller's call into the gateway.
	Arrive(cl *pstn.Caller)
	// Abandon: the caller's patience ran out; the gateway hangs up.
	Abandon(cl *pstn.Caller)
	// Transfer rings device for the routed call callID (pg.Hooks.Transfer).
	Transfer(callID uint32, device string)
	// Dial places the outside leg of a predictive call; h reports its
	// progress on the loop.
	Dial(r pg.DialRequest, h pstn.DialHandler)
	// AnswerCall and ClearConnection are the agent at the phone: the phone
	// goes off-hook (200 OK) or hangs up (BYE).
	AnswerCall(instrument string, callID uint32) error
	ClearConnection(callID uint32, device string) error
}

// phoneCommands is what the agents model uses with a voice fabric: state
// changes go to the PG (the desktop), answering and hanging up to the
// phone.
type phoneCommands struct {
	pg *pg.PG
	v  Voice
}

func (p phoneCommands) SetAgentState(r pg.SetAgentStateRequest) error { return p.pg.SetAgentState(r) }
func (p phoneCommands) AnswerCall(instrument string, callID uint32) error {
	return p.v.AnswerCall(instrument, callID)
}
func (p phoneCommands) ClearConnection(callID uint32, device string) error {
	return p.v.ClearConnection(callID, device)
}
func (p phoneCommands) SetCallData(callID uint32, u pg.CallDataUpdate) error {
	return p.pg.SetCallData(callID, u)
}

// ErrUnknownDialedNumber is Incoming's answer for a number no call type
// has (CallManager answers 404).
var ErrUnknownDialedNumber = errors.New("no call type for this dialed number")

// InboundCall is a call CallManager received at a CTI route point.
type InboundCall struct {
	ANI, DNIS, DialedNumber string
	// Caller is the PSTN-model caller behind it, nil for a caller from
	// outside (SIPp, a softphone, an SBC).
	Caller *pstn.Caller
}

// Incoming takes a call CallManager received at a route point: the PG
// gets the call and the router runs the call type's script (select an
// agent or queue). It returns the call's ConnectionCallID. Call variables:
// CallVariable1 is the call type's name; the caller's account (keyed at
// the IVR) arrives later with CollectedDigits.
func (c *Centre) Incoming(in InboundCall) (uint32, error) {
	ct, ok := c.byDialed[in.DialedNumber]
	if !ok {
		return 0, fmt.Errorf("%w: %q", ErrUnknownDialedNumber, in.DialedNumber)
	}
	inc := pg.Incoming{ANI: in.ANI, DNIS: in.DNIS, DialedNumber: in.DialedNumber}
	inc.CallVariables[0] = c.typeNames[ct]
	id := c.pg.TrunkIncoming(inc)
	if in.Caller != nil {
		in.Caller.CallID = id
		c.callers[id] = in.Caller
	}
	if _, err := c.router.NewCall(icm.NewCallRequest{CallID: id, DialedNumber: in.DialedNumber, CallTypeID: ct}); err != nil {
		delete(c.callers, id)
		c.pg.TrunkDisconnected(id)
		return 0, err
	}
	return id, nil
}

// CollectedDigits records what the caller keyed at the IVR as the call's
// CallerEnteredDigits and CallVariable2 (the account the screen pop shows).
func (c *Centre) CollectedDigits(callID uint32, digits string) error {
	return c.pg.SetCallData(callID, pg.CallDataUpdate{CallerEnteredDigits: &digits, CallVariables: map[int]string{2: digits}})
}

// Hangup: the caller's side of call callID hung up (BYE or CANCEL at the
// gateway). A caller still waiting for an agent abandons.
func (c *Centre) Hangup(callID uint32) {
	// The router ignores calls already answered; for the others this is an
	// abandon (in queue or to the agent being rung).
	c.router.CallAbandoned(callID)
	if cl, ok := c.callers[callID]; ok {
		cl.Gone()
	}
	c.pg.TrunkDisconnected(callID)
}

// DialedNumbers lists the call types' dialed numbers (CallManager's CTI
// route points), in configuration order.
func (c *Centre) DialedNumbers() []string {
	var out []string
	for _, ct := range c.cfg.CallTypes {
		out = append(out, ct.DialedNumber)
	}
	return out
}
