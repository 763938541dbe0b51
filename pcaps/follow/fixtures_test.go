package follow

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/ipcclab/ipcclab/pcaps"
)

// fixtureExpect is the part of pcaps/testdata/NAME.expect.yaml this
// package checks: the anomalies the fixture was built to show.
type fixtureExpect struct {
	Anomalies []struct {
		Kind   string `yaml:"kind"`
		Frame  int    `yaml:"frame"`
		Detail string `yaml:"detail"`
	} `yaml:"anomalies"`
}

// fixtureKinds maps the fixture generator's anomaly kinds to where the
// report shows them: one of our anomaly kinds, or a part of the report
// that is not an anomaly here.
var fixtureKinds = map[string]string{
	"heartbeat-gap-beyond-idle-timeout": KindHeartbeatGap,
	"agent-stuck-reserved":              KindAgentStuckReserved,
	"set-available-while-talking":       KindAvailableWhileTalking,
	"one-way-rtp":                       KindOneWayRTP,
	// A reset, a refusal and a PG status change are facts of the session
	// (its end, its refusals, its PG status); the PG going offline while a
	// call is active is also an anomaly, checked below. A call ended by
	// END_CALL alone is a fact of the call.
	"session-reset":            "session end",
	"refusal":                  "session refusal",
	"pg-status-change":         "session PG status",
	"call-ended-without-clear": "call end",
	// Stream damage and version inference are pcap decode's to report.
	"tcp-gap":          "decode",
	"resync":           "decode",
	"version-inferred": "decode",
}

// TestFixtures follows every fixture capture of pcaps/testdata, compares
// the text report with testdata/fixtures/NAME.calls.txt (rewritten with
// -update), and checks it against the fixture's expectations: every
// anomaly the fixture was built to show is reported at its frame, and no
// other anomaly is.
func TestFixtures(t *testing.T) {
	files, _ := filepath.Glob("../testdata/*.pcapng")
	if len(files) == 0 {
		t.Skip("no fixture captures in ../testdata")
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".pcapng")
		t.Run(name, func(t *testing.T) {
			c, err := pcaps.DecodeFile(file, pcaps.Options{})
			if err != nil {
				t.Fatal(err)
			}
			c.File = filepath.Base(file)
			r := Follow(c, Options{})
			var text, js bytes.Buffer
			if err := r.WriteText(&text); err != nil {
				t.Fatal(err)
			}
			if err := r.WriteJSON(&js); err != nil {
				t.Fatal(err)
			}
			if !json.Valid(js.Bytes()) {
				t.Error("JSON report is not valid JSON")
			}
			golden(t, filepath.Join("fixtures", name+".calls.txt"), text.Bytes())

			raw, err := os.ReadFile(strings.TrimSuffix(file, ".pcapng") + ".expect.yaml")
			if err != nil {
				t.Fatalf("no expectations: %v", err)
			}
			var want fixtureExpect
			if err := yaml.Unmarshal(raw, &want); err != nil {
				t.Fatalf("%s.expect.yaml: %v", name, err)
			}
			expected := map[string]bool{} // "kind@frame" of our anomalies
			for _, a := range want.Anomalies {
				where, ok := fixtureKinds[a.Kind]
				if !ok {
					t.Errorf("expected anomaly kind %q at frame %d is unknown to this test: map it in fixtureKinds", a.Kind, a.Frame)
					continue
				}
				if err := reported(r, where, a.Frame); err != nil {
					t.Errorf("expected %s at frame %d (%s): %v", a.Kind, a.Frame, a.Detail, err)
				}
				if where == "session PG status" && strings.Contains(a.Detail, "with call") {
					// The peripheral going offline with a call up.
					where = KindPGOfflineMidCall
					if err := reported(r, where, a.Frame); err != nil {
						t.Errorf("expected %s at frame %d: %v", where, a.Frame, err)
					}
				}
				expected[fmt.Sprintf("%s@%d", where, a.Frame)] = true
			}
			for _, a := range r.Anomalies {
				if !expected[fmt.Sprintf("%s@%d", a.Kind, a.Frame)] {
					t.Errorf("anomaly the fixture does not expect: %s at frame %d: %s", a.Kind, a.Frame, a.Why)
				}
			}
		})
	}
}

// reported checks that the report shows something at frame, where says
// where.
func reported(r *Report, where string, frame int) error {
	hasLine := func(ls []Line) bool {
		for _, l := range ls {
			if l.Frame == frame {
				return true
			}
		}
		return false
	}
	switch where {
	case "decode":
		return nil
	case "session end":
		for _, s := range r.Sessions {
			if strings.Contains(s.Ended, fmt.Sprintf("(frame %d)", frame)) {
				return nil
			}
		}
		return fmt.Errorf("no session ended at that frame")
	case "session refusal":
		for _, s := range r.Sessions {
			if hasLine(s.Refusals) {
				return nil
			}
		}
		return fmt.Errorf("no refusal listed at that frame")
	case "session PG status":
		for _, s := range r.Sessions {
			if hasLine(s.PGStatus) {
				return nil
			}
		}
		return fmt.Errorf("no PG status line at that frame")
	case "call end":
		for _, c := range r.Calls {
			if strings.Contains(c.Ended, fmt.Sprintf("(f%d) with no CALL_CLEARED", frame)) {
				return nil
			}
		}
		return fmt.Errorf("no call ended by END_CALL alone at that frame")
	}
	for _, a := range r.Anomalies {
		if a.Kind == where && a.Frame == frame {
			return nil
		}
	}
	return fmt.Errorf("not flagged")
}
