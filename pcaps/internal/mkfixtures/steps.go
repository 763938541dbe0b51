package main

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"path/filepath"
	"strings"
	"time"

	"github.com/ipcclab/ipcclab/internal/lab"
	"github.com/ipcclab/ipcclab/protocol/cti"
	"github.com/ipcclab/ipcclab/scenarios"
)

// The step fixtures of the documented call flow (README, design.md):
//
//  1. the controller monitors the IPCC queues (skill-group statistics) and
//     decides from its thresholds that inbound is behind;
//  2. it makes blended agents available to ICM (SET_AGENT_STATE_REQ
//     AVAILABLE) — and slows outbound pacing, which shows on the wire only
//     as the dialing that stops;
//  3. all of it over one CTI session: OPEN_REQ/CONF, heartbeats;
//  4. ICM picks a lent agent for a waiting call (AGENT_PRE_CALL_EVENT,
//     RESERVED, then BEGIN_CALL and CALL_DELIVERED at the agent's device);
//  5. the voice and the call data reach the agent (step5-voice, live);
//  6. once inbound has recovered, the lent agents go back to outbound
//     (SET_AGENT_STATE_REQ NOT_READY with the controller's reason code —
//     at once for an idle agent, as the pending state for one on a call)
//     and the dialer places calls for them again.
//
// Steps 1, 2, 4 and 6 are cuts of one simulation of steps.yaml: a surge at
// t = 2–4 s, agents lent at 4 s, service recovered and agents returned at
// 8 s, both back on outbound by 11 s. Every cut starts at the session's
// beginning (the SYN and OPEN_REQ), so that a replay reproduces the run up
// to the step, and ends at the step, after every confirmation of the
// requests it holds. Step 3 is a quiet centre (session.yaml) so that the
// session messages are all there is.

// The simulated link's endpoints, as `ipcclab simulate --capture` writes
// them (internal/lab).
var (
	simController = netip.MustParseAddrPort("127.0.0.2:50000")
	simCTIServer  = netip.MustParseAddrPort("127.0.0.1:42027")
)

// simPV is the protocol version the reference controller opens with
// (internal/lab.ControllerConfig).
const simPV cti.ProtocolVersion = 24

// maxStepSpan is the longest a step capture may last: they are replayed
// with their original timing against the real-time controller in CI.
const maxStepSpan = 15 * time.Second

// simFrame is one message on the simulated CTI link.
type simFrame struct {
	at  time.Time
	dir int
	b   []byte
	m   cti.Message
}

// simRun is one simulation's CTI traffic.
type simRun struct {
	scenario string // relative to testdata
	seed     uint64
	start    time.Time
	frames   []simFrame
}

// sim runs (once per env) the scenario file for dur and returns its CTI
// traffic.
func (e *env) sim(file string, dur time.Duration) (*simRun, error) {
	if r := e.sims[file]; r != nil {
		return r, nil
	}
	path := filepath.Join(e.steps, file)
	sc, err := scenarios.Load(path)
	if err != nil {
		return nil, err
	}
	r := &simRun{scenario: "steps/" + file, seed: sc.Seed, start: sc.StartTime()}
	var tapErr error
	tap := func(at time.Time, bySrv bool, frame []byte) {
		dir := fromClient
		if bySrv {
			dir = fromServer
		}
		m, err := cti.DecodeMessage(frame, simPV)
		if err != nil && tapErr == nil {
			tapErr = fmt.Errorf("%s: simulated message %d does not decode: %w", path, len(r.frames)+1, err)
		}
		r.frames = append(r.frames, simFrame{at: at, dir: dir, b: append([]byte(nil), frame...), m: m})
	}
	if _, err := lab.Simulate(context.Background(), lab.SimOptions{Scenario: sc, Seed: sc.Seed, Duration: dur, Tap: tap, Logf: e.logf}); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if tapErr != nil {
		return nil, tapErr
	}
	if len(r.frames) == 0 {
		return nil, fmt.Errorf("%s: the simulation put nothing on the CTI link", path)
	}
	if o, ok := r.frames[0].m.(*cti.OpenReq); !ok || cti.ProtocolVersion(o.VersionNumber) != simPV {
		return nil, fmt.Errorf("%s: the simulated session does not start with an OPEN_REQ at PV%d", path, simPV)
	}
	e.sims[file] = r
	return r, nil
}

// surge is the shared run of steps 1, 2, 4 and 6.
func (e *env) surge() (*simRun, error) { return e.sim("steps.yaml", maxStepSpan) }

// find returns the index of the first frame from i on that matches, or -1.
func (r *simRun) find(i int, match func(cti.Message) bool) int {
	for ; i < len(r.frames); i++ {
		if match(r.frames[i].m) {
			return i
		}
	}
	return -1
}

// burst returns the SET_AGENT_STATE_REQs for state sent at the same instant
// as the first one from i on (one blending decision), with its index.
func (r *simRun) burst(i int, state cti.AgentState) ([]*cti.SetAgentStateReq, int) {
	j := r.find(i, func(m cti.Message) bool {
		s, ok := m.(*cti.SetAgentStateReq)
		return ok && s.AgentState == state
	})
	if j < 0 {
		return nil, -1
	}
	var out []*cti.SetAgentStateReq
	for k := j; k < len(r.frames) && r.frames[k].at.Equal(r.frames[j].at); k++ {
		if s, ok := r.frames[k].m.(*cti.SetAgentStateReq); ok && s.AgentState == state {
			out = append(out, s)
		}
	}
	return out, j
}

// stateEvent returns the index of the first AGENT_STATE_EVENT from i on
// that shows agent in state (with no pending state), or -1.
func (r *simRun) stateEvent(i int, agent string, state cti.AgentState) int {
	return r.find(i, func(m cti.Message) bool {
		a, ok := m.(*cti.AgentStateEvent)
		return ok && a.AgentID == agent && a.AgentState == state && !a.Has(cti.TagExtAgentState)
	})
}

// confirmed extends a cut after n frames until every request in it has its
// confirmation, so that no step ends on an unanswered InvokeID.
func (r *simRun) confirmed(n int) int {
	for {
		answered := map[uint32]bool{}
		for _, f := range r.frames[:n] {
			if iv, ok := f.m.(cti.InvokeIDer); ok && f.dir == fromServer {
				answered[iv.GetInvokeID()] = true
			}
		}
		grow := n
		for _, f := range r.frames[:n] {
			iv, ok := f.m.(cti.InvokeIDer)
			if !ok || f.dir != fromClient || answered[iv.GetInvokeID()] {
				continue
			}
			j := r.find(n, func(m cti.Message) bool {
				c, ok := m.(cti.InvokeIDer)
				return ok && c.GetInvokeID() == iv.GetInvokeID() && !strings.HasSuffix(m.MessageType().String(), "_REQ")
			})
			if j >= 0 && j+1 > grow {
				grow = j + 1
			}
		}
		if grow == n {
			return n
		}
		n = grow
	}
}

// cut writes the first n frames of the run as a capture.
func (r *simRun) cut(n int) (*built, *ledger, error) {
	n = r.confirmed(n)
	last := r.frames[n-1].at
	if span := last.Sub(r.start); span > maxStepSpan {
		return nil, nil, fmt.Errorf("%s: the step ends %v after the session starts, over %v: adjust the scenario", r.scenario, span, maxStepSpan)
	}
	c := newCapFile(r.start)
	k := c.connectAt(r.start, simPV, simController, simCTIServer)
	for _, f := range r.frames[:n] {
		if _, err := k.frame(f.at, f.dir, f.b); err != nil {
			return nil, nil, err
		}
	}
	k.open(last)
	k.l.resolve(r.start)
	x := &Expect{Scenario: r.scenario, Seed: r.seed, CTI: []Session{k.l.session()}, Unconfirmed: k.l.unconfirmed()}
	x.CTI[0].Agents, x.CTI[0].Calls = timelines(x.CTI[0].Messages)
	return &built{pcap: c.bytes(), expect: x}, k.l, nil
}

// msgAt returns the resolved message of frame index i of a cut.
func msgAt(l *ledger, r *simRun, i int) Msg {
	f := r.frames[i]
	k := 0
	for _, g := range r.frames[:i] {
		if g.dir == f.dir {
			k++
		}
	}
	return l.msgs[f.dir][k].res
}

func at(m Msg) string { return fmt.Sprintf("frame %d at t=%s", max(m.Frame, m.LastFrame), m.T) }

var errNoLend = errors.New("the simulation never lends an agent: the surge no longer puts inbound behind (adjust steps.yaml)")

func buildStep1(e *env) (*built, error) {
	r, err := e.surge()
	if err != nil {
		return nil, err
	}
	lent, iLend := r.burst(0, cti.AgentStateAvailable)
	if iLend < 0 {
		return nil, errNoLend
	}
	// The statistics that made the decision: the last poll's answer
	// before the first SET_AGENT_STATE_REQ AVAILABLE.
	iPoll := -1
	for i := iLend - 1; i >= 0; i-- {
		if _, ok := r.frames[i].m.(*cti.QuerySkillGroupStatisticsConf); ok {
			iPoll = i
			break
		}
	}
	if iPoll < 0 {
		return nil, errors.New("no skill-group statistics before the first lend")
	}
	b, l, err := r.cut(iPoll + 1)
	if err != nil {
		return nil, err
	}
	conf := r.frames[iPoll].m.(*cti.QuerySkillGroupStatisticsConf)
	polls := 0
	for _, m := range b.expect.CTI[0].Messages {
		if m.Type == "QUERY_SKILL_GROUP_STATISTICS_REQ" {
			polls++
		}
	}
	p := msgAt(l, r, iPoll)
	b.expect.Summary = fmt.Sprintf("Step 1: the controller polls skill group 100 every second (%d QUERY_SKILL_GROUP_STATISTICS_REQ) while inbound calls are routed to the inbound agent; the last answer, %s, shows %d calls queued and %d agents available — past the queue trigger of 2, so the next decision lends %d blended agents (step2-lend). Outbound dialing (MAKE_PREDICTIVE_CALL_REQ, busy outcomes) runs meanwhile.",
		polls, at(p), conf.RouterCallsQNow, conf.AgentsAvail, len(lent))
	b.expect.Decode = []string{"one CTI session at PV24 from its OPEN_REQ (frame 4); every message decodes; nothing skipped"}
	b.expect.Calls = []string{
		fmt.Sprintf("the session's last QUERY_SKILL_GROUP_STATISTICS_CONF (%s) has RouterCallsQNow=%d", at(p), conf.RouterCallsQNow),
		"calls still open at the end of the capture are not anomalies (the capture is a cut)",
	}
	return b, nil
}

func buildStep2(e *env) (*built, error) {
	r, err := e.surge()
	if err != nil {
		return nil, err
	}
	lent, iLend := r.burst(0, cti.AgentStateAvailable)
	if iLend < 0 {
		return nil, errNoLend
	}
	n := iLend
	for _, s := range lent {
		j := r.stateEvent(iLend, s.AgentID, cti.AgentStateAvailable)
		if j < 0 {
			return nil, fmt.Errorf("agent %s is never shown AVAILABLE after it is lent", s.AgentID)
		}
		n = max(n, j+1)
	}
	b, l, err := r.cut(n)
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, s := range lent {
		ids = append(ids, s.AgentID)
	}
	req := msgAt(l, r, iLend)
	b.expect.Summary = fmt.Sprintf("Step 2: inbound is behind, so the controller lends blended agents %s to ICM: SET_AGENT_STATE_REQ AVAILABLE from %s, each answered by SET_AGENT_STATE_CONF and an AGENT_STATE_EVENT AVAILABLE. The pacing factor drops to 0.5 at the same decision; on the wire that shows only as no MAKE_PREDICTIVE_CALL_REQ for the lent agents.",
		strings.Join(ids, " and "), at(req))
	b.expect.Decode = []string{"one CTI session at PV24 from its OPEN_REQ; every message decodes"}
	b.expect.Calls = []string{fmt.Sprintf("agents %s: NOT_READY (reason 101, outbound) → AVAILABLE, lent by the decision at t=%s; no anomaly", strings.Join(ids, ", "), req.T)}
	return b, nil
}

func buildStep3(e *env) (*built, error) {
	r, err := e.sim("session.yaml", 12*time.Second)
	if err != nil {
		return nil, err
	}
	i := r.find(0, func(m cti.Message) bool { _, ok := m.(*cti.HeartbeatConf); return ok })
	if i < 0 {
		return nil, errors.New("session.yaml: no HEARTBEAT_CONF in 12 s")
	}
	b, l, err := r.cut(i + 1)
	if err != nil {
		return nil, err
	}
	hb := msgAt(l, r, i)
	b.expect.Summary = fmt.Sprintf("Step 3: the controller's CTI session with nothing else happening: SYN, OPEN_REQ (PV24, IdleTimeout 40 = 4 × the 10 s heartbeat), OPEN_CONF, the SYSTEM_EVENT PERIPHERAL_ONLINE every ALL_EVENTS session gets, the start-up QUERY_AGENT_STATE_REQ for the controller's agents, the skill-group polls, and the first HEARTBEAT_REQ/CONF at 10 s (%s).", at(hb))
	b.expect.Decode = []string{"one CTI session at PV24 from its OPEN_REQ; IdleTimeout 40"}
	b.expect.Calls = []string{"no calls; heartbeat interval 10 s, within IdleTimeout 40 s; no anomaly"}
	return b, nil
}

func buildStep4(e *env) (*built, error) {
	r, err := e.surge()
	if err != nil {
		return nil, err
	}
	lent, iLend := r.burst(0, cti.AgentStateAvailable)
	if iLend < 0 {
		return nil, errNoLend
	}
	n := iLend
	var delivered []int
	for _, s := range lent {
		j := r.find(iLend, func(m cti.Message) bool {
			d, ok := m.(*cti.CallDeliveredEvent)
			return ok && d.AlertingDeviceID == s.AgentInstrument
		})
		if j < 0 {
			return nil, fmt.Errorf("no call is delivered to lent agent %s (%s)", s.AgentID, s.AgentInstrument)
		}
		delivered = append(delivered, j)
		n = max(n, j+1)
	}
	b, l, err := r.cut(n)
	if err != nil {
		return nil, err
	}
	var parts []string
	for k, s := range lent {
		d := msgAt(l, r, delivered[k])
		parts = append(parts, fmt.Sprintf("agent %s (extension %s): call %d delivered %s", s.AgentID, s.AgentInstrument, d.Call, at(d)))
	}
	b.expect.Summary = "Step 4: ICM routes queued calls to the lent agents: for each, AGENT_PRE_CALL_EVENT with the call context and AGENT_STATE_EVENT RESERVED, then BEGIN_CALL_EVENT (CALLTYPE_PREROUTE_ACD_IN, call variables SalesInbound and the caller's account) and CALL_DELIVERED_EVENT alerting at the agent's extension. " + strings.Join(parts, "; ") + "."
	b.expect.Decode = []string{"one CTI session at PV24 from its OPEN_REQ; every message decodes"}
	b.expect.Calls = []string{"each delivered call has its BEGIN_CALL before CALL_DELIVERED; the reservation (AGENT_PRE_CALL + RESERVED) precedes it; no anomaly"}
	return b, nil
}

func buildStep6(e *env) (*built, error) {
	r, err := e.surge()
	if err != nil {
		return nil, err
	}
	_, iLend := r.burst(0, cti.AgentStateAvailable)
	if iLend < 0 {
		return nil, errNoLend
	}
	back, iRet := r.burst(iLend+1, cti.AgentStateNotReady)
	if iRet < 0 {
		return nil, errors.New("the lent agents are never returned within the run (adjust steps.yaml)")
	}
	n := iRet
	var ready []int
	for _, s := range back {
		j := r.stateEvent(iRet, s.AgentID, cti.AgentStateNotReady)
		if j < 0 {
			return nil, fmt.Errorf("agent %s is never shown NOT_READY after its return", s.AgentID)
		}
		ready = append(ready, j)
		n = max(n, j+1)
	}
	// The capture ends with the returns: the predictive calls that follow
	// are placed on the controller's pacing timer, whose phase against the
	// events differs between the virtual-time recording and a real-time
	// replay (which of two freed agents is dialed first can swap), so a
	// replay could not hold the controller to them one for one.
	b, l, err := r.cut(n)
	if err != nil {
		return nil, err
	}
	var parts []string
	for k, s := range back {
		nr := msgAt(l, r, ready[k])
		how := "at once (it was idle)"
		for _, m := range b.expect.CTI[0].Messages {
			if m.Type == "AGENT_STATE_EVENT" && m.Agent == s.AgentID && strings.Contains(m.Note, "NextAgentState=NOT_READY") {
				how = fmt.Sprintf("as the pending NextAgentState while on a call (frame %d), applied when the call ended", m.Frame)
				break
			}
		}
		parts = append(parts, fmt.Sprintf("agent %s NOT_READY reason %d %s, %s", s.AgentID, s.EventReasonCode, how, at(nr)))
	}
	ret := msgAt(l, r, iRet)
	b.expect.Summary = fmt.Sprintf("Step 6: the queue has drained and the service level is met, so the controller returns the lent agents to outbound with SET_AGENT_STATE_REQ NOT_READY and its reason code 101 (%s): %s. The capture ends there, before dialing resumes on the pacing timer.",
		at(ret), strings.Join(parts, "; "))
	b.expect.Decode = []string{"one CTI session at PV24 from its OPEN_REQ; every message decodes"}
	b.expect.Calls = []string{"agent timelines as in agents: below; a request for NOT_READY while TALKING or RESERVED is reported as NextAgentState, not as an anomaly"}
	return b, nil
}
