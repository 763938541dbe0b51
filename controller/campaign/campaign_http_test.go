package campaign

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ipcclab/ipcclab/controller"
)

func TestCampaignAPI(t *testing.T) {
	s, _ := openTest(t, t0)
	c := mustCampaign(t, s, NewCampaign("api", Predictive))
	var applied []controller.CampaignLimits
	var applyErr error
	changed := 0
	api := &CampaignAPI{Store: s,
		Apply: func(c Campaign) error {
			if applyErr != nil {
				return applyErr
			}
			applied = append(applied, Limits(c))
			return nil
		},
		Changed: func(int64) { changed++ }}
	srv := httptest.NewServer(api.Handler())
	defer srv.Close()
	do := func(method, path, ctype, body string) (int, map[string]any) {
		t.Helper()
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		if ctype != "" {
			req.Header.Set("Content-Type", ctype)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out
	}
	const js = "application/json"
	path := "/campaigns/" + itoa(c.ID)

	code, out := do("GET", path, "", "")
	if code != 200 || out["calling_hours"] != "08:00-21:00" || out["abandon_limit"] != 0.03 {
		t.Fatalf("GET: %d %v", code, out)
	}

	code, out = do("PATCH", path, js, `{"max_in_flight": 12, "lines_per_agent": 1.5, "abandon_limit": 0.02, "uk_ofcom": true, "abandon_window": "24h",
		"calling_hours": "mon-fri 09:00-20:00; sat 10:00-16:00", "retry": {"busy": {"delay": "20m", "max_attempts": 2}, "machine": {"retry": false}}}`)
	if code != 200 || out["abandon_window"] != "24h0m0s" {
		t.Fatalf("good PATCH: %d %v", code, out)
	}
	got, _ := s.Campaign(c.ID)
	wantHours, _ := ParseHours("mon-fri 09:00-20:00; sat 10:00-16:00")
	if got.MaxInFlight != 12 || got.LinesPerAgent != 1.5 || got.AbandonTarget != 0.02 || !got.UKOfcom || got.CallingHours != wantHours || got.AbandonWindow != 24*time.Hour ||
		got.RetryRules.Busy != (RetryRule{Retry: true, Delay: 20 * time.Minute, MaxAttempts: 2}) || got.RetryRules.Machine.Retry {
		t.Errorf("saved %+v", got)
	}
	if len(applied) != 1 || applied[0].MaxInFlight != 12 || applied[0].AbandonLimit != 0.02 || !*applied[0].UKOfcom || *applied[0].AbandonWindow != 24*time.Hour || changed != 1 {
		t.Errorf("controller got %+v (changed %d)", applied, changed)
	}

	for _, tc := range []struct {
		name, method, path, ctype, body string
		code                            int
		field                           string
		// want, when set, is the whole error text.
		want string
	}{
		{"unknown campaign", "PATCH", "/campaigns/999", js, `{}`, 404, "id", ""},
		{"not a campaign id", "GET", "/campaigns/abc", "", "", 400, "id", `id: "abc": want a campaign ID, a whole number from 1`},
		{"campaign id zero", "GET", "/campaigns/0", "", "", 400, "id", ""},
		{"negative campaign id", "PATCH", "/campaigns/-4", js, `{}`, 400, "id", ""},
		{"records of no campaign id", "POST", "/campaigns/x1/records", "text/csv", "phone\n", 400, "id", ""},
		{"callbacks of no campaign id", "POST", "/campaigns/1.5/callbacks", js, `{}`, 400, "id", ""},
		{"abandon limit above 3 %", "PATCH", path, js, `{"abandon_limit": 2}`, 400, "abandon_limit", "abandon_limit: 2: want 0 < limit ≤ 0.03"},
		{"abandon limit zero", "PATCH", path, js, `{"abandon_limit": 0}`, 400, "abandon_limit", "abandon_limit: 0: want 0 < limit ≤ 0.03"},
		{"two problems", "PATCH", path, js, `{"max_attempts": 0, "max_in_flight": -3}`, 400, "max_attempts",
			"max_attempts: 0: want 1 ≤ n ≤ 100; max_in_flight: -3: want 0 (the controller's limit) or 1–100000"},
		{"retry attempts", "PATCH", path, js, `{"retry": {"busy": {"max_attempts": 101}}}`, 400, "retry.busy.max_attempts",
			"retry.busy.max_attempts: 101: want 0 (the campaign's) or 1–100"},
		{"retry not an object", "PATCH", path, js, `{"retry": 5}`, 400, "retry", "retry: want an object, got number"},
		{"enabled not a boolean", "PATCH", path, js, `{"enabled": "yes"}`, 400, "enabled", "enabled: want true or false, got string"},
		{"not an object", "PATCH", path, js, `[1]`, 400, "", "want an object, got array"},
		{"bad hours", "PATCH", path, js, `{"calling_hours": "21:00-09:00"}`, 400, "calling_hours", ""},
		{"UK lockout", "PATCH", path, js, `{"retry": {"abandoned": {"delay": "24h"}}}`, 400, "retry.abandoned.delay", ""},
		{"bad duration", "PATCH", path, js, `{"retry": {"busy": {"delay": "soon"}}}`, 400, "retry.busy.delay", ""},
		{"unknown outcome", "PATCH", path, js, `{"retry": {"fax": {"delay": "1h"}}}`, 400, "retry.fax", ""},
		{"attempts", "PATCH", path, js, `{"max_attempts": 0}`, 400, "max_attempts", ""},
		{"lines per agent", "PATCH", path, js, `{"lines_per_agent": 0.5}`, 400, "lines_per_agent", ""},
		{"abandon window too short", "PATCH", path, js, `{"abandon_window": "10m"}`, 400, "abandon_window",
			"abandon_window: 10m0s: want 0 (the controller's window) or whole seconds from 1h to 8784h0m0s"},
		{"abandon window not whole seconds", "PATCH", path, js, `{"abandon_window": "1h0m0.5s"}`, 400, "abandon_window", ""},
		{"abandon window not a duration", "PATCH", path, js, `{"abandon_window": "a month"}`, 400, "abandon_window",
			`abandon_window: "a month": want a duration such as 720h or 24h (0s: the controller's window)`},
		{"abandon window negative", "PATCH", path, js, `{"abandon_window": "-24h"}`, 400, "abandon_window", ""},
		{"abandon window a number", "PATCH", path, js, `{"abandon_window": 720}`, 400, "abandon_window", ""},
		{"negative in flight", "PATCH", path, js, `{"max_in_flight": -3}`, 400, "max_in_flight", ""},
		{"wrong type", "PATCH", path, js, `{"max_in_flight": "many"}`, 400, "max_in_flight", "max_in_flight: want a whole number, got string"},
		{"unknown field", "PATCH", path, js, `{"speed": 11}`, 400, "speed", ""},
		{"mode change", "PATCH", path, js, `{"mode": "preview"}`, 400, "mode", ""},
		{"bad JSON", "PATCH", path, js, `{"max_in_flight": `, 400, "", ""},
		{"two objects", "PATCH", path, js, `{} {}`, 400, "", ""},
		{"not JSON", "PATCH", path, "text/plain", `{}`, 415, "", ""},
		{"wrong method", "DELETE", path, "", "", 405, "", ""},
		{"records wrong type", "POST", path + "/records", js, `{}`, 415, "", ""},
		{"records bad header", "POST", path + "/records", "text/csv", "name\nx\n", 400, "body", ""},
		{"records header only", "POST", path + "/records", "text/csv", "phone,time_zone\n", 422, "body", "body: no records after the header"},
		{"records every row rejected", "POST", path + "/records", "text/csv", "phone,time_zone\ncall me,UTC\n+1 212 555 0199,Mars/Base\n", 422, "body",
			"body: every row was rejected (2; see rejected)"},
	} {
		code, out := do(tc.method, tc.path, tc.ctype, tc.body)
		msg, _ := out["error"].(string)
		switch {
		case code != tc.code || (tc.field != "" && out["field"] != tc.field):
			t.Errorf("%s: %d %v, want %d naming %q", tc.name, code, out, tc.code, tc.field)
		case tc.want != "" && msg != tc.want:
			t.Errorf("%s: error %q, want %q", tc.name, msg, tc.want)
		case tc.field != "" && !strings.HasPrefix(msg, tc.field+": "):
			t.Errorf("%s: error %q does not start with its field %q", tc.name, msg, tc.field)
		case goName.MatchString(msg):
			t.Errorf("%s: error %q shows a Go name", tc.name, msg)
		}
	}
	if again, _ := s.Campaign(c.ID); again.MaxInFlight != 12 || again.CallingHours != wantHours || len(applied) != 1 {
		t.Errorf("a refused change reached the store or the controller: %+v, %d applied", again, len(applied))
	}

	// The controller refuses a field: 400 naming it, nothing saved.
	applyErr = &controller.LimitError{Field: "LinesPerAgent", Err: errors.New("strategy predictive has no lines-per-agent level")}
	code, out = do("PATCH", path, js, `{"lines_per_agent": 2}`)
	if code != 400 || out["field"] != "lines_per_agent" {
		t.Errorf("controller refused lines_per_agent: %d %v", code, out)
	}
	applyErr = errors.New("controller: the controller's loop did not answer")
	code, _ = do("PATCH", path, js, `{"max_in_flight": 3}`)
	if again, _ := s.Campaign(c.ID); code != 503 || again.MaxInFlight != 12 || again.LinesPerAgent != 1.5 {
		t.Errorf("controller away: %d, saved %+v", code, again)
	}
	applyErr = nil

	// Every row rejected: 422, and the report says why, line by line.
	code, out = do("POST", path+"/records", "text/csv", "phone,time_zone\ncall me,UTC\n+1 212 555 0199,Mars/Base\n")
	if rej, _ := out["rejected"].([]any); code != 422 || out["imported"] != 0.0 || len(rej) != 2 || rej[1].(map[string]any)["line"] != 3.0 {
		t.Errorf("list with every row rejected: %d %v", code, out)
	}
	if changed != 1 {
		t.Errorf("a list with nothing imported told the controller (%d changes)", changed)
	}

	// A list posted to the running campaign: bad rows named by line.
	list, err := os.ReadFile("testdata/zones.csv")
	if err != nil {
		t.Fatal(err)
	}
	code, out = do("POST", path+"/records", "text/csv", string(list))
	rej, _ := out["rejected"].([]any)
	if code != 200 || out["imported"] != 8.0 || len(rej) != 2 || rej[0].(map[string]any)["line"] != 8.0 {
		t.Errorf("list import: %d %v", code, out)
	}
	// And a web callback beside it.
	code, out = do("POST", path+"/callbacks", js, `{"phone":"+44 20 7946 0958","time_zone":"Europe/London"}`)
	if code != 201 {
		t.Errorf("callback: %d %v", code, out)
	}
	// "0s" goes back to the controller's window: saved as 0, handed on as
	// 0, left out of the answer.
	code, out = do("PATCH", path, js, `{"abandon_window": "0s"}`)
	if again, _ := s.Campaign(c.ID); code != 200 || again.AbandonWindow != 0 || *applied[len(applied)-1].AbandonWindow != 0 || out["abandon_window"] != nil {
		t.Errorf("abandon_window 0s: %d %v, saved %v", code, out, again.AbandonWindow)
	}

	// Still serving after all that.
	if code, _ := do("GET", path, "", ""); code != 200 {
		t.Errorf("GET after the bad requests: %d", code)
	}
}

// goName matches what only Go code says: a qualified or exported Go name
// (Campaign.AbandonTarget, campaign.retryJSON), a pointer or map type.
var goName = regexp.MustCompile(`[A-Za-z]+\.[A-Z][a-z]+[A-Z]|\bcampaign[.:]|\*[a-z]+[0-9]*\b|map\[|float64|int64`)

func itoa(v int64) string { b, _ := json.Marshal(v); return string(b) }
