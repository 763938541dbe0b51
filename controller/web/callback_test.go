package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeBooker records what it is asked to book and answers err when set.
type fakeBooker struct {
	mu   sync.Mutex
	got  []CallbackRequest
	err  error
	next int64
}

func (f *fakeBooker) BookCallback(ctx context.Context, req CallbackRequest) (int64, time.Time, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return 0, time.Time{}, f.err
	}
	f.got = append(f.got, req)
	f.next++
	at := req.At
	if at.IsZero() {
		at = t0
	}
	return 100 + f.next, at, nil
}

func newCallbackPage(t *testing.T, b CallbackBooker, logf func(string, ...any)) *CallbackPage {
	t.Helper()
	p, err := NewCallbackPage(CallbackConfig{Booker: b, Campaign: "Renewals", TimeZones: []string{"Europe/London", "Asia/Tokyo"},
		Now: func() time.Time { return t0 }, Logf: logf})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// good is a form that books: t0 is Monday 2 March 2026 10:15 UTC, and the
// chosen time is the next day at noon in London.
func good() url.Values {
	return url.Values{"name": {"Ada Lovelace"}, "phone": {"+44 (20) 7946-0000"}, "time_zone": {"Europe/London"},
		"when": {"at"}, "at": {"2026-03-03T12:00"}, "note": {"about the renewal"}}
}

func postForm(t *testing.T, h http.Handler, target string, v url.Values) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, target, strings.NewReader(v.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestCallbackFormShown(t *testing.T) {
	p := newCallbackPage(t, &fakeBooker{}, nil)
	rec := httptest.NewRecorder()
	p.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/callback/?token=s%26cret", nil))
	body := rec.Body.String()
	if rec.Code != http.StatusOK || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/html") {
		t.Fatalf("GET: %d %s", rec.Code, rec.Header().Get("Content-Type"))
	}
	for _, want := range []string{`id="callback-form"`, `action="?token=s%26cret"`, `<option selected>Europe/London</option>`,
		`<option>Asia/Tokyo</option>`, `value="asap" checked`, "Renewals"} {
		if !strings.Contains(body, want) {
			t.Errorf("form lacks %q:\n%s", want, body)
		}
	}
	if strings.Contains(body, `id="error"`) {
		t.Errorf("a fresh form shows an error:\n%s", body)
	}
}

func TestCallbackBooked(t *testing.T) {
	for _, tc := range []struct {
		name     string
		change   func(url.Values)
		wantAt   time.Time
		wantText string
	}{
		{"at a time", func(url.Values) {}, time.Date(2026, 3, 3, 12, 0, 0, 0, time.UTC), "Tuesday 3 March 2026, 12:00 GMT"},
		{"as soon as possible", func(v url.Values) { v.Set("when", "asap"); v.Set("at", "garbage ignored") }, time.Time{}, "as soon as our calling hours allow"},
		{"Tokyo clock", func(v url.Values) { v.Set("time_zone", "Asia/Tokyo") }, time.Date(2026, 3, 3, 3, 0, 0, 0, time.UTC), "Tuesday 3 March 2026, 12:00 JST"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := &fakeBooker{}
			v := good()
			tc.change(v)
			rec := postForm(t, newCallbackPage(t, b, nil), "/callback/", v)
			body := rec.Body.String()
			if rec.Code != http.StatusCreated {
				t.Fatalf("POST: %d\n%s", rec.Code, body)
			}
			if len(b.got) != 1 {
				t.Fatalf("booked %d requests", len(b.got))
			}
			got := b.got[0]
			if got.Name != "Ada Lovelace" || got.Phone != "+442079460000" || got.Note != "about the renewal" || !got.At.Equal(tc.wantAt) {
				t.Errorf("booked %+v, want at %v", got, tc.wantAt)
			}
			for _, want := range []string{`id="booked-id">101<`, tc.wantText} {
				if !strings.Contains(body, want) {
					t.Errorf("confirmation lacks %q:\n%s", want, body)
				}
			}
		})
	}
}

// Every field's bad input is refused with a 4xx naming it, the form shown
// again with the values sent, and nothing booked.
func TestCallbackBadInput(t *testing.T) {
	long := strings.Repeat("é", MaxCallbackName+1)
	for _, tc := range []struct {
		name   string
		change func(url.Values)
		field  string
		msg    string
	}{
		{"no name", func(v url.Values) { v.Set("name", "  ") }, "name", "required"},
		{"long name", func(v url.Values) { v.Set("name", long) }, "name", "longer than 64"},
		{"control in name", func(v url.Values) { v.Set("name", "Ada\x07") }, "name", "control"},
		{"no phone", func(v url.Values) { v.Del("phone") }, "phone", "required"},
		{"letters in phone", func(v url.Values) { v.Set("phone", "0800 CALL ME") }, "phone", "only digits"},
		{"plus inside phone", func(v url.Values) { v.Set("phone", "44+2079460000") }, "phone", "only digits"},
		{"short phone", func(v url.Values) { v.Set("phone", "12345") }, "phone", "5 digits, want 6–15"},
		{"long phone", func(v url.Values) { v.Set("phone", "+1234567890123456") }, "phone", "16 digits"},
		{"zone not offered", func(v url.Values) { v.Set("time_zone", "America/New_York") }, "time_zone", "not one of the zones"},
		{"no zone", func(v url.Values) { v.Del("time_zone") }, "time_zone", "not one of the zones"},
		{"no choice of when", func(v url.Values) { v.Del("when") }, "when", "want asap or at"},
		{"time missing", func(v url.Values) { v.Set("at", "") }, "at", "required"},
		{"time malformed", func(v url.Values) { v.Set("at", "tomorrow noon") }, "at", "want YYYY-MM-DDTHH:MM"},
		{"time past", func(v url.Values) { v.Set("at", "2026-03-02T10:00") }, "at", "in the past"},
		{"time now", func(v url.Values) { v.Set("at", "2026-03-02T10:15") }, "at", "in the past"},
		{"time too far", func(v url.Values) { v.Set("at", "2026-03-16T10:16") }, "at", "more than 14 days"},
		{"long note", func(v url.Values) { v.Set("note", strings.Repeat("x", MaxCallbackNote+1)) }, "note", "longer than 500"},
		{"control in note", func(v url.Values) { v.Set("note", "a\x00b") }, "note", "control"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := &fakeBooker{}
			v := good()
			tc.change(v)
			rec := postForm(t, newCallbackPage(t, b, nil), "/callback/", v)
			body := rec.Body.String()
			if rec.Code != http.StatusBadRequest {
				t.Fatalf("POST: %d, want 400\n%s", rec.Code, body)
			}
			want := fmt.Sprintf(`data-field="%s">%s: `, tc.field, tc.field)
			if !strings.Contains(body, want) || !strings.Contains(body, tc.msg) {
				t.Errorf("answer lacks %q and %q:\n%s", want, tc.msg, body)
			}
			if !strings.Contains(body, `id="callback-form"`) {
				t.Errorf("the form is not shown again:\n%s", body)
			}
			if len(b.got) != 0 {
				t.Errorf("booked %+v", b.got)
			}
		})
	}
	// The 14 days are inclusive: exactly the horizon is accepted.
	v := good()
	v.Set("at", "2026-03-16T10:15")
	if rec := postForm(t, newCallbackPage(t, &fakeBooker{}, nil), "/callback/", v); rec.Code != http.StatusCreated {
		t.Errorf("at the horizon: %d %s", rec.Code, rec.Body)
	}
}

// The booker's refusals keep their field and status; its failures are
// logged and shown without their details.
func TestCallbackBookerRefuses(t *testing.T) {
	var logged []string
	logf := func(f string, a ...any) { logged = append(logged, fmt.Sprintf(f, a...)) }
	for _, tc := range []struct {
		err    error
		status int
		want   string
	}{
		{&FieldError{Field: "phone", Message: "on the do-not-call list", Status: http.StatusUnprocessableEntity}, 422, `data-field="phone">phone: on the do-not-call list`},
		{fmt.Errorf("wrapped: %w", &FieldError{Field: "at", Message: "outside the calling hours"}), 400, `data-field="at">at: outside the calling hours`},
		{errors.New("disk on fire"), 503, "could not be booked just now"},
	} {
		logged = nil
		rec := postForm(t, newCallbackPage(t, &fakeBooker{err: tc.err}, logf), "/callback/", good())
		body := rec.Body.String()
		if rec.Code != tc.status || !strings.Contains(body, tc.want) {
			t.Errorf("%v: %d, want %d with %q:\n%s", tc.err, rec.Code, tc.status, tc.want, body)
		}
		if strings.Contains(body, "disk on fire") {
			t.Errorf("store detail shown to the customer:\n%s", body)
		}
		if fe := (*FieldError)(nil); !errors.As(tc.err, &fe) && (len(logged) != 1 || !strings.Contains(logged[0], "disk on fire")) {
			t.Errorf("failure logged as %q", logged)
		}
	}
}

func TestCallbackMethodsAndPaths(t *testing.T) {
	p := newCallbackPage(t, &fakeBooker{}, nil)
	for _, tc := range []struct {
		method, target, ctype string
		body                  string
		status                int
		want                  string
	}{
		{http.MethodPut, "/callback/", "", "", 405, "use GET or POST"},
		{http.MethodDelete, "/callback/", "", "", 405, "use GET or POST"},
		{http.MethodGet, "/callback/other", "", "", 404, "no such page"},
		{http.MethodGet, "/callback?token=x", "", "", 301, ""},
		{http.MethodPost, "/callback/", "application/json", `{"phone":"1"}`, 415, "Content-Type"},
		{http.MethodPost, "/callback/", "", "name=x", 415, "Content-Type"},
		{http.MethodPost, "/callback/", "application/x-www-form-urlencoded", "name=" + strings.Repeat("x", maxCallbackForm), 413, "form over"},
		{http.MethodPost, "/callback/", "application/x-www-form-urlencoded", "name=%zz", 400, "bad form"},
	} {
		req := httptest.NewRequest(tc.method, tc.target, strings.NewReader(tc.body))
		if tc.ctype != "" {
			req.Header.Set("Content-Type", tc.ctype)
		}
		rec := httptest.NewRecorder()
		p.ServeHTTP(rec, req)
		if rec.Code != tc.status || !strings.Contains(rec.Body.String(), tc.want) {
			t.Errorf("%s %s: %d %q, want %d with %q", tc.method, tc.target, rec.Code, rec.Body, tc.status, tc.want)
		}
		if tc.status == 405 && rec.Header().Get("Allow") != "GET, POST" {
			t.Errorf("%s: Allow %q", tc.method, rec.Header().Get("Allow"))
		}
		if tc.status == 301 && rec.Header().Get("Location") != "/callback/?token=x" {
			t.Errorf("redirect to %q", rec.Header().Get("Location"))
		}
	}
}

// Mounted on the dashboard's server, the form is behind the same rule:
// loopback, or the token.
func TestCallbackMountedBehindToken(t *testing.T) {
	srv, err := New(Config{Source: &fake{}, Token: "tok"})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	srv.Mount(CallbackPath, newCallbackPage(t, &fakeBooker{}, nil))
	for _, tc := range []struct {
		target string
		status int
	}{{"/callback/", 401}, {"/callback/?token=bad", 401}, {"/callback/?token=tok", 200}} {
		req := httptest.NewRequest(http.MethodGet, tc.target, nil)
		req.RemoteAddr = "192.0.2.7:5000"
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		if rec.Code != tc.status {
			t.Errorf("GET %s from off loopback: %d, want %d", tc.target, rec.Code, tc.status)
		}
	}
}

func TestNewCallbackPageChecksConfig(t *testing.T) {
	b := &fakeBooker{}
	for _, tc := range []struct {
		cfg  CallbackConfig
		want string
	}{
		{CallbackConfig{TimeZones: []string{"UTC"}}, "Booker is nil"},
		{CallbackConfig{Booker: b}, "TimeZones is empty"},
		{CallbackConfig{Booker: b, TimeZones: []string{"UTC", "Local"}}, "TimeZones[1]"},
		{CallbackConfig{Booker: b, TimeZones: []string{"Mars/Olympus"}}, "TimeZones[0]"},
		{CallbackConfig{Booker: b, TimeZones: []string{"UTC", "UTC"}}, "appears twice"},
	} {
		if _, err := NewCallbackPage(tc.cfg); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want %q", tc.cfg, err, tc.want)
		}
	}
}

// A campaign without scheduled records gives [] in the JSON, so that the
// page's script needs no null check, and the source's snapshot is not
// changed in place.
func TestScheduledNeverNull(t *testing.T) {
	snap := busyCentre()
	snap.Campaign.Scheduled = nil
	src := &fake{}
	src.set(snap, nil)
	s, err := New(Config{Source: src})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	req := httptest.NewRequest(http.MethodGet, "/api/snapshot", nil)
	req.RemoteAddr = "127.0.0.1:5000"
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	if !strings.Contains(rec.Body.String(), `"scheduled": []`) {
		t.Errorf("snapshot JSON:\n%s", rec.Body)
	}
	if snap.Campaign.Scheduled != nil {
		t.Error("the source's campaign was changed")
	}
}
