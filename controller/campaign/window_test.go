package campaign

import (
	"go/ast"
	"go/parser"
	"go/token"
	"testing"
	"time"
)

func TestInWindowAcrossZonesAndDST(t *testing.T) {
	weekdays := EveryDay(8*60, 21*60)
	weekdays[time.Saturday], weekdays[time.Sunday] = Window{}, Window{}
	utc := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, tc := range []struct {
		now, tz string
		want    bool
		why     string
	}{
		// New York: EDT (UTC−4) in summer, EST (UTC−5) in winter.
		{"2026-07-01T12:00:00Z", "America/New_York", true, "08:00 EDT, the window opens"},
		{"2026-07-01T11:59:59Z", "America/New_York", false, "07:59:59 EDT"},
		{"2026-01-14T12:30:00Z", "America/New_York", false, "07:30 EST: the same UTC hour is an hour earlier in winter"},
		{"2026-01-14T13:00:00Z", "America/New_York", true, "08:00 EST"},
		{"2026-07-02T00:59:59Z", "America/New_York", true, "20:59:59 EDT (Wednesday)"},
		{"2026-07-02T01:00:00Z", "America/New_York", false, "21:00 EDT, closed"},
		// DST starts 8 Mar 2026 02:00 in New York: 12:30 UTC is 08:30 EDT
		// that Monday but was 07:30 EST the Friday before.
		{"2026-03-06T12:30:00Z", "America/New_York", false, "07:30 EST, Friday before DST"},
		{"2026-03-09T12:30:00Z", "America/New_York", true, "08:30 EDT, Monday after DST"},
		// London: BST from 29 Mar 2026.
		{"2026-03-27T07:30:00Z", "Europe/London", false, "07:30 GMT, Friday"},
		{"2026-03-30T07:30:00Z", "Europe/London", true, "08:30 BST, Monday"},
		{"2026-10-26T20:30:00Z", "Europe/London", true, "20:30 GMT, Monday after BST ends"},
		{"2026-10-23T20:30:00Z", "Europe/London", false, "21:30 BST, Friday"},
		// Kolkata: UTC+05:30 all year, and its weekday runs ahead of UTC.
		{"2026-07-01T02:30:00Z", "Asia/Kolkata", true, "08:00 IST"},
		{"2026-07-01T15:29:00Z", "Asia/Kolkata", true, "20:59 IST"},
		{"2026-07-01T15:30:00Z", "Asia/Kolkata", false, "21:00 IST"},
		{"2026-01-14T02:29:00Z", "Asia/Kolkata", false, "07:59 IST in winter too"},
		{"2026-07-04T04:00:00Z", "Asia/Kolkata", false, "Saturday 09:30 IST: closed on Saturdays"},
		{"2026-07-03T04:00:00Z", "Asia/Kolkata", true, "Friday 09:30 IST"},
		{"2026-07-05T03:00:00Z", "Asia/Kolkata", false, "Sunday 08:30 IST: closed on Sundays"},
		{"2026-07-06T03:00:00Z", "Asia/Kolkata", true, "Monday 08:30 IST"},
		{"2026-07-06T00:30:00Z", "America/New_York", false, "Monday 00:30 UTC is Sunday 20:30 EDT: closed on Sundays"},
		{"2026-07-07T00:30:00Z", "America/New_York", true, "Tuesday 00:30 UTC is Monday 20:30 EDT"},
	} {
		loc, err := LoadZone(tc.tz)
		if err != nil {
			t.Fatal(err)
		}
		if got := InWindow(utc(tc.now), loc, weekdays); got != tc.want {
			t.Errorf("%s in %s (%s): %v, want %v", tc.now, tc.tz, tc.why, got, tc.want)
		}
	}
	if InWindow(t0, nil, weekdays) {
		t.Error("a nil zone is never in the window")
	}
	for _, bad := range []string{"", "Local", "Mars/Base", " UTC"} {
		if _, err := LoadZone(bad); err == nil {
			t.Errorf("LoadZone(%q) accepted", bad)
		}
	}
}

func TestParseClock(t *testing.T) {
	for s, want := range map[string]Clock{"00:00": 0, "08:00": 480, "21:30": 1290, "24:00": 1440} {
		if got, err := ParseClock(s); err != nil || got != want {
			t.Errorf("%s: %v %v", s, got, err)
		}
	}
	for _, s := range []string{"8:00", "24:01", "12:60", "ab:cd", ""} {
		if _, err := ParseClock(s); err == nil {
			t.Errorf("%q accepted", s)
		}
	}
}

// TestPureFilesTakeTimeAsInput keeps the calling-window, retry and
// selection-order logic free of the wall clock, like the cores archtest
// checks: they are evaluated at an instant the caller gives.
func TestPureFilesTakeTimeAsInput(t *testing.T) {
	forbidden := map[string]bool{"Now": true, "Since": true, "Until": true, "Sleep": true, "After": true, "AfterFunc": true, "NewTimer": true, "NewTicker": true, "Tick": true}
	fset := token.NewFileSet()
	for _, name := range []string{"window.go", "retry.go", "region.go", "phone.go", "select.go", "backend.go", "memstore.go", "sqlstore.go", "source.go", "generate.go"} {
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			if sel, ok := n.(*ast.SelectorExpr); ok {
				if id, ok := sel.X.(*ast.Ident); ok && id.Name == "time" && forbidden[sel.Sel.Name] {
					t.Errorf("%s: time.%s: pure code takes now as an argument", fset.Position(sel.Pos()), sel.Sel.Name)
				}
			}
			return true
		})
	}
}
