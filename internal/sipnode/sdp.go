package sipnode

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/pion/sdp/v3"

	"github.com/ipcclab/ipcclab/internal/media"
)

// EventPT is the dynamic payload type we offer for RFC 4733 telephone-events
// (the common choice, and Cisco's; ipcc-behaviour.md §4.3).
const EventPT = 101

// Media is what one side of an offer/answer says about its audio stream.
type Media struct {
	// Addr is where the side receives RTP.
	Addr netip.AddrPort
	// Laws are the G.711 laws offered, in order of preference.
	Laws []media.Law
	// EventPT is the telephone-event payload type, 0 when not offered.
	EventPT uint8
	// Direction is sendrecv, sendonly, recvonly or inactive (hold).
	Direction string
	// Origin is the o= username: which kind of device speaks
	// ("ipcclab-ivr", "ipcclab-phone"...), as Cisco devices name themselves
	// there ("CiscoSystemsCCM-SIP").
	Origin string
}

// Law is the first (preferred) law.
func (m Media) Law() media.Law {
	if len(m.Laws) == 0 {
		return media.ULaw
	}
	return m.Laws[0]
}

// Description builds the SDP body for m (session version ver, so that a
// re-INVITE can bump it).
func Description(m Media, sessionID, version uint64) []byte {
	ip := m.Addr.Addr().String()
	origin := m.Origin
	if origin == "" {
		origin = "ipcclab"
	}
	var pts []string
	var attrs []sdp.Attribute
	for _, l := range m.Laws {
		pt := l.PayloadType()
		pts = append(pts, strconv.Itoa(int(pt)))
		attrs = append(attrs, sdp.NewAttribute("rtpmap", fmt.Sprintf("%d %s/8000", pt, l)))
	}
	if m.EventPT != 0 {
		pts = append(pts, strconv.Itoa(int(m.EventPT)))
		attrs = append(attrs, sdp.NewAttribute("rtpmap", fmt.Sprintf("%d telephone-event/8000", m.EventPT)),
			sdp.NewAttribute("fmtp", fmt.Sprintf("%d 0-16", m.EventPT)))
	}
	attrs = append(attrs, sdp.NewAttribute("ptime", "20"))
	dir := m.Direction
	if dir == "" {
		dir = "sendrecv"
	}
	attrs = append(attrs, sdp.NewPropertyAttribute(dir))
	d := sdp.SessionDescription{
		Origin: sdp.Origin{Username: origin, SessionID: sessionID, SessionVersion: version, NetworkType: "IN",
			AddressType: "IP4", UnicastAddress: ip},
		SessionName: "ipcclab",
		ConnectionInformation: &sdp.ConnectionInformation{NetworkType: "IN", AddressType: "IP4",
			Address: &sdp.Address{Address: ip}},
		TimeDescriptions: []sdp.TimeDescription{{}},
		MediaDescriptions: []*sdp.MediaDescription{{
			MediaName: sdp.MediaName{Media: "audio", Port: sdp.RangedPort{Value: int(m.Addr.Port())},
				Protos: []string{"RTP", "AVP"}, Formats: pts},
			Attributes: attrs,
		}},
	}
	b, _ := d.Marshal()
	return b
}

// ErrNoCommonCodec is the offer/answer failure answered with 488.
var ErrNoCommonCodec = errors.New("sdp: no common codec (PCMU or PCMA)")

// Parse reads the first audio stream of an SDP body: its address, the G.711
// laws in the offered order and the telephone-event payload type. Other
// codecs are skipped; a body without PCMU or PCMA is ErrNoCommonCodec.
func Parse(body []byte) (Media, error) {
	var d sdp.SessionDescription
	if err := d.Unmarshal(body); err != nil {
		return Media{}, fmt.Errorf("sdp: %w", err)
	}
	var md *sdp.MediaDescription
	for _, x := range d.MediaDescriptions {
		if x.MediaName.Media == "audio" {
			md = x
			break
		}
	}
	if md == nil {
		return Media{}, errors.New("sdp: no audio stream (m=audio)")
	}
	conn := d.ConnectionInformation
	if md.ConnectionInformation != nil {
		conn = md.ConnectionInformation
	}
	if conn == nil || conn.Address == nil {
		return Media{}, errors.New("sdp: no connection address (c=)")
	}
	ip, err := netip.ParseAddr(conn.Address.Address)
	if err != nil {
		return Media{}, fmt.Errorf("sdp: c= address %q: %w", conn.Address.Address, err)
	}
	port := md.MediaName.Port.Value
	if port < 0 || port > 65535 {
		return Media{}, fmt.Errorf("sdp: m=audio port %d out of range", port)
	}
	m := Media{Addr: netip.AddrPortFrom(ip, uint16(port)), Direction: "sendrecv", Origin: d.Origin.Username}
	events := map[string]bool{}
	for _, a := range md.Attributes {
		switch a.Key {
		case "rtpmap":
			pt, enc, _ := strings.Cut(a.Value, " ")
			if strings.HasPrefix(strings.ToLower(enc), "telephone-event/") {
				events[pt] = true
			}
		case "sendrecv", "sendonly", "recvonly", "inactive":
			m.Direction = a.Key
		}
	}
	for _, f := range md.MediaName.Formats {
		switch {
		case f == "0":
			m.Laws = append(m.Laws, media.ULaw)
		case f == "8":
			m.Laws = append(m.Laws, media.ALaw)
		case events[f] && m.EventPT == 0:
			if n, err := strconv.Atoi(f); err == nil && n >= 96 && n <= 127 {
				m.EventPT = uint8(n)
			}
		}
	}
	if len(m.Laws) == 0 {
		return m, ErrNoCommonCodec
	}
	return m, nil
}

// Answer picks what to answer to offer with a local stream at local: the
// first offered law we support (both are), telephone-events if offered, and
// the mirrored direction.
func Answer(offer Media, local netip.AddrPort, origin string) Media {
	a := Media{Addr: local, Origin: origin, Laws: []media.Law{offer.Law()}, EventPT: offer.EventPT, Direction: "sendrecv"}
	switch offer.Direction {
	case "sendonly":
		a.Direction = "recvonly"
	case "recvonly":
		a.Direction = "sendonly"
	case "inactive":
		a.Direction = "inactive"
	}
	return a
}

// Offer is our usual offer: PCMU, PCMA and telephone-event 101.
func Offer(local netip.AddrPort, origin string) Media {
	return Media{Addr: local, Origin: origin, Laws: []media.Law{media.ULaw, media.ALaw}, EventPT: EventPT, Direction: "sendrecv"}
}
