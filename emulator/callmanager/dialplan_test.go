package callmanager

import (
	"errors"
	"fmt"
	"testing"

	"github.com/ipcclab/ipcclab/emulator/pg"
	"github.com/ipcclab/ipcclab/emulator/pstn"
)

func TestDialPlanRoute(t *testing.T) {
	d := NewDialPlan([]string{"8005550100", "8005550200"}, map[string]string{"6001": "5001", "6101": ""})
	for _, tc := range []struct {
		number string
		want   Destination
	}{
		{"8005550100", DestRoutePoint},
		{"8005550200", DestRoutePoint},
		{"6001", DestLine},
		{"6101", DestLine}, // a line without an ICM agent
		{"8005550199", DestUnknown},
		{"", DestUnknown},
		{"7000", DestUnknown}, // translation routes are IP-IVR's, not CallManager's
	} {
		if got := d.Route(tc.number); got != tc.want {
			t.Errorf("Route(%q) = %v, want %v", tc.number, got, tc.want)
		}
	}
	if got := d.AgentExtension("5001"); got != "6001" {
		t.Errorf("AgentExtension(5001) = %q", got)
	}
	if got := d.AgentExtension("9999"); got != "" {
		t.Errorf("AgentExtension(9999) = %q, want none", got)
	}
	// A number that is both a route point and a line goes to the route
	// point (the router decides).
	both := NewDialPlan([]string{"6001"}, map[string]string{"6001": "5001"})
	if got := both.Route("6001"); got != DestRoutePoint {
		t.Errorf("route point and line: %v", got)
	}
}

func TestQueuesAtIVRAndAtAgent(t *testing.T) {
	d := NewDialPlan(nil, map[string]string{"6001": "5001", "6002": "5002"})
	for _, tc := range []struct {
		name  string
		ci    pg.CallInfo
		live  bool
		queue bool
		at    map[string]bool // ext → AtAgent
	}{
		{name: "no agent reserved", ci: pg.CallInfo{}, live: true, queue: true, at: map[string]bool{"6001": false}},
		{name: "agent reserved", ci: pg.CallInfo{AgentID: "5001"}, live: true, queue: false, at: map[string]bool{"6001": true, "6002": false}},
		{name: "call gone", live: false, queue: true},
		{name: "party at the device", ci: pg.CallInfo{Parties: []pg.CallParty{{Device: pg.Device{ID: "6002"}}}}, live: true, queue: true,
			at: map[string]bool{"6002": true, "6001": false}},
	} {
		if got := QueuesAtIVR(tc.ci, tc.live); got != tc.queue {
			t.Errorf("%s: QueuesAtIVR = %v, want %v", tc.name, got, tc.queue)
		}
		for ext, want := range tc.at {
			if got := d.AtAgent(tc.ci, ext); got != want {
				t.Errorf("%s: AtAgent(%s) = %v, want %v", tc.name, ext, got, want)
			}
		}
	}
}

func TestOutcomeOf(t *testing.T) {
	for _, tc := range []struct {
		status int
		want   pstn.Outcome
	}{
		{486, pstn.OutcomeBusy}, {600, pstn.OutcomeBusy},
		{408, pstn.OutcomeNoAnswer}, {480, pstn.OutcomeNoAnswer}, {487, pstn.OutcomeNoAnswer},
		{404, pstn.OutcomeFail}, {503, pstn.OutcomeFail}, {604, pstn.OutcomeFail}, {0, pstn.OutcomeFail},
	} {
		if got := OutcomeOf(tc.status); got != tc.want {
			t.Errorf("OutcomeOf(%d) = %v, want %v", tc.status, got, tc.want)
		}
	}
}

func TestRefusalAndUnansweredStatus(t *testing.T) {
	for _, tc := range []struct {
		err    error
		status int
		reason string
	}{
		{&pg.ControlFailure{Code: pg.CFInvalidDestination}, 404, "Not Found"},
		{&pg.ControlFailure{Code: pg.CFResourceOutOfService}, 503, "Service Unavailable"},
		{&pg.ControlFailure{Code: pg.CFInvalidCallingDevice}, 486, "Busy Here"},
		{fmt.Errorf("wrapped: %w", &pg.ControlFailure{Code: pg.CFInvalidDestination}), 404, "Not Found"},
		{errors.New("agent busy"), 486, "Busy Here"},
	} {
		if s, r := RefusalStatus(tc.err); s != tc.status || r != tc.reason {
			t.Errorf("RefusalStatus(%v) = %d %q, want %d %q", tc.err, s, r, tc.status, tc.reason)
		}
	}
	for _, tc := range []struct {
		fail   int
		status int
		reason string
	}{{0, 480, "Temporarily Unavailable"}, {486, 486, "Busy Here"}, {603, 603, "Decline"}, {404, 404, "Not Found"}} {
		if s, r := UnansweredStatus(tc.fail); s != tc.status || r != tc.reason {
			t.Errorf("UnansweredStatus(%d) = %d %q, want %d %q", tc.fail, s, r, tc.status, tc.reason)
		}
	}
}

func TestTranslationRoutes(t *testing.T) {
	tr := NewTranslationRoutes(7000, 3)
	var got []string
	for i := 0; i < 3; i++ {
		dn, ok := tr.Take()
		if !ok {
			t.Fatalf("take %d: pool empty", i)
		}
		got = append(got, dn)
	}
	if fmt.Sprint(got) != "[7000 7001 7002]" {
		t.Errorf("taken %v, want 7000 7001 7002 (lowest first)", got)
	}
	if dn, ok := tr.Take(); ok {
		t.Errorf("a fourth route %s from a pool of three", dn)
	}
	tr.Release("7001")
	if dn, ok := tr.Take(); !ok || dn != "7001" {
		t.Errorf("after releasing 7001: took %q %v", dn, ok)
	}
	if n := NewTranslationRoutes(7000, 0).Free(); n != 0 {
		t.Errorf("empty pool has %d free", n)
	}
}

// Both CallManagers act on the same PG events: the legs follow a call that
// left an agent or ended, hold and retrieve re-INVITE the customer, and
// other events leave the legs alone.
func TestLegActionOf(t *testing.T) {
	c := pg.Connection{CallID: 7}
	for _, tc := range []struct {
		e    pg.Event
		want LegAction
	}{
		{&pg.CallConnectionClearedEvent{Connection: c}, LegsReconcile},
		{&pg.CallClearedEvent{Connection: c}, LegsReconcile},
		{&pg.EndCallEvent{Connection: c}, LegsReconcile},
		{&pg.CallFailedEvent{Connection: c}, LegsReconcile},
		{&pg.CallHeldEvent{Connection: c}, LegsHold},
		{&pg.CallRetrievedEvent{Connection: c}, LegsRetrieve},
		{&pg.CallDeliveredEvent{Connection: c}, LegsNone},
	} {
		id, a := LegActionOf(tc.e)
		if a != tc.want || (a != LegsNone && id != 7) {
			t.Errorf("%T: call %d action %d, want call 7 action %d", tc.e, id, a, tc.want)
		}
	}
}
