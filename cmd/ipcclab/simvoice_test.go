package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// simulate --voice carries the calls over the voice path and reports its
// counters under "voice"; without it the report has no voice key at all.
func TestSimulateVoiceFlag(t *testing.T) {
	for _, tc := range []struct {
		args  []string
		voice bool
	}{
		{[]string{"simulate", "--hours", "1", "--seed", "3", "--json", "--voice"}, true},
		{[]string{"simulate", "--hours", "1", "--seed", "3", "--json"}, false},
	} {
		out, err := run(t, tc.args...)
		if err != nil {
			t.Fatalf("%s: %v", strings.Join(tc.args, " "), err)
		}
		var m struct {
			Voice *struct {
				SIPMessages   float64 `json:"sip_messages"`
				PhoneAnswered float64 `json:"phone_answered"`
			} `json:"voice"`
		}
		if err := json.Unmarshal([]byte(out), &m); err != nil {
			t.Fatalf("%s: %v", strings.Join(tc.args, " "), err)
		}
		switch {
		case tc.voice && (m.Voice == nil || m.Voice.SIPMessages == 0 || m.Voice.PhoneAnswered == 0):
			t.Errorf("%s: voice counters %+v", strings.Join(tc.args, " "), m.Voice)
		case !tc.voice && m.Voice != nil:
			t.Errorf("%s: a voice key without --voice: %+v", strings.Join(tc.args, " "), m.Voice)
		}
	}
}
