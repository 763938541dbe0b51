package campaign

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestCallbackHandler(t *testing.T) {
	s, _ := openTest(t, t0)
	c := mustCampaign(t, s, NewCampaign("web", Preview))
	if _, err := s.AddDNC(DNCEntry{"4420794600", true}); err != nil {
		t.Fatal(err)
	}
	h := NewCallbackHandler(s, c.ID)
	do := func(method, ctype, body string) (int, map[string]any) {
		req := httptest.NewRequest(method, "/callback", strings.NewReader(body))
		if ctype != "" {
			req.Header.Set("Content-Type", ctype)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		var out map[string]any
		json.Unmarshal(rec.Body.Bytes(), &out)
		return rec.Code, out
	}
	const js = "application/json"

	code, out := do("POST", js+"; charset=utf-8", `{"phone":"+44 20 7946 0958","time_zone":"Europe/London","name":"Zoë","at":"2026-06-01T17:00:00+01:00"}`)
	if code != http.StatusCreated {
		t.Fatalf("good request: %d %v", code, out)
	}
	r, err := s.Record(int64(out["id"].(float64)))
	if err != nil {
		t.Fatal(err)
	}
	if r.Phone != "442079460958" || !r.Callback || r.CustomerFields["name"] != "Zoë" || !r.NextAt.Equal(time.Date(2026, 6, 1, 16, 0, 0, 0, time.UTC)) {
		t.Errorf("stored %+v", r)
	}
	if got, _ := s.Next(c.ID, r.NextAt, 1); len(got) != 1 || got[0].ID != r.ID {
		t.Errorf("callback not selected at its time: %v", got)
	}

	for _, tc := range []struct {
		name, method, ctype, body string
		code                      int
		field                     string
	}{
		{"GET", "GET", "", "", 405, ""},
		{"not JSON", "POST", "text/plain", `phone=1`, 415, ""},
		{"no phone", "POST", js, `{"time_zone":"UTC"}`, 400, "phone"},
		{"letters", "POST", js, `{"phone":"call me","time_zone":"UTC"}`, 400, "phone"},
		{"no zone", "POST", js, `{"phone":"14155550100"}`, 400, "time_zone"},
		{"bad zone", "POST", js, `{"phone":"14155550100","time_zone":"Mars/Base"}`, 400, "time_zone"},
		{"bad at", "POST", js, `{"phone":"14155550100","time_zone":"UTC","at":"tomorrow"}`, 400, "at"},
		{"number as phone", "POST", js, `{"phone":14155550100,"time_zone":"UTC"}`, 400, "phone"},
		{"unknown field", "POST", js, `{"phone":"14155550100","time_zone":"UTC","email":"x@y"}`, 400, "email"},
		{"long name", "POST", js, `{"phone":"14155550100","time_zone":"UTC","name":"` + strings.Repeat("n", 201) + `"}`, 400, "name"},
		{"two objects", "POST", js, `{"phone":"14155550100","time_zone":"UTC"}{}`, 400, ""},
		{"broken JSON", "POST", js, `{"phone":`, 400, ""},
		{"too big", "POST", js, `{"phone":"14155550100","time_zone":"UTC","name":"` + strings.Repeat("x", MaxCallbackBody) + `"}`, 413, ""},
		{"DNC", "POST", js, `{"phone":"+44 20 7946 0001","time_zone":"Europe/London"}`, 422, "phone"},
	} {
		code, out := do(tc.method, tc.ctype, tc.body)
		if code != tc.code {
			t.Errorf("%s: %d %v, want %d", tc.name, code, out, tc.code)
			continue
		}
		f, _ := out["field"].(string)
		msg, _ := out["error"].(string)
		if f != tc.field || msg == "" || (f != "" && !strings.HasPrefix(msg, f+": ")) || goName.MatchString(msg) {
			t.Errorf("%s: body %v, want field %q named first and no Go name", tc.name, out, tc.field)
		}
	}
	// While the callback is being dialed, another request for it is refused.
	code, out = do("POST", js, `{"phone":"442079460958","time_zone":"Europe/London"}`)
	if code != http.StatusConflict {
		t.Errorf("callback for a number in flight: %d %v", code, out)
	}
	if recs, _ := s.Records(c.ID); len(recs) != 1 {
		t.Errorf("%d records after the bad requests, want 1", len(recs))
	}
	if code, _ := do("POST", js, `{"phone":"14155550100","time_zone":"UTC"}`); code != http.StatusCreated {
		t.Errorf("no at: %d", code)
	}
	if code, _ := func() (int, map[string]any) {
		h = NewCallbackHandler(s, c.ID+99)
		return do("POST", js, `{"phone":"14155550100","time_zone":"UTC"}`)
	}(); code != http.StatusNotFound {
		t.Errorf("unknown campaign: %d", code)
	}
}
