package controller

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ipcclab/ipcclab/internal/sim"
	"github.com/ipcclab/ipcclab/protocol/cti"
)

// Preview mode (Config.Preview) dials the campaign the way Cisco Outbound
// Option previews (dialer-anchors.md §2.1–2.2, cti-protocol.md §5.9(d)),
// over CTI only:
//
//  1. For every idle campaign agent (those progressive mode would dial for:
//     NOT_READY and off calls in ICM, or a line past its after-call work)
//     the controller takes the next customer record and reserves the agent
//     with a reservation call from a free dialer port: MAKE_CALL_REQ with
//     AgentInstrument the port and DialedNumber the agent's instrument. The
//     record travels in the Outbound Option ECC variables — BACampaign,
//     BAAccountNumber, BADialedListID, BACustomerNumber, BABuddyName,
//     BAResponse (empty) and BAStatus PREVIEW_OUTBOUND_RESERVATION
//     (BLENDED_PREVIEW_OUTBOUND_RESERVATION for a blended agent) — and in
//     the call variables of records.go's screen pop (1 campaign, 2 record,
//     3 account, 4 name). The PG reports a RESERVATION_PREVIEW (27) call at
//     the agent, whose phone auto-answers.
//  2. The agent, on its desktop, answers the preview: SET_CALL_DATA_REQ on
//     the reservation call setting BAResponse, which the controller sees as
//     CALL_DATA_UPDATE_EVENT.
//  3. Whatever the answer, the controller clears the reservation call
//     (CLEAR_CALL_REQ) and acts once it has ended (END_CALL, the agent free
//     again):
//     - Accept: it dials the customer for that agent, MAKE_PREDICTIVE_CALL_REQ
//     from the agent's instrument with BAStatus PREVIEW_OUTBOUND (the
//     emulated PG types it CUSTOMER_PREVIEW, 32). Nothing else is dialed for
//     the agent, who is waiting for exactly this customer: a preview call
//     cannot be abandoned.
//     - Skip, Skip-Next, Skip-Close, Callback mmddyyyy hh:mm: the next
//     record is presented to the same agent at once.
//     - Reject, Reject-Close, Cancel Reservation: the agent is left alone
//     for RejectPause.
//     - No answer within Timeout: the preview is withdrawn (cleared) and the
//     agent left alone for RejectPause, as after a Reject.
//     Skip, Reject and withdrawn previews return their record to be
//     presented again after RetryDelay; the -Close answers close it;
//     Callback brings it back at the time given.
//
// The records come from Config.Records (the campaign's call list,
// records.go) when it is set, else they are synthetic: NumberPrefix +
// sequence, as in the other modes. A record is claimed (Records.Next, with
// the agent's personal recalls first) when it is presented, journaled
// (Records.Begin) only when its agent accepts it and its customer is dialed,
// and ended by the core as any campaign call. Skipped, rejected and
// withdrawn records stay claimed by the controller and are presented again
// after RetryDelay; a callback's record at the time the agent gave. Records
// has no way to close a record: a -Close answer leaves the record claimed
// (nobody calls it while the controller runs; the store's crash recovery
// releases it at its next Open).

// PreviewConfig configures preview mode.
type PreviewConfig struct {
	// Ports are the dialer ports' extensions the reservation calls are
	// placed from; a port is busy while its reservation lasts.
	Ports []string
	// Timeout is how long a preview may wait for the agent's answer before
	// it is withdrawn (0: 60 s).
	Timeout time.Duration
	// RejectPause is how long an agent who rejected a preview (or let one
	// time out) is not presented another (0: 30 s).
	RejectPause time.Duration
	// RetryDelay is when a skipped, rejected or withdrawn record is
	// presented again (0: 30 min).
	RetryDelay time.Duration
}

func (p *PreviewConfig) fill() {
	if p.Timeout == 0 {
		p.Timeout = time.Minute
	}
	if p.RejectPause == 0 {
		p.RejectPause = 30 * time.Second
	}
	if p.RetryDelay == 0 {
		p.RetryDelay = 30 * time.Minute
	}
}

// Validate reports every invalid field.
func (p PreviewConfig) Validate() error {
	var errs []error
	if len(p.Ports) == 0 {
		errs = append(errs, errors.New("controller: Config.Preview.Ports: at least one dialer port is required (reservation calls are placed from ports)"))
	}
	seen := map[string]bool{}
	for i, port := range p.Ports {
		if port == "" || seen[port] {
			errs = append(errs, fmt.Errorf("controller: Config.Preview.Ports[%d] %q: empty or repeated", i, port))
		}
		seen[port] = true
	}
	if p.Timeout < 0 || p.RejectPause < 0 || p.RetryDelay < 0 {
		errs = append(errs, fmt.Errorf("controller: Config.Preview: Timeout %v, RejectPause %v, RetryDelay %v: want ≥ 0", p.Timeout, p.RejectPause, p.RetryDelay))
	}
	return errors.Join(errs...)
}

// previewRecord is one customer record as a preview presents it.
type previewRecord struct {
	// id is the record's key (BADialedListID), number the customer's phone
	// (BACustomerNumber, dialed on Accept); account (BAAccountNumber) and
	// name ("Last,First", BABuddyName) are for the agent's screen.
	id, number, account, name string
	// claimed is the call-list record (Config.Records), nil for a
	// synthetic one.
	claimed *Record
}

// dueRecord is a record to present again from at.
type dueRecord struct {
	at  time.Time
	rec previewRecord
}

// Request kinds of preview mode (core.go's reqKind; values clear of its
// iota block).
const (
	reqPreviewCall reqKind = 100 + iota // MAKE_CALL_REQ: a reservation
)

// previewAnswer is an agent's BAResponse, parsed.
type previewAnswer uint8

const (
	answerNone previewAnswer = iota
	answerAccept
	answerSkip
	answerSkipClose
	answerCallback
	answerReject
	answerRejectClose
	answerTimeout // withdrawn by the controller
	answerLost    // the reservation ended with no answer (the agent hung up)
)

// parseAnswer reads a BAResponse value (case-insensitive; Cisco's
// desktops send Accept, Skip, Skip-Next, Skip-Close, Reject, Reject-Close,
// Cancel Reservation, Callback mmddyyyy hh:mm). ok false: not an answer to
// a reservation.
func parseAnswer(v string) (previewAnswer, time.Time, bool) {
	v = strings.TrimSpace(v)
	switch strings.ToLower(v) {
	case "accept":
		return answerAccept, time.Time{}, true
	case "skip", "skip-next":
		return answerSkip, time.Time{}, true
	case "skip-close":
		return answerSkipClose, time.Time{}, true
	case "reject", "cancel reservation":
		return answerReject, time.Time{}, true
	case "reject-close":
		return answerRejectClose, time.Time{}, true
	}
	if rest, ok := cutPrefixFold(v, "callback "); ok {
		at, err := time.ParseInLocation("01022006 15:04", strings.TrimSpace(rest), time.UTC)
		if err == nil {
			return answerCallback, at, true
		}
	}
	return answerNone, time.Time{}, false
}

func cutPrefixFold(s, prefix string) (string, bool) {
	if len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix) {
		return s[len(prefix):], true
	}
	return "", false
}

// reservation is one preview presented (or being presented) to an agent.
type reservation struct {
	id       uint32 // 0 until MAKE_CALL_CONF
	agent    *agentView
	port     string
	rec      previewRecord
	answer   previewAnswer
	callback time.Time
	clearing bool
	timer    sim.Timer
}

type previewState struct {
	cfg     PreviewConfig
	free    []string
	res     map[uint32]*reservation // by reservation call ID
	byAgent map[string]*reservation
	paused  map[string]time.Time
	// due are the records to present again, by time (equal times in the
	// order they came back).
	due []dueRecord
	// accepted: agent → accepted record waiting for its agent to be free.
	accepted map[string]previewRecord
	report   PreviewReport
}

// PreviewReport is preview mode's part of the report.
type PreviewReport struct {
	Ports int
	// Presented counts the reservation calls placed (MAKE_CALL_CONF);
	// Refused those the PG refused.
	Presented, Refused int
	// The agents' answers: Accepted, Skipped (Skip, Skip-Next, Skip-Close),
	// Rejected (Reject, Reject-Close, Cancel Reservation), Callbacks;
	// Closed counts the -Close ones again. TimedOut previews were withdrawn
	// after Timeout; Lost ended with no answer (the agent hung up).
	Accepted, Skipped, Rejected, Callbacks, Closed, TimedOut, Lost int
	// Dialed counts the customer calls placed for accepted previews;
	// NotDialed accepted previews whose agent was not free when the
	// reservation ended (their record is returned).
	Dialed, NotDialed int
}

func newPreview(cfg Config) *previewState {
	pc := *cfg.Preview
	pc.fill()
	ps := &previewState{cfg: pc, res: map[uint32]*reservation{}, byAgent: map[string]*reservation{},
		paused: map[string]time.Time{}, accepted: map[string]previewRecord{}, report: PreviewReport{Ports: len(pc.Ports)}}
	ps.free = append(ps.free, pc.Ports...)
	return ps
}

// comeBack queues a record to be presented again from at.
func (ps *previewState) comeBack(rec previewRecord, at time.Time) {
	i, _ := slices.BinarySearchFunc(ps.due, at, func(d dueRecord, t time.Time) int {
		if d.at.After(t) {
			return 1
		}
		return -1 // equal times keep their order
	})
	ps.due = slices.Insert(ps.due, i, dueRecord{at: at, rec: rec})
}

// nextRecord is the record to present to agent now: one due again, else a
// new one from Config.Records (claimed) or the synthetic sequence.
func (c *Core) nextRecord(now time.Time, agentID string) (previewRecord, bool) {
	ps := c.preview
	if len(ps.due) > 0 && !ps.due[0].at.After(now) {
		r := ps.due[0].rec
		ps.due = ps.due[1:]
		return r, true
	}
	if c.cfg.Records == nil {
		c.dialSeq++
		return previewRecord{id: strconv.FormatUint(c.dialSeq, 10), number: fmt.Sprintf("%s%07d", c.cfg.NumberPrefix, c.dialSeq),
			account: fmt.Sprintf("AC%07d", c.dialSeq), name: fmt.Sprintf("Customer,%d", c.dialSeq)}, true
	}
	recs := c.claim(now, 1, agentID)
	if len(recs) == 0 {
		return previewRecord{}, false
	}
	r := recs[0]
	return previewRecord{id: strconv.FormatInt(r.ID, 10), number: r.Phone, account: field(r.Fields, "account"),
		name: field(r.Fields, "name"), claimed: &r}, true
}

func (c *Core) previewReport() *PreviewReport {
	if c.preview == nil {
		return nil
	}
	r := c.preview.report
	return &r
}

// previewVars is a record in Outbound Option's ECC variables.
func (c *Core) previewVars(a *agentView, rec previewRecord, status, response string) []cti.NamedVar {
	if a.cfg.Role == Blended {
		status = "BLENDED_" + status
	}
	vars := []cti.NamedVar{{Name: "BACampaign", Value: c.cfg.Campaign}, {Name: "BAAccountNumber", Value: rec.account},
		{Name: "BADialedListID", Value: rec.id}, {Name: "BACustomerNumber", Value: rec.number},
		{Name: "BAResponse", Value: response}, {Name: "BAStatus", Value: status}}
	if rec.name != "" {
		vars = append(vars, cti.NamedVar{Name: "BABuddyName", Value: rec.name})
	}
	return vars
}

// previewIdle reports whether a campaign agent may be presented a preview
// now (the agents pace() would dial for), and since when it is idle.
func (c *Core) previewIdle(a *agentView, now time.Time, lent map[string]bool) (time.Time, bool) {
	ps := c.preview
	if a.outCall != 0 || lent[a.cfg.AgentID] || c.isLent(a) || ps.byAgent[a.cfg.AgentID] != nil {
		return time.Time{}, false
	}
	if now.Before(ps.paused[a.cfg.AgentID]) {
		return time.Time{}, false
	}
	switch {
	case a.inICM:
		if !a.loggedOn || a.state != cti.AgentStateNotReady {
			return time.Time{}, false
		}
	case a.checked:
		if now.Before(a.busyTill) {
			return time.Time{}, false
		}
	default:
		return time.Time{}, false
	}
	since := a.since
	if a.busyTill.After(since) {
		since = a.busyTill
	}
	return since, true
}

// previewPace presents a preview to every idle campaign agent while ports
// are free, the agent idle longest first (pace's hook in preview mode); an
// agent whose accepted record waited for it to be free is dialed for.
func (c *Core) previewPace(now time.Time, lent map[string]bool) {
	type idle struct {
		a     *agentView
		since time.Time
	}
	var cand []idle
	for _, a := range c.order {
		if since, ok := c.previewIdle(a, now, lent); ok {
			cand = append(cand, idle{a, since})
		}
	}
	slices.SortStableFunc(cand, func(x, y idle) int { return x.since.Compare(y.since) })
	for _, x := range cand {
		if _, ok := c.preview.accepted[x.a.cfg.AgentID]; ok {
			c.previewDial(x.a, now)
			continue
		}
		if len(c.preview.free) == 0 || !c.present(x.a, now) {
			return
		}
	}
}

// present reserves agent a with the next record: MAKE_CALL_REQ from a free
// port to the agent's instrument. It reports false when no port or record
// is left.
func (c *Core) present(a *agentView, now time.Time) bool {
	ps := c.preview
	if len(ps.free) == 0 || !c.open {
		return false
	}
	rec, ok := c.nextRecord(now, a.cfg.AgentID)
	if !ok {
		return false
	}
	port := ps.free[0]
	ps.free = ps.free[1:]
	ps.byAgent[a.cfg.AgentID] = &reservation{agent: a, port: port, rec: rec}
	a.outCall = ^uint32(0) // placeholder until the CONF names the call
	c.request(&cti.MakeCallReq{
		PeripheralID:     c.cfg.PeripheralID,
		AgentInstrument:  port,
		DialedNumber:     a.cfg.Instrument,
		SkillGroupNumber: cti.NullSkillGroup,
		// The screen pop of records.go: campaign, record, account, name.
		CallVariable1:  c.cfg.Campaign,
		CallVariable2:  callVar(rec.id),
		CallVariable3:  callVar(rec.account),
		CallVariable4:  callVar(rec.name),
		NamedVariables: c.previewVars(a, rec, "PREVIEW_OUTBOUND_RESERVATION", ""),
	}, pending{kind: reqPreviewCall, agent: a.cfg.AgentID, number: rec.number})
	return true
}

// previewReceive is preview mode's hook in Receive: it handles the
// messages about reservation calls and reports true for them. (The
// customer calls of accepted previews are the core's, as any campaign
// call.)
func (c *Core) previewReceive(m cti.Message, now time.Time) bool {
	ps := c.preview
	switch e := m.(type) {
	case *cti.MakeCallConf:
		if p, ok := c.wait[e.InvokeID]; ok && p.kind == reqPreviewCall {
			c.answered(e.InvokeID)
			c.previewPlaced(p, e.NewConnectionCallID)
			return true
		}
	case *cti.ControlFailureConf:
		return c.previewFailed(e.InvokeID, fmt.Sprintf("CONTROL_FAILURE_CONF %v", e.FailureCode), now)
	case *cti.FailureConf:
		return c.previewFailed(e.InvokeID, fmt.Sprintf("FAILURE_CONF %v", e.Status), now)
	case *cti.CallDataUpdateEvent:
		if r := ps.res[e.ConnectionCallID]; r != nil {
			c.previewAnswered(r, e.NamedVariables)
			return true
		}
	case *cti.EndCallEvent:
		if r := ps.res[e.ConnectionCallID]; r != nil {
			c.previewEnded(r, now)
			return true
		}
	}
	return false
}

// previewFailed handles a refusal of preview mode's requests; it reports
// true when the request was a reservation call (the core knows nothing of
// it).
func (c *Core) previewFailed(inv uint32, what string, now time.Time) bool {
	ps := c.preview
	p, ok := c.wait[inv]
	if !ok {
		return false
	}
	switch p.kind {
	case reqPreviewCall:
		c.answered(inv)
		r := ps.byAgent[p.agent]
		if r == nil {
			return true
		}
		c.logf("controller: reservation call (MAKE_CALL_REQ) from port %s to agent %s refused: %s", r.port, p.agent, what)
		ps.report.Refused++
		delete(ps.byAgent, p.agent)
		ps.free = append(ps.free, r.port)
		if r.agent.outCall == ^uint32(0) {
			r.agent.outCall = 0
		}
		ps.comeBack(r.rec, now) // never shown: the next agent's
		return true
	case reqClear:
		// The reservation may be gone already (its END_CALL lost, or sent
		// before the CONF of a real IPCC): it is over either way.
		if r := ps.res[p.call]; r != nil {
			c.logf("controller: clearing reservation call %d of agent %s refused (%s): taken as ended", r.id, r.agent.cfg.AgentID, what)
			c.previewEnded(r, now)
		}
	}
	return false
}

// previewPlaced: MAKE_CALL_CONF; the preview is on the agent's screen and
// the timeout runs.
func (c *Core) previewPlaced(p pending, id uint32) {
	ps := c.preview
	r := ps.byAgent[p.agent]
	if r == nil {
		return
	}
	r.id = id
	ps.res[id] = r
	r.agent.outCall = id
	ps.report.Presented++
	r.timer = sim.After(c.sched, ps.cfg.Timeout, func(time.Time) {
		if ps.res[id] != r || r.answer != answerNone || !c.open {
			return
		}
		ps.report.TimedOut++
		r.answer = answerTimeout
		c.logf("controller: preview of record %s to agent %s not answered within %v: withdrawn", r.rec.id, r.agent.cfg.AgentID, ps.cfg.Timeout)
		c.previewClear(r)
	})
}

// previewAnswered: CALL_DATA_UPDATE_EVENT on a reservation call; the first
// BAResponse that answers the preview counts.
func (c *Core) previewAnswered(r *reservation, vars []cti.NamedVar) {
	if r.answer != answerNone {
		return
	}
	var v string
	found := false
	for _, nv := range vars {
		if nv.Name == "BAResponse" {
			v, found = nv.Value, true
		}
	}
	if !found || strings.TrimSpace(v) == "" {
		return
	}
	ans, at, ok := parseAnswer(v)
	if !ok {
		c.logf("controller: agent %s answered preview %s with BAResponse %q, which is no answer to a reservation: ignored", r.agent.cfg.AgentID, r.rec.id, v)
		return
	}
	ps := c.preview
	r.answer, r.callback = ans, at
	c.sched.Cancel(r.timer)
	switch ans {
	case answerAccept:
		ps.report.Accepted++
	case answerSkip, answerSkipClose:
		ps.report.Skipped++
	case answerReject, answerRejectClose:
		ps.report.Rejected++
	case answerCallback:
		ps.report.Callbacks++
	}
	if ans == answerSkipClose || ans == answerRejectClose {
		ps.report.Closed++
	}
	c.previewClear(r)
}

func (c *Core) previewClear(r *reservation) {
	if r.clearing {
		return
	}
	r.clearing = true
	c.request(&cti.ClearCallReq{PeripheralID: c.cfg.PeripheralID, ConnectionCallID: r.id,
		ConnectionDeviceIDType: cti.ConnectionIDStatic, ConnectionDeviceID: r.port}, pending{kind: reqClear, call: r.id})
}

// acceptWait bounds how long an accepted record waits for its agent to be
// free after the reservation ended.
const acceptWait = 5 * time.Second

// previewEnded: the reservation call ended (END_CALL); the agent is free
// and the answer is carried out.
func (c *Core) previewEnded(r *reservation, now time.Time) {
	ps := c.preview
	delete(ps.res, r.id)
	delete(ps.byAgent, r.agent.cfg.AgentID)
	c.sched.Cancel(r.timer)
	ps.free = append(ps.free, r.port)
	a := r.agent
	if a.outCall == r.id {
		a.outCall = 0
	}
	id := a.cfg.AgentID
	switch r.answer {
	case answerAccept:
		// The agent's state after the reservation may come after END_CALL
		// (§5.9 leaves the order open): the dial waits for it a moment.
		ps.accepted[id] = r.rec
		if _, ok := c.previewIdle(a, now, nil); ok {
			c.previewDial(a, now)
			break
		}
		c.sched.At(now.Add(acceptWait), func(at time.Time) {
			rec, ok := ps.accepted[id]
			if !ok || rec != r.rec {
				return
			}
			delete(ps.accepted, id)
			ps.report.NotDialed++
			c.logf("controller: agent %s accepted record %s but was not free for it within %v (%v): record presented again", id, r.rec.id, acceptWait, a.state)
			ps.comeBack(r.rec, at)
		})
	case answerSkip, answerSkipClose, answerCallback:
		switch r.answer {
		case answerSkip:
			ps.comeBack(r.rec, now.Add(ps.cfg.RetryDelay))
		case answerSkipClose:
			c.previewClose(r)
		default:
			ps.comeBack(r.rec, r.callback)
		}
		// The agent stays reserved for the campaign: the next record at
		// once (or when its state says it is free).
		if _, ok := c.previewIdle(a, now, nil); ok {
			c.present(a, now)
		}
	default:
		switch r.answer {
		case answerRejectClose:
			c.previewClose(r)
		case answerNone:
			ps.report.Lost++
			ps.comeBack(r.rec, now.Add(ps.cfg.RetryDelay))
		default: // Reject, withdrawn
			ps.comeBack(r.rec, now.Add(ps.cfg.RetryDelay))
		}
		till := now.Add(ps.cfg.RejectPause)
		ps.paused[id] = till
		c.sched.At(till, func(time.Time) { c.paceSoon() })
	}
	// A port is free again: another agent may be waiting for one.
	c.paceSoon()
}

// previewClose closes a record (Skip-Close, Reject-Close): it is not
// presented again. A call-list record stays claimed (Records cannot close
// one).
func (c *Core) previewClose(r *reservation) {
	if r.rec.claimed != nil {
		c.logf("controller: record %s closed by agent %s: kept claimed, not called again while the controller runs", r.rec.id, r.agent.cfg.AgentID)
	}
}

// previewDial dials the agent's accepted record's customer, from the
// agent's instrument: journaled first (Records.Begin) for a call-list
// record; the core follows the call (and ends the attempt) as any campaign
// call.
func (c *Core) previewDial(a *agentView, now time.Time) {
	ps := c.preview
	rec := ps.accepted[a.cfg.AgentID]
	delete(ps.accepted, a.cfg.AgentID)
	var att *attempt
	if rec.claimed != nil {
		if att = c.beginAttempt(*rec.claimed, now); att == nil {
			ps.report.NotDialed++ // released by beginAttempt
			c.paceSoon()
			return
		}
	}
	ps.report.Dialed++
	a.outCall = ^uint32(0) // placeholder until the CONF names the call
	req := &cti.MakePredictiveCallReq{
		PeripheralID:        c.cfg.PeripheralID,
		OriginatingDeviceID: a.cfg.Instrument,
		DialedNumber:        rec.number,
		AlertRings:          alertRings(c.cfg.NoAnswerTimeout),
		CallVariable1:       c.cfg.Campaign,
		NamedVariables:      c.previewVars(a, rec, "PREVIEW_OUTBOUND", "Accept"),
	}
	att.setCallVars(req)
	c.request(req, pending{kind: reqDial, agent: a.cfg.AgentID, number: rec.number, att: att})
}

// previewClosed forgets the reservations when the connection is lost: the
// PG clears them on its side; their records, and the accepted ones not yet
// dialed, are presented again after the reconnection.
func (c *Core) previewClosed() {
	ps := c.preview
	if ps == nil {
		return
	}
	now := c.sched.Now()
	// In configuration order, so that a run stays a function of its seed.
	for _, a := range c.order {
		id := a.cfg.AgentID
		if r := ps.byAgent[id]; r != nil {
			c.sched.Cancel(r.timer)
			if a.outCall == r.id || a.outCall == ^uint32(0) {
				a.outCall = 0
			}
			ps.comeBack(r.rec, now)
		}
		if rec, ok := ps.accepted[id]; ok {
			ps.comeBack(rec, now)
		}
	}
	ps.res, ps.byAgent, ps.accepted = map[uint32]*reservation{}, map[string]*reservation{}, map[string]previewRecord{}
	ps.free = append(ps.free[:0], ps.cfg.Ports...)
}
