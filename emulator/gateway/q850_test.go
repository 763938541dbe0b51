package gateway

import (
	"maps"
	"strings"
	"testing"
)

// TestCauseToStatusRFC3398 walks every row of the ISDN cause → SIP table of
// ipcc-behaviour.md §4.2.
func TestCauseToStatusRFC3398(t *testing.T) {
	m := DefaultCauseMap()
	for _, tc := range []struct {
		cause  int
		status int
		reason string
	}{
		{1, 404, "Not Found"}, {2, 404, "Not Found"}, {3, 404, "Not Found"},
		{16, 0, ""},
		{17, 486, "Busy Here"},
		{18, 408, "Request Timeout"},
		{19, 480, "Temporarily Unavailable"}, {20, 480, "Temporarily Unavailable"},
		{21, 403, "Forbidden"},
		{22, 410, "Gone"}, {23, 410, "Gone"},
		{26, 404, "Not Found"},
		{27, 502, "Bad Gateway"},
		{28, 484, "Address Incomplete"},
		{29, 501, "Not Implemented"},
		{31, 480, "Temporarily Unavailable"},
		{34, 503, "Service Unavailable"}, {38, 503, "Service Unavailable"}, {41, 503, "Service Unavailable"},
		{42, 503, "Service Unavailable"}, {47, 503, "Service Unavailable"},
		{55, 403, "Forbidden"}, {57, 403, "Forbidden"},
		{58, 503, "Service Unavailable"},
		{65, 488, "Not Acceptable Here"}, {70, 488, "Not Acceptable Here"},
		{79, 501, "Not Implemented"},
		{87, 403, "Forbidden"},
		{88, 503, "Service Unavailable"},
		{102, 504, "Server Time-out"},
		{111, 500, "Server Internal Error"}, {127, 500, "Server Internal Error"},
		// Not listed: as 31.
		{4, 480, "Temporarily Unavailable"}, {44, 480, "Temporarily Unavailable"},
		{63, 480, "Temporarily Unavailable"}, {0, 480, "Temporarily Unavailable"},
	} {
		st, r := m.Status(tc.cause)
		if st != tc.status || r != tc.reason {
			t.Errorf("Status(%d) = %d %q, want %d %q", tc.cause, st, r, tc.status, tc.reason)
		}
		unlisted := tc.cause == 0 || tc.cause == 4 || tc.cause == 44 || tc.cause == 63
		if listed := m.Listed(tc.cause, true); listed == unlisted {
			t.Errorf("Listed(%d, toSIP) = %v", tc.cause, listed)
		}
	}
	if n := len(m.ToSIP()); n != 32 {
		t.Errorf("cause → SIP table has %d rows, want 32", n)
	}
}

func TestStatusAtLocationAndDiagnostic(t *testing.T) {
	m := DefaultCauseMap()
	for _, tc := range []struct {
		cause  int
		loc    Location
		newNum bool
		status int
		reason string
	}{
		{21, LocationUser, false, 603, "Decline"},
		{21, LocationPublicRemote, false, 403, "Forbidden"},
		{21, LocationNetwork, false, 403, "Forbidden"},
		{22, LocationNetwork, true, 301, "Moved Permanently"},
		{22, LocationNetwork, false, 410, "Gone"},
		{23, LocationNetwork, true, 410, "Gone"},
		{17, LocationUser, false, 486, "Busy Here"},
		{16, LocationUser, false, 0, ""},
	} {
		if st, r := m.StatusAt(tc.cause, tc.loc, tc.newNum); st != tc.status || r != tc.reason {
			t.Errorf("StatusAt(%d, %d, %v) = %d %q, want %d %q", tc.cause, tc.loc, tc.newNum, st, r, tc.status, tc.reason)
		}
	}
	// An override of 21 switches the user-location rule off.
	o, err := m.With(map[int]int{21: 480}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if st, _ := o.StatusAt(21, LocationUser, false); st != 480 {
		t.Errorf("overridden 21 from user: %d, want 480", st)
	}
}

// TestStatusToCauseRFC3398 walks every entry of the SIP → ISDN list of
// ipcc-behaviour.md §4.2, plus 487 → 16 and the default 31.
func TestStatusToCauseRFC3398(t *testing.T) {
	m := DefaultCauseMap()
	want := map[int]int{
		400: 41, 401: 21, 402: 21, 403: 21, 404: 1, 405: 63, 406: 79, 407: 21, 408: 102, 410: 22,
		413: 127, 414: 127, 415: 79, 416: 127, 420: 127, 421: 127, 423: 127, 480: 18, 481: 41,
		482: 25, 483: 25, 484: 28, 485: 1, 486: 17, 488: 127, 500: 41, 501: 79, 502: 38, 503: 41,
		504: 102, 505: 127, 513: 127, 600: 17, 603: 21, 604: 1, 606: 58,
		487: CauseNormalClearing,
	}
	for st, c := range want {
		if got := m.Cause(st); got != c {
			t.Errorf("Cause(%d) = %d, want %d", st, got, c)
		}
		if !m.Listed(st, false) {
			t.Errorf("Listed(%d, toQ850) = false", st)
		}
	}
	if !maps.Equal(m.ToQ850(), want) {
		t.Errorf("SIP → cause table differs: %v", m.ToQ850())
	}
	for _, st := range []int{300, 302, 409, 422, 489, 491, 580, 599, 607, 699} {
		if got := m.Cause(st); got != CauseNormalUnspecified {
			t.Errorf("unlisted Cause(%d) = %d, want 31", st, got)
		}
		if m.Listed(st, false) {
			t.Errorf("Listed(%d) = true", st)
		}
	}
	for _, tc := range []struct {
		status int
		cause  int
		loc    Location
	}{
		{600, 17, LocationUser}, {603, 21, LocationUser}, {604, 1, LocationUser}, {606, 58, LocationUser},
		{699, 31, LocationUser},
		{486, 17, LocationNetwork}, {503, 41, LocationNetwork}, {404, 1, LocationNetwork}, {487, 16, LocationNetwork},
	} {
		if c, l := m.CauseAt(tc.status); c != tc.cause || l != tc.loc {
			t.Errorf("CauseAt(%d) = %d/%d, want %d/%d", tc.status, c, l, tc.cause, tc.loc)
		}
	}
}

func TestZeroCauseMapIsDefault(t *testing.T) {
	var z CauseMap
	if st, r := z.Status(17); st != 486 || r != "Busy Here" {
		t.Errorf("zero map Status(17) = %d %q", st, r)
	}
	if z.Cause(404) != 1 || z.Cause(999) != 31 {
		t.Error("zero map Cause")
	}
	o, err := z.With(map[int]int{17: 600}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if st, _ := o.Status(17); st != 600 {
		t.Errorf("override on zero map: %d", st)
	}
	if st, _ := o.Status(1); st != 404 {
		t.Errorf("override on zero map lost the rest: %d", st)
	}
}

func TestOverridesCopyAndApply(t *testing.T) {
	base := DefaultCauseMap()
	m, err := base.With(map[int]int{16: 487, 17: 600, 44: 503}, map[int]int{487: 127, 409: 41, 486: 34})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ cause, status int }{{16, 487}, {17, 600}, {44, 503}, {1, 404}} {
		if st, _ := m.Status(tc.cause); st != tc.status {
			t.Errorf("Status(%d) = %d, want %d", tc.cause, st, tc.status)
		}
	}
	for _, tc := range []struct{ status, cause int }{{487, 127}, {409, 41}, {486, 34}, {404, 1}} {
		if c := m.Cause(tc.status); c != tc.cause {
			t.Errorf("Cause(%d) = %d, want %d", tc.status, c, tc.cause)
		}
	}
	// The receiver is untouched.
	if st, _ := base.Status(17); st != 486 {
		t.Errorf("base changed: Status(17) = %d", st)
	}
	if base.Cause(486) != 17 || base.Cause(409) != 31 {
		t.Error("base reverse table changed")
	}
	// Tables handed out are copies.
	m.ToSIP()[17] = 999
	m.ToQ850()[486] = 99
	if st, _ := m.Status(17); st != 600 || m.Cause(486) != 34 {
		t.Error("ToSIP/ToQ850 leak the internal tables")
	}
}

func TestInvalidOverrides(t *testing.T) {
	m := DefaultCauseMap()
	for _, tc := range []struct {
		name    string
		fwd     map[int]int
		rev     map[int]int
		wantErr string
	}{
		{"status too low", map[int]int{17: 99}, nil, "gateway.q850_to_sip[17]: status 99 out of range 300..699"},
		{"status 2xx", map[int]int{16: 200}, nil, "gateway.q850_to_sip[16]: status 200 out of range 300..699"},
		{"status too high", map[int]int{34: 700}, nil, "gateway.q850_to_sip[34]: status 700 out of range 300..699"},
		{"cause zero", map[int]int{0: 480}, nil, "gateway.q850_to_sip[0]: cause 0 out of range 1..127"},
		{"cause 128", map[int]int{128: 480}, nil, "gateway.q850_to_sip[128]: cause 128 out of range 1..127"},
		{"reverse cause", nil, map[int]int{486: 0}, "gateway.sip_to_q850[486]: cause 0 out of range 1..127"},
		{"reverse cause high", nil, map[int]int{503: 200}, "gateway.sip_to_q850[503]: cause 200 out of range 1..127"},
		{"reverse status", nil, map[int]int{200: 16}, "gateway.sip_to_q850[200]: status 200 out of range 300..699"},
		{"first in key order", map[int]int{99: 1, 17: 2}, nil, "gateway.q850_to_sip[17]: status 2 out of range 300..699"},
		{"forward before reverse", map[int]int{17: 1}, map[int]int{200: 16}, "gateway.q850_to_sip[17]"},
	} {
		_, err := m.With(tc.fwd, tc.rev)
		if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("%s: err %v, want %q", tc.name, err, tc.wantErr)
		}
	}
	// Boundaries are accepted.
	if _, err := m.With(map[int]int{1: 300, 127: 699}, map[int]int{300: 1, 699: 127}); err != nil {
		t.Errorf("boundaries rejected: %v", err)
	}
}

func TestPresets(t *testing.T) {
	rfc := DefaultCauseMap()
	for _, tc := range []struct {
		name string
		diff map[int]int // SIP status → cause differences from RFC 3398
	}{
		{"rfc3398", nil},
		{"", nil},
		{"audiocodes", map[int]int{400: 31, 488: 31, 501: 38, 481: 127, 482: 127}},
		{"AudioCodes", map[int]int{400: 31, 488: 31, 501: 38, 481: 127, 482: 127}},
		{"opensips", map[int]int{488: 31, 501: 38}},
	} {
		m, err := CauseMapPreset(tc.name)
		if err != nil {
			t.Fatalf("%q: %v", tc.name, err)
		}
		if !maps.Equal(m.ToSIP(), rfc.ToSIP()) {
			t.Errorf("%q: cause → SIP differs from RFC 3398", tc.name)
		}
		got := map[int]int{}
		for st, c := range m.ToQ850() {
			if rfc.Cause(st) != c {
				got[st] = c
			}
		}
		if len(m.ToQ850()) != len(rfc.ToQ850()) || !maps.Equal(got, tc.diff) {
			t.Errorf("%q: differences %v, want %v", tc.name, got, tc.diff)
		}
	}
	_, err := CauseMapPreset("cisco")
	if err == nil || !strings.Contains(err.Error(), `unknown preset "cisco"`) ||
		!strings.Contains(err.Error(), "audiocodes, opensips, rfc3398") {
		t.Errorf("unknown preset: %v", err)
	}
}

func TestReasonPhrase(t *testing.T) {
	for st, want := range map[int]string{
		180: "Ringing", 183: "Session Progress", 200: "OK", 301: "Moved Permanently", 403: "Forbidden",
		404: "Not Found", 408: "Request Timeout", 480: "Temporarily Unavailable", 484: "Address Incomplete",
		486: "Busy Here", 487: "Request Terminated", 488: "Not Acceptable Here", 500: "Server Internal Error",
		503: "Service Unavailable", 504: "Server Time-out", 600: "Busy Everywhere", 603: "Decline",
		604: "Does Not Exist Anywhere", 606: "Not Acceptable",
		399: "Redirection", 499: "Client Error", 599: "Server Error", 699: "Global Failure", 700: "", 99: "",
	} {
		if got := ReasonPhrase(st); got != want {
			t.Errorf("ReasonPhrase(%d) = %q, want %q", st, got, want)
		}
	}
}
