package dissector

import (
	"encoding/binary"
	"math/rand/v2"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ipcclab/ipcclab/internal/capture"
	"github.com/ipcclab/ipcclab/pcaps/ctifields/ctisample"
	"github.com/ipcclab/ipcclab/protocol/cti/spec"
)

func frame(mt uint32, body []byte) []byte {
	f := binary.BigEndian.AppendUint32(nil, uint32(len(body)))
	f = binary.BigEndian.AppendUint32(f, mt)
	return append(f, body...)
}

// wideFloat is a floating field with 2-byte tag and length.
func wideFloat(tag uint16, data string) []byte {
	b := binary.BigEndian.AppendUint16(nil, tag)
	b = binary.BigEndian.AppendUint16(b, uint16(len(data)))
	return append(b, data...)
}

func cat(parts ...[]byte) []byte {
	var b []byte
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

// TestTsharkBadInput: malformed messages are shown with an expert item
// naming the problem (no Lua error), the preference ged188.version decodes
// a session without OPEN_REQ, and the heuristic leaves non-CTI TCP alone.
func TestTsharkBadInput(t *testing.T) {
	tshark, dir, lua := tsharkSetup(t)
	pcap := filepath.Join(dir, "bad.pcapng")
	w, err := capture.Create(pcap)
	if err != nil {
		t.Fatal(err)
	}
	clock := time.Unix(1_700_000_000, 0)
	at := func() time.Time { clock = clock.Add(time.Millisecond); return clock }
	ap := netip.MustParseAddrPort

	open, err := ctisample.Frame(3, 24, ctisample.Options{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	ase, err := ctisample.Body(30, 24, ctisample.Options{Seed: 1, Elements: 1})
	if err != nil {
		t.Fatal(err)
	}
	fixed := ase[:62] // AGENT_STATE_EVENT's fixed part at PV24, NumFltSkillGroups = 1
	bad := []struct {
		frame []byte
		want  string // expert text
	}{
		{frame(30, cat(fixed, wideFloat(5, "1001\x00"), []byte{0, 4, 0, 40, 'x'})), "AGENT_EXTENSION_TAG (4): field length 40 runs past the end of the message"},
		{frame(30, cat(fixed, wideFloat(999, "ab"))), "unknown tag 999"},
		{frame(30, cat(fixed, wideFloat(7, "text\x00"))), "tag TEXT_TAG not allowed in AGENT_STATE_EVENT"},
		{frame(30, cat(fixed, wideFloat(150, "\x00\x01\x02"))), "Duration has length 3, want 4"},
		{frame(30, cat(fixed, wideFloat(5, "1234567890123\x00"))), "AgentID of 14 bytes exceeds the maximum of 12"},
		{frame(30, fixed[:20]), "body of 20 bytes is shorter than the 62-byte fixed part for protocol version 24"},
		{frame(13, make([]byte, 24)), "required field ConnectionDeviceID missing"},
		{frame(9999, []byte{1, 2, 3, 4}), "unknown message type 9999"},
		{frame(30, cat(fixed, wideFloat(303, "t\x00"))), "ActiveTerminal exists from protocol version 25, session is 24"},
		{[]byte{0x7f, 0xff, 0xff, 0xff, 0, 0, 0, 30, 1, 2}, "MessageLength 2147483647 exceeds the maximum of 12492"},
	}
	// Valid edge cases: empty strings with and without their NUL, an empty
	// UNSPEC, a named variable with an empty value, an unlisted tag that
	// OPEN_REQ skips from PV24 (compared with ctifields, no expert items).
	beginCall := cat(binary.BigEndian.AppendUint32(nil, 1), binary.BigEndian.AppendUint32(nil, 2),
		[]byte{0, 3, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0}, binary.BigEndian.AppendUint32(nil, 9), []byte{0, 0},
		wideFloat(25, "\x00"), wideFloat(8, ""), wideFloat(9, ""), wideFloat(10, "dnis"), wideFloat(82, "user.n\x00"))
	openSkip := cat(open[8:], wideFloat(400, "id"))
	edge := [][]byte{frame(23, beginCall), frame(3, openSkip)}
	f := w.NewTCPFlow(at(), ap("10.2.0.1:50001"), ap("10.2.0.2:42027"))
	f.Data(at(), true, open)
	for _, b := range edge {
		f.Data(at(), false, b)
	}
	for _, b := range bad {
		f.Data(at(), false, b.frame)
	}
	f.Close(at(), true)

	// No OPEN_REQ: decoded with the preference.
	pv15, err := ctisample.Frame(30, 15, ctisample.Options{Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	f = w.NewTCPFlow(at(), ap("10.2.0.3:50002"), ap("10.2.0.4:40200"))
	f.Data(at(), false, pv15)
	f.Close(at(), true)

	// Not CTI: the heuristic must leave these alone.
	for i, payload := range [][]byte{
		[]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"),
		{0, 0, 0, 16, 0, 0, 0x99, 0x99, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}, // unknown type
		frame(30, make([]byte, 10)),                                                            // AGENT_STATE_EVENT shorter than any fixed part
		frame(30, cat(fixed, []byte{1})),                                                       // a body that parses under no version
	} {
		f = w.NewTCPFlow(at(), ap("10.2.0.5:50010"), netip.AddrPortFrom(netip.MustParseAddr("10.2.0.6"), uint16(40300+i)))
		f.Data(at(), true, payload)
		f.Close(at(), true)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}

	out := runTshark(t, tshark, "-n", "-X", "lua_script:"+lua, "-o", "ged188.version:15", "-r", pcap, "-T", "pdml")
	if i := strings.Index(string(out), "Lua Error"); i >= 0 {
		t.Fatalf("Lua error in tshark output: %s", out[i:min(len(out), i+300)])
	}
	msgs := ged188Messages(t, out)
	if len(msgs) != 1+len(edge)+len(bad)+1 {
		t.Fatalf("tshark shows %d GED-188 messages, want %d", len(msgs), 1+len(edge)+len(bad)+1)
	}
	m, err := buildModel()
	if err != nil {
		t.Fatal(err)
	}
	for i, b := range edge {
		compareMessage(t, m, sentMsg{session: "edge", mt: binary.BigEndian.Uint32(b[4:]), pv: 24, body: b[8:]}, msgs[1+i])
	}
	for i, b := range bad {
		var experts []string
		for _, f := range msgs[1+len(edge)+i] {
			if strings.HasPrefix(f.Name, "ged188.expert.") {
				experts = append(experts, f.ShowName)
			}
		}
		if !strings.Contains(strings.Join(experts, "\n"), b.want) {
			t.Errorf("bad message %d: expert items %q, want %q", i, experts, b.want)
		}
	}
	var version string
	for _, f := range msgs[len(msgs)-1] {
		if f.Name == "ged188.version" {
			version = f.ShowName
		}
	}
	if !strings.Contains(version, "15 (preference ged188.version)") {
		t.Errorf("session without OPEN_REQ decoded with %q", version)
	}
	compareMessage(t, m, sentMsg{session: "preference", mt: 30, pv: 15, body: pv15[8:]}, msgs[len(msgs)-1])
}

// TestTsharkMutatedMessages sends every laid-out type at PV24 and PV15
// with bytes flipped, its body cut short or junk appended (MessageLength
// kept consistent): tshark must show every message, with no Lua error.
func TestTsharkMutatedMessages(t *testing.T) {
	tshark, dir, lua := tsharkSetup(t)
	pcap := filepath.Join(dir, "mutated.pcapng")
	w, err := capture.Create(pcap)
	if err != nil {
		t.Fatal(err)
	}
	clock := time.Unix(1_700_000_000, 0)
	at := func() time.Time { clock = clock.Add(time.Millisecond); return clock }
	rng := rand.New(rand.NewPCG(1, 2))
	sent := 0
	for i, pv := range []uint32{24, 15} {
		f := w.NewTCPFlow(at(), netip.MustParseAddrPort("10.3.0.1:50001"), netip.AddrPortFrom(netip.MustParseAddr("10.3.0.2"), uint16(42027+i*1000)))
		open, err := ctisample.Frame(3, pv, ctisample.Options{Seed: 1})
		if err != nil {
			t.Fatal(err)
		}
		f.Data(at(), true, open)
		sent++
		for _, m := range spec.Messages {
			for mut := range 3 {
				body, err := ctisample.Body(m.Type, pv, ctisample.Options{Seed: mut})
				if err != nil {
					continue
				}
				switch mut {
				case 0: // flip a few bytes
					for range 1 + rng.IntN(4) {
						body[rng.IntN(len(body))] ^= byte(1 + rng.IntN(255))
					}
				case 1: // cut
					body = body[:rng.IntN(len(body))]
				case 2: // junk after the last float
					body = append(body, []byte{0, 1, 2, 3, 4, 5, 6}[:1+rng.IntN(7)]...)
				}
				f.Data(at(), false, frame(m.Type, body))
				sent++
			}
		}
		f.Close(at(), true)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	out := runTshark(t, tshark, "-n", "-X", "lua_script:"+lua, "-r", pcap, "-T", "pdml")
	if i := strings.Index(string(out), "Lua Error"); i >= 0 {
		t.Fatalf("Lua error in tshark output: %s", out[i:min(len(out), i+300)])
	}
	if got := len(ged188Messages(t, out)); got != sent {
		t.Fatalf("tshark shows %d GED-188 messages, %d were sent", got, sent)
	}
}
