package phones

import "testing"

func TestOfferStatus(t *testing.T) {
	for _, tc := range []struct {
		known, busy, offer bool
		status             int
	}{
		{true, false, true, 0},
		{false, false, true, 404},
		{false, true, false, 404}, // unknown wins
		{true, true, true, 486},
		{true, true, false, 486}, // busy before the missing offer
		{true, false, false, 488},
	} {
		if got, reason := OfferStatus(tc.known, tc.busy, tc.offer); got != tc.status || (got != 0) != (reason != "") {
			t.Errorf("OfferStatus(known %v, busy %v, offer %v) = %d %q, want %d", tc.known, tc.busy, tc.offer, got, reason, tc.status)
		}
	}
}

func TestAutoAnswer(t *testing.T) {
	for _, tc := range []struct {
		callInfo string
		want     bool
	}{
		{"<sip:127.0.0.1:5060>;answer-after=0", true},
		{"<sip:cm>;Answer-After=0", true},
		{"<sip:cm>;answer-after=5", false},
		{"<sip:cm>;purpose=info", false},
		{"", false},
	} {
		if got := AutoAnswer(tc.callInfo); got != tc.want {
			t.Errorf("AutoAnswer(%q) = %v, want %v", tc.callInfo, got, tc.want)
		}
	}
}
