package cti

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/ipcclab/ipcclab/protocol/cti/spec"
)

// TestUnusedTagsRoundTripAsFloatingFields gives the tags that no laid-out
// message carries (unusedTags) their own round trip: each is written as a
// floating field with its documented type and maximum size, at both tag
// widths it can have (1 byte below PV20 when the tag fits, 2 bytes from PV20),
// and read back to the same value and the same bytes. Together with the
// message round trips this gives every §4.17 tag a round-trip test.
func TestUnusedTagsRoundTripAsFloatingFields(t *testing.T) {
	byTag := map[uint16]spec.Tag{}
	for _, tg := range spec.Tags {
		byTag[tg.Tag] = tg
	}
	for tag := range unusedTags {
		tg, ok := byTag[tag]
		if !ok {
			t.Errorf("unusedTags lists %d, which is not in the tag table", tag)
			continue
		}
		for _, pv := range []ProtocolVersion{15, 24} {
			if pv < WideTagsFrom && tag > 255 {
				continue // a 1-byte tag cannot carry it
			}
			if since := ProtocolVersion(tg.Since); since > pv {
				continue
			}
			t.Run(fmt.Sprintf("%s/PV%d", tg.Name, pv), func(t *testing.T) {
				max := tg.Max
				if max == 0 {
					max = 64
				}
				e := newEncoder(nil, pv, MsgClientEventReportReq)
				var want any
				switch tg.Type {
				case spec.UCHAR:
					want = uint8(0xA5)
					e.fu8(Tag(tag), tg.Name, 0xA5)
				case spec.USHORT, spec.SHORT, spec.BOOL:
					want = uint16(0xA5B6)
					if tg.Type == spec.BOOL {
						want = uint16(1)
					}
					e.fu16(Tag(tag), tg.Name, want.(uint16))
				case spec.UINT, spec.INT, spec.TIME:
					want = uint32(0xA5B6C7D8)
					e.fu32(Tag(tag), tg.Name, 0xA5B6C7D8)
				case spec.STRING:
					want = strings.Repeat("x", max-1) // the longest string that fits, NUL included
					e.fstr(Tag(tag), tg.Name, want.(string), max)
				default: // UNSPEC and undocumented types are opaque bytes
					want = bytes.Repeat([]byte{0x5A}, max)
					e.fbytes(Tag(tag), tg.Name, want.([]byte), max)
				}
				if e.err != nil {
					t.Fatal(e.err)
				}
				wire := append([]byte(nil), e.b...)
				d := newDecoder(wire, pv, MsgClientEventReportReq)
				if !d.next() || d.tag != Tag(tag) {
					t.Fatalf("% x does not read back as tag %d", wire, tag)
				}
				var got any
				switch want.(type) {
				case uint8:
					got = d.fu8(tg.Name)
				case uint16:
					got = d.fu16(tg.Name)
				case uint32:
					got = d.fu32(tg.Name)
				case string:
					got = d.fstr(tg.Name, max)
				case []byte:
					got = d.fbytes(tg.Name, max)
				}
				if d.err != nil {
					t.Fatal(d.err)
				}
				if fmt.Sprint(got) != fmt.Sprint(want) || d.next() {
					t.Fatalf("tag %d: wrote %v, read %v", tag, want, got)
				}
				// One byte over the maximum is refused with status 23.
				over := newEncoder(nil, pv, MsgClientEventReportReq)
				switch v := want.(type) {
				case string:
					over.fstr(Tag(tag), tg.Name, v+"x", max)
				case []byte:
					over.fbytes(Tag(tag), tg.Name, append(v, 0), max)
				default:
					return
				}
				var ce *Error
				if over.err == nil || !errors.As(over.err, &ce) || ce.Status != StatusInvalidFieldLength {
					t.Fatalf("tag %d: over-long value gave %v, want E_CTI_INVALID_FIELD_LENGTH", tag, over.err)
				}
			})
		}
	}
}

// TestNoLayoutTypesRoundTripAsRaw: a message type the reference gives no
// layout for (spec.NoLayouts) still travels: it decodes as a RawMessage of
// that type and re-encodes to the same bytes, at both tag widths, in every
// version from the one that introduced it.
func TestNoLayoutTypesRoundTripAsRaw(t *testing.T) {
	body := []byte{0, 0, 0, 7, 0xA5, 0x5A}
	n := 0
	for _, nl := range spec.NoLayouts {
		mt := MessageType(nl.Type)
		for _, pv := range []ProtocolVersion{15, 20, 24, 25} {
			if since, ok := mt.Since(); !ok || since > pv {
				continue
			}
			frame, err := AppendMessage(nil, &RawMessage{Type: mt, Body: body}, pv)
			if err != nil {
				t.Fatalf("%v at PV%d: %v", mt, pv, err)
			}
			m, err := DecodeMessage(frame, pv)
			if err != nil {
				t.Fatalf("%v at PV%d: %v", mt, pv, err)
			}
			raw, ok := m.(*RawMessage)
			if !ok || raw.Type != mt || !bytes.Equal(raw.Body, body) {
				t.Fatalf("%v at PV%d decoded as %T %+v", mt, pv, m, m)
			}
			again, err := AppendMessage(nil, raw, pv)
			if err != nil || !bytes.Equal(again, frame) {
				t.Fatalf("%v at PV%d re-encoded % x, want % x (%v)", mt, pv, again, frame, err)
			}
			n++
		}
	}
	if n == 0 {
		t.Fatal("no message type without a layout was exercised")
	}
}

// CallVars points at CallVariable1..10 in order, for every message that
// carries them.
func TestCallVarsAccessor(t *testing.T) {
	v := [10]string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j"}
	for _, m := range []CallVariables{&BeginCallEvent{}, &CallDeliveredEvent{}, &CallDataUpdateEvent{}, &AgentPreCallEvent{},
		&SetCallDataReq{}, &MakeCallReq{}, &MakePredictiveCallReq{}, &SnapshotCallConf{}} {
		SetCallVars(m, v)
		if GetCallVars(m) != v {
			t.Fatalf("%T: %v", m, GetCallVars(m))
		}
	}
	b := &BeginCallEvent{}
	SetCallVars(b, v)
	if b.CallVariable1 != "a" || b.CallVariable10 != "j" {
		t.Fatalf("CallVars order: %q %q", b.CallVariable1, b.CallVariable10)
	}
}
