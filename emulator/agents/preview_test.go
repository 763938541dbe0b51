package agents

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ipcclab/ipcclab/emulator/pg"
	"github.com/ipcclab/ipcclab/emulator/pstn"
	"github.com/ipcclab/ipcclab/internal/sim"
)

// previewRig: a blended agent in ICM (1201 at 2201) and an outbound-only
// agent at a line (1301 at 2301), both with preview behaviour b; a dialer
// port 5001. It records every BAResponse the agents set, with when.
type previewRig struct {
	loop  *sim.Loop
	pg    *pg.PG
	m     *Model
	resp  []string
	at    []time.Time
	other []string
}

func newPreviewRig(t *testing.T, seed uint64, b *PreviewBehaviour) *previewRig {
	t.Helper()
	r := &previewRig{loop: sim.NewLoop(nine)}
	var err error
	r.pg, err = pg.New(pg.Config{Scheduler: r.loop,
		SkillGroups: []pg.SkillGroupConfig{{Number: 100, ID: 5100}},
		Agents:      []pg.AgentConfig{{AgentID: "1201", Extension: "2201", ICMAgentID: 1, SkillGroups: []pg.Membership{{SkillGroup: 100}}}},
		Lines:       []pg.LineConfig{{Extension: "2301"}, {Extension: "5001"}, {Extension: "5002"}},
		Emit: func(e pg.Event) {
			if u, ok := e.(*pg.CallDataUpdateEvent); ok {
				for _, v := range u.Data.NamedVariables {
					if v.Name == "BAResponse" {
						r.resp = append(r.resp, v.Value)
						r.at = append(r.at, r.loop.Now())
					}
				}
			}
			if d, ok := e.(*pg.CallDeliveredEvent); ok && !pg.IsReservation(d.Data.CallType) {
				r.other = append(r.other, d.String())
			}
			r.m.HandleEvent(e)
		}})
	if err != nil {
		t.Fatal(err)
	}
	r.m, err = New(Config{Scheduler: r.loop, Rand: sim.Stream(seed, "agents"), PG: r.pg, Groups: []Group{
		{Name: "bl", Role: RoleBlended, Agents: []Agent{{AgentID: "1201", Extension: "2201"}}, Preview: b,
			AnswerDelay: pstn.Dist{Mean: time.Second}},
		{Name: "out", Role: RoleOutbound, Agents: []Agent{{AgentID: "1301", Extension: "2301"}}, Preview: b},
	}})
	if err != nil {
		t.Fatal(err)
	}
	r.m.Start()
	r.loop.RunVirtual(nine.Add(time.Second))
	return r
}

// present reserves the phone at ext from port with a preview and, after
// wait, clears the reservation (the dialer's part).
func (r *previewRig) present(t *testing.T, port, ext string, wait time.Duration) {
	t.Helper()
	c, err := r.pg.MakeCall(pg.MakeCallRequest{Instrument: port, DialedNumber: ext,
		NamedVariables: []pg.NamedVariable{{Name: "BAStatus", Value: "PREVIEW_OUTBOUND_RESERVATION"}, {Name: "BAResponse"}}})
	if err != nil {
		t.Fatal(err)
	}
	r.loop.RunVirtual(r.loop.Now().Add(wait))
	if err := r.pg.ClearCall(c.CallID); err != nil {
		t.Fatal(err)
	}
	r.loop.RunVirtual(r.loop.Now().Add(time.Second))
}

// TestPreviewResponses: agents answer each preview reservation once, after
// their think time, with BAResponse drawn with the group's probabilities;
// the phone auto-answers (the agent never tries to answer, no command
// fails); a preview the draw leaves unanswered times out; the draws are a
// function of the seed.
func TestPreviewResponses(t *testing.T) {
	b := &PreviewBehaviour{Think: pstn.Dist{Shape: pstn.Fixed, Mean: 3 * time.Second}, Accept: 0.6, Skip: 0.2, Reject: 0.1}
	run := func(seed uint64) (*previewRig, string) {
		r := newPreviewRig(t, seed, b)
		for k := range 200 {
			ext := "2201"
			if k%2 == 1 {
				ext = "2301"
			}
			from := r.loop.Now()
			n := len(r.resp)
			r.present(t, "5001", ext, 10*time.Second)
			if len(r.resp) > n+1 {
				t.Fatalf("preview %d answered %d times", k, len(r.resp)-n)
			}
			if len(r.resp) == n+1 && r.at[n].Sub(from) != 3*time.Second {
				t.Fatalf("preview %d answered after %v, want the think time 3s", k, r.at[n].Sub(from))
			}
		}
		return r, strings.Join(r.resp, ",")
	}
	r, a := run(5)
	st := r.m.Stats()
	if st.CommandErrors != 0 || len(r.other) != 0 {
		t.Fatalf("command errors %d (%v), other deliveries %v", st.CommandErrors, st.LastError, r.other)
	}
	n := map[string]int{}
	for _, v := range r.resp {
		n[v]++
	}
	t.Logf("responses %v, unanswered %d", n, st.Unanswered)
	if st.Previews != 200 || st.Unanswered+len(r.resp) != 200 {
		t.Fatalf("stats %+v with %d responses", st, len(r.resp))
	}
	for v, p := range map[string]float64{ResponseAccept: 0.6, ResponseSkip: 0.2, ResponseReject: 0.1, "": 0.1} {
		got := n[v]
		if v == "" {
			got = st.Unanswered
		}
		if d := float64(got)/200 - p; d < -0.1 || d > 0.1 {
			t.Errorf("%q: %d of 200, want about %.0f %%", v, got, 100*p)
		}
		if v != "" && st.Responses[v] != n[v] {
			t.Errorf("stats count %d %q, the wire %d", st.Responses[v], v, n[v])
		}
	}
	if _, again := run(5); again != a {
		t.Fatal("the same seed drew different responses")
	}
	if _, other := run(6); other == a {
		t.Fatal("seeds 5 and 6 drew the same responses")
	}
}

// TestPreviewWithdrawnAndCallback: a preview withdrawn before the think
// time ends is not answered (no command on a call that is gone); a
// Callback names a time in the format Cisco's desktops send
// (Callback mmddyyyy hh:mm); agents without preview behaviour never answer.
func TestPreviewWithdrawnAndCallback(t *testing.T) {
	r := newPreviewRig(t, 1, &PreviewBehaviour{Think: pstn.Dist{Shape: pstn.Fixed, Mean: 20 * time.Second}, Callback: 1,
		CallbackAfter: 2 * time.Hour})
	r.present(t, "5001", "2201", 5*time.Second)
	if len(r.resp) != 0 {
		t.Fatalf("withdrawn preview answered: %v", r.resp)
	}
	start := r.loop.Now()
	r.present(t, "5002", "2301", 25*time.Second)
	want := fmt.Sprintf("Callback %s", start.Add(20*time.Second+2*time.Hour).Format("01022006 15:04"))
	if len(r.resp) != 1 || r.resp[0] != want {
		t.Fatalf("responses %q, want %q", r.resp, want)
	}
	if st := r.m.Stats(); st.CommandErrors != 0 || st.Responses[ResponseCallback] != 1 {
		t.Fatalf("stats %+v", st)
	}

	quiet := newPreviewRig(t, 1, nil)
	quiet.present(t, "5001", "2201", time.Minute)
	if st := quiet.m.Stats(); len(quiet.resp) != 0 || st.Previews != 1 || st.Unanswered != 1 || st.CommandErrors != 0 {
		t.Fatalf("agents without preview behaviour: responses %v, stats %+v", quiet.resp, st)
	}
}

func TestPreviewConfigErrors(t *testing.T) {
	for _, b := range []*PreviewBehaviour{
		{Accept: 0.7, Skip: 0.4},
		{Accept: -0.1},
		{Accept: 1, Think: pstn.Dist{Mean: -time.Second}},
	} {
		_, err := New(Config{Scheduler: sim.NewLoop(nine), Rand: sim.Stream(1, "a"), PG: &pg.PG{}, Groups: []Group{
			{Name: "g", Role: RoleBlended, Preview: b}}})
		if err == nil || !strings.Contains(err.Error(), "groups[0].preview") {
			t.Errorf("%+v: %v", b, err)
		}
	}
}
