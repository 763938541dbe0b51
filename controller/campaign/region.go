package campaign

import (
	"fmt"
	"strings"
)

// regionZones maps regions that lie in a single time zone to it: ISO 3166-1
// countries and US states (ISO 3166-2 "US-NY"). Regions that span several
// zones (US, CA, AU, RU, BR, MX; Florida, Texas, Indiana, …) are left out on
// purpose: guessing the majority zone would call part of the region outside
// its legal hours, so such rows must give time_zone.
var regionZones = map[string]string{
	"GB": "Europe/London", "IE": "Europe/Dublin", "IN": "Asia/Kolkata",
	"DE": "Europe/Berlin", "FR": "Europe/Paris", "IT": "Europe/Rome",
	"NL": "Europe/Amsterdam", "BE": "Europe/Brussels", "CH": "Europe/Zurich",
	"AT": "Europe/Vienna", "PL": "Europe/Warsaw", "SE": "Europe/Stockholm",
	"NO": "Europe/Oslo", "DK": "Europe/Copenhagen", "FI": "Europe/Helsinki",
	"JP": "Asia/Tokyo", "KR": "Asia/Seoul", "SG": "Asia/Singapore",
	"HK": "Asia/Hong_Kong", "PH": "Asia/Manila", "AE": "Asia/Dubai",
	"IL": "Asia/Jerusalem", "ZA": "Africa/Johannesburg",

	"US-CT": "America/New_York", "US-DE": "America/New_York", "US-DC": "America/New_York",
	"US-GA": "America/New_York", "US-ME": "America/New_York", "US-MD": "America/New_York",
	"US-MA": "America/New_York", "US-NH": "America/New_York", "US-NJ": "America/New_York",
	"US-NY": "America/New_York", "US-NC": "America/New_York", "US-OH": "America/New_York",
	"US-PA": "America/New_York", "US-RI": "America/New_York", "US-SC": "America/New_York",
	"US-VT": "America/New_York", "US-VA": "America/New_York", "US-WV": "America/New_York",
	"US-AL": "America/Chicago", "US-AR": "America/Chicago", "US-IL": "America/Chicago",
	"US-IA": "America/Chicago", "US-LA": "America/Chicago", "US-MN": "America/Chicago",
	"US-MS": "America/Chicago", "US-MO": "America/Chicago", "US-OK": "America/Chicago",
	"US-WI": "America/Chicago",
	"US-CO": "America/Denver", "US-MT": "America/Denver", "US-NM": "America/Denver",
	"US-UT": "America/Denver", "US-WY": "America/Denver",
	"US-CA": "America/Los_Angeles", "US-WA": "America/Los_Angeles",
	"US-HI": "Pacific/Honolulu",
}

// RegionZone resolves a region to its time zone.
func RegionZone(region string) (string, error) {
	z, ok := regionZones[strings.ToUpper(strings.TrimSpace(region))]
	if !ok {
		return "", fmt.Errorf("unknown region %q (or it spans several time zones: give time_zone)", region)
	}
	return z, nil
}
