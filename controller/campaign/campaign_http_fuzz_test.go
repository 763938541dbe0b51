package campaign

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"
)

// FuzzCampaignPatch: any body of a PATCH /campaigns/{id} is taken or
// refused, never half taken. A 200 answers with the campaign as saved, and
// what is saved validates; a 400 names the JSON field its error starts with
// and shows no Go name; anything refused leaves the stored campaign as it
// was. Nothing panics.
// quoted matches a Go-quoted string (%q) in an error.
var quoted = regexp.MustCompile(`"(?:[^"\\]|\\.)*"`)

func FuzzCampaignPatch(f *testing.F) {
	for _, seed := range []string{
		`{"max_in_flight": 12, "lines_per_agent": 1.5, "abandon_limit": 0.02, "uk_ofcom": true, "abandon_window": "24h",
		"calling_hours": "mon-fri 09:00-20:00; sat 10:00-16:00", "retry": {"busy": {"delay": "20m", "max_attempts": 2}, "machine": {"retry": false}}}`,
		`{"abandon_window": "10m"}`, `{"abandon_window": "1h0m0.5s"}`, `{"abandon_window": 720}`,
		`{"abandon_limit": 2}`, `{"max_attempts": 0, "max_in_flight": -3}`, `{"retry": {"abandoned": {"delay": "24h"}}, "uk_ofcom": true}`,
		`{"retry": 5}`, `{"calling_hours": "21:00-09:00"}`, `{"mode": "preview"}`, `{"speed": 11}`, `{} {}`, `[1]`, `{"enabled": false}`, ``,
	} {
		f.Add([]byte(seed))
	}
	st, err := OpenMemory(Config{Now: func() (t0 time.Time) { return t0 }})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { st.Close() })
	c, err := st.CreateCampaign(NewCampaign("fuzz", Predictive))
	if err != nil {
		f.Fatal(err)
	}
	h := (&CampaignAPI{Store: st}).Handler()
	path := "/campaigns/" + itoa(c.ID)
	f.Fuzz(func(t *testing.T, body []byte) {
		before, err := st.Campaign(c.ID)
		if err != nil {
			t.Fatal(err)
		}
		req := httptest.NewRequest(http.MethodPatch, path, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		after, err := st.Campaign(c.ID)
		if err != nil {
			t.Fatal(err)
		}
		switch w.Code {
		case http.StatusOK:
			if err := after.Validate(); err != nil {
				t.Fatalf("saved a campaign that does not validate: %v", err)
			}
			want, _ := json.Marshal(showCampaign(after))
			if got := bytes.TrimSpace(w.Body.Bytes()); !bytes.Equal(got, want) {
				t.Fatalf("answered %s, saved %s", got, want)
			}
			return
		case http.StatusBadRequest, http.StatusRequestEntityTooLarge:
		default:
			t.Fatalf("status %d: %s", w.Code, w.Body)
		}
		if !reflect.DeepEqual(before, after) {
			t.Fatalf("refused with %d (%s), yet the campaign changed: %+v -> %+v", w.Code, w.Body, before, after)
		}
		var e struct{ Error, Field string }
		if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil || e.Error == "" {
			t.Fatalf("refusal %q: want JSON with an error", w.Body)
		}
		if e.Field != "" && !strings.HasPrefix(e.Error, e.Field+": ") {
			t.Fatalf("error %q does not start with its field %q", e.Error, e.Field)
		}
		// The client's own words (its field, quoted values) may look like
		// anything; the rest is ours.
		if ours := quoted.ReplaceAllString(strings.TrimPrefix(e.Error, e.Field+": "), `""`); goName.MatchString(ours) {
			t.Fatalf("error %q shows a Go name", e.Error)
		}
	})
}
