package ctifields

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/ipcclab/ipcclab/pcaps/ctifields/ctisample"
	"github.com/ipcclab/ipcclab/protocol/cti"
	"github.com/ipcclab/ipcclab/protocol/cti/spec"
)

// agreeVersions are the versions every layout is sampled at: the 1-byte
// tag versions around the fixed-part changes, the first 2-byte version and
// the current ones.
var agreeVersions = []uint32{5, 9, 15, 19, 20, 24, 25}

func specMessage(mt uint32) *spec.Message {
	for i := range spec.Messages {
		if spec.Messages[i].Type == mt {
			return &spec.Messages[i]
		}
	}
	return nil
}

// TestAgreesWithTypedCodec decodes a fully populated body of every laid-out
// message type at every sampled version with both decoders and checks that
// every field ctifields returns has the typed struct's value (and enum
// name), that the typed struct has nothing more, and that re-encoding the
// fields gives the body back.
func TestAgreesWithTypedCodec(t *testing.T) {
	n := 0
	sampled := map[uint32]map[uint32]bool{}
	for _, m := range spec.Messages {
		sampled[m.Type] = map[uint32]bool{}
		for _, pv := range agreeVersions {
			for _, o := range []ctisample.Options{{Seed: 1}, {Seed: 2, Elements: 3, NoNUL: true}, {Seed: 3, Elements: 1}} {
				body, err := ctisample.Body(m.Type, pv, o)
				if err != nil {
					if strings.Contains(err.Error(), "exists from version") {
						continue
					}
					t.Fatalf("%s PV%d: %v", m.Name, pv, err)
				}
				sampled[m.Type][pv] = true
				t.Run(fmt.Sprintf("%s/PV%d/seed%d", m.Name, pv, o.Seed), func(t *testing.T) {
					checkAgainstTyped(t, m.Type, body, pv, false)
				})
				n++
			}
		}
	}
	// Every layout at PV24 (2-byte tags; PV25 for the types that only
	// exist from 25) and, when it exists then, at PV15 (1-byte tags).
	for _, m := range spec.Messages {
		since, _ := cti.MessageType(m.Type).Since()
		if !sampled[m.Type][max(24, uint32(since))] || (since <= 15 && !sampled[m.Type][15]) {
			t.Errorf("%s sampled only at %v", m.Name, sampled[m.Type])
		}
	}
	if n < 3*len(spec.Messages) {
		t.Fatalf("only %d samples for %d layouts", n, len(spec.Messages))
	}
}

// checkAgainstTyped decodes body with both decoders. With lenient, an
// error is allowed when both decoders report the same one (fuzzing);
// otherwise both must succeed.
func checkAgainstTyped(t testing.TB, mt uint32, body []byte, pv uint32, lenient bool) {
	t.Helper()
	typed, terr := cti.DecodeBody(cti.MessageType(mt), body, cti.ProtocolVersion(pv))
	got, err := Decode(mt, body, pv)
	for i, f := range got.Fields {
		if f.Offset < 0 || f.Len < 0 || f.Offset+f.Len > len(body) {
			t.Fatalf("field %d %s: offset %d len %d outside a %d-byte body", i, f.Name, f.Offset, f.Len, len(body))
		}
	}
	if terr != nil || err != nil {
		if !lenient {
			t.Fatalf("typed: %v\nctifields: %v\nbody %x", terr, err, body)
		}
		var te, ce *cti.Error
		if !errors.As(terr, &te) || !errors.As(err, &ce) {
			t.Fatalf("errors disagree:\ntyped:     %v\nctifields: %v\nbody %x", terr, err, body)
		}
		if *te != *ce {
			t.Fatalf("errors disagree:\ntyped:     %#v\nctifields: %#v\nbody %x", *te, *ce, body)
		}
		return
	}
	if got.Name != cti.MessageType(mt).String() {
		t.Fatalf("name %q, want %q", got.Name, cti.MessageType(mt))
	}
	if raw, ok := typed.(*cti.RawMessage); ok {
		if len(got.Fields) != 1 || got.Fields[0].Name != "Body" || !bytes.Equal(got.Fields[0].Bytes, raw.Body) {
			t.Fatalf("raw message: %+v", got.Fields)
		}
		return
	}
	compareTyped(t, specMessage(mt), got, reflect.ValueOf(typed).Elem())
	if re := reencode(t, got, mt, body); !bytes.Equal(re, body) {
		t.Fatalf("re-encoded fields differ from the body\n got %x\nwant %x", re, body)
	}
}

// compareTyped checks every field against the typed struct sv, following
// repeated groups and nested lists by member order, then checks that the
// struct's groups have exactly the elements seen.
func compareTyped(t testing.TB, m *spec.Message, got Message, sv reflect.Value) {
	t.Helper()
	byTag := map[uint16]spec.Float{}
	member := map[uint16]int{} // tag -> member index in its group
	groupMembers := map[string][]spec.Float{}
	for _, f := range m.Floats {
		byTag[f.Tag] = f
		if f.Group != "" {
			member[f.Tag] = len(groupMembers[f.Group])
			groupMembers[f.Group] = append(groupMembers[f.Group], f)
		}
	}
	elem := map[string]int{}    // group -> current element index
	subElem := map[string]int{} // group/sub -> current nested element index
	seenFloat := map[string]bool{}
	nfixed := fixedCount(got)
	for i, f := range got.Fields {
		where := fmt.Sprintf("%s field %d %s", m.Name, i, f.Name)
		if i < nfixed {
			fv := sv.FieldByName(f.Name)
			if !fv.IsValid() {
				t.Fatalf("%s: no such fixed field in the typed struct", where)
			}
			compareValue(t, where, f, fv)
			continue
		}
		sf, ok := byTag[f.Tag]
		if !ok {
			if f.Name != TagName(f.Tag) {
				t.Fatalf("%s: tag %d not in the layout but named %q", where, f.Tag, f.Name)
			}
			continue // skipped by the typed codec (IgnoreUnknownTagsFrom)
		}
		if f.Name != sf.Name {
			t.Fatalf("%s: tag %d is %s in the layout", where, f.Tag, sf.Name)
		}
		if sf.Group == "" {
			seenFloat[sf.Name] = true
			compareValue(t, where, f, sv.FieldByName(sf.Name))
			if p := sv.FieldByName("Present"); p.IsValid() {
				if has := sv.Addr().MethodByName("Has").Call([]reflect.Value{reflect.ValueOf(cti.Tag(f.Tag))}); !has[0].Bool() {
					t.Fatalf("%s: typed struct does not have it present", where)
				}
			}
			continue
		}
		k := member[f.Tag]
		members := groupMembers[sf.Group]
		if k == 0 {
			if _, ok := elem[sf.Group]; !ok {
				elem[sf.Group] = -1
			}
			elem[sf.Group]++
			for key := range subElem {
				if strings.HasPrefix(key, sf.Group+"/") {
					delete(subElem, key)
				}
			}
		}
		gv := sv.FieldByName(sf.Group)
		e := elem[sf.Group]
		if e < 0 || e >= gv.Len() {
			t.Fatalf("%s: element %d of %s, typed struct has %d", where, e, sf.Group, gv.Len())
		}
		ev := gv.Index(e)
		if len(members) == 1 {
			compareValue(t, where, f, ev)
			continue
		}
		if sf.Sub == "" {
			compareValue(t, where, f, ev.FieldByName(sf.Name))
			continue
		}
		key := sf.Group + "/" + sf.Sub
		var sub []spec.Float
		for _, x := range members {
			if x.Sub == sf.Sub {
				sub = append(sub, x)
			}
		}
		if sub[0].Tag == f.Tag {
			if _, ok := subElem[key]; !ok {
				subElem[key] = -1
			}
			subElem[key]++
		}
		lv := ev.FieldByName(sf.Sub)
		se := subElem[key]
		if se < 0 || se >= lv.Len() {
			t.Fatalf("%s: nested element %d of %s, typed struct has %d", where, se, key, lv.Len())
		}
		if len(sub) == 1 {
			compareValue(t, where, f, lv.Index(se))
		} else {
			compareValue(t, where, f, lv.Index(se).FieldByName(sf.Name))
		}
	}
	// Nothing more in the typed struct: every present float was seen and
	// every group has the elements seen.
	for _, f := range m.Floats {
		if f.Group != "" {
			if _, first := elem[f.Group]; !first && sv.FieldByName(f.Group).Len() != 0 {
				t.Fatalf("%s: typed %s has %d elements, ctifields none", m.Name, f.Group, sv.FieldByName(f.Group).Len())
			}
			if e, ok := elem[f.Group]; ok && sv.FieldByName(f.Group).Len() != e+1 {
				t.Fatalf("%s: typed %s has %d elements, ctifields %d", m.Name, f.Group, sv.FieldByName(f.Group).Len(), e+1)
			}
			continue
		}
		has := sv.Addr().MethodByName("Has").Call([]reflect.Value{reflect.ValueOf(cti.Tag(f.Tag))})[0].Bool()
		if has != seenFloat[f.Name] {
			t.Fatalf("%s: %s present in typed struct %v, in ctifields %v", m.Name, f.Name, has, seenFloat[f.Name])
		}
	}
}

// compareValue checks one field against the typed struct's value: the
// number, string, bytes or named variable, and the enum name (the typed
// String(), except that ctifields leaves unnamed values and a 0 mask
// without a name).
func compareValue(t testing.TB, where string, f Field, v reflect.Value) {
	t.Helper()
	if !v.IsValid() {
		t.Fatalf("%s: not in the typed struct", where)
	}
	ok := true
	switch v.Kind() {
	case reflect.Bool:
		ok = f.Type == spec.BOOL && f.Bool == v.Bool()
	case reflect.Uint8, reflect.Uint16, reflect.Uint32:
		ok = f.Uint == v.Uint() && (f.Type == spec.UCHAR || f.Type == spec.USHORT || f.Type == spec.UINT || f.Type == spec.TIME)
	case reflect.Int16, reflect.Int32:
		ok = f.Int == v.Int() && (f.Type == spec.SHORT || f.Type == spec.INT)
	case reflect.String:
		ok = f.Type == spec.STRING && f.Str == v.String()
	case reflect.Slice:
		ok = f.Type == spec.UNSPEC && bytes.Equal(f.Bytes, v.Bytes())
	case reflect.Struct:
		switch x := v.Interface().(type) {
		case cti.NamedVar:
			ok = f.Type == spec.NAMEDVAR && f.VarName == x.Name && f.VarValue == x.Value
		case cti.NamedArray:
			ok = f.Type == spec.NAMEDARRAY && f.VarName == x.Name && f.VarValue == x.Value && f.VarIndex == x.Index
		default:
			t.Fatalf("%s: unexpected struct %T", where, x)
		}
	default:
		t.Fatalf("%s: unexpected kind %s", where, v.Kind())
	}
	if !ok {
		t.Fatalf("%s: %s %s %q, typed %v (%s)", where, f.Type, f.Value(), f.Enum, v.Interface(), v.Type())
	}
	want := ""
	if s, isEnum := v.Interface().(fmt.Stringer); isEnum && v.Type().PkgPath() != "" && v.Type().Name() != "Time" {
		want = s.String()
		if strings.HasSuffix(want, ")") || want == "0" {
			want = ""
		}
	}
	if f.Enum != want {
		t.Fatalf("%s: enum %q, typed String() gives %q", where, f.Enum, want)
	}
}

// reencode rebuilds a body from decoded fields: fixed fields at their
// length, floats with the tag width of the decode version. Bytes after a
// string's NUL are not decoded; they are taken from orig once the decoded
// text is checked to be what precedes them.
func reencode(t testing.TB, m Message, mt uint32, orig []byte) []byte {
	t.Helper()
	wide := m.Version >= 20
	var b []byte
	nfixed := fixedCount(m)
	for i, f := range m.Fields {
		if i < nfixed {
			if f.Offset != len(b) {
				t.Fatalf("fixed %s at offset %d, expected %d", f.Name, f.Offset, len(b))
			}
		} else {
			if wide {
				b = binary.BigEndian.AppendUint16(b, f.Tag)
				b = binary.BigEndian.AppendUint16(b, uint16(f.Len))
			} else {
				b = append(b, byte(f.Tag), byte(f.Len))
			}
			if f.Offset != len(b) {
				t.Fatalf("float %s at offset %d, expected %d", f.Name, f.Offset, len(b))
			}
		}
		start := len(b)
		switch f.Type {
		case spec.UCHAR, spec.USHORT, spec.UINT, spec.TIME, spec.SHORT, spec.INT, spec.BOOL:
			v := f.Uint
			switch f.Type {
			case spec.SHORT, spec.INT:
				v = uint64(f.Int)
			case spec.BOOL:
				if f.Bool != (f.Uint != 0) {
					t.Fatalf("%s: Bool %v but raw value %d", f.Name, f.Bool, f.Uint)
				}
			}
			for i := f.Len - 1; i >= 0; i-- {
				b = append(b, byte(v>>(8*i)))
			}
		case spec.STRING:
			b = append(b, f.Str...)
		case spec.NAMEDVAR, spec.NAMEDARRAY:
			if f.Type == spec.NAMEDARRAY {
				b = append(b, f.VarIndex)
			}
			b = append(append(append(b, f.VarName...), 0), f.VarValue...)
		default:
			b = append(b, f.Bytes...)
		}
		switch f.Type {
		case spec.STRING, spec.NAMEDVAR, spec.NAMEDARRAY:
			wire := orig[f.Offset : f.Offset+f.Len]
			if !bytes.HasPrefix(wire, b[start:]) || (len(wire) > len(b)-start && wire[len(b)-start] != 0) {
				t.Fatalf("%s %s: decoded %q is not what the wire holds up to a NUL: %q", mt2s(mt), f.Name, b[start:], wire)
			}
			b = append(b[:start], wire...)
		}
		if len(b)-start != f.Len {
			t.Fatalf("%s %s: value re-encodes to %d bytes, field is %d", mt2s(mt), f.Name, len(b)-start, f.Len)
		}
	}
	return b
}

// fixedCount is the number of fixed-part fields at the head of m (a float
// may carry tag 0 on the wire, so Tag does not tell them apart).
func fixedCount(m Message) int {
	l, _ := LayoutOf(m.Type)
	n := 0
	for i := range l.Fixed {
		if l.Fixed[i].SizeAt(m.Version) > 0 {
			n++
		}
	}
	return min(n, len(m.Fields))
}

func mt2s(mt uint32) string { return cti.MessageType(mt).String() }

// TestVectorsAgree decodes the annotated hex frames of protocol/cti (real
// §7 captures and the [HS] samples) with both decoders.
func TestVectorsAgree(t *testing.T) {
	files := vectorFiles(t)
	n := 0
	for _, path := range files {
		pv, frames := parseVectors(t, path)
		for i, fr := range frames {
			mt := binary.BigEndian.Uint32(fr[4:])
			t.Run(fmt.Sprintf("%s/%d", shortName(path), i), func(t *testing.T) {
				checkAgainstTyped(t, mt, fr[cti.HeaderSize:], pv, false)
			})
			n++
		}
	}
	if n < 20 {
		t.Fatalf("only %d vector frames", n)
	}
}
