package desktop

import (
	"encoding/json"
	"strings"
	"testing"
)

// A desk with no event yet (the view a login answers with) has a log the
// page can read: an empty list, not null, which stopped the page's script
// before it opened the event stream.
func TestSnapshotOfANewDeskHasAnEmptyLog(t *testing.T) {
	k := &desk{calls: map[uint32]*call{}, subs: map[chan struct{}]bool{}, view: View{AgentID: "1001", Log: []string{}}}
	b, err := json.Marshal(k.snapshot())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"log":[]`) {
		t.Fatalf("view %s: want \"log\":[]", b)
	}
}
