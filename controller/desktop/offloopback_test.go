package desktop_test

// The desktop as `up` serves it off loopback: mounted on the dashboard's
// server (controller/web), whose rule refuses every request from another
// machine without the token — the page's style sheet and script included.
// The test server below makes every request look as if it came from
// another machine, so a request the page sends without the token fails.

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/ipcclab/ipcclab/controller/desktop"
	"github.com/ipcclab/ipcclab/controller/web"
)

// remoteClient is the address every request to offLoopback's server
// appears to come from (TEST-NET-1, RFC 5737).
const remoteClient = "192.0.2.7:50000"

// deskToken is the dashboard server's token in these tests.
const deskToken = "0123456789abcdef0123456789abcdef"

// offLoopback serves h's desktop at /desktop/ on a dashboard server with
// deskToken, every client seen as remoteClient, and returns its base URL.
func (h *harness) offLoopback() string {
	h.t.Helper()
	srv, err := web.New(web.Config{Token: deskToken,
		Source: web.SourceFunc(func(context.Context) (web.Snapshot, error) { return web.Snapshot{}, nil })})
	if err != nil {
		h.t.Fatal(err)
	}
	srv.Mount("/desktop/", h.dk)
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.RemoteAddr = remoteClient
		srv.ServeHTTP(w, r)
	}))
	h.t.Cleanup(ts.Close)
	h.t.Cleanup(srv.Close)
	return ts.URL
}

// fetch does one request off loopback and returns the status and body.
func fetch(t *testing.T, method, u, bearer string, form url.Values) (int, string) {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// Off loopback the page names its assets with the token, and every asset
// and API request that carries it is served; without it, nothing is —
// the assets are not exempt.
func TestOffLoopbackEveryRequestCarriesTheToken(t *testing.T) {
	h := start(t)
	base := h.offLoopback()
	q := "?token=" + deskToken

	code, page := fetch(t, "GET", base+"/desktop/"+q, "", nil)
	if code != 200 {
		t.Fatalf("page with the token: %d %s", code, page)
	}
	for _, want := range []string{`href="style.css` + q + `"`, `src="app.js` + q + `"`} {
		if !strings.Contains(page, want) {
			t.Errorf("the page does not carry the token to its assets: no %s in\n%s", want, page)
		}
	}
	code, js := fetch(t, "GET", base+"/desktop/app.js"+q, "", nil)
	if code != 200 {
		t.Fatalf("app.js with the token: %d", code)
	}
	// The script hands the token on: a Bearer header on every fetch, the
	// URL of the event stream (which cannot carry headers).
	for _, want := range []string{`get("token")`, `Authorization: "Bearer " + token`, `q.set("token", token)`} {
		if !strings.Contains(js, want) {
			t.Errorf("app.js lacks %s", want)
		}
	}
	for _, tc := range []struct {
		what, method, path, bearer string
		form                       url.Values
		code                       int
	}{
		{"page without the token", "GET", "/desktop/", "", nil, 401},
		{"bare prefix without the token", "GET", "/desktop", "", nil, 401},
		{"style without the token", "GET", "/desktop/style.css", "", nil, 401},
		{"script without the token", "GET", "/desktop/app.js", "", nil, 401},
		{"style with the token", "GET", "/desktop/style.css" + q, "", nil, 200},
		{"page with a wrong token", "GET", "/desktop/?token=" + strings.Repeat("f", 32), "", nil, 401},
		{"login without the token", "POST", "/desktop/api/login", "", form("agent", "1001", "extension", "2001"), 401},
		{"login with a wrong bearer", "POST", "/desktop/api/login", "nope", form("agent", "1001", "extension", "2001"), 401},
	} {
		if code, body := fetch(t, tc.method, base+tc.path, tc.bearer, tc.form); code != tc.code {
			t.Errorf("%s: %d %s, want %d", tc.what, code, body, tc.code)
		}
	}

	// The bare prefix sends the browser to the page, token and all (the
	// page's relative links need the slash).
	req, _ := http.NewRequest("GET", base+"/desktop"+q, nil)
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusMovedPermanently || loc != "/desktop/"+q {
		t.Errorf("GET /desktop%s: %d to %q, want 301 to /desktop/%s", q, resp.StatusCode, loc, q)
	}

	// The API with the token as the page sends it: the Bearer header on
	// forms, the query on the event stream.
	code, body := fetch(t, "POST", base+"/desktop/api/login", deskToken, form("agent", "1001", "extension", "2001", "password", "1234"))
	if code != 200 {
		t.Fatalf("login with the bearer token: %d %s", code, body)
	}
	var login struct{ Session string }
	if err := json.Unmarshal([]byte(body), &login); err != nil || login.Session == "" {
		t.Fatalf("login answer %s: %v", body, err)
	}
	if code, body := fetch(t, "POST", base+"/desktop/api/state", deskToken, form("session", login.Session, "state", "ready")); code != 200 {
		t.Errorf("ready with the bearer token: %d %s", code, body)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ = http.NewRequestWithContext(ctx, "GET", base+"/desktop/api/events?"+url.Values{"session": {login.Session}, "token": {deskToken}}.Encode(), nil)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	first, _ := bufio.NewReader(resp.Body).ReadString('\n')
	if resp.StatusCode != 200 || first != "event: view\n" {
		t.Errorf("event stream with the token: %d, first line %q", resp.StatusCode, first)
	}
	cancel()
	if code, body := fetch(t, "POST", base+"/desktop/api/state", deskToken, form("session", login.Session, "state", "logout", "reason", "1")); code != 200 {
		t.Errorf("logout: %d %s", code, body)
	}
}

// A desktop that only its desk agents may use (as `up` configures it)
// refuses any other agent before a CTI session opens: 409 naming agent.
func TestLoginRefusesAnAgentTheEmulatorDrives(t *testing.T) {
	h := start(t, func(c *desktop.Config) { c.Agents = desktop.DeskAgentsOnly([]string{"1001"}) })
	a := h.post("login", form("agent", "1002", "extension", "2002"))
	if a.status != http.StatusConflict || a.field != "agent" || !strings.HasPrefix(a.err, "agent: agent 1002 is not a desktop agent (those are 1001)") ||
		!strings.Contains(a.err, "desktop: true") {
		t.Errorf("login of 1002: %d %q %q, want 409 naming agent", a.status, a.field, a.err)
	}
	if a := h.post("login", form("agent", "1001", "extension", "2001", "password", "1234")); a.status != 200 {
		t.Errorf("login of the desk agent 1001: %d %s", a.status, a.err)
	}
}

func TestDeskAgentsOnly(t *testing.T) {
	for _, tc := range []struct {
		desk  []string
		agent string
		want  string // "" allowed, else the refusal
	}{
		{[]string{"1001", "1002"}, "1002", ""},
		{[]string{"1001", "1002"}, "1003", "agent 1003 is not a desktop agent (those are 1001, 1002): the emulator drives the others; mark its group desktop: true in the scenario"},
		{[]string{"7", "6", "5", "4", "3", "2", "1"}, "9", "agent 9 is not a desktop agent (those are 1, 2, 3, 4, 5 and 2 more): the emulator drives the others; mark its group desktop: true in the scenario"},
		{[]string{}, "1001", "agent 1001 is not a desktop agent: the emulator drives this centre's agents, none is a desktop agent; mark a group desktop: true in the scenario"},
		{nil, "1001", "agent 1001 is not a desktop agent: the emulator drives this centre's agents, none is a desktop agent; mark a group desktop: true in the scenario"},
	} {
		err := desktop.DeskAgentsOnly(tc.desk)(tc.agent)
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != tc.want {
			t.Errorf("desk %v, agent %s: %q, want %q", tc.desk, tc.agent, got, tc.want)
		}
	}
}
