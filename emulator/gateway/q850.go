// Q.850 cause <-> SIP status mapping (RFC 3398). Pure: no I/O, clocks or
// randomness.

package gateway

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Q.850 causes and SIP statuses the mapping treats specially.
const (
	// CauseNormalClearing (16) is carried by BYE/CANCEL, not by a final
	// response; a received BYE or CANCEL maps to it.
	CauseNormalClearing = 16
	// CauseNormalUnspecified (31) is what unlisted SIP statuses map to.
	CauseNormalUnspecified = 31
	// StatusDefault (480 Temporarily Unavailable) is what unlisted causes
	// map to (the status of cause 31).
	StatusDefault = 480
)

// Location is the Q.850 cause location (4 bits).
type Location int

// Q.850 locations.
const (
	LocationUser               Location = 0  // U
	LocationPrivateLocal       Location = 1  // LPN
	LocationPublicLocal        Location = 2  // LN
	LocationTransit            Location = 3  // TN
	LocationPublicRemote       Location = 4  // RLN
	LocationPrivateRemote      Location = 5  // RPN
	LocationInternational      Location = 7  // INTL
	LocationBeyondInterworking Location = 10 // BI
)

// LocationNetwork is the location given to causes derived from 4xx/5xx
// responses ("network"); RFC 3398 names no specific network code, "beyond
// an interworking point" is this emulator's choice.
const LocationNetwork = LocationBeyondInterworking

// CauseMap is the Q.850 cause ↔ SIP status mapping of a gateway (RFC 3398
// §7.2.4.1 and §8.2.6.1 by default). It is a value: With returns a changed
// copy and never alters the receiver.
type CauseMap struct {
	toStatus map[int]int // cause -> status; 0 = BYE/CANCEL, not a response
	toCause  map[int]int // status -> cause
}

// rfc3398ToStatus is the ISDN cause → SIP response table (RFC 3398
// §7.2.4.1, ipcc-behaviour.md §4.2).
var rfc3398ToStatus = map[int]int{
	1: 404, 2: 404, 3: 404,
	16: 0, // BYE / CANCEL
	17: 486, 18: 408, 19: 480, 20: 480,
	21: 403, // 603 if the cause location is user (StatusAt)
	22: 410, // 301 if the diagnostic holds the new number (StatusAt)
	23: 410, 26: 404, 27: 502, 28: 484, 29: 501, 31: 480,
	34: 503, 38: 503, 41: 503, 42: 503, 47: 503,
	55: 403, 57: 403, 58: 503, 65: 488, 70: 488, 79: 501, 87: 403, 88: 503,
	102: 504, 111: 500, 127: 500,
}

// rfc3398ToCause is the SIP response → ISDN cause table (RFC 3398
// §8.2.6.1 as listed in ipcc-behaviour.md §4.2, with 487 → 16).
var rfc3398ToCause = map[int]int{
	400: 41, 401: 21, 402: 21, 403: 21, 404: 1, 405: 63, 406: 79, 407: 21, 408: 102, 410: 22,
	413: 127, 414: 127, 415: 79, 416: 127, 420: 127, 421: 127, 423: 127,
	480: 18, 481: 41, 482: 25, 483: 25, 484: 28, 485: 1, 486: 17, 487: 16, 488: 127,
	500: 41, 501: 79, 502: 38, 503: 41, 504: 102, 505: 127, 513: 127,
	600: 17, 603: 21, 604: 1, 606: 58,
}

// DefaultCauseMap returns the RFC 3398 mapping.
func DefaultCauseMap() CauseMap {
	return CauseMap{toStatus: maps.Clone(rfc3398ToStatus), toCause: maps.Clone(rfc3398ToCause)}
}

// presets are the vendor variants: SIP status → cause overrides on top of
// RFC 3398 (ipcc-behaviour.md §4.2).
var presets = map[string]map[int]int{
	"rfc3398":    nil,
	"audiocodes": {400: 31, 488: 31, 501: 38, 481: 127, 482: 127},
	"opensips":   {488: 31, 501: 38},
}

// PresetNames lists the valid CauseMapPreset names, sorted.
func PresetNames() []string { return slices.Sorted(maps.Keys(presets)) }

// CauseMapPreset returns a named mapping: "rfc3398" (the default),
// "audiocodes" or "opensips" (case-insensitive).
func CauseMapPreset(name string) (CauseMap, error) {
	key := strings.ToLower(strings.TrimSpace(name))
	if key == "" {
		key = "rfc3398"
	}
	rev, ok := presets[key]
	if !ok {
		return CauseMap{}, fmt.Errorf("gateway.cause_map: unknown preset %q (valid: %s)", name, strings.Join(PresetNames(), ", "))
	}
	return DefaultCauseMap().With(nil, rev)
}

func (m CauseMap) statusTable() map[int]int {
	if m.toStatus == nil {
		return rfc3398ToStatus // zero CauseMap behaves as the default
	}
	return m.toStatus
}

func (m CauseMap) causeTable() map[int]int {
	if m.toCause == nil {
		return rfc3398ToCause
	}
	return m.toCause
}

// Status returns the final response for a call the PSTN released with
// cause. Causes not in the table map to 480 (as 31 does). Normal clearing
// (16) is not a response: status is 0 and the gateway sends BYE (answered)
// or CANCEL instead, unless overridden with a real status.
func (m CauseMap) Status(cause int) (status int, reason string) {
	status, ok := m.statusTable()[cause]
	if !ok {
		status = StatusDefault
	}
	if status == 0 {
		return 0, ""
	}
	return status, ReasonPhrase(status)
}

// StatusAt is Status with the cause's location and diagnostic: cause 21
// (call rejected) from the user gives 603 Decline instead of 403, and cause
// 22 (number changed) with the new number in the diagnostic gives 301 Moved
// Permanently instead of 410; both only while the table holds the RFC 3398
// status for the cause.
func (m CauseMap) StatusAt(cause int, loc Location, newNumber bool) (status int, reason string) {
	status, _ = m.Status(cause)
	switch {
	case cause == 21 && status == 403 && loc == LocationUser:
		status = 603
	case cause == 22 && status == 410 && newNumber:
		status = 301
	}
	if status == 0 {
		return 0, ""
	}
	return status, ReasonPhrase(status)
}

// Cause returns the Q.850 cause for a final SIP response; statuses not in
// the table map to 31 (normal, unspecified). BYE and CANCEL map to
// CauseNormalClearing (16), as does 487 in the default table.
func (m CauseMap) Cause(status int) int {
	if c, ok := m.causeTable()[status]; ok {
		return c
	}
	return CauseNormalUnspecified
}

// CauseAt is Cause with the location: "user" for 6xx responses, "network"
// (LocationNetwork) for the others.
func (m CauseMap) CauseAt(status int) (cause int, loc Location) {
	loc = LocationNetwork
	if status >= 600 && status <= 699 {
		loc = LocationUser
	}
	return m.Cause(status), loc
}

// Listed reports whether cause (toSIP) or status (!toSIP) has an explicit
// entry rather than falling back to the default.
func (m CauseMap) Listed(code int, toSIP bool) bool {
	if toSIP {
		_, ok := m.statusTable()[code]
		return ok
	}
	_, ok := m.causeTable()[code]
	return ok
}

// With returns a copy of m with overrides (Q.850 cause → SIP status) and
// reverse (SIP status → Q.850 cause) applied. Causes must be 1..127 and
// statuses 300..699; the first bad entry (in key order, overrides first) is
// reported as gateway.q850_to_sip[cause] or gateway.sip_to_q850[status].
func (m CauseMap) With(overrides map[int]int, reverse map[int]int) (CauseMap, error) {
	for _, c := range slices.Sorted(maps.Keys(overrides)) {
		s := overrides[c]
		if c < 1 || c > 127 {
			return CauseMap{}, fmt.Errorf("gateway.q850_to_sip[%d]: cause %d out of range 1..127", c, c)
		}
		if s < 300 || s > 699 {
			return CauseMap{}, fmt.Errorf("gateway.q850_to_sip[%d]: status %d out of range 300..699", c, s)
		}
	}
	for _, s := range slices.Sorted(maps.Keys(reverse)) {
		c := reverse[s]
		if s < 300 || s > 699 {
			return CauseMap{}, fmt.Errorf("gateway.sip_to_q850[%d]: status %d out of range 300..699", s, s)
		}
		if c < 1 || c > 127 {
			return CauseMap{}, fmt.Errorf("gateway.sip_to_q850[%d]: cause %d out of range 1..127", s, c)
		}
	}
	out := CauseMap{toStatus: maps.Clone(m.statusTable()), toCause: maps.Clone(m.causeTable())}
	maps.Copy(out.toStatus, overrides)
	maps.Copy(out.toCause, reverse)
	return out, nil
}

// ToSIP returns a copy of the cause → status table (0 = BYE/CANCEL).
func (m CauseMap) ToSIP() map[int]int { return maps.Clone(m.statusTable()) }

// ToQ850 returns a copy of the status → cause table.
func (m CauseMap) ToQ850() map[int]int { return maps.Clone(m.causeTable()) }

// reasons are the SIP reason phrases (RFC 3261 §21 and later RFCs).
var reasons = map[int]string{
	100: "Trying", 180: "Ringing", 181: "Call Is Being Forwarded", 182: "Queued", 183: "Session Progress",
	199: "Early Dialog Terminated",
	200: "OK", 202: "Accepted", 204: "No Notification",
	300: "Multiple Choices", 301: "Moved Permanently", 302: "Moved Temporarily", 305: "Use Proxy",
	380: "Alternative Service",
	400: "Bad Request", 401: "Unauthorized", 402: "Payment Required", 403: "Forbidden", 404: "Not Found",
	405: "Method Not Allowed", 406: "Not Acceptable", 407: "Proxy Authentication Required",
	408: "Request Timeout", 410: "Gone", 412: "Conditional Request Failed", 413: "Request Entity Too Large",
	414: "Request-URI Too Long", 415: "Unsupported Media Type", 416: "Unsupported URI Scheme",
	417: "Unknown Resource-Priority", 420: "Bad Extension", 421: "Extension Required",
	422: "Session Interval Too Small", 423: "Interval Too Brief", 428: "Use Identity Header",
	429: "Provide Referrer Identity", 433: "Anonymity Disallowed", 437: "Unsupported Certificate",
	480: "Temporarily Unavailable", 481: "Call/Transaction Does Not Exist", 482: "Loop Detected",
	483: "Too Many Hops", 484: "Address Incomplete", 485: "Ambiguous", 486: "Busy Here",
	487: "Request Terminated", 488: "Not Acceptable Here", 489: "Bad Event", 491: "Request Pending",
	493: "Undecipherable", 494: "Security Agreement Required",
	500: "Server Internal Error", 501: "Not Implemented", 502: "Bad Gateway", 503: "Service Unavailable",
	504: "Server Time-out", 505: "Version Not Supported", 513: "Message Too Large",
	580: "Precondition Failure",
	600: "Busy Everywhere", 603: "Decline", 604: "Does Not Exist Anywhere", 606: "Not Acceptable",
	607: "Unwanted",
}

// ReasonPhrase returns the standard reason phrase of a SIP status, or the
// RFC 3261 class name for codes without one ("Provisional", "Success",
// "Redirection", "Client Error", "Server Error", "Global Failure"; ""
// outside 100..699).
func ReasonPhrase(status int) string {
	if r, ok := reasons[status]; ok {
		return r
	}
	switch status / 100 {
	case 1:
		return "Provisional"
	case 2:
		return "Success"
	case 3:
		return "Redirection"
	case 4:
		return "Client Error"
	case 5:
		return "Server Error"
	case 6:
		return "Global Failure"
	}
	return ""
}
