package centre

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ipcclab/ipcclab/emulator/agents"
	"github.com/ipcclab/ipcclab/emulator/icm"
	"github.com/ipcclab/ipcclab/emulator/pg"
	"github.com/ipcclab/ipcclab/emulator/pstn"
	"github.com/ipcclab/ipcclab/internal/sim"
)

// portsConfig: one campaign agent in ICM (blended, wrap-up after outgoing
// calls), two dialer ports, customers who always answer.
func portsConfig(talk pstn.Dist) Config {
	return Config{
		SkillGroups: []icm.SkillGroupConfig{{Number: 100, ID: 5100}},
		Agents: []AgentGroup{{Name: "campaign", Role: agents.RoleBlended, Count: 1, FirstAgentID: 1201, FirstExtension: 2201,
			SkillGroups: []uint32{100}, Talk: pstn.Dist{Mean: 20 * time.Second}, WrapUp: pstn.Dist{Mean: 10 * time.Second}, WrapUpOutgoing: true}},
		DialerPorts: []string{"3001", "3002"},
		Outbound: Outbound{Enabled: true, Answer: 1, SetupDelay: pstn.Dist{Mean: 2 * time.Second},
			RingTime: pstn.Dist{Mean: 5 * time.Second}, Talk: talk},
	}
}

// TestTransferFromDialerPort: a customer answering on a dialer port waits
// there (its conversation has not started); the dialer transfers it to the
// campaign agent, the customer talks for its drawn talk time from then on
// and hangs up, the agent wraps up and is back Not Ready. A customer left
// on a port is dropped when the dialer clears the call.
func TestTransferFromDialerPort(t *testing.T) {
	loop := sim.NewLoop(day.Add(9 * time.Hour))
	c, err := New(portsConfig(pstn.Dist{Mean: 90 * time.Second}), loop, 1)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	c.Subscribe(func(e pg.Event) {
		f := strings.Fields(e.String())
		got = append(got, strings.Join(f[:3], " "))
	})
	c.Start()
	got = nil // the login
	if ls := c.PG().Lines(); len(ls) != 2 || ls[0].Extension != "3001" || len(c.Agents()) != 1 || fmt.Sprint(c.DialerPorts()) != "[3001 3002]" {
		t.Fatalf("lines %+v agents %+v", ls, c.Agents())
	}
	id, err := c.PG().MakePredictiveCall(pg.PredictiveCallRequest{DialedNumber: "15550100", OriginatingDevice: "3001"})
	if err != nil {
		t.Fatal(err)
	}
	// Answered at 7 s, then 60 s on the port (a safe-harbour message; the
	// customer waits), then the dialer transfers it.
	loop.RunVirtual(loop.Now().Add(67 * time.Second))
	if ci, ok := c.PG().Call(id); !ok || ci.Line != "3001" {
		t.Fatalf("customer not waiting on the port: %+v", ci)
	}
	if st := c.PSTN().Stats(); st.Connected != 0 {
		t.Fatalf("the conversation started on the port: %+v", st)
	}
	if _, err := c.PG().TransferCall(pg.TransferRequest{Instrument: "3001", HeldCallID: pg.NoCallID, ActiveCallID: id, DialedNumber: "2201"}); err != nil {
		t.Fatal(err)
	}
	loop.RunVirtual(loop.Now().Add(5 * time.Minute))
	n := fmt.Sprint(id)
	want := []string{
		"09:00:00.000 BEGIN_CALL_EVENT conn=" + n + "@15550100",
		"09:00:00.000 CALL_ORIGINATED_EVENT conn=" + n + "@15550100",
		"09:00:02.000 CALL_DELIVERED_EVENT conn=" + n + "@15550100",
		"09:00:07.000 CALL_ESTABLISHED_EVENT conn=" + n + "@15550100",
		"09:00:07.000 CALL_DELIVERED_EVENT conn=" + n + "@3001",
		"09:00:07.000 CALL_ESTABLISHED_EVENT conn=" + n + "@3001",
		"09:01:07.000 CALL_DELIVERED_EVENT conn=" + n + "@2201",
		"09:01:07.000 CALL_ESTABLISHED_EVENT conn=" + n + "@2201",
		"09:01:07.000 CALL_TRANSFERRED_EVENT primary=" + n + "@3001",
		"09:01:07.000 AGENT_STATE_EVENT agent=1201",                          // TALKING
		"09:02:37.000 CALL_CONNECTION_CLEARED_EVENT conn=" + n + "@15550100", // the customer hangs up after its 90 s
		"09:02:37.000 CALL_CLEARED_EVENT conn=" + n + "@2201",
		"09:02:37.000 AGENT_STATE_EVENT agent=1201", // WORK_NOT_READY
		"09:02:37.000 END_CALL_EVENT conn=" + n + "@15550100",
		"09:02:47.000 AGENT_STATE_EVENT agent=1201", // NOT_READY after 10 s of wrap-up
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	times, err := c.PG().AgentTimes(pg.AgentSelector{AgentID: "1201"})
	if err != nil {
		t.Fatal(err)
	}
	if times.InState[pg.StateTalking] != 90*time.Second || times.InState[pg.StateWorkNotReady] != 10*time.Second {
		t.Fatalf("agent talked %v and wrapped up %v", times.InState[pg.StateTalking], times.InState[pg.StateWorkNotReady])
	}
	if st, _ := c.PG().QueryAgentState(pg.AgentSelector{AgentID: "1201"}); st.State != pg.StateNotReady {
		t.Fatalf("agent %s", st.State)
	}
	if st := c.AgentModel().Stats(); st.HungUp != 0 || st.WrapUps != 1 || st.CommandErrors != 0 {
		t.Fatalf("agents %+v", st)
	}

	// CLEAR_CALL on a customer left on a port: dropped, port free.
	id, _ = c.PG().MakePredictiveCall(pg.PredictiveCallRequest{DialedNumber: "15550101", OriginatingDevice: "3002"})
	loop.RunVirtual(loop.Now().Add(20 * time.Second))
	if err := c.PG().ClearCall(id); err != nil {
		t.Fatal(err)
	}
	loop.RunVirtual(loop.Now().Add(5 * time.Minute))
	st := c.PSTN().Stats()
	if st.Connected != 1 || st.Dropped != 1 || len(c.callees) != 0 {
		t.Fatalf("pstn %+v, callees %d", st, len(c.callees))
	}
	for _, l := range c.PG().Lines() {
		if l.CallID != 0 {
			t.Fatalf("port busy %+v", l)
		}
	}
	r := c.Report()
	if r.Outbound.Attempts != 2 || r.Outbound.Connects != 2 || r.Agents.Lines != 0 {
		t.Fatalf("report: outbound %+v, lines %d (dialer ports are nobody's line)", r.Outbound, r.Agents.Lines)
	}
}

// TestPerNumberFateInTheCentre: with Outbound.PerNumberFate two runs with
// the same seed that dial the same numbers in opposite orders meet the same
// customers (outcome and answer time per number).
func TestPerNumberFateInTheCentre(t *testing.T) {
	run := func(reverse bool) map[string]string {
		cfg := portsConfig(ln(60*time.Second, 0.5))
		cfg.Outbound.Answer, cfg.Outbound.Busy, cfg.Outbound.PerNumberFate = 0.4, 0.3, true
		cfg.Outbound.RingTime = pstn.Dist{Shape: pstn.Exponential, Mean: 10 * time.Second}
		loop := sim.NewLoop(day.Add(9 * time.Hour))
		c, err := New(cfg, loop, 7)
		if err != nil {
			t.Fatal(err)
		}
		fate := map[string]string{}
		dialed := map[uint32]time.Time{}
		number := map[uint32]string{}
		c.Subscribe(func(e pg.Event) {
			switch ev := e.(type) {
			case *pg.CallFailedEvent:
				fate[number[ev.Connection.CallID]] = fmt.Sprintf("failed %d after %v", ev.Cause, e.EventHeader().Time.Sub(dialed[ev.Connection.CallID]))
			case *pg.CallEstablishedEvent:
				if ev.Answering.Type == pg.DeviceExternal {
					fate[number[ev.Connection.CallID]] = fmt.Sprintf("answered after %v", e.EventHeader().Time.Sub(dialed[ev.Connection.CallID]))
				}
			}
		})
		c.Start()
		for i := range 40 {
			k := i
			if reverse {
				k = 39 - i
			}
			sim.After(loop, time.Duration(i)*time.Second, func(now time.Time) {
				n := fmt.Sprintf("1555%06d", k)
				id, err := c.PG().MakePredictiveCall(pg.PredictiveCallRequest{DialedNumber: n, OriginatingDevice: "3001", RingTimeout: 30 * time.Second})
				if err != nil {
					t.Fatal(err)
				}
				dialed[id], number[id] = now, n
			})
		}
		loop.RunVirtual(loop.Now().Add(10 * time.Minute))
		return fate
	}
	a, b := run(false), run(true)
	if len(a) != 40 || fmt.Sprint(a) != fmt.Sprint(b) {
		t.Fatalf("fates differ with the dial order:\n%v\n%v", a, b)
	}
}
