package sipsum

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/netip"
	"strconv"
	"strings"

	"github.com/ipcclab/ipcclab/pcaps/rtpstat"
	"github.com/pion/sdp/v3"
)

// Media is one SDP media description (an m= line) with what it says about
// where and how the announcer wants to receive.
type Media struct {
	// Type is the media type, "audio" (or "image" for T.38 fax).
	Type string `json:"type"`
	// Addr is the connection address, the m= section's own c= line else
	// the session's.
	Addr  string `json:"addr"`
	Port  int    `json:"port"`
	Proto string `json:"proto"`
	// Payloads lists the RTP payload types offered, named by rtpmap or the
	// static table; empty for non-RTP media.
	Payloads []Payload `json:"payloads,omitempty"`
	// Direction is sendrecv, sendonly, recvonly or inactive, from the m=
	// section else the session, sendrecv when neither says (RFC 3264).
	Direction string `json:"direction"`
}

// Payload is an offered RTP payload type.
type Payload struct {
	Type uint8 `json:"type"`
	rtpstat.Codec
}

// Endpoint is where the announcer receives this media, when the address
// is an IP literal and the port is not 0 (declined).
func (m Media) Endpoint() (netip.AddrPort, bool) {
	a, err := netip.ParseAddr(m.Addr)
	if err != nil || m.Port <= 0 || m.Port > 65535 {
		return netip.AddrPort{}, false
	}
	return netip.AddrPortFrom(a, uint16(m.Port)), true
}

// Codecs gives the payloads as rtpstat.Tracker.Expect takes them.
func (m Media) Codecs() map[uint8]rtpstat.Codec {
	out := make(map[uint8]rtpstat.Codec, len(m.Payloads))
	for _, p := range m.Payloads {
		out[p.Type] = p.Codec
	}
	return out
}

// OnHold reports whether the description puts the media on hold: a
// direction other than sendrecv, or the RFC 2543 connection address
// 0.0.0.0.
func (m Media) OnHold() bool {
	return m.Direction != "sendrecv" || m.Addr == "0.0.0.0"
}

// bodySDP finds the SDP in a message body — the whole body when its type is
// application/sdp (or unstated and it starts with v=0), or the
// application/sdp part of a multipart body as SIP-T/SIP-I gateways send —
// and summarises its media. The string is a note when the body could not
// be read.
func bodySDP(contentType string, body []byte) ([]Media, string) {
	mt, params, err := mime.ParseMediaType(contentType)
	switch {
	case contentType == "":
		if !bytes.HasPrefix(body, []byte("v=0")) {
			return nil, ""
		}
	case err != nil:
		return nil, "Content-Type " + strconv.Quote(contentType) + ": " + err.Error()
	case mt == "application/sdp":
	case strings.HasPrefix(mt, "multipart/"):
		part, err := sdpPart(body, params["boundary"])
		if err != nil {
			return nil, "multipart body: " + err.Error()
		}
		if part == nil {
			return nil, ""
		}
		body = part
	default:
		return nil, ""
	}
	var sd sdp.SessionDescription
	if err := sd.Unmarshal(body); err != nil {
		return nil, "SDP not decoded: " + err.Error()
	}
	return mediaOf(&sd), ""
}

// maxParts bounds the parts of a multipart body looked at.
const maxParts = 8

func sdpPart(body []byte, boundary string) ([]byte, error) {
	if boundary == "" {
		return nil, errors.New("no boundary parameter")
	}
	r := multipart.NewReader(bytes.NewReader(body), boundary)
	for range maxParts {
		p, err := r.NextPart()
		if err == io.EOF {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		if mt, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type")); mt == "application/sdp" {
			return io.ReadAll(io.LimitReader(p, int64(len(body))))
		}
	}
	return nil, nil
}

func direction(attrs []sdp.Attribute) string {
	for _, a := range attrs {
		switch a.Key {
		case "sendrecv", "sendonly", "recvonly", "inactive":
			return a.Key
		}
	}
	return ""
}

func mediaOf(sd *sdp.SessionDescription) []Media {
	sessionAddr := ""
	if c := sd.ConnectionInformation; c != nil && c.Address != nil {
		sessionAddr = c.Address.Address
	}
	sessionDir := direction(sd.Attributes)
	out := make([]Media, 0, len(sd.MediaDescriptions))
	for _, md := range sd.MediaDescriptions {
		m := Media{Type: md.MediaName.Media, Addr: sessionAddr, Port: md.MediaName.Port.Value,
			Proto: strings.Join(md.MediaName.Protos, "/")}
		if c := md.ConnectionInformation; c != nil && c.Address != nil {
			m.Addr = c.Address.Address
		}
		m.Direction = direction(md.Attributes)
		if m.Direction == "" {
			m.Direction = sessionDir
		}
		if m.Direction == "" {
			m.Direction = "sendrecv"
		}
		if strings.Contains(m.Proto, "RTP") {
			m.Payloads = payloads(md)
		}
		out = append(out, m)
	}
	return out
}

// payloads lists an m= line's formats with their rtpmap (RFC 4566 section
// 6: "a=rtpmap:<payload type> <encoding name>/<clock rate>[/<channels>]").
func payloads(md *sdp.MediaDescription) []Payload {
	rtpmap := make(map[uint8]rtpstat.Codec)
	for _, a := range md.Attributes {
		if a.Key != "rtpmap" {
			continue
		}
		pt, enc, ok := strings.Cut(a.Value, " ")
		n, err := strconv.ParseUint(pt, 10, 7)
		if !ok || err != nil {
			continue
		}
		name, rate, _ := strings.Cut(strings.TrimSpace(enc), "/")
		rate, _, _ = strings.Cut(rate, "/")
		clock, _ := strconv.ParseUint(rate, 10, 32)
		rtpmap[uint8(n)] = rtpstat.Codec{Name: name, ClockRate: uint32(clock)}
	}
	var out []Payload
	for _, f := range md.MediaName.Formats {
		n, err := strconv.ParseUint(f, 10, 7)
		if err != nil {
			continue
		}
		pt := uint8(n)
		c, ok := rtpmap[pt]
		if !ok {
			c, _ = rtpstat.StaticPayload(pt)
		}
		out = append(out, Payload{Type: pt, Codec: c})
	}
	return out
}
