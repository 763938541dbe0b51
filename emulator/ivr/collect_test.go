package ivr

import (
	"testing"
	"time"
)

// TestCollector walks the Get Digit String step: digits in, the result
// out, with '#', the digit count and the timeouts ending it.
func TestCollector(t *testing.T) {
	s := Script{DigitCount: 4, FirstDigitTimeout: 6 * time.Second, InterDigitTimeout: 3 * time.Second, Announcement: 2 * time.Second}
	if got := s.FirstWait(); got != 8*time.Second {
		t.Errorf("FirstWait = %v, want announcement + first-digit timeout = 8s", got)
	}
	for _, tc := range []struct {
		name    string
		input   string // digits; 'T' is the timer expiring
		digits  string // the result
		doneAt  int    // index of the input that ends collection
		ignored bool   // inputs after the end change nothing
	}{
		{name: "hash ends early", input: "12#", digits: "12", doneAt: 2},
		{name: "count ends", input: "1234", digits: "1234", doneAt: 3},
		{name: "digits after the end are ignored", input: "12345#", digits: "1234", doneAt: 3},
		{name: "inter-digit timeout", input: "12T", digits: "12", doneAt: 2},
		{name: "first-digit timeout: nothing keyed", input: "T", digits: "", doneAt: 0},
		{name: "hash alone", input: "#", digits: "", doneAt: 0},
		{name: "star is a digit", input: "*9*9", digits: "*9*9", doneAt: 3},
		{name: "a timeout after the end changes nothing", input: "1234T", digits: "1234", doneAt: 3},
	} {
		c := NewCollector(s)
		var result string
		done := -1
		for i := 0; i < len(tc.input); i++ {
			var st Step
			if tc.input[i] == 'T' {
				st = c.Timeout()
			} else {
				st = c.Digit(tc.input[i])
			}
			switch {
			case st.Done:
				if done >= 0 {
					t.Errorf("%s: ended twice (inputs %d and %d)", tc.name, done, i)
				}
				done, result = i, st.Digits
			case done >= 0 && st != (Step{}):
				t.Errorf("%s: input %d after the end gave %+v", tc.name, i, st)
			case done < 0 && st.Rearm != s.InterDigitTimeout:
				t.Errorf("%s: input %d re-armed %v, want the inter-digit timeout", tc.name, i, st.Rearm)
			}
		}
		if done != tc.doneAt || result != tc.digits {
			t.Errorf("%s: ended at input %d with %q, want input %d with %q", tc.name, done, result, tc.doneAt, tc.digits)
		}
		if !c.Finished() {
			t.Errorf("%s: not finished", tc.name)
		}
	}
}

func TestScriptDefaults(t *testing.T) {
	d := Script{}.WithDefaults()
	if d.DigitCount != 8 || d.FirstDigitTimeout != 6*time.Second || d.InterDigitTimeout != 3*time.Second || d.Announcement != 2*time.Second {
		t.Errorf("defaults %+v", d)
	}
	if got := (Script{DigitCount: 3}).WithDefaults().DigitCount; got != 3 {
		t.Errorf("a set digit count became %d", got)
	}
	if got := (Config{AnnouncementMs: 500}).Script().Announcement; got != 500*time.Millisecond {
		t.Errorf("Config.Script announcement %v", got)
	}
}
