// Package ctisample builds valid GED-188 message bodies of any laid-out
// message type straight from the spec tables, for the tests and
// benchmarks of decoders that must agree with the typed codec (ctifields
// and the generated Wireshark dissector). It encodes independently of
// both the typed codec and ctifields, so a resolution mistake in either
// shows up as a disagreement rather than being built into the samples.
package ctisample

import (
	"encoding/binary"
	"fmt"

	"github.com/ipcclab/ipcclab/protocol/cti/spec"
)

// Options shape a sample.
type Options struct {
	// Seed varies every value (numbers, strings, which enum value).
	Seed int
	// Elements is the number of elements of every repeated group and of
	// every list nested in a group element (default 2).
	Elements int
	// NoNUL sends strings without their terminating NUL (§1.5 allows it).
	NoNUL bool
}

// Body returns a valid body of message type mt for protocol version pv:
// every fixed field of pv set (enum fields to a named value, masks to two
// named bits, the rest non-zero), every float that exists at pv present,
// and every repeated group and nested list with o.Elements elements and
// the matching counts. OPEN_REQ carries pv as its VersionNumber. Floats
// that cannot be carried at pv (tags above 255 with 1-byte tags) are left
// out; an error is returned when the type has no layout, is newer than pv
// or would need such a float.
func Body(mt uint32, pv uint32, o Options) ([]byte, error) {
	var m *spec.Message
	for i := range spec.Messages {
		if spec.Messages[i].Type == mt {
			m = &spec.Messages[i]
		}
	}
	if m == nil {
		return nil, fmt.Errorf("ctisample: message type %d has no layout", mt)
	}
	for _, t := range spec.MessageTypes {
		if t.Type == mt && t.Since > pv {
			return nil, fmt.Errorf("ctisample: %s exists from version %d", m.Name, t.Since)
		}
	}
	if o.Elements <= 0 {
		o.Elements = 2
	}
	b := &builder{pv: pv, wide: pv >= 20, o: o, seed: o.Seed*1000 + int(mt)}
	b.counts = map[string]int{}
	b.planCounts(m)
	for _, f := range m.Fixed {
		if f.Since > pv {
			continue
		}
		typ := f.Type
		if f.OldUntil != 0 && pv < f.OldUntil {
			typ = f.OldType
		}
		var v uint64
		switch {
		case f.Name == m.SelfVersioned:
			v = uint64(pv)
		case b.isCount(f.Name):
			v = uint64(b.counts[f.Name])
		default:
			v = b.number(typ, f.Enum)
		}
		b.putNumber(typ, v)
	}
	var err error
	for i := 0; i < len(m.Floats); {
		f := m.Floats[i]
		if f.Group == "" {
			err = b.float(f, -1)
			i++
			if err != nil {
				return nil, err
			}
			continue
		}
		j := i
		for j < len(m.Floats) && m.Floats[j].Group == f.Group {
			j++
		}
		if err := b.group(m.Floats[i:j]); err != nil {
			return nil, err
		}
		i = j
	}
	return b.out, nil
}

// Frame returns Body with its 8-byte header.
func Frame(mt uint32, pv uint32, o Options) ([]byte, error) {
	body, err := Body(mt, pv, o)
	if err != nil {
		return nil, err
	}
	f := binary.BigEndian.AppendUint32(nil, uint32(len(body)))
	f = binary.BigEndian.AppendUint32(f, mt)
	return append(f, body...), nil
}

type builder struct {
	pv     uint32
	wide   bool
	o      Options
	seed   int
	out    []byte
	counts map[string]int // count field -> elements sent
}

func tagOf(n uint16) spec.Tag {
	t, _ := spec.TagByNumber(n)
	return t
}

// resolved returns a float's wire type, maximum and first version as the
// codec resolves them from the tag table.
func resolved(f spec.Float) (spec.WireType, int, uint32) {
	t := tagOf(f.Tag)
	typ, mx := f.Type, f.Max
	if typ == spec.TypeUnknown {
		typ = t.Type
	}
	if typ == spec.TypeUnknown {
		typ = spec.UNSPEC
	}
	if mx == 0 {
		mx = t.Max
	}
	return typ, mx, max(t.Since, f.Since)
}

func (b *builder) sendable(f spec.Float) bool {
	_, _, since := resolved(f)
	return since <= b.pv && (b.wide || f.Tag <= 0xFF)
}

// planCounts records how many elements each group count will announce.
func (b *builder) planCounts(m *spec.Message) {
	for _, f := range m.Floats {
		if f.Group == "" {
			continue
		}
		if _, done := b.counts[f.Count]; !done {
			n := 0
			if b.sendable(f) && b.countExists(m, f.Count) {
				n = b.o.Elements
			}
			b.counts[f.Count] = n
		}
	}
}

// countExists reports whether the count field is on the wire at the
// builder's version (NumNamedVariables is fixed from PV6 only: before that
// a group it counts cannot be sent).
func (b *builder) countExists(m *spec.Message, name string) bool {
	for _, f := range m.Fixed {
		if f.Name == name {
			return f.Since <= b.pv
		}
	}
	for _, f := range m.Floats {
		if f.Name == name && f.Group == "" {
			return b.sendable(f)
		}
	}
	return false
}

func (b *builder) isCount(name string) bool {
	_, ok := b.counts[name]
	return ok
}

func (b *builder) next() int { b.seed++; return b.seed }

// number returns a non-zero value of typ; for an enum a named value (two
// named bits for a mask).
func (b *builder) number(typ spec.WireType, enum string) uint64 {
	s := b.next()
	if enum != "" {
		e, _ := spec.EnumByName(enum)
		var vals []uint32
		for _, v := range e.Values {
			if !v.Alias {
				vals = append(vals, v.Value)
			}
		}
		if len(vals) > 0 {
			v := vals[s%len(vals)]
			if e.Mask {
				v |= vals[(s+3)%len(vals)]
			}
			return uint64(v)
		}
	}
	switch typ {
	case spec.BOOL:
		return 1
	case spec.SHORT:
		return uint64(uint16(int16(-(s%200 + 1))))
	case spec.INT:
		return uint64(uint32(int32(-(s%2000 + 1))))
	case spec.TIME:
		return uint64(1_600_000_000 + s)
	case spec.UCHAR:
		return uint64(s%200 + 1)
	}
	return uint64(s%60000 + 1)
}

func (b *builder) putNumber(typ spec.WireType, v uint64) {
	switch typ.Size() {
	case 1:
		b.out = append(b.out, byte(v))
	case 2:
		b.out = binary.BigEndian.AppendUint16(b.out, uint16(v))
	default:
		b.out = binary.BigEndian.AppendUint32(b.out, uint32(v))
	}
}

// head writes a float's tag and length.
func (b *builder) head(tag uint16, n int) {
	if b.wide {
		b.out = binary.BigEndian.AppendUint16(b.out, tag)
		b.out = binary.BigEndian.AppendUint16(b.out, uint16(n))
		return
	}
	b.out = append(b.out, byte(tag), byte(n))
}

// float writes one float; count >= 0 overrides its value (counts).
func (b *builder) float(f spec.Float, count int) error {
	if !b.sendable(f) {
		_, _, since := resolved(f)
		if f.Presence == spec.Required && since <= b.pv {
			return fmt.Errorf("ctisample: required %s (tag %d) cannot be sent at version %d", f.Name, f.Tag, b.pv)
		}
		return nil
	}
	typ, mx, _ := resolved(f)
	if count < 0 && b.isCount(f.Name) {
		count = b.counts[f.Name]
	}
	limit := 0xFFFF
	if !b.wide {
		limit = 0xFF
	}
	if mx == 0 || mx > limit {
		mx = limit
	}
	s := b.next()
	switch typ {
	case spec.UCHAR, spec.USHORT, spec.SHORT, spec.UINT, spec.INT, spec.BOOL, spec.TIME:
		v := b.number(typ, f.Enum)
		if count >= 0 {
			v = uint64(count)
		}
		b.head(f.Tag, typ.Size())
		b.putNumber(typ, v)
	case spec.STRING:
		str := fmt.Sprintf("v%d-%s", s, "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ")
		if len(str) > mx-1 {
			str = str[:mx-1]
		}
		data := []byte(str)
		if !b.o.NoNUL || len(data) == 0 {
			data = append(data, 0)
		}
		b.head(f.Tag, len(data))
		b.out = append(b.out, data...)
	case spec.NAMEDVAR, spec.NAMEDARRAY:
		var data []byte
		if typ == spec.NAMEDARRAY {
			data = append(data, byte(s))
		}
		data = fmt.Appendf(data, "user.var%d\x00value %d", s%1000, s)
		if !b.o.NoNUL {
			data = append(data, 0)
		}
		b.head(f.Tag, len(data))
		b.out = append(b.out, data...)
	default:
		n := min(5, mx)
		b.head(f.Tag, n)
		for i := range n {
			b.out = append(b.out, byte(s+i))
		}
	}
	return nil
}

// group writes o.Elements elements of a repeated group (members in spec
// order; nested lists with o.Elements elements each).
func (b *builder) group(members []spec.Float) error {
	if b.counts[members[0].Count] == 0 {
		return nil
	}
	for range b.o.Elements {
		if len(members) == 1 {
			if err := b.float(members[0], -1); err != nil {
				return err
			}
			continue
		}
		// Nested counts: members named by a later member's SubCount.
		subCount := map[string]bool{}
		for _, m := range members {
			if m.Sub != "" {
				subCount[m.SubCount] = true
			}
		}
		for k := 0; k < len(members); {
			m := members[k]
			if m.Sub == "" {
				c := -1
				if subCount[m.Name] {
					// The list is sent only if its first member exists at pv.
					c = 0
					for _, x := range members[k+1:] {
						if x.SubCount == m.Name && b.sendable(x) {
							c = b.o.Elements
							break
						}
					}
				}
				if err := b.float(m, c); err != nil {
					return err
				}
				k++
				continue
			}
			j := k
			for j < len(members) && members[j].Sub == m.Sub {
				j++
			}
			if b.sendable(m) {
				for range b.o.Elements {
					for _, sm := range members[k:j] {
						if err := b.float(sm, -1); err != nil {
							return err
						}
					}
				}
			}
			k = j
		}
	}
	return nil
}
