package desktop_test

// The desktop in a centre where the controller runs a preview campaign
// (Cisco Outbound Option preview) over a call list in the campaign store:
// testdata/preview.yaml. Agent 1101 is the person on the desktop; an
// emulated agent shares the campaign. A CTI ALL_EVENTS session watches the
// wire, so that what the desktop claims (accepted, skipped, captured) is
// checked on the CTI Server's side too.

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/ipcclab/ipcclab/controller/campaign"
	"github.com/ipcclab/ipcclab/controller/desktop"
	"github.com/ipcclab/ipcclab/internal/ctitool"
	"github.com/ipcclab/ipcclab/internal/lab"
	"github.com/ipcclab/ipcclab/protocol/cti"
	"github.com/ipcclab/ipcclab/scenarios"
)

// The person's agent and extension in testdata/preview.yaml.
const (
	previewAgent = "1101"
	previewExt   = "2101"
	previewSeed  = 7
)

// The reason the person's agent goes to after a disposition: the
// controller presents previews to idle NOT_READY campaign agents (an
// AVAILABLE agent is the inbound queue's).
const campaignReason = 20

type previewHarness struct {
	*harness
	store *campaign.Store
	camp  int64
	wire  *wire
}

// startPreview runs the preview centre with its controller and the desktop
// with the campaign store behind its recalls and screen pops.
func startPreview(t *testing.T) *previewHarness {
	t.Helper()
	sc, err := scenarios.Load("testdata/preview.yaml")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	run, err := lab.Start(ctx, lab.UpOptions{Scenario: sc, Seed: previewSeed, CTIAddr: "127.0.0.1:0", Duration: time.Hour, HoldTraffic: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = run.Stop() })
	store, camp := run.Campaign()
	if store == nil {
		t.Fatal("the preview scenario has no campaign store")
	}
	w := watch(t, run.CTIAddr())
	run.Begin()
	h := &previewHarness{harness: &harness{t: t, run: run, now: time.Now(), seed: previewSeed}, store: store, camp: camp, wire: w}
	dk, err := desktop.New(desktop.Config{CTIAddr: run.CTIAddr(), PeripheralID: 5000,
		ReasonCodes: append(append([]desktop.ReasonCode(nil), desktop.DefaultReasonCodes...), desktop.ReasonCode{Code: campaignReason, Label: "Preview campaign"}),
		AfterCall:   desktop.AfterNotReady, AfterCallReason: campaignReason,
		Recalls:   desktop.CampaignRecalls{Store: store, CampaignID: camp},
		Customers: desktop.CampaignCustomers{Store: store},
		Logf:      t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(dk.Close)
	mux := http.NewServeMux()
	mux.Handle("/desktop/", dk)
	h.srv = httptest.NewServer(mux)
	t.Cleanup(h.srv.Close)
	return h
}

// record reads a campaign record by the ID a preview names.
func (h *previewHarness) record(id string) campaign.Record {
	h.t.Helper()
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil {
		h.fatalf("record ID %q: %v", id, err)
	}
	r, err := h.store.Record(n)
	if err != nil {
		h.fatalf("record %s: %v", id, err)
	}
	return r
}

// awaitStore polls the campaign store until ok holds.
func (h *previewHarness) awaitStore(what string, ok func() (bool, string)) {
	h.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		done, state := ok()
		if done {
			return
		}
		if time.Now().After(deadline) {
			h.fatalf("timed out waiting for %s in the campaign store; %s", what, state)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// wire is what an ALL_EVENTS session sees of the campaign.
type wire struct {
	mu sync.Mutex
	// reservation call → the record it offers, and its agent's device.
	resRecord map[uint32]string
	resDevice map[uint32]string
	// answers are the BAResponses set on reservations to the person's
	// phone, by record.
	answers map[string][]string
	// customer calls (CUSTOMER_PREVIEW): call → record, and the devices
	// that dialed each record.
	custRecord map[uint32]string
	dialedBy   map[string][]string
	// ecc is every ECC variable a CALL_DATA_UPDATE_EVENT set, by call.
	ecc map[uint32]map[string]string
}

func eccOf(vars []cti.NamedVar, name string) string {
	for _, v := range vars {
		if v.Name == name {
			return v.Value
		}
	}
	return ""
}

// watch opens an ALL_EVENTS session on the CTI Server (before the centre
// begins, so that it sees every call) and follows the campaign's calls.
func watch(t *testing.T, addr string) *wire {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	s := cti.NewSession(conn, nil)
	const pv = cti.ProtocolVersion(24)
	req := &cti.OpenReq{VersionNumber: uint32(pv), IdleTimeout: ctitool.IdleTimeout, PeripheralID: 5000,
		ServicesRequested: cti.ServiceAllEvents, CallMsgMask: ctitool.AllCallEvents(pv), AgentStateMask: ctitool.AllAgentStates(),
		ClientID: "desktop-test-wire", ClientPassword: []byte{}}
	req.SetPresent(cti.TagClientPassword)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := s.Open(ctx, req); err != nil {
		t.Fatalf("ALL_EVENTS session: %v", err)
	}
	s.StartHeartbeat(ctitool.DefaultHeartbeat)
	w := &wire{resRecord: map[uint32]string{}, resDevice: map[uint32]string{}, answers: map[string][]string{},
		custRecord: map[uint32]string{}, dialedBy: map[string][]string{}, ecc: map[uint32]map[string]string{}}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for m := range s.Events() {
			w.event(m)
		}
	}()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = s.Close(ctx)
		<-done
	})
	return w
}

func (w *wire) event(m cti.Message) {
	w.mu.Lock()
	defer w.mu.Unlock()
	switch e := m.(type) {
	case *cti.BeginCallEvent:
		switch e.CallType {
		case cti.CallTypeReservationPreview:
			w.resRecord[e.ConnectionCallID] = eccOf(e.NamedVariables, "BADialedListID")
			w.resDevice[e.ConnectionCallID] = e.ConnectionDeviceID
		case cti.CallTypeCustomerPreview:
			w.custRecord[e.ConnectionCallID] = eccOf(e.NamedVariables, "BADialedListID")
		}
	case *cti.CallOriginatedEvent:
		if rec, ok := w.custRecord[e.ConnectionCallID]; ok {
			w.dialedBy[rec] = append(w.dialedBy[rec], e.CallingDeviceID)
		}
	case *cti.CallDataUpdateEvent:
		if w.ecc[e.ConnectionCallID] == nil {
			w.ecc[e.ConnectionCallID] = map[string]string{}
		}
		for _, v := range e.NamedVariables {
			w.ecc[e.ConnectionCallID][v.Name] = v.Value
		}
		if rec, ok := w.resRecord[e.ConnectionCallID]; ok && w.resDevice[e.ConnectionCallID] == previewExt {
			if r := eccOf(e.NamedVariables, "BAResponse"); r != "" {
				w.answers[rec] = append(w.answers[rec], r)
			}
		}
	}
}

// seen returns the BAResponses of a record's reservations to the person,
// the devices that dialed it, and the ECC variables set on a call.
func (w *wire) seen(record string, call uint32) (answers, dialedBy []string, ecc map[string]string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	e := map[string]string{}
	for k, v := range w.ecc[call] {
		e[k] = v
	}
	return append([]string(nil), w.answers[record]...), append([]string(nil), w.dialedBy[record]...), e
}

// awaitWire polls the wire until ok holds.
func (h *previewHarness) awaitWire(what string, record string, call uint32, ok func(answers, dialedBy []string, ecc map[string]string) bool) {
	h.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		a, d, e := h.wire.seen(record, call)
		if ok(a, d, e) {
			return
		}
		if time.Now().After(deadline) {
			h.fatalf("timed out waiting on the CTI wire for %s: record %s answered %v, dialed by %v; call %d ECC %v", what, record, a, d, call, e)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (h *previewHarness) login() string {
	h.t.Helper()
	a := h.post("login", form("agent", previewAgent, "extension", previewExt, "password", "1234"))
	if a.status != http.StatusOK {
		h.fatalf("login %s: %d %s", previewAgent, a.status, a.err)
	}
	var s string
	_ = json.Unmarshal(a.raw["session"], &s)
	return s
}

func (h *previewHarness) awaitPreview(s, what string, ok func(*desktop.PreviewView) bool) desktop.View {
	h.t.Helper()
	return h.await(s, what, func(v desktop.View) bool { return v.Preview != nil && ok(v.Preview) })
}

// The preview answers over the API, and their refusals: a record not
// offered, a second answer, an answer with the wrong field. Accept dials
// the customer from the agent's phone; Skip moves on to the next record
// without dialing.
func TestPreviewAnswersOverTheAPI(t *testing.T) {
	h := startPreview(t)
	s := h.login()
	v := h.awaitPreview(s, "a preview", func(p *desktop.PreviewView) bool { return p.Answered == "" })
	p := v.Preview
	rec := h.record(p.Record)
	if p.Campaign != "Renewals" || p.Account != rec.CustomerFields["account"] || p.Phone != rec.Phone || p.Name != rec.CustomerFields["name"] ||
		p.Customer == nil || p.Customer.Name != rec.CustomerFields["name"] || p.Customer.Fields["tier"] != rec.CustomerFields["tier"] {
		h.fatalf("preview %+v (customer %+v) does not show record %+v", p, p.Customer, rec)
	}
	if rec.Status != campaign.Dialing || rec.Attempts != 0 {
		h.fatalf("record %s on preview: status %s, %d attempts; want claimed (dialing) and not attempted", p.Record, rec.Status, rec.Attempts)
	}

	refusals := []struct {
		form  []string
		code  int
		field string
	}{
		{[]string{"response", "Skip"}, 400, "record"},
		{[]string{"response", "Skip", "record", "999999"}, 409, "record"},
		{[]string{"response", "Accept", "record", "call " + strconv.Itoa(int(p.CallID))}, 409, "record"},
		{[]string{"response", "Skip-Close", "record", p.Record}, 400, "response"},
		{[]string{"response", "skip", "record", p.Record}, 400, "response"},
		{[]string{"response", "Skip", "record", string(make([]byte, 41))}, 400, "record"},
	}
	for _, tc := range refusals {
		f := form(append([]string{"session", s}, tc.form...)...)
		if a := h.post("preview", f); a.status != tc.code || a.field != tc.field {
			t.Errorf("preview %v: %d %q (%s), want %d naming %q", tc.form, a.status, a.field, a.err, tc.code, tc.field)
		}
	}

	first := p.Record
	h.must("preview", form("session", s, "response", "Skip", "record", first))
	// A second answer for the same record: it is either still on screen,
	// answered (409 response), or gone with the next record on screen
	// (409 record). Either way the dialer saw one answer.
	if a := h.post("preview", form("session", s, "response", "Accept", "record", first)); a.status != 409 || (a.field != "response" && a.field != "record") {
		t.Errorf("second answer for record %s: %d %q (%s)", first, a.status, a.field, a.err)
	}
	v = h.awaitPreview(s, "the next preview after Skip", func(p *desktop.PreviewView) bool { return p.Record != first && p.Answered == "" })
	h.awaitWire("the Skip of record "+first, first, 0, func(a, d []string, _ map[string]string) bool { return len(a) == 1 && a[0] == "Skip" })
	if rec := h.record(first); rec.Attempts != 0 {
		h.fatalf("skipped record %s: %d attempts", first, rec.Attempts)
	}

	second := v.Preview.Record
	h.must("preview", form("session", s, "response", "Accept", "record", second))
	v = h.await(s, "the accepted customer connected", func(v desktop.View) bool {
		return v.Call != nil && v.Call.CallType == "CALLTYPE_CUSTOMER_PREVIEW" && v.Call.State == "connected" && v.State == "TALKING"
	})
	if v.Call.ECC["BADialedListID"] != second || v.Call.Customer == nil || v.Call.Customer.Name != h.record(second).CustomerFields["name"] {
		h.fatalf("screen pop of the accepted record %s: %+v customer %+v", second, v.Call, v.Call.Customer)
	}
	h.awaitWire("the accepted record dialed from the agent's phone", second, 0, func(a, d []string, _ map[string]string) bool {
		return len(a) == 1 && a[0] == "Accept" && len(d) == 1 && d[0] == previewExt
	})
	if _, d, _ := h.wire.seen(first, 0); len(d) != 0 {
		h.fatalf("skipped record %s was dialed by %v", first, d)
	}
}

func (h *harness) fatalf(format string, args ...any) {
	h.t.Helper()
	h.t.Fatalf("seed %d: %s", h.seed, fmt.Sprintf(format, args...))
}
