package campaign

import (
	"errors"
	"fmt"
	"strings"
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
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("unknown time zone %q", name)
	}
	return loc, nil
}

// openZones returns the zones among names whose local time is inside hours at
// now: selection filters the call list by them, since a window depends only
// on the zone, not on the record. Names that do not resolve are left out
// (the store never holds them).
func openZones(now time.Time, names []string, hours CallingHours) []string {
	var open []string
	for _, n := range names {
		if loc, err := LoadZone(n); err == nil && InWindow(now, loc, hours) {
			open = append(open, n)
		}
	}
	return open
}
