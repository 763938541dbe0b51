// A phone's decisions that need no I/O: whether it takes an INVITE, and
// whether it rings or goes off-hook by itself. Pure: the adapter
// (phones.go) and the simulation driver's switching fabric
// (emulator/fabric) both decide through these.

package phones

// OfferStatus is a phone's answer to an INVITE for its line: 0 when it
// takes the call (rings, or answers at once — AutoAnswer), else the final
// status: 404 no phone on that extension, 486 the phone is ringing or in a
// call already, 488 no SDP offer to answer.
func OfferStatus(known, busy, hasOffer bool) (int, string) {
	switch {
	case !known:
		return 404, "Not Found"
	case busy:
		return 486, "Busy Here"
	case !hasOffer:
		return 488, "Not Acceptable Here"
	}
	return 0, ""
}

// AutoAnswerParam is the Call-Info parameter that asks a phone to answer at
// once (CallManager sets it for a predictive call connected to a reserved
// agent's headset).
const AutoAnswerParam = "answer-after=0"

// AutoAnswer reports whether an INVITE's Call-Info header value asks the
// phone to go off-hook without ringing (case-insensitive, as header
// parameters are).
func AutoAnswer(callInfo string) bool { return containsFold(callInfo, AutoAnswerParam) }

func containsFold(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if equalFold(s[i:i+len(sub)], sub) {
			return true
		}
	}
	return false
}

func equalFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}
