package sipnode

import (
	"net/netip"
	"testing"
)

// FuzzParseSDP: whatever an INVITE carries, Parse returns a Media or an
// error and never panics; a Media it accepts re-encodes (Description) to a
// body that parses back to the same address, laws and telephone-event.
func FuzzParseSDP(f *testing.F) {
	f.Add(Description(Offer(netip.MustParseAddrPort("127.0.0.1:16384"), "seed"), 1, 1))
	f.Add([]byte("v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 8 0 101\r\na=rtpmap:101 telephone-event/8000\r\na=sendonly\r\n"))
	f.Add([]byte("v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 4000 RTP/AVP 18\r\n"))
	f.Add([]byte("v=0\r\nm=audio 99999 RTP/AVP 0\r\nc=IN IP4 nonsense\r\n"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, body []byte) {
		m, err := Parse(body)
		if err != nil {
			return
		}
		if !m.Addr.IsValid() || len(m.Laws) == 0 {
			t.Fatalf("accepted %q as %+v", body, m)
		}
		if !m.Addr.Addr().Is4() {
			return // Description writes IP4 only
		}
		back, err := Parse(Description(m, 1, 1))
		if err != nil {
			t.Fatalf("re-encoded %+v does not parse: %v", m, err)
		}
		if back.Addr != m.Addr || back.EventPT != m.EventPT || len(back.Laws) != len(m.Laws) || back.Laws[0] != m.Laws[0] {
			t.Fatalf("round trip %+v → %+v", m, back)
		}
	})
}
