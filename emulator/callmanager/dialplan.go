// CallManager's decisions that need no I/O: the dial plan (which number goes
// where), the translation-route pool to IP-IVR, which leg a routed call
// takes next, and how SIP results read as PSTN outcomes. Pure: the adapter
// (callmanager.go) and the simulation driver's switching fabric
// (emulator/fabric) both decide through these, so the two drivers agree.

package callmanager

import (
	"errors"
	"strconv"

	"github.com/ipcclab/ipcclab/emulator/pg"
	"github.com/ipcclab/ipcclab/emulator/pstn"
)

// Destination is where the dial plan sends a number called at CallManager.
type Destination int

// Destinations.
const (
	// DestUnknown: not in the dial plan; the INVITE is answered 404.
	DestUnknown Destination = iota
	// DestRoutePoint: a CTI route point (a call type's dialed number); the
	// router decides.
	DestRoutePoint
	// DestLine: a line's extension (a dialer transferring its customer to
	// the agent it reserved); the phone rings with auto-answer.
	DestLine
)

func (d Destination) String() string {
	switch d {
	case DestRoutePoint:
		return "route point"
	case DestLine:
		return "line"
	}
	return "unknown"
}

// DialPlan is CallManager's numbers: route points and lines.
type DialPlan struct {
	routePoints map[string]bool
	lines       map[string]string // extension → agent ID ("" for lines without an ICM agent)
	agentExt    map[string]string // agent ID → extension
}

// NewDialPlan builds the dial plan from the call types' dialed numbers and
// the lines (extension → agent ID, "" for lines without an ICM agent).
func NewDialPlan(routePoints []string, lines map[string]string) *DialPlan {
	d := &DialPlan{routePoints: map[string]bool{}, lines: map[string]string{}, agentExt: map[string]string{}}
	for _, n := range routePoints {
		d.routePoints[n] = true
	}
	for ext, agent := range lines {
		d.lines[ext] = agent
		if agent != "" {
			d.agentExt[agent] = ext
		}
	}
	return d
}

// Route is where an INVITE for number goes. Route points win over lines.
func (d *DialPlan) Route(number string) Destination {
	if d.routePoints[number] {
		return DestRoutePoint
	}
	if _, ok := d.lines[number]; ok {
		return DestLine
	}
	return DestUnknown
}

// Extensions lists the lines' extensions (in no particular order).
func (d *DialPlan) Extensions() []string {
	out := make([]string, 0, len(d.lines))
	for ext := range d.lines {
		out = append(out, ext)
	}
	return out
}

// AgentExtension is the extension of an ICM agent's line ("" if none).
func (d *DialPlan) AgentExtension(agentID string) string { return d.agentExt[agentID] }

// QueuesAtIVR reports whether a call just given to the router at a route
// point goes to IP-IVR to wait (no agent reserved yet) rather than straight
// to the reserved agent's phone, where the caller hears ringback (the
// router's Transfer follows). ci is the PG's view of the call (pg.Call),
// live false when the PG no longer has it.
func QueuesAtIVR(ci pg.CallInfo, live bool) bool { return !live || ci.AgentID == "" }

// AtAgent reports whether the PG still has call ci at the phone on ext —
// a party on ext, or the reserved agent's line is ext. When it no longer
// does (RONA, a failed transfer) the ringing phone is cancelled and the
// caller goes back to IP-IVR.
func (d *DialPlan) AtAgent(ci pg.CallInfo, ext string) bool {
	for _, p := range ci.Parties {
		if p.Device.ID == ext {
			return true
		}
	}
	return ci.AgentID != "" && d.agentExt[ci.AgentID] == ext
}

// OutcomeOf is the PSTN outcome a CTI port reads from the final status of
// its predictive call's INVITE: 486/600 busy; 408 (its ring limit), 480
// and 487 no answer; anything else (404, 503, …) a network failure,
// reported as unobtainable.
func OutcomeOf(status int) pstn.Outcome {
	switch status {
	case 486, 600:
		return pstn.OutcomeBusy
	case 408, 480, 487:
		return pstn.OutcomeNoAnswer
	}
	return pstn.OutcomeFail
}

// RefusalStatus is the SIP status CallManager answers a call for a line
// with when the PG refuses it (pg.DirectIncoming's error): 404 for an
// invalid destination, 503 when the peripheral is out of service, 486
// otherwise (the agent is busy or not ready).
func RefusalStatus(err error) (int, string) {
	var cf *pg.ControlFailure
	if errors.As(err, &cf) {
		switch cf.Code {
		case pg.CFInvalidDestination:
			return 404, "Not Found"
		case pg.CFResourceOutOfService:
			return 503, "Service Unavailable"
		}
	}
	return 486, "Busy Here"
}

// UnansweredStatus is the final status a caller's INVITE gets when the
// call ends before anyone answered it: the phone's refusal (failCode) when
// there was one, else 480.
func UnansweredStatus(failCode int) (int, string) {
	if failCode == 0 {
		failCode = 480
	}
	return failCode, sipReason(failCode)
}

// TranslationRoutes is the pool of translation-route DNs on IP-IVR: the
// last one released is the next one taken, lowest first at the start.
type TranslationRoutes struct{ free []string }

// NewTranslationRoutes holds count consecutive DNs from first.
func NewTranslationRoutes(first, count int) *TranslationRoutes {
	t := &TranslationRoutes{}
	for i := count - 1; i >= 0; i-- {
		t.free = append(t.free, strconv.Itoa(first+i))
	}
	return t
}

// Take returns a free DN; false when every route is in use (the caller
// cannot be queued and the call ends).
func (t *TranslationRoutes) Take() (string, bool) {
	if len(t.free) == 0 {
		return "", false
	}
	dn := t.free[len(t.free)-1]
	t.free = t.free[:len(t.free)-1]
	return dn, true
}

// Release returns dn to the pool.
func (t *TranslationRoutes) Release(dn string) { t.free = append(t.free, dn) }

// Free is how many routes are free.
func (t *TranslationRoutes) Free() int { return len(t.free) }

func sipReason(code int) string {
	switch code {
	case 404:
		return "Not Found"
	case 408:
		return "Request Timeout"
	case 486:
		return "Busy Here"
	case 487:
		return "Request Terminated"
	case 503:
		return "Service Unavailable"
	case 603:
		return "Decline"
	}
	return "Temporarily Unavailable"
}

// LegAction is what CallManager does with its legs on a PG event
// (LegActionOf).
type LegAction int

const (
	// LegsNone: the event does not concern the legs.
	LegsNone LegAction = iota
	// LegsReconcile: the call left an agent or ended; the legs follow
	// (RONA, CTI ClearConnection, ClearCall, the other party gone).
	LegsReconcile
	// LegsHold and LegsRetrieve: the agent's desktop held or retrieved
	// the call over CTI; the customer's leg is re-INVITEd.
	LegsHold
	LegsRetrieve
)

// LegActionOf classifies a PG event for CallManager, the real one and the
// simulation's alike, and names the call it concerns.
func LegActionOf(e pg.Event) (callID uint32, a LegAction) {
	switch ev := e.(type) {
	case *pg.CallConnectionClearedEvent:
		return ev.Connection.CallID, LegsReconcile
	case *pg.CallClearedEvent:
		return ev.Connection.CallID, LegsReconcile
	case *pg.EndCallEvent:
		return ev.Connection.CallID, LegsReconcile
	case *pg.CallFailedEvent:
		return ev.Connection.CallID, LegsReconcile
	case *pg.CallHeldEvent:
		return ev.Connection.CallID, LegsHold
	case *pg.CallRetrievedEvent:
		return ev.Connection.CallID, LegsRetrieve
	}
	return 0, LegsNone
}
