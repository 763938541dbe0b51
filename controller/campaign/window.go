package campaign

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	// The call list names IANA zones; embedding the database makes "unknown
	// time zone" and DST rules the same on every host, with or without
	// /usr/share/zoneinfo.
	_ "time/tzdata"
)

// Clock is a local wall-clock time of day in minutes after midnight,
// 0–1440 (1440 = 24:00, the end of the day).
type Clock int

// MarshalText writes "08:00".
func (c Clock) MarshalText() ([]byte, error) {
	return fmt.Appendf(nil, "%02d:%02d", int(c)/60, int(c)%60), nil
}

// UnmarshalText reads "08:00" (and "24:00").
func (c *Clock) UnmarshalText(b []byte) error {
	v, err := ParseClock(string(b))
	*c = v
	return err
}

// ParseClock reads "HH:MM", 00:00–24:00.
func ParseClock(s string) (Clock, error) {
	var h, m int
	if len(s) != 5 || s[2] != ':' {
		return 0, fmt.Errorf("campaign: clock %q: want HH:MM", s)
	}
	if _, err := fmt.Sscanf(s, "%2d:%2d", &h, &m); err != nil || h > 24 || m > 59 || h < 0 || m < 0 || (h == 24 && m != 0) {
		return 0, fmt.Errorf("campaign: clock %q: want HH:MM between 00:00 and 24:00", s)
	}
	return Clock(h*60 + m), nil
}

// Window is one day's calling hours, [Start, End) in the called party's
// local time. Start == End (the zero value) means no calls that day. Windows
// do not cross midnight: calling-hour rules (08:00–21:00 US, §3) never do.
type Window struct {
	Start, End Clock
}

// Open reports whether the window allows calls at all.
func (w Window) Open() bool { return w.End > w.Start }

// CallingHours are the windows per weekday, indexed by time.Weekday
// (Sunday = 0).
type CallingHours [7]Window

// EveryDay is the same window on all seven days.
func EveryDay(start, end Clock) CallingHours {
	var h CallingHours
	for i := range h {
		h[i] = Window{start, end}
	}
	return h
}

// Validate checks every day's window.
func (h CallingHours) Validate() error {
	var errs []error
	for d, w := range h {
		if w.Start < 0 || w.End > 24*60 || w.End < w.Start {
			errs = append(errs, fmt.Errorf("campaign: Campaign.CallingHours[%s] %d–%d: want 0 ≤ start ≤ end ≤ 1440 minutes", time.Weekday(d), w.Start, w.End))
		}
	}
	return errors.Join(errs...)
}

// InWindow reports whether now, read on the wall clock of tz (the called
// party's zone), falls inside that weekday's window. Both the weekday and the
// time of day are local, so DST and a date line between the dialer and the
// customer are handled by the zone rules; seconds count, so 20:59:59 is in a
// window ending at 21:00 and 21:00:00 is not.
func InWindow(now time.Time, tz *time.Location, hours CallingHours) bool {
	if tz == nil {
		return false // no zone, no legal way to tell the local time
	}
	local := now.In(tz)
	w := hours[local.Weekday()]
	sec := local.Hour()*3600 + local.Minute()*60 + local.Second()
	return w.Open() && sec >= int(w.Start)*60 && sec < int(w.End)*60
}

// LoadZone resolves an IANA zone name. "Local" and "" are refused: a call
// list must say where the customer is, not where the dialer runs.
func LoadZone(name string) (*time.Location, error) {
	if name == "" || name == "Local" || strings.TrimSpace(name) != name {
		return nil, fmt.Errorf("unknown time zone %q", name)
	}
	if loc, ok := zones.Load(name); ok {
		return loc.(*time.Location), nil
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("unknown time zone %q", name)
	}
	zones.Store(name, loc)
	return loc, nil
}

// zones caches LoadZone: every selection resolves each open zone, and
// loading one parses its rules.
var zones sync.Map // name → *time.Location

var dayNames = [7]string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

// ParseHours reads calling hours as text: "09:00-21:00" is that window
// every day; "mon-fri 09:00-21:00; sat 10:00-16:00" gives windows per day
// or range of days (sun mon tue wed thu fri sat; a range runs forwards,
// "fri-mon" wraps), separated by ';', and the days not named have no calls.
// Times are the called party's local wall clock, HH:MM, end after start.
func ParseHours(s string) (CallingHours, error) {
	var h CallingHours
	s = strings.TrimSpace(s)
	if s == "" {
		return h, errors.New(`campaign: calling hours "": want "HH:MM-HH:MM" or "mon-fri HH:MM-HH:MM; sat HH:MM-HH:MM"`)
	}
	if !strings.Contains(s, ";") && !startsWithDay(s) {
		w, err := parseWindow(s)
		if err != nil {
			return h, err
		}
		return EveryDay(w.Start, w.End), nil
	}
	seen := [7]bool{}
	for _, item := range strings.Split(s, ";") {
		days, span, ok := strings.Cut(strings.TrimSpace(item), " ")
		if !ok {
			return h, fmt.Errorf("campaign: calling hours %q: want \"days HH:MM-HH:MM\"", strings.TrimSpace(item))
		}
		w, err := parseWindow(strings.TrimSpace(span))
		if err != nil {
			return h, err
		}
		from, to, isRange := strings.Cut(strings.ToLower(days), "-")
		if !isRange {
			to = from
		}
		a, b := dayIndex(from), dayIndex(to)
		if a < 0 || b < 0 {
			return h, fmt.Errorf("campaign: calling hours %q: unknown day in %q (sun mon tue wed thu fri sat)", s, days)
		}
		for d := a; ; d = (d + 1) % 7 {
			if seen[d] {
				return h, fmt.Errorf("campaign: calling hours %q: %s is given twice", s, dayNames[d])
			}
			seen[d] = true
			h[d] = w
			if d == b {
				break
			}
		}
	}
	return h, nil
}

// startsWithDay reports whether s begins with a day name ("mon …",
// "mon-fri …").
func startsWithDay(s string) bool {
	return len(s) > 3 && dayIndex(strings.ToLower(s[:3])) >= 0 && (s[3] == ' ' || s[3] == '-')
}

func dayIndex(s string) int {
	for i, n := range dayNames {
		if s == n {
			return i
		}
	}
	return -1
}

func parseWindow(s string) (Window, error) {
	a, b, ok := strings.Cut(s, "-")
	if !ok {
		return Window{}, fmt.Errorf("campaign: calling window %q: want HH:MM-HH:MM", s)
	}
	start, err := ParseClock(strings.TrimSpace(a))
	if err != nil {
		return Window{}, err
	}
	end, err := ParseClock(strings.TrimSpace(b))
	if err != nil {
		return Window{}, err
	}
	if end <= start {
		return Window{}, fmt.Errorf("campaign: calling window %q: the end must be after the start (windows do not cross midnight)", s)
	}
	return Window{start, end}, nil
}

// String writes the hours in ParseHours' form: "09:00-21:00" when every
// day has the same window, else the open days one by one.
func (h CallingHours) String() string {
	same := true
	for _, w := range h {
		same = same && w == h[0]
	}
	clock := func(w Window) string {
		a, _ := w.Start.MarshalText()
		b, _ := w.End.MarshalText()
		return string(a) + "-" + string(b)
	}
	if same && h[0].Open() {
		return clock(h[0])
	}
	var parts []string
	for d, w := range h {
		if w.Open() {
			parts = append(parts, dayNames[d]+" "+clock(w))
		}
	}
	return strings.Join(parts, "; ")
}
