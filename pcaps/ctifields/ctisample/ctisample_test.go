package ctisample

import (
	"encoding/binary"
	"testing"

	"github.com/ipcclab/ipcclab/protocol/cti"
	"github.com/ipcclab/ipcclab/protocol/cti/spec"
)

// TestSamplesDecode: every sample the package builds is accepted by the
// typed codec at its version, and Frame carries the right header.
func TestSamplesDecode(t *testing.T) {
	built := 0
	for _, m := range spec.Messages {
		for _, pv := range []uint32{5, 15, 19, 20, 24, 25} {
			for _, o := range []Options{{Seed: 1}, {Seed: 2, Elements: 3, NoNUL: true}} {
				f, err := Frame(m.Type, pv, o)
				if err != nil {
					if since, _ := cti.MessageType(m.Type).Since(); uint32(since) > pv {
						continue
					}
					t.Fatalf("%s PV%d: %v", m.Name, pv, err)
				}
				if int(binary.BigEndian.Uint32(f)) != len(f)-8 || binary.BigEndian.Uint32(f[4:]) != m.Type {
					t.Fatalf("%s: bad header %x", m.Name, f[:8])
				}
				if _, err := cti.DecodeMessage(f, cti.ProtocolVersion(pv)); err != nil {
					t.Fatalf("%s PV%d: typed codec refuses the sample: %v", m.Name, pv, err)
				}
				built++
			}
		}
	}
	if _, err := Body(120, 24, Options{}); err == nil {
		t.Error("a sample of a type without a layout")
	}
	if _, err := Body(279, 15, Options{}); err == nil {
		t.Error("a sample of a type newer than the version")
	}
	t.Logf("%d samples", built)
}
