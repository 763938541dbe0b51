package pcaps

import (
	"bytes"
	"encoding/binary"
	"testing"
	"time"

	"github.com/ipcclab/ipcclab/protocol/cti"
)

// FuzzStreamDecoder feeds arbitrary bytes to the CTI stream framer in
// chunks, with gaps, as reassembly would: it must never panic, must keep
// its buffer bounded (a message and a header beyond what it was just
// given), and every frame it emits must be a whole message with a
// plausible header.
func FuzzStreamDecoder(f *testing.F) {
	hb := frameOf(f, &cti.HeartbeatReq{InvokeID: 7}, 24)
	ase := frameOf(f, &cti.AgentStateEvent{MonitorID: 1, PeripheralID: 5000, AgentState: cti.AgentStateTalking, AgentID: "1001"}, 24)
	f.Add(append(append([]byte{}, hb...), ase...), uint16(5), uint8(0))
	f.Add(append([]byte{0xde, 0xad, 0xbe}, append(ase, hb...)...), uint16(3), uint8(2))
	f.Add(bytes.Repeat([]byte{0, 0, 0, 4, 0, 0, 0, 5}, 40), uint16(7), uint8(9))
	f.Fuzz(func(t *testing.T, data []byte, chunk uint16, gapEvery uint8) {
		fr := &framer{versions: func() []cti.ProtocolVersion { return []cti.ProtocolVersion{24, 15} }}
		at := func(int) (int, time.Time) { return 1, time.Time{} }
		size := int(chunk%4096) + 1
		for i, n := 0, 0; i < len(data); i, n = i+size, n+1 {
			end := min(i+size, len(data))
			if gapEvery != 0 && n%int(gapEvery) == int(gapEvery)-1 {
				fr.gap(int(chunk%97)+1, n, time.Time{})
			}
			fr.write(data[i:end], at)
			if len(fr.buf) > maxUnsynced+size {
				t.Fatalf("buffer grew to %d bytes", len(fr.buf))
			}
		}
		fr.end(0, time.Time{})
		if len(fr.buf) != 0 {
			t.Fatalf("%d bytes left after end", len(fr.buf))
		}
		for _, m := range fr.frames {
			if len(m.data) < cti.HeaderSize || int(binary.BigEndian.Uint32(m.data))+cti.HeaderSize != len(m.data) {
				t.Fatalf("frame of %d bytes with MessageLength %d", len(m.data), binary.BigEndian.Uint32(m.data))
			}
		}
	})
}

// FuzzDecode decodes arbitrary capture files: no panic, only a "not a
// capture" error or a result.
func FuzzDecode(f *testing.F) {
	f.Add(sessionCapture(f, "10.1.1.5:51000", "10.1.1.9:42027", agentSession(f, 24), true))
	f.Add([]byte{0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 1, 0, 0, 0})
	f.Fuzz(func(t *testing.T, raw []byte) {
		c, err := Decode(bytes.NewReader(raw), Options{})
		if err != nil {
			return
		}
		var out bytes.Buffer
		if err := c.WriteText(&out); err != nil {
			t.Fatal(err)
		}
	})
}
