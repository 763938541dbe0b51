package desktop

import (
	"errors"
	"github.com/ipcclab/ipcclab/protocol/cti"
	"strings"
	"testing"
	"time"

	"github.com/ipcclab/ipcclab/controller/campaign"
)

func TestDefaultScriptsAreValid(t *testing.T) {
	for _, s := range []*Script{DefaultInbound(), DefaultOutbound()} {
		if err := s.Validate(); err != nil {
			t.Error(err)
		}
	}
}

// A broken script is refused at start-up with the step and field named.
func TestScriptValidationNamesTheProblem(t *testing.T) {
	cases := []struct {
		name string
		edit func(*Script)
		want string
	}{
		{"unknown start", func(s *Script) { s.Start = "nowhere" }, `start: no step "nowhere"`},
		{"repeated step", func(s *Script) { s.Steps[1].ID = "greet" }, "steps[1]: id empty or repeated"},
		{"branch to nowhere", func(s *Script) { s.Steps[0].Answers[1].Next = "x" }, `steps[0] (greet): answers[1]: empty value or no step "x"`},
		{"next to nowhere", func(s *Script) { s.Steps[1].Next = "" }, `steps[1] (identify): next: no step ""`},
		{"bad pattern", func(s *Script) { s.Steps[1].Fields[0].Pattern = "[a-" }, "steps[1] (identify): fields[0]: pattern"},
		{"bad target", func(s *Script) { s.Steps[1].Fields[0].Target = "CallVariable11" }, "fields[0]: target: \"CallVariable11\""},
		{"bad field name", func(s *Script) { s.Steps[1].Fields[0].Name = "Caller Name" }, `fields[0]: name "Caller Name"`},
		{"no end", func(s *Script) { s.Steps[5].End, s.Steps[5].Next = false, "greet" }, "no step has end: true"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := DefaultInbound()
			tc.edit(s)
			err := s.Validate()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want %q", err, tc.want)
			}
		})
	}
}

func TestRenderSubstitutesCallData(t *testing.T) {
	got := Render("Hi {{ customer.name }}, account {{CallVariable2}}, {{BAAccountNumber}}{{missing}}.",
		map[string]string{"customer.name": "Ada", "CallVariable2": "0042", "BAAccountNumber": "AC7"})
	if want := "Hi Ada, account 0042, AC7."; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}

func TestCheckField(t *testing.T) {
	email := Field{Name: "email", Required: true, Pattern: `[^@\s]+@[^@\s]+\.[A-Za-z]{2,}`, Hint: "an e-mail address", Target: "CallVariable7"}
	cases := []struct {
		f    Field
		v    string
		want string
	}{
		{email, "", "required"},
		{email, "ada@example.com", ""},
		{email, "ada@example", "an e-mail address"},
		{email, "x@example.com trailing", "an e-mail address"}, // the whole value must match
		{email, strings.Repeat("a", 30) + "@example.com", "at most 40 characters"},
		{Field{Name: "n"}, "", ""},
		{Field{Name: "n", Pattern: "basic|plus"}, "plusplus", "does not match basic|plus"},
		{Field{Name: "n", Target: "ECC:user.x"}, strings.Repeat("a", 211), "at most 210 characters"},
	}
	for _, tc := range cases {
		err := checkField(tc.f, tc.v)
		if (err == nil) != (tc.want == "") || err != nil && !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s=%q: got %v, want %q", tc.f.Name, tc.v, err, tc.want)
		}
	}
}

func TestMapCustomersLooksUpByAccountThenANI(t *testing.T) {
	m := MapCustomers{"AC7": {Name: "Preview Pat"}, "0042": {Name: "Ivr Ida"}, "15550001": {Name: "Ani Ann"}}
	cases := []struct {
		c    CallData
		want string
	}{
		{CallData{ECC: map[string]string{"BAAccountNumber": "AC7"}, ANI: "15550001"}, "Preview Pat"},
		{CallData{CallVariables: [10]string{"Sales", "0042"}, ANI: "15550001"}, "Ivr Ida"},
		{CallData{ANI: "15550001"}, "Ani Ann"},
		{CallData{ANI: "999"}, ""},
	}
	for _, tc := range cases {
		cu, ok := m.Customer(tc.c)
		if ok != (tc.want != "") || cu.Name != tc.want {
			t.Errorf("%+v: got %q %v, want %q", tc.c, cu.Name, ok, tc.want)
		}
	}
}

type fakeStore struct {
	recalls   []campaign.Recall
	callbacks []string
	err       error
}

func (f *fakeStore) ScheduleRecall(id int64, at time.Time, agent string) error {
	f.recalls = append(f.recalls, campaign.Recall{RecordID: id, At: at, AgentID: agent})
	return f.err
}

func (f *fakeStore) AddCallback(cid int64, phone, tz string, fields map[string]string, at time.Time) (campaign.Record, error) {
	f.callbacks = append(f.callbacks, phone+" "+tz+" "+fields["disposition"])
	return campaign.Record{ID: 900, CampaignID: cid, Phone: phone}, f.err
}

// A campaign call is recalled on its record; an inbound caller becomes a
// callback record, personal when asked.
func TestCampaignRecallsAdapter(t *testing.T) {
	at := time.Date(2030, 1, 2, 10, 0, 0, 0, time.UTC)
	st := &fakeStore{}
	a := CampaignRecalls{Store: st, CampaignID: 3, TimeZone: "Europe/Zurich"}
	if err := a.ScheduleRecall(Recall{At: at, RecordID: 7, AgentID: "1001"}); err != nil {
		t.Fatal(err)
	}
	if err := a.ScheduleRecall(Recall{At: at, Phone: "15550001", AgentID: "1002", Disposition: "callback"}); err != nil {
		t.Fatal(err)
	}
	if len(st.recalls) != 2 || st.recalls[0] != (campaign.Recall{RecordID: 7, At: at, AgentID: "1001"}) ||
		st.recalls[1] != (campaign.Recall{RecordID: 900, At: at, AgentID: "1002"}) {
		t.Fatalf("recalls %+v", st.recalls)
	}
	if len(st.callbacks) != 1 || st.callbacks[0] != "15550001 Europe/Zurich callback" {
		t.Fatalf("callbacks %q", st.callbacks)
	}
	if err := (CampaignRecalls{Store: st}).ScheduleRecall(Recall{At: at, Phone: "1"}); err == nil {
		t.Fatal("an inbound recall without a callback campaign must be refused")
	}
	st.err = errors.New("store down")
	if err := a.ScheduleRecall(Recall{At: at, RecordID: 7}); err == nil {
		t.Fatal("a store error must reach the caller")
	}
}

// Config problems are refused at New with the field named.
func TestConfigDefaultsAndErrors(t *testing.T) {
	cases := []struct {
		cfg  Config
		want string
	}{
		{Config{}, "CTIAddr: required"},
		{Config{CTIAddr: "x:1", AfterCall: "lunch"}, `AfterCall: "lunch"`},
		{Config{CTIAddr: "x:1", AfterCall: AfterNotReady, AfterCallReason: 99}, "AfterCallReason: 99"},
		{Config{CTIAddr: "x:1", AfterOutbound: "outbound"}, `AfterOutbound: "outbound"`},
		{Config{CTIAddr: "x:1", AfterOutbound: AfterNotReady, AfterOutboundReason: 101}, "AfterOutboundReason: 101"},
		{Config{CTIAddr: "x:1", Dispositions: []DispositionCode{{Code: "a"}, {Code: "a"}}}, "Dispositions[1]"},
		{Config{CTIAddr: "x:1", Inbound: &Script{Name: "empty"}}, `script "empty": no steps`},
	}
	for _, tc := range cases {
		if _, err := New(tc.cfg); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: got %v, want %q", tc.cfg, err, tc.want)
		}
	}
	h, err := New(Config{CTIAddr: "127.0.0.1:1"})
	if err != nil || h.cfg.Prefix != "/desktop" || len(h.cfg.ReasonCodes) == 0 || h.cfg.AfterCall != AfterReady || h.cfg.AfterOutbound != AfterReady {
		t.Fatalf("defaults: %v %+v", err, h)
	}
}

// After a campaign call a person goes where AfterOutbound says (the
// controller's outbound Not Ready reason in up); after any other call,
// where AfterCall says. Unset, AfterOutbound follows AfterCall.
func TestAfterCallByCallType(t *testing.T) {
	outbound := ReasonCode{Code: 101, Label: "Outbound campaign"}
	codes := WithReason(DefaultReasonCodes, outbound)
	if len(codes) != len(DefaultReasonCodes)+1 || len(WithReason(codes, outbound)) != len(codes) {
		t.Fatalf("WithReason: %v", codes)
	}
	split, err := Config{CTIAddr: "x:1", ReasonCodes: codes, AfterOutbound: AfterNotReady, AfterOutboundReason: 101}.Defaults()
	if err != nil {
		t.Fatal(err)
	}
	same, err := Config{CTIAddr: "x:1", ReasonCodes: codes, AfterCall: AfterNotReady, AfterCallReason: 2}.Defaults()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		cfg    Config
		typ    cti.CallType
		state  string
		reason uint16
	}{
		{split, cti.CallTypeACDIn, AfterReady, 0},
		{split, cti.CallTypeCustomerPreview, AfterNotReady, 101},
		{split, cti.CallTypeAutoOut, AfterNotReady, 101},
		{split, cti.CallTypeReservationPreview, AfterNotReady, 101},
		{same, cti.CallTypeACDIn, AfterNotReady, 2},
		{same, cti.CallTypeCustomerPreview, AfterNotReady, 2},
	} {
		if st, r := tc.cfg.afterCall(tc.typ); st != tc.state || r != tc.reason {
			t.Errorf("AfterCall %s/%d AfterOutbound %s/%d, call type %v: %s/%d, want %s/%d", tc.cfg.AfterCall, tc.cfg.AfterCallReason,
				tc.cfg.AfterOutbound, tc.cfg.AfterOutboundReason, tc.typ, st, r, tc.state, tc.reason)
		}
	}
}
