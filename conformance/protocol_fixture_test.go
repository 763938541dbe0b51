package conformance

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/ipcclab/ipcclab/conformance/target"
	"github.com/ipcclab/ipcclab/conformance/wire"
	"github.com/ipcclab/ipcclab/protocol/cti"
	"github.com/ipcclab/ipcclab/scenarios"
)

var flagProtocolScenario = flag.String("protocol-scenario", "testdata/scenario-protocol.yaml", "quiet centre (no callers, no controller) of the protocol specs (in-process only)")

// protocolLabels are the labels of the protocol specs; each of their specs
// names, in the registry, the reference section it proves.
var protocolLabels = []string{"session", "heartbeat", "masks", "refusals", "versions", "call-control", "agent-state", "config", "failover"}

// protoFx is the target of the protocol specs: in-process, a dedicated quiet
// lab (testdata/scenario-protocol.yaml, no controller, no traffic); remote,
// the remote CTI Server itself (specs that need agents nobody else moves
// are skipped there).
var protoFx *protoFixture

type protoFixture struct {
	t     target.Target
	own   bool // the suite started t (and stops it)
	sc    *scenarios.Scenario
	pid   uint32
	quiet bool

	mu    sync.Mutex
	taken map[string]bool
	defs  []agentDef

	// Idle-timeout probes opened as soon as the lab is up, so that their
	// 20 s run alongside the other specs (§5.4).
	idle idleProbes
}

type idleProbes struct {
	mu       sync.Mutex
	openedAt time.Time
	closedAt time.Time
	closeErr error
	silent   *wire.Raw    // IdleTimeout 20, sends nothing
	infinite *wire.Raw    // IdleTimeout 0xFFFFFFFF, sends nothing
	beating  *wire.Client // IdleTimeout 20, heartbeats every 5 s
	startErr error
}

func wantProtocol() bool {
	for _, l := range protocolLabels {
		if Label("protocol", l).MatchesLabelFilter(GinkgoLabelFilter()) {
			return true
		}
	}
	return false
}

// startProtocol starts the protocol fixture: a quiet in-process lab, or
// (remote) the main target.
func startProtocol(remote target.Target) (*protoFixture, error) {
	return startProtocolLab(remote, false)
}

// startProtocolLab is startProtocol; standby gives the in-process lab a
// standby CTI Server side B (the failover specs fail side A, so they get a
// lab of their own).
func startProtocolLab(remote target.Target, standby bool) (*protoFixture, error) {
	f := &protoFixture{taken: map[string]bool{}}
	if remote != nil {
		f.t, f.sc = remote, remote.Scenario()
	} else {
		sc, err := scenarios.Load(*flagProtocolScenario)
		if err != nil {
			return nil, err
		}
		t, err := target.StartInProcess(context.Background(), target.Options{Scenario: sc, Seed: sc.Seed, NoController: true, Standby: standby})
		if err != nil {
			return nil, err
		}
		f.t, f.sc, f.own, f.quiet = t, sc, true, true
		t.Begin()
	}
	f.pid = f.sc.ICM.PeripheralID
	for _, g := range f.sc.Agents {
		if !g.IsDefinedIn(scenarios.DefinedInICM) {
			continue
		}
		for n := 0; n < g.Count; n++ {
			f.defs = append(f.defs, agentDef{ID: strconv.Itoa(g.FirstAgentID + n), Extension: strconv.Itoa(g.FirstExtension + n),
				Group: g.Name, Role: g.Role, InICM: true, InCtl: g.IsDefinedIn(scenarios.DefinedInController), Password: g.Password})
		}
	}
	if !standby {
		f.startIdleProbes()
	}
	if f.quiet {
		// Every agent of the quiet lab is logged in before a spec runs.
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		c, err := wire.Dial(ctx, f.t.CTIAddr(), wire.Options{ClientID: "conformance-protocol-setup", Version: 24,
			Services: cti.ServiceClientControl, PeripheralID: f.pid})
		if err != nil {
			f.close()
			return nil, err
		}
		defer c.Close()
		for _, a := range f.defs {
			for {
				m, err := c.Request(ctx, &cti.QueryAgentStateReq{PeripheralID: f.pid, AgentID: a.ID})
				if conf, ok := m.(*cti.QueryAgentStateConf); ok && err == nil && conf.AgentState != cti.AgentStateLogout && conf.AgentState != cti.AgentStateUnknown {
					break
				}
				if ctx.Err() != nil {
					f.close()
					return nil, fmt.Errorf("protocol lab: agent %s not logged in within 15 s", a.ID)
				}
				select {
				case <-ctx.Done():
				case <-time.After(50 * time.Millisecond):
				}
			}
		}
	}
	return f, nil
}

func (f *protoFixture) startIdleProbes() {
	p := &f.idle
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	open := func(name string, idle uint32) (*wire.Raw, error) {
		r, err := wire.DialRaw(ctx, f.t.CTIAddr(), name, 24)
		if err != nil {
			return nil, err
		}
		req := openReq(24, cti.ServiceClientControl, f.pid, name)
		req.InvokeID, req.IdleTimeout = 1, idle
		if err := r.Send(req, 24); err != nil {
			r.Close()
			return nil, err
		}
		conf, _, err := r.Answer(10*time.Second, 1)
		if err == nil && conf.Type != cti.MsgOpenConf {
			err = fmt.Errorf("OPEN_REQ with IdleTimeout %d answered %v", idle, conf.Msg)
		}
		if err != nil {
			r.Close()
			return nil, err
		}
		return r, nil
	}
	var err error
	if p.silent, err = open("conformance-idle-20s", 20); err != nil {
		p.startErr = err
		return
	}
	p.openedAt = time.Now()
	go func() {
		_, err := p.silent.Closed(45 * time.Second)
		p.mu.Lock()
		p.closedAt, p.closeErr = time.Now(), err
		p.mu.Unlock()
	}()
	if p.infinite, err = open("conformance-idle-infinite", 0xFFFFFFFF); err != nil {
		p.startErr = err
		return
	}
	p.beating, err = wire.Dial(ctx, f.t.CTIAddr(), wire.Options{ClientID: "conformance-idle-beating", Version: 24,
		Services: cti.ServiceClientControl, PeripheralID: f.pid, IdleTimeout: 20, Heartbeat: 5 * time.Second})
	if err != nil {
		p.startErr = err
	}
}

func (f *protoFixture) close() error {
	p := &f.idle
	for _, r := range []*wire.Raw{p.silent, p.infinite} {
		if r != nil {
			_ = r.Close()
		}
	}
	if p.beating != nil {
		_ = p.beating.Close()
	}
	if f.own {
		return f.t.Stop()
	}
	return nil
}

// needQuiet skips specs that move agents on targets where others move them
// too.
func (f *protoFixture) needQuiet() {
	if !f.quiet {
		Skip("this spec drives agents and calls and needs a centre where nothing else does (the in-process protocol lab)")
	}
}

// take reserves n agents of a role (scenarios.RoleInbound: AVAILABLE after
// login; RoleBlended: NOT_READY) for the current spec: no other spec uses
// them.
func (f *protoFixture) take(role string, n int) []agentDef {
	f.needQuiet()
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []agentDef
	for _, a := range f.defs {
		if len(out) == n {
			break
		}
		if a.Role == role && !f.taken[a.ID] {
			f.taken[a.ID] = true
			out = append(out, a)
		}
	}
	Expect(out).To(HaveLen(n), "the protocol scenario has too few unused %s agents", role)
	return out
}

// openReq is an OPEN_REQ with the required floating fields set.
func openReq(pv cti.ProtocolVersion, services cti.ServiceMask, pid uint32, clientID string) *cti.OpenReq {
	req := &cti.OpenReq{VersionNumber: uint32(pv), IdleTimeout: 60, PeripheralID: pid, ServicesRequested: services,
		CallMsgMask: wire.AllCallEvents, AgentStateMask: wire.AllAgentStates, ClientID: clientID, ClientPassword: []byte{}}
	req.SetPresent(cti.TagClientID)
	req.SetPresent(cti.TagClientPassword)
	return req
}

// dial opens a recorded session for the current spec (frames kept), closed
// when the spec ends; its transcript is attached when the spec fails.
func (f *protoFixture) dial(ctx context.Context, name string, pv cti.ProtocolVersion, services cti.ServiceMask, customize func(*cti.OpenReq)) *wire.Client {
	c, err := f.tryDial(ctx, name, pv, services, customize)
	Expect(err).NotTo(HaveOccurred(), "opening session %s", name)
	return c
}

func (f *protoFixture) tryDial(ctx context.Context, name string, pv cti.ProtocolVersion, services cti.ServiceMask, customize func(*cti.OpenReq)) (*wire.Client, error) {
	c, err := wire.Dial(ctx, f.t.CTIAddr(), wire.Options{ClientID: "conformance-" + name, Version: pv, Services: services,
		PeripheralID: f.pid, Customize: customize, KeepFrames: true})
	if err != nil {
		return nil, err
	}
	DeferCleanup(func() {
		if CurrentSpecReport().Failed() {
			AddReportEntry("CTI transcript "+c.Name, c.Transcript(0, transcriptLines), ReportEntryVisibilityFailureOrVerbose)
		}
		_ = c.Close()
	})
	return c, nil
}

// control opens a PV24 ALL_EVENTS + CLIENT_CONTROL session.
func (f *protoFixture) control(ctx context.Context, name string) *wire.Client {
	return f.dial(ctx, name, 24, cti.ServiceAllEvents|cti.ServiceClientControl, nil)
}

// raw opens a raw connection for the current spec.
func (f *protoFixture) raw(ctx context.Context, name string, pv cti.ProtocolVersion) *wire.Raw {
	r, err := wire.DialRaw(ctx, f.t.CTIAddr(), "conformance-"+name, pv)
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(func() {
		if CurrentSpecReport().Failed() {
			AddReportEntry("CTI transcript "+r.Name, r.Transcript(), ReportEntryVisibilityFailureOrVerbose)
		}
		_ = r.Close()
	})
	return r
}

// rawOpen opens a raw session with an OPEN_REQ (InvokeID inv) and returns
// the OPEN_CONF frame.
func (f *protoFixture) rawOpen(ctx context.Context, name string, pv cti.ProtocolVersion, services cti.ServiceMask, inv uint32) (*wire.Raw, wire.RawFrame) {
	r := f.raw(ctx, name, pv)
	req := openReq(pv, services, f.pid, "conformance-"+name)
	req.InvokeID = inv
	Expect(r.Send(req, pv)).To(Succeed())
	conf, _, err := r.Answer(5*time.Second, inv)
	Expect(err).NotTo(HaveOccurred(), "no answer to OPEN_REQ %#x", inv)
	Expect(conf.Type).To(Equal(cti.MsgOpenConf), "OPEN_REQ at PV%d answered %s", pv, wire.Format(conf.Msg))
	return r, conf
}

// query returns an agent's state.
func query(ctx context.Context, c *wire.Client, pid uint32, agent string) *cti.QueryAgentStateConf {
	m, err := c.Request(ctx, &cti.QueryAgentStateReq{PeripheralID: pid, AgentID: agent})
	Expect(err).NotTo(HaveOccurred(), "QUERY_AGENT_STATE_REQ for agent %s", agent)
	return m.(*cti.QueryAgentStateConf)
}

// setState sends SET_AGENT_STATE_REQ for an agent and expects the CONF.
func setState(ctx context.Context, c *wire.Client, pid uint32, a agentDef, st cti.AgentState, reason uint16) {
	m, err := c.Request(ctx, &cti.SetAgentStateReq{PeripheralID: pid, AgentState: st, EventReasonCode: reason,
		AgentID: a.ID, AgentInstrument: a.Extension})
	Expect(err).NotTo(HaveOccurred(), "SET_AGENT_STATE_REQ %v for agent %s", st, a.ID)
	Expect(m).To(BeAssignableToTypeOf(&cti.SetAgentStateConf{}))
}

// waitState waits until the agent's AGENT_STATE_EVENT with state st
// arrives on c after event index from, and returns it.
func waitState(c *wire.Client, from int, agent string, st cti.AgentState) *cti.AgentStateEvent {
	var got *cti.AgentStateEvent
	Eventually(func() []string {
		got = nil
		var seen []string
		for _, ev := range c.Events()[from:] {
			if e, ok := ev.Msg.(*cti.AgentStateEvent); ok && e.AgentID == agent {
				seen = append(seen, stateString(e.AgentState, e.EventReasonCode))
				if e.AgentState == st && got == nil {
					got = e
				}
			}
		}
		return seen
	}).WithTimeout(5*time.Second).WithPolling(20*time.Millisecond).Should(ContainElement(HavePrefix(st.String())),
		"AGENT_STATE_EVENT %v for agent %s on %s", st, agent, c.Name)
	return got
}

// callIDOf is the call a call event belongs to (ConnectionCallID; the
// primary call of transfers and conferences).
func callIDOf(m cti.Message) (uint32, bool) {
	switch e := m.(type) {
	case *cti.CallServiceInitiatedEvent:
		return e.ConnectionCallID, true
	case *cti.CallHeldEvent:
		return e.ConnectionCallID, true
	case *cti.CallRetrievedEvent:
		return e.ConnectionCallID, true
	case *cti.CallTransferredEvent:
		return e.PrimaryCallID, true
	case *cti.CallConferencedEvent:
		return e.PrimaryCallID, true
	}
	return connectionCallID(m)
}

// decoded returns the frames of a session decoded at its version.
func decoded(c *wire.Client) []cti.Message {
	var out []cti.Message
	for _, fr := range c.Frames() {
		m, err := cti.DecodeBody(fr.Type, fr.Body, c.Version())
		if err != nil {
			m = &cti.RawMessage{Type: fr.Type, Body: fr.Body}
		}
		out = append(out, m)
	}
	return out
}

// callTypes lists the message types of one call's events in a recording
// (transfers and conferences count for both of their calls).
func callTypes(evs []wire.Event, ids ...uint32) []cti.MessageType {
	var out []cti.MessageType
	for _, ev := range evs {
		if id, ok := callIDOf(ev.Msg); ok && slices.Contains(ids, id) {
			out = append(out, ev.Msg.MessageType())
			continue
		}
		switch e := ev.Msg.(type) {
		case *cti.CallTransferredEvent:
			if slices.Contains(ids, e.SecondaryCallID) {
				out = append(out, e.MessageType())
			}
		case *cti.CallConferencedEvent:
			if slices.Contains(ids, e.SecondaryCallID) {
				out = append(out, e.MessageType())
			}
		}
	}
	return out
}

// failureStatus returns the status of a FAILURE_CONF error.
func failureStatus(err error) (cti.Status, bool) {
	var fc *cti.FailureConf
	if errors.As(err, &fc) {
		return fc.Status, true
	}
	return 0, false
}

// skipIfNotAvailable skips a spec whose feature the server refuses with
// FAILURE_CONF E_CTI_FUNCTION_NOT_AVAILABLE (the features still being
// built: configuration download, active/standby).
func skipIfNotAvailable(evs []wire.Event, what string) {
	for _, ev := range evs {
		if fc, ok := ev.Msg.(*cti.FailureConf); ok && fc.Status == cti.StatusFunctionNotAvailable {
			Skip(what + ": the CTI Server answers FAILURE_CONF E_CTI_FUNCTION_NOT_AVAILABLE (not implemented yet)")
		}
	}
}
