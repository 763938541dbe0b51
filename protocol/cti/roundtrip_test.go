package cti

import (
	"bytes"
	"fmt"
	"os"
	"reflect"
	"testing"

	"github.com/ipcclab/ipcclab/protocol/cti/internal/codegen"
	"github.com/ipcclab/ipcclab/protocol/cti/spec"
)

// TestGeneratedFilesUpToDate fails when the generated files differ from
// what the generator produces from package spec (run go generate).
func TestGeneratedFilesUpToDate(t *testing.T) {
	files, err := codegen.Files()
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range files {
		got, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s is stale: run go generate ./protocol/cti", name)
		}
	}
}

func tagSince(n uint16) uint32 {
	t, _ := spec.TagByNumber(n)
	return t.Since
}

func floatSince(f spec.Float) uint32 {
	return max(tagSince(f.Tag), f.Since)
}

func floatMax(f spec.Float) int {
	if f.Max != 0 {
		return f.Max
	}
	t, _ := spec.TagByNumber(f.Tag)
	return t.Max
}

// fillValue returns a deterministic non-zero value of type typ, fitting a
// field of at most max bytes.
func fillValue(typ reflect.Type, seed int, max int) reflect.Value {
	v := reflect.New(typ).Elem()
	switch typ.Kind() {
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Uint8, reflect.Uint16, reflect.Uint32:
		v.SetUint(uint64(seed%200 + 1))
	case reflect.Int16, reflect.Int32:
		v.SetInt(int64(-(seed%200 + 1)))
	case reflect.String:
		s := fmt.Sprintf("v%d-abcdefghijklmnopqrstuvwxyz0123456789", seed)
		if max > 0 && len(s) > max-1 {
			s = s[:max-1]
		}
		v.SetString(s)
	case reflect.Slice: // []byte
		n := 5
		if max > 0 && n > max {
			n = max
		}
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(seed + i)
		}
		v.SetBytes(b)
	case reflect.Struct:
		switch typ {
		case reflect.TypeOf(NamedVar{}):
			v.Set(reflect.ValueOf(NamedVar{Name: fmt.Sprintf("user.var%d", seed), Value: "value"}))
		case reflect.TypeOf(NamedArray{}):
			v.Set(reflect.ValueOf(NamedArray{Index: uint8(seed), Name: fmt.Sprintf("user.arr%d", seed), Value: "x"}))
		default:
			panic(typ)
		}
	default:
		panic(typ)
	}
	return v
}

// sample builds a fully populated message of layout m for version pv and the
// value that decoding its encoding must give.
func sample(t *testing.T, m spec.Message, pv ProtocolVersion) (in, want Message) {
	in = newMessage(MessageType(m.Type))
	if in == nil {
		t.Fatalf("%s: no struct", m.Name)
	}
	want = newMessage(MessageType(m.Type))
	iv, wv := reflect.ValueOf(in).Elem(), reflect.ValueOf(want).Elem()
	counts := map[string]int{}
	seed := 0
	for _, f := range m.Fixed {
		seed++
		val := fillValue(iv.FieldByName(f.Name).Type(), seed, 0)
		if f.Name == m.SelfVersioned {
			val = reflect.ValueOf(uint32(pv))
		}
		iv.FieldByName(f.Name).Set(val)
		if f.Since <= uint32(pv) {
			wv.FieldByName(f.Name).Set(val)
		}
	}
	// Groups: two elements each.
	groups := map[string][]spec.Float{}
	var order []string
	for _, f := range m.Floats {
		if f.Group != "" {
			if groups[f.Group] == nil {
				order = append(order, f.Group)
			}
			groups[f.Group] = append(groups[f.Group], f)
		}
	}
	for _, f := range m.Floats {
		if f.Group != "" {
			continue
		}
		seed++
		fv := iv.FieldByName(f.Name)
		val := fillValue(fv.Type(), seed, floatMax(f))
		fv.Set(val)
		if floatSince(f) <= uint32(pv) {
			wv.FieldByName(f.Name).Set(val)
			want.(interface{ SetPresent(Tag) }).SetPresent(Tag(f.Tag))
		}
	}
	for _, name := range order {
		members := groups[name]
		gi, gw := iv.FieldByName(name), wv.FieldByName(name)
		n := 2
		exists := floatSince(members[0]) <= uint32(pv)
		for e := 0; e < n; e++ {
			seed++
			var el, wel reflect.Value
			if len(members) == 1 {
				el = fillValue(gi.Type().Elem(), seed, floatMax(members[0]))
				wel = el
			} else {
				el = reflect.New(gi.Type().Elem()).Elem()
				wel = reflect.New(gi.Type().Elem()).Elem()
				for k, mem := range members {
					val := fillValue(el.FieldByName(mem.Name).Type(), seed+k, floatMax(mem))
					el.FieldByName(mem.Name).Set(val)
					if floatSince(mem) <= uint32(pv) {
						wel.FieldByName(mem.Name).Set(val)
						if mem.Presence == spec.Optional {
							p := wel.FieldByName("Present")
							p.SetUint(p.Uint() | 1<<k)
						}
					}
				}
			}
			gi.Set(reflect.Append(gi, el))
			if exists {
				gw.Set(reflect.Append(gw, wel))
			}
		}
		if exists {
			counts[members[0].Count] = n
		}
	}
	// Count fields are left 0 in the input (the encoder fills them in) and
	// carry the element count in the decoded value.
	for name, n := range counts {
		f := iv.FieldByName(name)
		f.Set(reflect.Zero(f.Type()))
		wv.FieldByName(name).SetUint(uint64(n))
	}
	return in, want
}

func TestRoundTripAllLayouts(t *testing.T) {
	for _, m := range spec.Messages {
		for _, pv := range []ProtocolVersion{15, 19, 20, 24, 25} {
			since, _ := MessageType(m.Type).Since()
			if since > pv {
				continue
			}
			t.Run(fmt.Sprintf("%s/PV%d", m.Name, pv), func(t *testing.T) {
				in, want := sample(t, m, pv)
				b1, err := AppendMessage(nil, in, pv)
				if err != nil {
					t.Fatalf("encode: %v", err)
				}
				got, err := DecodeMessage(b1, pv)
				if err != nil {
					t.Fatalf("decode: %v\n%x", err, b1)
				}
				if !reflect.DeepEqual(got, want) {
					t.Fatalf("round trip\n got %+v\nwant %+v", got, want)
				}
				b2, err := AppendMessage(nil, got, pv)
				if err != nil || !bytes.Equal(b1, b2) {
					t.Fatalf("re-encode differs (%v)\n%x\n%x", err, b1, b2)
				}
				// The non-allocating form decodes into a reused struct.
				reuse := newMessage(MessageType(m.Type))
				for range 2 {
					if err := reuse.UnmarshalBody(b1[HeaderSize:], pv); err != nil {
						t.Fatal(err)
					}
				}
				if !reflect.DeepEqual(reuse, want) {
					t.Fatalf("UnmarshalBody into reused struct differs")
				}
			})
		}
	}
}

func TestEmptyAndPresentFields(t *testing.T) {
	// A present-but-empty string survives decode -> encode (§1.5).
	m := &ClientEventReportReq{InvokeID: 7, Text: ""}
	b, err := AppendMessage(nil, m, 15)
	if err != nil {
		t.Fatal(err)
	}
	// Required Text is always sent; optional ObjectName is absent.
	want := []byte{0, 0, 0, 9, 0, 0, 0, 0x20, 0, 0, 0, 7, 0, 0, 7, 1, 0}
	if !bytes.Equal(b, want) {
		t.Fatalf("got %x want %x", b, want)
	}
	var r ClientEventReportReq
	if err := r.UnmarshalBody(b[HeaderSize:], 15); err != nil {
		t.Fatal(err)
	}
	if !r.Has(TagText) || r.Has(TagObjectName) {
		t.Fatalf("presence wrong: %+v", r)
	}
	// SetPresent forces an empty optional field out.
	r.SetPresent(TagObjectName)
	b2, _ := AppendMessage(nil, &r, 15)
	if !bytes.HasSuffix(b2, []byte{0x42, 1, 0}) {
		t.Fatalf("empty ObjectName not sent: %x", b2)
	}
	// ClientPassword as a single NUL is kept verbatim.
	o := &OpenReq{VersionNumber: 15, ClientID: "x", ClientPassword: []byte{0}}
	b3, _ := AppendMessage(nil, o, 15)
	got, err := DecodeMessage(b3, 15)
	if err != nil || !bytes.Equal(got.(*OpenReq).ClientPassword, []byte{0}) {
		t.Fatalf("password: %v %+v", err, got)
	}
	// Tolerant string decoding: missing NUL, text after NUL.
	body := append(append([]byte{}, b[HeaderSize:HeaderSize+6]...), 7, 3, 'a', 'b', 'c', 0x42, 4, 'x', 0, 'y', 'z')
	if err := r.UnmarshalBody(body, 15); err != nil || r.Text != "abc" || r.ObjectName != "x" {
		t.Fatalf("tolerant strings: %v %+v", err, r)
	}
}

func TestVersionGating(t *testing.T) {
	ase := &AgentStateEvent{DepartmentID: 42, Direction: DirectionOut, MaxBeyondTaskLimit: 3}
	for _, c := range []struct {
		pv   ProtocolVersion
		size int
	}{{15, 58}, {16, 58 + 2 + 4}, {19, 62 + 2 + 4}, {22, 62 + 8 + 8}} {
		b, err := AppendMessage(nil, ase, c.pv)
		if err != nil {
			t.Fatal(err)
		}
		if len(b)-HeaderSize != c.size {
			t.Errorf("PV%d: body %d bytes, want %d", c.pv, len(b)-HeaderSize, c.size)
		}
	}
	// Messages newer than the version are refused in both directions.
	if _, err := AppendMessage(nil, &AgentPreCallEvent{}, 5); statusOf(err) != StatusInvalidMsgTypeForVersion {
		t.Errorf("encode newer message: %v", err)
	}
	frame := []byte{0, 0, 0, 0, 0, 0, 1, 21} // STANDBY_ACTIVE_EVENT_MSG (277), PV24
	if _, err := DecodeMessage(frame, 20); statusOf(err) != StatusInvalidMsgTypeForVersion {
		t.Errorf("decode newer message: %v", err)
	}
	if m, err := DecodeMessage(frame, 24); err != nil || m.(*RawMessage).Type != MsgStandbyActiveEventMsg {
		t.Errorf("raw message: %v %v", m, err)
	}
}

func statusOf(err error) Status {
	if e, ok := err.(*Error); ok {
		return e.Status
	}
	return 0xFFFFFFFF
}
