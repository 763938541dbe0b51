package agents

import (
	"testing"
	"time"

	"github.com/ipcclab/ipcclab/emulator/pg"
	"github.com/ipcclab/ipcclab/emulator/pstn"
	"github.com/ipcclab/ipcclab/internal/sim"
)

var nine = time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)

// TestBehaviour: inbound agents go Ready after login, blended agents stay Not
// Ready (the controller owns them); a ringing phone is answered after the
// answer delay; an agent too slow for RONA recovers to Ready after
// RONARecovery; wrap-up ends after the wrap-up time.
func TestBehaviour(t *testing.T) {
	loop := sim.NewLoop(nine)
	var m *Model
	p, err := pg.New(pg.Config{Scheduler: loop,
		SkillGroups: []pg.SkillGroupConfig{{Number: 100, ID: 5100}},
		Agents: []pg.AgentConfig{
			{AgentID: "1", Extension: "2001", ICMAgentID: 1, SkillGroups: []pg.Membership{{SkillGroup: 100}}},
			{AgentID: "2", Extension: "2002", ICMAgentID: 2, SkillGroups: []pg.Membership{{SkillGroup: 100}}},
			{AgentID: "3", Extension: "2003", ICMAgentID: 3, SkillGroups: []pg.Membership{{SkillGroup: 100}}},
		},
		Desk: pg.DeskSettings{RingNoAnswer: 10 * time.Second, WrapUpIncoming: true},
		Emit: func(e pg.Event) { m.HandleEvent(e) }})
	if err != nil {
		t.Fatal(err)
	}
	m, err = New(Config{Scheduler: loop, Rand: sim.Stream(1, "agents"), PG: p, Groups: []Group{
		{Name: "in", Role: RoleInbound, Agents: []Agent{{AgentID: "1", Extension: "2001"}},
			AnswerDelay: pstn.Dist{Mean: 2 * time.Second}, Talk: pstn.Dist{Mean: 30 * time.Second}, WrapUp: pstn.Dist{Mean: 5 * time.Second}},
		{Name: "slow", Role: RoleInbound, Agents: []Agent{{AgentID: "3", Extension: "2003"}},
			AnswerDelay: pstn.Dist{Mean: time.Minute}, RONARecovery: pstn.Dist{Mean: 20 * time.Second}},
		{Name: "bl", Role: RoleBlended, Agents: []Agent{{AgentID: "2", Extension: "2002"}}},
		{Name: "out", Role: RoleOutbound, Agents: []Agent{{AgentID: "9", Extension: "2009"}}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	m.Start()
	state := func(id string) pg.AgentState {
		st, _ := p.QueryAgentState(pg.AgentSelector{AgentID: id})
		return st.State
	}
	if state("1") != pg.StateAvailable || state("3") != pg.StateAvailable || state("2") != pg.StateNotReady {
		t.Fatalf("after login: %s %s %s", state("1"), state("2"), state("3"))
	}
	route := func(agent uint32) uint32 {
		id := p.TrunkIncoming(pg.Incoming{ANI: "1"})
		if err := p.Route(pg.RouteRequest{CallID: id, ICMAgentID: agent, SkillGroup: 100}); err != nil {
			t.Fatal(err)
		}
		return id
	}
	route(1)
	loop.RunVirtual(nine.Add(2 * time.Second))
	if state("1") != pg.StateTalking {
		t.Fatalf("not answered after 2 s: %s", state("1"))
	}
	loop.RunVirtual(nine.Add(32 * time.Second))
	if state("1") != pg.StateWorkReady {
		t.Fatalf("no wrap-up after the talk: %s", state("1"))
	}
	loop.RunVirtual(nine.Add(37 * time.Second))
	if state("1") != pg.StateAvailable {
		t.Fatalf("wrap-up not ended: %s", state("1"))
	}
	route(3)
	loop.RunVirtual(nine.Add(47 * time.Second))
	if st, _ := p.QueryAgentState(pg.AgentSelector{AgentID: "3"}); st.State != pg.StateNotReady || st.ReasonCode != pg.ReasonRONA {
		t.Fatalf("slow agent not RONA'd: %s %d", st.State, st.ReasonCode)
	}
	loop.RunVirtual(nine.Add(67 * time.Second))
	if state("3") != pg.StateAvailable {
		t.Fatalf("no RONA recovery: %s", state("3"))
	}
	if s := m.Stats(); s.Logins != 3 || s.Answered != 1 || s.HungUp != 1 || s.WrapUps != 1 || s.RONARecovered != 1 || s.CommandErrors != 0 {
		t.Fatalf("stats %+v", s)
	}
}

func TestConfigErrors(t *testing.T) {
	_, err := New(Config{Scheduler: sim.NewLoop(nine), Rand: sim.Stream(1, "a"), PG: &pg.PG{},
		Groups: []Group{{Role: RoleInbound, Agents: []Agent{{AgentID: "1", Extension: "1"}}}, {Role: RoleInbound, Agents: []Agent{{AgentID: "1", Extension: "2"}}}}})
	if err == nil || err.Error() != `groups[1].agents[0].agent_id: "1" already in groups[0].agents[0]` {
		t.Fatalf("got %v", err)
	}
}

// TestOutboundOnlyAtLine: an outbound-only agent has no ICM agent, only a
// line on the PG. It never logs in; on a predictive call connected to its
// line it talks for its talk time and hangs up, and it is free for the next
// call at once (no wrap-up). A customer hanging up first ends the talk.
func TestOutboundOnlyAtLine(t *testing.T) {
	loop := sim.NewLoop(nine)
	var m *Model
	var states int
	p, err := pg.New(pg.Config{Scheduler: loop,
		SkillGroups: []pg.SkillGroupConfig{{Number: 100, ID: 5100}},
		Agents:      []pg.AgentConfig{{AgentID: "1", Extension: "2001", ICMAgentID: 1, SkillGroups: []pg.Membership{{SkillGroup: 100}}}},
		Lines:       []pg.LineConfig{{Extension: "2301"}},
		Emit: func(e pg.Event) {
			if _, ok := e.(*pg.AgentStateEvent); ok {
				states++
			}
			m.HandleEvent(e)
		}})
	if err != nil {
		t.Fatal(err)
	}
	m, err = New(Config{Scheduler: loop, Rand: sim.Stream(1, "agents"), PG: p, Groups: []Group{
		{Name: "out", Role: RoleOutbound, Agents: []Agent{{AgentID: "1301", Extension: "2301"}},
			Talk: pstn.Dist{Mean: 45 * time.Second}, WrapUp: pstn.Dist{Mean: time.Minute}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	m.Start()
	dial := func() uint32 {
		id, err := p.MakePredictiveCall(pg.PredictiveCallRequest{DialedNumber: "15550100", OriginatingDevice: "2301"})
		if err != nil {
			t.Fatal(err)
		}
		loop.RunVirtual(loop.Now())
		if !p.TrunkAnswered(id) {
			t.Fatal("line not connected")
		}
		return id
	}
	id := dial()
	loop.RunVirtual(nine.Add(44 * time.Second))
	if _, live := p.Call(id); !live {
		t.Fatal("call ended before the talk time")
	}
	loop.RunVirtual(nine.Add(45 * time.Second))
	if _, live := p.Call(id); live {
		t.Fatal("the person at the line did not hang up")
	}
	// Free at once: the next call connects; the customer hangs up first.
	id = dial()
	loop.RunVirtual(nine.Add(50 * time.Second))
	p.TrunkDisconnected(id)
	loop.RunVirtual(nine.Add(5 * time.Minute))
	if s := m.Stats(); s.Logins != 0 || s.LineCalls != 2 || s.HungUp != 1 || s.WrapUps != 0 || s.CommandErrors != 0 {
		t.Fatalf("stats %+v", s)
	}
	if states != 0 {
		t.Fatalf("%d AGENT_STATE_EVENTs for an outbound-only agent", states)
	}
	if ls := p.Lines(); ls[0].Calls != 2 || ls[0].Talk != 50*time.Second {
		t.Fatalf("line %+v", ls[0])
	}
}

// TestConsultAndTransfer: call control comes from a CTI client. The
// consulted agent answers the consultation call after its answer delay and
// does not hang it up; the transferring agent's talk time stops while the
// customer is on hold; after the transfer the target talks the customer
// call for its talk time, hangs up and wraps up.
func TestConsultAndTransfer(t *testing.T) {
	loop := sim.NewLoop(nine)
	var m *Model
	p, err := pg.New(pg.Config{Scheduler: loop,
		SkillGroups: []pg.SkillGroupConfig{{Number: 100, ID: 5100}},
		Agents: []pg.AgentConfig{
			{AgentID: "1", Extension: "2001", ICMAgentID: 1, SkillGroups: []pg.Membership{{SkillGroup: 100}}},
			{AgentID: "2", Extension: "2002", ICMAgentID: 2, SkillGroups: []pg.Membership{{SkillGroup: 100}}},
		},
		Desk: pg.DeskSettings{WrapUpIncoming: true},
		Emit: func(e pg.Event) { m.HandleEvent(e) }})
	if err != nil {
		t.Fatal(err)
	}
	m, err = New(Config{Scheduler: loop, Rand: sim.Stream(1, "agents"), PG: p, Groups: []Group{
		{Name: "in", Role: RoleInbound, Agents: []Agent{{AgentID: "1", Extension: "2001"}, {AgentID: "2", Extension: "2002"}},
			AnswerDelay: pstn.Dist{Mean: 2 * time.Second}, Talk: pstn.Dist{Mean: 40 * time.Second}, WrapUp: pstn.Dist{Mean: 5 * time.Second}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	m.Start()
	at := func(d time.Duration) { loop.RunVirtual(nine.Add(d)) }
	state := func(id string) pg.AgentStatus {
		st, _ := p.QueryAgentState(pg.AgentSelector{AgentID: id})
		return st
	}
	id := p.TrunkIncoming(pg.Incoming{ANI: "6175550001"})
	if err := p.Route(pg.RouteRequest{CallID: id, ICMAgentID: 1, SkillGroup: 100}); err != nil {
		t.Fatal(err)
	}
	at(5 * time.Second) // answered at 2 s
	k, err := p.ConsultationCall(pg.ConsultationRequest{Instrument: "2001", ActiveCallID: id, DialedNumber: "2002"})
	if err != nil {
		t.Fatal(err)
	}
	at(7 * time.Second)
	if st := state("2"); st.State != pg.StateTalking || st.CallID != k.CallID {
		t.Fatalf("consult not answered: %+v", st)
	}
	at(60 * time.Second) // past both talk times: nobody hangs up on hold or on the consultation
	if st := state("1"); st.State != pg.StateTalking {
		t.Fatalf("transferring agent %s", st.State)
	}
	if _, err := p.TransferCall(pg.TransferRequest{Instrument: "2001", HeldCallID: id, ActiveCallID: k.CallID}); err != nil {
		t.Fatal(err)
	}
	if st := state("1"); st.State != pg.StateWorkReady {
		t.Fatalf("transferring agent after the transfer: %s", st.State)
	}
	at(99 * time.Second)
	if _, live := p.Call(k.CallID); !live {
		t.Fatal("the target hung up before its talk time")
	}
	at(100 * time.Second)
	if _, live := p.Call(k.CallID); live {
		t.Fatal("the target did not hang up after its talk time")
	}
	at(106 * time.Second)
	if state("1").State != pg.StateAvailable || state("2").State != pg.StateAvailable {
		t.Fatalf("after wrap-up: %s %s", state("1").State, state("2").State)
	}
	if s := m.Stats(); s.Answered != 2 || s.HungUp != 1 || s.WrapUps != 2 || s.CommandErrors != 0 {
		t.Fatalf("stats %+v (last error %v)", s, s.LastError)
	}
}

// TestTransferredPredictiveEndedByCustomer: a dialer transfers answered
// customers from its port (a line with nobody behind it) to a campaign
// agent in ICM, to an outbound-only agent's line, and from such a line to
// the agent. Nobody hangs up a transferred predictive call: the customer
// ends it, after which the agent in ICM wraps up. The person who
// transferred its call away is off it (no stray hang-up).
func TestTransferredPredictiveEndedByCustomer(t *testing.T) {
	loop := sim.NewLoop(nine)
	var m *Model
	p, err := pg.New(pg.Config{Scheduler: loop,
		SkillGroups: []pg.SkillGroupConfig{{Number: 100, ID: 5100}},
		Agents:      []pg.AgentConfig{{AgentID: "2", Extension: "2002", ICMAgentID: 2, SkillGroups: []pg.Membership{{SkillGroup: 100}}}},
		Lines:       []pg.LineConfig{{Extension: "3001"}, {Extension: "2301"}},
		Desk:        pg.DeskSettings{WrapUpOutgoing: true},
		Emit:        func(e pg.Event) { m.HandleEvent(e) }})
	if err != nil {
		t.Fatal(err)
	}
	m, err = New(Config{Scheduler: loop, Rand: sim.Stream(1, "agents"), PG: p, Groups: []Group{
		{Name: "bl", Role: RoleBlended, Agents: []Agent{{AgentID: "2", Extension: "2002"}},
			Talk: pstn.Dist{Mean: 30 * time.Second}, WrapUp: pstn.Dist{Mean: 10 * time.Second}},
		{Name: "out", Role: RoleOutbound, Agents: []Agent{{AgentID: "1301", Extension: "2301"}},
			Talk: pstn.Dist{Mean: 30 * time.Second}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	m.Start()
	state := func() pg.AgentStatus {
		st, _ := p.QueryAgentState(pg.AgentSelector{AgentID: "2"})
		return st
	}
	dial := func(from string) uint32 {
		id, err := p.MakePredictiveCall(pg.PredictiveCallRequest{DialedNumber: "15550100", OriginatingDevice: from})
		if err != nil {
			t.Fatal(err)
		}
		loop.RunVirtual(loop.Now())
		if !p.TrunkAnswered(id) {
			t.Fatal("not connected")
		}
		return id
	}
	transfer := func(from string, id uint32, to string) {
		if _, err := p.TransferCall(pg.TransferRequest{Instrument: from, HeldCallID: pg.NoCallID, ActiveCallID: id, DialedNumber: to}); err != nil {
			t.Fatal(err)
		}
	}
	wait := func(d time.Duration) { loop.RunVirtual(loop.Now().Add(d)) }
	cases := []struct {
		name, port, to string
	}{
		{"port to agent", "3001", "2002"},
		{"port to an outbound-only agent's line", "3001", "2301"},
		{"outbound-only agent's line to agent", "2301", "2002"},
	}
	for _, tc := range cases {
		id := dial(tc.port)
		wait(3 * time.Second)
		transfer(tc.port, id, tc.to)
		wait(10 * time.Minute) // far past every talk time
		if _, live := p.Call(id); !live {
			t.Fatalf("%s: someone hung up the transferred customer", tc.name)
		}
		if tc.to == "2002" && state().State != pg.StateTalking {
			t.Fatalf("%s: agent %s", tc.name, state().State)
		}
		p.TrunkDisconnected(id) // the customer ends the call
		if tc.to == "2002" && state().State != pg.StateWorkNotReady {
			t.Fatalf("%s: agent after the call %s, want wrap-up", tc.name, state().State)
		}
		wait(time.Minute)
		if st := state(); st.State != pg.StateNotReady || st.CallID != 0 {
			t.Fatalf("%s: agent after wrap-up %s", tc.name, st.State)
		}
	}
	if s := m.Stats(); s.HungUp != 0 || s.WrapUps != 2 || s.CommandErrors != 0 {
		t.Fatalf("stats %+v (last error %v)", s, s.LastError)
	}
}
