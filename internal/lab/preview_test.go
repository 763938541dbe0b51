package lab

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/ipcclab/ipcclab/protocol/cti"
	"github.com/ipcclab/ipcclab/scenarios"
)

// previewWire follows a preview campaign on the controller's CTI link.
type previewWire struct {
	res  map[uint32]*wireReservation // open reservation calls
	last map[string]*wireReservation // per agent device, its latest reservation
	all  []*wireReservation
	cust map[uint32]*wireCustomer
	// customers in the order they began
	customers []*wireCustomer
	// dials are the controller's MAKE_PREDICTIVE_CALL_REQs.
	dials    []*cti.MakePredictiveCallReq
	autoOut  int
	problems []string
}

type wireReservation struct {
	id             uint32
	agent, port    string
	number, status string
	response       string
	begin, end     time.Time
	dialedBy       uint32 // the customer call that followed it
}

type wireCustomer struct {
	id               uint32
	number, agent    string
	begin            time.Time
	farAnswer, estab bool
	reservation      *wireReservation
}

func ecc(vars []cti.NamedVar, name string) string {
	for _, v := range vars {
		if v.Name == name {
			return v.Value
		}
	}
	return ""
}

func (w *previewWire) add(format string, args ...any) {
	if len(w.problems) < 20 {
		w.problems = append(w.problems, fmt.Sprintf(format, args...))
	}
}

func (w *previewWire) frame(t *testing.T, at time.Time, fromServer bool, f []byte) {
	m, err := cti.DecodeMessage(f, 24)
	if err != nil {
		t.Fatalf("undecodable frame on the CTI link: %v", err)
	}
	if !fromServer {
		if d, ok := m.(*cti.MakePredictiveCallReq); ok {
			w.dials = append(w.dials, d)
			// The record dialed is the one its agent accepted, whose
			// reservation has ended.
			r := w.last[d.OriginatingDeviceID]
			switch {
			case r == nil:
				w.add("%v: MAKE_PREDICTIVE_CALL_REQ from %s to %s with no reservation before it", at, d.OriginatingDeviceID, d.DialedNumber)
			case r.response != "Accept" || r.number != d.DialedNumber || r.end.IsZero():
				w.add("%v: MAKE_PREDICTIVE_CALL_REQ from %s to %s after reservation %d of %s (response %q, ended %v)", at, d.OriginatingDeviceID, d.DialedNumber, r.id, r.number, r.response, !r.end.IsZero())
			}
		}
		return
	}
	switch e := m.(type) {
	case *cti.BeginCallEvent:
		switch e.CallType {
		case cti.CallTypeReservationPreview:
			r := &wireReservation{id: e.ConnectionCallID, agent: e.ConnectionDeviceID, port: e.ANI,
				number: ecc(e.NamedVariables, "BACustomerNumber"), status: ecc(e.NamedVariables, "BAStatus"), begin: at}
			if r.number == "" || e.CallVariable1 != "Renewals" || e.CallVariable2 != ecc(e.NamedVariables, "BADialedListID") || ecc(e.NamedVariables, "BACampaign") != "Renewals" ||
				ecc(e.NamedVariables, "BADialedListID") == "" || ecc(e.NamedVariables, "BAAccountNumber") == "" || ecc(e.NamedVariables, "BAResponse") != "" {
				w.add("reservation %d: record not in the ECC variables and call variables: %+v", r.id, e)
			}
			if prev := w.last[r.agent]; prev != nil && prev.end.IsZero() {
				w.add("%v: reservation %d to %s while %d is still on", at, r.id, r.agent, prev.id)
			}
			w.res[r.id], w.last[r.agent] = r, r
			w.all = append(w.all, r)
		case cti.CallTypeCustomerPreview:
			c := &wireCustomer{id: e.ConnectionCallID, number: e.ConnectionDeviceID, begin: at}
			w.cust[c.id] = c
			w.customers = append(w.customers, c)
		case cti.CallTypeAutoOut:
			w.autoOut++
		}
	case *cti.CallDataUpdateEvent:
		if r := w.res[e.ConnectionCallID]; r != nil && r.response == "" {
			r.response = ecc(e.NamedVariables, "BAResponse")
		}
	case *cti.CallOriginatedEvent:
		c := w.cust[e.ConnectionCallID]
		if c == nil {
			return
		}
		c.agent = e.CallingDeviceID
		r := w.last[c.agent]
		switch {
		case r == nil:
			w.add("customer call %d to %s from %s: no reservation to that agent before it", c.id, c.number, c.agent)
		case r.response != "Accept":
			w.add("customer call %d to %s from %s follows reservation %d answered %q", c.id, c.number, c.agent, r.id, r.response)
		case r.number != c.number:
			w.add("customer call %d to %s from %s: the accepted reservation %d presented %s", c.id, c.number, c.agent, r.id, r.number)
		case r.dialedBy != 0:
			w.add("customer call %d: reservation %d was already dialed by %d", c.id, r.id, r.dialedBy)
		case r.end.IsZero() || r.end.After(c.begin):
			w.add("customer call %d began before its reservation %d ended", c.id, r.id)
		default:
			r.dialedBy, c.reservation = c.id, r
		}
	case *cti.CallEstablishedEvent:
		if c := w.cust[e.ConnectionCallID]; c != nil {
			if e.AnsweringDeviceID == c.number {
				c.farAnswer = true
			} else if e.AnsweringDeviceID == c.agent {
				c.estab = true
			}
		}
	case *cti.CallConnectionClearedEvent:
		if c := w.cust[e.ConnectionCallID]; c != nil && e.EventCause == cti.CECNoAvailableAgents {
			w.add("preview call %d to %s abandoned (CEC_NO_AVAILABLE_AGENTS)", c.id, c.number)
		}
	case *cti.EndCallEvent:
		if r := w.res[e.ConnectionCallID]; r != nil {
			r.end = at
			delete(w.res, r.id)
		}
		if c := w.cust[e.ConnectionCallID]; c != nil {
			if c.farAnswer && !c.estab {
				w.add("preview call %d to %s answered by the customer but never connected to agent %s: abandoned", c.id, c.number, c.agent)
			}
			delete(w.cust, c.id)
		}
	}
}

func previewScenario(t testing.TB) *scenarios.Scenario {
	t.Helper()
	sc, err := scenarios.Load("../../scenarios/preview.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

// TestPreviewCampaignOnTheWire runs the preview scenario for an hour and
// checks the controller's CTI link: every customer call (CUSTOMER_PREVIEW)
// is preceded by a reservation call (RESERVATION_PREVIEW) to the agent whose
// phone dials it, carrying that customer in its ECC variables and answered
// BAResponse Accept, and ended before the customer is dialed; a reservation
// is dialed at most once, so a skipped or rejected record is never dialed by
// its reservation; no preview call is abandoned; nothing is dialed
// predictively; the report matches the wire; the run is a function of the
// seed.
func TestPreviewCampaignOnTheWire(t *testing.T) {
	sc := previewScenario(t)
	w := &previewWire{res: map[uint32]*wireReservation{}, last: map[string]*wireReservation{}, cust: map[uint32]*wireCustomer{}}
	rep, err := Simulate(context.Background(), SimOptions{Scenario: sc, Seed: 3, Duration: time.Hour,
		Tap: func(at time.Time, fromServer bool, f []byte) { w.frame(t, at, fromServer, f) }})
	if err != nil {
		t.Fatal(err)
	}
	p := rep.Outbound.Preview
	if p == nil {
		t.Fatal("no preview report")
	}
	t.Logf("preview: %+v; outbound %d attempts, %d connects, %d abandoned", *p, rep.Outbound.Attempts, rep.Outbound.Connects, rep.Outbound.Abandoned)
	for _, pr := range w.problems {
		t.Error(pr)
	}
	answers := map[string]int{}
	statuses := map[string]int{}
	for _, r := range w.all {
		answers[r.response]++
		statuses[r.status]++
		if r.response != "Accept" && r.dialedBy != 0 {
			t.Errorf("reservation %d answered %q was dialed", r.id, r.response)
		}
	}
	t.Logf("reservations by answer %v, by BAStatus %v", answers, statuses)
	if w.autoOut != 0 {
		t.Errorf("%d AUTO_OUT calls in preview mode", w.autoOut)
	}
	if len(w.customers) != len(w.dials) || len(w.customers) != p.Dialed || p.Dialed != rep.Outbound.Attempts {
		t.Errorf("customer calls %d on the wire, %d MAKE_PREDICTIVE_CALL_REQs, report dialed %d, attempts %d", len(w.customers), len(w.dials), p.Dialed, rep.Outbound.Attempts)
	}
	for _, c := range w.customers {
		if c.reservation == nil {
			t.Errorf("customer call %d to %s has no accepted reservation", c.id, c.number)
		}
	}
	// The controller's figures are the wire's.
	if p.Presented != len(w.all) || p.Accepted != answers["Accept"] ||
		p.Skipped != answers["Skip"]+answers["Skip-Close"] || p.Rejected != answers["Reject"]+answers["Reject-Close"] {
		t.Errorf("report %+v, wire answers %v (%d reservations)", *p, answers, len(w.all))
	}
	if p.Presented < 300 || p.Skipped == 0 || p.Rejected == 0 || p.TimedOut == 0 || p.Callbacks == 0 || p.Closed == 0 || rep.Outbound.Connects < 50 {
		t.Errorf("an hour of preview dialing should see every answer and many connects: %+v, connects %d", *p, rep.Outbound.Connects)
	}
	if rep.Outbound.Abandoned != 0 || p.Abandoned != 0 || p.Lost != 0 || p.Refused != 0 {
		t.Errorf("abandoned %d/%d, lost %d, refused %d", rep.Outbound.Abandoned, p.Abandoned, p.Lost, p.Refused)
	}
	if statuses["BLENDED_PREVIEW_OUTBOUND_RESERVATION"] == 0 || statuses["PREVIEW_OUTBOUND_RESERVATION"] == 0 {
		t.Errorf("BAStatus of blended and dedicated agents' reservations: %v", statuses)
	}

	render := func(r *Report) string {
		r.WallSeconds = 0
		b, _ := json.Marshal(r)
		return string(b)
	}
	again, err := Simulate(context.Background(), SimOptions{Scenario: sc, Seed: 3, Duration: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if render(again) != render(rep) {
		t.Fatalf("seed 3 gave two different reports:\n%s\n%s", render(rep), render(again))
	}
}

// TestDefaultScenarioHasNoPreview: the default scenario's report carries
// no preview section (its figures are those of agent mode).
func TestDefaultScenarioHasNoPreview(t *testing.T) {
	rep := simulate(t, defaultScenario(t), 1, 0.5, false)
	if rep.Outbound.Preview != nil {
		t.Fatalf("default scenario: preview report %+v", *rep.Outbound.Preview)
	}
}
