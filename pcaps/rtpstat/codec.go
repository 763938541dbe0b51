package rtpstat

import "strconv"

// Codec names a payload type's encoding and gives its RTP clock rate, as an
// SDP rtpmap does ("PCMU/8000"). A ClockRate of 0 means unknown: jitter is
// not computed for such a payload.
type Codec struct {
	Name      string `json:"name"`
	ClockRate uint32 `json:"clock_rate"`
}

// String renders the codec as an rtpmap does, "PCMU/8000".
func (c Codec) String() string {
	if c.ClockRate == 0 {
		return c.Name
	}
	return c.Name + "/" + strconv.FormatUint(uint64(c.ClockRate), 10)
}

// TelephoneEvent is the encoding name RFC 4733 registers for DTMF events.
const TelephoneEvent = "telephone-event"

// staticPayloads are the static payload types of RFC 3551 section 6 that a
// contact centre's media can carry. G722 is 8000 by the RFC's own erratum
// (its RTP clock runs at 8 kHz though it samples at 16 kHz).
var staticPayloads = [35]Codec{
	0:  {"PCMU", 8000},
	3:  {"GSM", 8000},
	4:  {"G723", 8000},
	5:  {"DVI4", 8000},
	6:  {"DVI4", 16000},
	7:  {"LPC", 8000},
	8:  {"PCMA", 8000},
	9:  {"G722", 8000},
	10: {"L16", 44100},
	11: {"L16", 44100},
	12: {"QCELP", 8000},
	13: {"CN", 8000},
	14: {"MPA", 90000},
	15: {"G728", 8000},
	16: {"DVI4", 11025},
	17: {"DVI4", 22050},
	18: {"G729", 8000},
	25: {"CelB", 90000},
	26: {"JPEG", 90000},
	28: {"nv", 90000},
	31: {"H261", 90000},
	32: {"MPV", 90000},
	33: {"MP2T", 90000},
	34: {"H263", 90000},
}

// StaticPayload returns the codec RFC 3551 assigns to a static payload type,
// and false for dynamic and unassigned ones.
func StaticPayload(pt uint8) (Codec, bool) {
	if int(pt) < len(staticPayloads) && staticPayloads[pt].Name != "" {
		return staticPayloads[pt], true
	}
	return Codec{}, false
}

// defaultEventPT is the payload type most equipment (Cisco gateways and
// CUCM among them) uses for telephone-event when SDP is not in the capture.
const defaultEventPT = 101

// looksLikeEvent reports whether an RTP payload has the shape of an RFC 4733
// named event (section 2.3): one 4-byte block (several come only under an
// RFC 2198 redundancy payload type) whose event code is a DTMF digit or
// flash (0–16) and whose reserved bit is clear. Audio frames are longer.
func looksLikeEvent(payload []byte) bool {
	return len(payload) == 4 && payload[0] <= 16 && payload[1]&0x40 == 0
}
