package desktop_test

// The handler against the real emulator (internal/lab, CTI only): one
// inbound agent of the scenario is marked desktop: true, so only the
// desktop logs it in and answers for it.

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ipcclab/ipcclab/controller/desktop"
	"github.com/ipcclab/ipcclab/internal/lab"
	"github.com/ipcclab/ipcclab/scenarios"
)

type fakeRecalls struct {
	mu  sync.Mutex
	got []desktop.Recall
}

func (f *fakeRecalls) ScheduleRecall(r desktop.Recall) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.got = append(f.got, r)
	return nil
}

func (f *fakeRecalls) all() []desktop.Recall {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]desktop.Recall(nil), f.got...)
}

// deskSeed is the seed of the desktop tests' centre.
const deskSeed = 3

type harness struct {
	t       *testing.T
	run     *lab.Running
	dk      *desktop.Handler
	srv     *httptest.Server
	recalls *fakeRecalls
	now     time.Time
	// seed is the centre's, printed with every failure.
	seed uint64
}

// start runs the emulator and the desktop on an httptest server mounted at
// /desktop/, as the integrator's server mounts it; tune, when given,
// changes the desktop's configuration first.
func start(t *testing.T, tune ...func(*desktop.Config)) *harness {
	t.Helper()
	sc, err := scenarios.Load("testdata/desk.yaml")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	run, err := lab.Start(ctx, lab.UpOptions{Scenario: sc, Seed: deskSeed, CTIAddr: "127.0.0.1:0", NoController: true, Duration: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = run.Stop() })
	run.Begin()
	h := &harness{t: t, run: run, recalls: &fakeRecalls{}, now: time.Now(), seed: deskSeed}
	cfg := desktop.Config{CTIAddr: run.CTIAddr(), PeripheralID: 5000, Recalls: h.recalls,
		Customers: desktop.CustomerFunc(func(c desktop.CallData) (desktop.Customer, bool) {
			if c.CallVariables[1] == "" {
				return desktop.Customer{}, false
			}
			return desktop.Customer{Name: "Ada Lovelace", Fields: map[string]string{"tier": "gold"}}, true
		}),
		Logf: t.Logf}
	for _, f := range tune {
		f(&cfg)
	}
	dk, err := desktop.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(dk.Close)
	h.dk = dk
	mux := http.NewServeMux()
	mux.Handle("/desktop/", dk)
	h.srv = httptest.NewServer(mux)
	t.Cleanup(h.srv.Close)
	return h
}

type answer struct {
	status int
	field  string
	err    string
	view   desktop.View
	raw    map[string]json.RawMessage
}

func (h *harness) post(api string, form url.Values) answer {
	h.t.Helper()
	resp, err := http.PostForm(h.srv.URL+"/desktop/api/"+api, form)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	a := answer{status: resp.StatusCode}
	if err := json.NewDecoder(resp.Body).Decode(&a.raw); err != nil {
		h.t.Fatalf("%s: body: %v", api, err)
	}
	_ = json.Unmarshal(a.raw["field"], &a.field)
	_ = json.Unmarshal(a.raw["error"], &a.err)
	if v, ok := a.raw["view"]; ok {
		_ = json.Unmarshal(v, &a.view)
	} else if a.status == http.StatusOK {
		b, _ := json.Marshal(a.raw)
		_ = json.Unmarshal(b, &a.view)
	}
	return a
}

func (h *harness) must(api string, form url.Values) desktop.View {
	h.t.Helper()
	a := h.post(api, form)
	if a.status != http.StatusOK {
		h.t.Fatalf("%s %v: %d %s", api, form, a.status, a.err)
	}
	return a.view
}

func (h *harness) view(session string) desktop.View {
	h.t.Helper()
	resp, err := http.Get(h.srv.URL + "/desktop/api/view?session=" + session)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	var v desktop.View
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		h.t.Fatal(err)
	}
	return v
}

// await polls the view until ok holds (events arrive asynchronously).
func (h *harness) await(session, what string, ok func(desktop.View) bool) desktop.View {
	h.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		v := h.view(session)
		if ok(v) {
			return v
		}
		if time.Now().After(deadline) {
			h.fatalf("timed out waiting for %s; view %+v call %+v preview %+v", what, v, v.Call, v.Preview)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func form(kv ...string) url.Values {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Set(kv[i], kv[i+1])
	}
	return v
}

// The acceptance flow over the API: login → ready → call
// delivered with its screen pop → answer → script with a branch and
// captured fields written to the call → release → disposition with a
// recall → the agent in the after-call state.
func TestDesktopFlowAgainstEmulator(t *testing.T) {
	h := start(t)
	if a := h.post("login", form("agent", "1001", "extension", "2001", "password", "4321")); a.status != http.StatusConflict || a.field != "password" {
		t.Fatalf("login with a wrong password: %d %q %s", a.status, a.field, a.err)
	}
	login := h.post("login", form("agent", "1001", "extension", "2001", "password", "1234"))
	if login.status != http.StatusOK {
		t.Fatalf("login: %d %s", login.status, login.err)
	}
	var s string
	_ = json.Unmarshal(login.raw["session"], &s)
	// The page renders the login's view before any event may have come:
	// its log is a list, even empty (a null stopped the page's script
	// before it opened the event stream).
	var first map[string]json.RawMessage
	if err := json.Unmarshal(login.raw["view"], &first); err != nil || !strings.HasPrefix(string(first["log"]), "[") {
		t.Fatalf("login view log %s (%v)", first["log"], err)
	}
	h.await(s, "NOT_READY after login", func(v desktop.View) bool { return v.State == "NOT_READY" })

	if a := h.post("login", form("agent", "1001", "extension", "2001", "password", "1234")); a.status != http.StatusConflict || a.field != "agent" {
		t.Fatalf("second login of 1001: %d %q", a.status, a.field)
	}
	h.must("state", form("session", s, "state", "not_ready", "reason", "2"))
	h.await(s, "NOT_READY reason 2", func(v desktop.View) bool { return v.State == "NOT_READY" && v.ReasonCode == 2 })
	h.must("state", form("session", s, "state", "ready"))
	h.await(s, "AVAILABLE", func(v desktop.View) bool { return v.State == "AVAILABLE" })

	h.run.Arrive(1)
	v := h.await(s, "a ringing call", func(v desktop.View) bool { return v.Call != nil && v.Call.State == "alerting" })
	if v.Call.Variables["CallVariable1"] != "SalesInbound" || v.Call.Variables["CallVariable2"] == "" || v.Call.ANI == "" {
		t.Fatalf("screen pop without the call data: %+v", v.Call)
	}
	if v.Call.Customer == nil || v.Call.Customer.Name != "Ada Lovelace" {
		t.Fatalf("screen pop without the customer: %+v", v.Call.Customer)
	}
	if v.Script == nil || v.Script.Step != "greet" || !strings.Contains(v.Script.Text, "calling about SalesInbound") ||
		!strings.Contains(v.Script.Text, "Ada Lovelace (account "+v.Call.Variables["CallVariable2"]+")") {
		t.Fatalf("script not rendered from the call data: %+v", v.Script)
	}
	if a := h.post("release", form("session", s)); a.status != http.StatusConflict || a.field != "call" {
		t.Fatalf("release of a ringing call: %d %q", a.status, a.field)
	}
	h.must("answer", form("session", s))
	h.await(s, "TALKING", func(v desktop.View) bool { return v.State == "TALKING" && v.Call.State == "connected" })

	steps := []struct {
		form  url.Values
		code  int
		field string
		next  string
	}{
		{form("step", "greet", "answer", "maybe"), 400, "answer", "greet"},
		{form("step", "reason", "answer", "buy"), 409, "step", "greet"},
		{form("step", "greet", "answer", "no"), 200, "", "identify"},
		{form("step", "identify", "caller_name", "1"), 400, "caller_name", "identify"},
		{form("step", "identify", "caller_name", "Ada King"), 200, "", "reason"},
		{form("step", "reason", "answer", "buy"), 200, "", "offer"},
		{form("step", "offer", "email", ""), 400, "email", "offer"},
		{form("step", "offer", "email", "ada@example.com"), 200, "", "close"},
		{form("step", "close"), 409, "step", "close"},
	}
	for _, st := range steps {
		st.form.Set("session", s)
		a := h.post("script", st.form)
		if a.status != st.code || a.field != st.field {
			t.Fatalf("script %v: %d %q (%s), want %d %q", st.form, a.status, a.field, a.err, st.code, st.field)
		}
		if got := h.view(s).Script.Step; got != st.next {
			t.Fatalf("script %v: at step %q, want %q", st.form, got, st.next)
		}
	}
	// SET_CALL_DATA_REQ reached the CTI Server: its CALL_DATA_UPDATE_EVENT
	// carries the captured values.
	v = h.await(s, "the captured fields on the call", func(v desktop.View) bool {
		return v.Call.Variables["CallVariable6"] == "Ada King" && v.Call.Variables["CallVariable7"] == "ada@example.com"
	})
	if v.Script.Captured["email"] != "ada@example.com" || !strings.Contains(v.Script.Text, "Thank you for calling, Ada King.") {
		t.Fatalf("script after capture: %+v", v.Script)
	}

	if a := h.post("disposition", form("session", s, "code", "sale")); a.status != http.StatusConflict || a.field != "call" {
		t.Fatalf("disposition during the call: %d %q", a.status, a.field)
	}
	h.must("release", form("session", s))
	h.await(s, "wrap-up", func(v desktop.View) bool { return v.State == "WORK_READY" && v.Call.State == "cleared" })

	past := time.Now().Add(-time.Hour).Format("2006-01-02T15:04")
	if a := h.post("disposition", form("session", s, "code", "callback", "callback_at", past)); a.status != 400 || a.field != "callback_at" {
		t.Fatalf("recall in the past: %d %q", a.status, a.field)
	}
	at := time.Now().Add(26 * time.Hour).Truncate(time.Minute)
	v = h.must("disposition", form("session", s, "code", "callback", "callback_at", at.Format("2006-01-02T15:04"), "callback_agent", "personal"))
	if v.Last == nil || v.Last.Code != "callback" || v.Last.Fields["email"] != "ada@example.com" ||
		strings.Join(v.Last.ScriptPath, ",") != "greet,identify,reason,offer,close" {
		t.Fatalf("disposition record %+v", v.Last)
	}
	rc := h.recalls.all()
	if len(rc) != 1 || !rc[0].At.Equal(at) || rc[0].AgentID != "1001" || rc[0].Phone == "" || rc[0].Fields["caller_name"] != "Ada King" {
		t.Fatalf("recalls %+v", rc)
	}
	h.await(s, "AVAILABLE after the disposition", func(v desktop.View) bool { return v.State == "AVAILABLE" && v.Call == nil })

	h.must("state", form("session", s, "state", "logout", "reason", "1"))
	if a := h.post("state", form("session", s, "state", "ready")); a.status != http.StatusUnauthorized || a.field != "session" {
		t.Fatalf("after logout: %d %q", a.status, a.field)
	}
}

// Every form field is validated before anything reaches the CTI Server;
// the answer is a 4xx naming the field.
func TestBadInputNamesTheField(t *testing.T) {
	h := start(t)
	login := h.post("login", form("agent", "1001", "extension", "2001", "password", "1234"))
	var s string
	_ = json.Unmarshal(login.raw["session"], &s)
	cases := []struct {
		api   string
		form  url.Values
		code  int
		field string
	}{
		{"login", form("extension", "2001"), 400, "agent"},
		{"login", form("agent", "10a1", "extension", "2001"), 400, "agent"},
		{"login", form("agent", "123456789012", "extension", "2001"), 400, "agent"},
		{"login", form("agent", "1002"), 400, "extension"},
		{"login", form("agent", "1002", "extension", "20-01"), 400, "extension"},
		{"login", form("agent", "1002", "extension", "2002", "password", strings.Repeat("p", 64)), 400, "password"},
		{"login", form("agent", "4242", "extension", "2999"), 409, "agent"}, // the CTI Server knows no such agent
		{"state", form("state", "ready"), 401, "session"},
		{"state", form("session", "nothex", "state", "ready"), 400, "session"},
		{"state", form("session", strings.Repeat("0", 32), "state", "ready"), 401, "session"},
		{"state", form("session", s), 400, "state"},
		{"state", form("session", s, "state", "lunch"), 400, "state"},
		{"state", form("session", s, "state", "not_ready"), 400, "reason"},
		{"state", form("session", s, "state", "not_ready", "reason", "77"), 400, "reason"},
		{"state", form("session", s, "state", "not_ready", "reason", "x"), 400, "reason"},
		{"answer", form("session", s), 409, "call"},
		{"script", form("session", s), 400, "step"},
		{"script", form("session", s, "step", "greet"), 409, "call"},
		{"disposition", form("session", s), 400, "code"},
		{"disposition", form("session", s, "code", "maybe"), 400, "code"},
		{"disposition", form("session", s, "code", "callback"), 400, "callback_at"},
		{"disposition", form("session", s, "code", "callback", "callback_at", "tomorrow"), 400, "callback_at"},
		{"disposition", form("session", s, "code", "callback", "callback_at", time.Now().AddDate(0, 0, 40).Format("2006-01-02T15:04")), 400, "callback_at"},
		{"disposition", form("session", s, "code", "callback", "callback_at", time.Now().Add(time.Hour).Format(time.RFC3339), "callback_agent", "boss"), 400, "callback_agent"},
		{"disposition", form("session", s, "code", "sale"), 409, "call"},
		{"disposition", form("session", s, "code", "callback", "callback_at", time.Now().Add(-time.Minute).Format(time.RFC3339)), 400, "callback_at"},
		{"disposition", form("session", s, "code", "callback", "callback_at", "2031-02-30T10:00"), 400, "callback_at"},
		{"disposition", form("session", s, "code", "callback", "callback_at", "31/12/2031 10:00"), 400, "callback_at"},
		{"disposition", form("session", s, "code", "Sale"), 400, "code"},
		{"preview", form("session", s, "response", "Maybe", "record", "12"), 400, "response"},
		{"preview", form("session", s, "response", "Accept"), 400, "record"},
		{"preview", form("session", s, "response", "Skip", "record", strings.Repeat("9", 41)), 400, "record"},
		{"preview", form("session", s, "response", "Skip", "record", "12"), 409, "record"}, // no preview offered
		{"nosuch", form("session", s), 404, "path"},
	}
	for _, tc := range cases {
		a := h.post(tc.api, tc.form)
		if a.status != tc.code || a.field != tc.field || !strings.HasPrefix(a.err, tc.field+": ") {
			t.Errorf("%s %v: %d %q %q, want %d naming %q", tc.api, tc.form, a.status, a.field, a.err, tc.code, tc.field)
		}
	}
	resp, err := http.Get(h.srv.URL + "/desktop/api/state")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET /api/state: %d", resp.StatusCode)
	}
	big := form("session", s, "state", strings.Repeat("x", 20<<10))
	if a := h.post("state", big); a.status != 400 || a.field != "form" {
		t.Errorf("oversized form: %d %q", a.status, a.field)
	}
	// The API takes forms: another body would read as no fields at all.
	for _, tc := range []struct{ api, ctype, body string }{
		{"login", "application/json", `{"agent": "1001", "extension": "2001"}`},
		{"state", "text/plain", "session=" + s + "&state=ready"},
		{"answer", "", "session=" + s},
		{"login", "multipart/form-data; boundary=x", "--x--"},
	} {
		resp, err := http.Post(h.srv.URL+"/desktop/api/"+tc.api, tc.ctype, strings.NewReader(tc.body))
		if err != nil {
			t.Fatal(err)
		}
		var out struct{ Field, Error string }
		_ = json.NewDecoder(resp.Body).Decode(&out)
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnsupportedMediaType || out.Field != "Content-Type" || !strings.HasPrefix(out.Error, "Content-Type: ") {
			t.Errorf("%s with a %q body: %d %+v, want 415 naming Content-Type", tc.api, tc.ctype, resp.StatusCode, out)
		}
	}
}

// The pages are embedded and served under the prefix.
func TestPagesAreServed(t *testing.T) {
	h := start(t)
	for _, p := range []string{"/desktop/", "/desktop/app.js", "/desktop/style.css"} {
		resp, err := http.Get(h.srv.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("%s: %d", p, resp.StatusCode)
		}
	}
	if _, err := os.Stat("assets/index.html"); err != nil {
		t.Fatal(err)
	}
}
