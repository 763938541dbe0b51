package rtpstat

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// golden compares got with testdata/name, or rewrites it under -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		gl, wl := bytes.Split(got, []byte("\n")), bytes.Split(want, []byte("\n"))
		i := 0
		for i < len(gl) && i < len(wl) && bytes.Equal(gl[i], wl[i]) {
			i++
		}
		line := func(ls [][]byte) []byte {
			if i < len(ls) {
				return ls[i]
			}
			return []byte("(end of file)")
		}
		t.Errorf("%s differs from line %d (go test -update rewrites it):\n got: %s\nwant: %s", path, i+1, line(gl), line(wl))
	}
}

// goldenCall is a call's media: the caller's stream with digits and a lost
// packet, the gateway's stream with jitter and RTCP both ways, and a
// stream of an unannounced dynamic payload type.
func goldenCall(t *testing.T) *Tracker {
	tr := NewTracker()
	tr.Expect(caller, map[uint8]Codec{0: {Name: "PCMU", ClockRate: 8000}})
	callWithDigits(t, &feeder{t: t, tr: tr, src: caller, dst: gateway, lose: map[int]bool{20: true}})
	down := &feeder{t: t, tr: tr, src: gateway, dst: caller, frame: 100}
	for i := range 50 {
		ms := float64(20*i + 3)
		if i%7 == 3 {
			ms += 4 // a late packet every so often
		}
		down.pcmu(0xB0B, uint16(65500+i), i, ms)
	}
	tr.Datagram(at(1000), 200, callerRTCP, gatewayRTCP, senderReport(t, 0x55, 0xB0B, 0, 0, 40))
	tr.Datagram(at(1010), 201, gatewayRTCP, callerRTCP, receiverReport(t, 0xB0B, 0x55, 2, 1, 8))
	odd := &feeder{t: t, tr: tr, src: netipMust("10.0.0.7:4000"), dst: netipMust("10.0.0.8:4002"), frame: 300}
	for i := range 4 {
		odd.send(float64(2000+20*i), rtpPacket(t, 0xC0FFEE, uint16(i), uint32(320*i), 97, false, voice[:33]))
	}
	return tr
}

func TestAppendTextGolden(t *testing.T) {
	tr := goldenCall(t)
	var out []byte
	for _, s := range tr.Streams() {
		out = s.AppendText(out)
	}
	golden(t, "streams.golden", out)
}

func TestJSONGolden(t *testing.T) {
	tr := goldenCall(t)
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	if err := enc.Encode(struct {
		Streams []Stream     `json:"streams"`
		RTCP    []RTCPSource `json:"rtcp"`
		Stats   Stats        `json:"stats"`
	}{tr.Streams(), tr.RTCP(), tr.Stats()}); err != nil {
		t.Fatal(err)
	}
	golden(t, "streams.json.golden", buf.Bytes())
}
