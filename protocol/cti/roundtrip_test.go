package cti

import (
	"bytes"
	"encoding/binary"
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
// value that decoding its encoding must give: every fixed field non-zero,
// every optional float present, every repeated group (and every list nested
// in a group element) with two elements.
func sample(t testing.TB, m spec.Message, pv ProtocolVersion) (in, want Message) {
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
	const n = 2
	for _, name := range order {
		members := groups[name]
		gi, gw := iv.FieldByName(name), wv.FieldByName(name)
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
				fillElement(members, el, wel, seed, pv)
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
		if _, isFloat := floatByName(m, name); isFloat {
			want.(interface{ SetPresent(Tag) }).SetPresent(Tag(mustFloat(m, name).Tag))
		}
	}
	return in, want
}

func floatByName(m spec.Message, name string) (spec.Float, bool) {
	for _, f := range m.Floats {
		if f.Name == name && f.Group == "" {
			return f, true
		}
	}
	return spec.Float{}, false
}

func mustFloat(m spec.Message, name string) spec.Float {
	f, _ := floatByName(m, name)
	return f
}

// fillElement fills one element of a multi-member group: el is the encoder
// input, wel the expected decoded element at version pv. Lists nested in
// the element get two elements; their count members are left 0 in el.
func fillElement(members []spec.Float, el, wel reflect.Value, seed int, pv ProtocolVersion) {
	setPresent := func(k int) {
		p := wel.FieldByName("Present")
		p.SetUint(p.Uint() | 1<<k)
	}
	for k := 0; k < len(members); k++ {
		mem := members[k]
		if mem.Sub == "" {
			val := fillValue(el.FieldByName(mem.Name).Type(), seed+k, floatMax(mem))
			el.FieldByName(mem.Name).Set(val)
			if floatSince(mem) <= uint32(pv) {
				wel.FieldByName(mem.Name).Set(val)
				if mem.Presence == spec.Optional {
					setPresent(k)
				}
			}
			continue
		}
		// A nested list: members k..j-1.
		j := k
		for j < len(members) && members[j].Sub == mem.Sub {
			j++
		}
		sub := members[k:j]
		li, lw := el.FieldByName(mem.Sub), wel.FieldByName(mem.Sub)
		exists := floatSince(sub[0]) <= uint32(pv)
		for e := 0; e < 2; e++ {
			var v reflect.Value
			if len(sub) == 1 {
				v = fillValue(li.Type().Elem(), seed+k+e, floatMax(sub[0]))
			} else {
				v = reflect.New(li.Type().Elem()).Elem()
				for i, sm := range sub {
					v.FieldByName(sm.Name).Set(fillValue(v.FieldByName(sm.Name).Type(), seed+k+e+i, floatMax(sm)))
				}
			}
			li.Set(reflect.Append(li, v))
			if exists {
				lw.Set(reflect.Append(lw, v))
			}
		}
		for ci, c := range members[:k] {
			if c.Name == mem.SubCount {
				el.FieldByName(c.Name).SetUint(0)
				if exists {
					wel.FieldByName(c.Name).SetUint(2)
					if c.Presence == spec.Optional {
						setPresent(ci)
					}
				} else {
					wel.FieldByName(c.Name).SetUint(0)
				}
			}
		}
		k = j - 1
	}
}

// roundTripVersions are the session versions every layout is tested at.
var roundTripVersions = []ProtocolVersion{15, 19, 20, 24, 25}

// roundTripTable is the table of layouts the round-trip test covers: all
// of spec.Messages. TestRoundTripCoversEveryLayout checks that every
// generated struct is in it.
func roundTripTable() []spec.Message { return spec.Messages }

func TestRoundTripAllLayouts(t *testing.T) {
	for _, m := range roundTripTable() {
		for _, pv := range roundTripVersions {
			since, _ := MessageType(m.Type).Since()
			if since > pv {
				// A message newer than the session is refused (§5.7).
				t.Run(fmt.Sprintf("%s/PV%d/too-new", m.Name, pv), func(t *testing.T) {
					in, _ := sample(t, m, since)
					if _, err := AppendMessage(nil, in, pv); statusOf(err) != StatusInvalidMsgTypeForVersion {
						t.Fatalf("encode at PV%d: %v, want status 48", pv, err)
					}
					frame, err := AppendMessage(nil, in, since)
					if err != nil {
						t.Fatal(err)
					}
					if _, err := DecodeMessage(frame, pv); statusOf(err) != StatusInvalidMsgTypeForVersion {
						t.Fatalf("decode at PV%d: %v, want status 48", pv, err)
					}
				})
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

// TestRoundTripCoversEveryLayout fails when a message type has a generated
// struct but is not round-tripped at any tested version (e.g. a layout
// added outside spec.Messages, or one newer than every tested version).
func TestRoundTripCoversEveryLayout(t *testing.T) {
	table := map[uint32]spec.Message{}
	for _, m := range roundTripTable() {
		table[m.Type] = m
	}
	n := 0
	for mt := MessageType(0); mt < MessageType(len(msgTypeTable)); mt++ {
		if !mt.HasLayout() {
			if newMessage(mt) != nil {
				t.Errorf("%v: newMessage has a struct but HasLayout is false", mt)
			}
			continue
		}
		n++
		if _, ok := table[uint32(mt)]; !ok {
			t.Errorf("%v has a layout but is missing from the round-trip table", mt)
			continue
		}
		since, _ := mt.Since()
		if since > roundTripVersions[len(roundTripVersions)-1] {
			t.Errorf("%v (PV%d+) is newer than every round-trip version", mt, since)
		}
	}
	if n != len(table) {
		t.Errorf("%d types with a layout, %d in the round-trip table", n, len(table))
	}
}

// TestNoLayoutsListed: every §2 message type either has a layout or is
// listed, with its reason, in spec.NoLayouts — never both.
func TestNoLayoutsListed(t *testing.T) {
	listed := map[uint32]string{}
	for _, r := range spec.NoLayouts {
		if _, dup := listed[r.Type]; dup || r.Reason == "" {
			t.Errorf("NoLayouts: %d listed twice or without a reason", r.Type)
		}
		listed[r.Type] = r.Reason
	}
	for _, mt := range spec.MessageTypes {
		_, raw := listed[mt.Type]
		if MessageType(mt.Type).HasLayout() == raw {
			t.Errorf("%s (%d): has layout %v, in NoLayouts %v", mt.Name, mt.Type, !raw, raw)
		}
		delete(listed, mt.Type)
	}
	for ty := range listed {
		t.Errorf("NoLayouts lists %d, which is not a §2 message type", ty)
	}
}

// unusedTags are the §4.17 tags that no laid-out message carries, so the
// round trip cannot exercise them. Each is explained; TestEveryTagExercised
// fails if one of them becomes used (remove it here then).
var unusedTags = map[uint16]string{
	99: "SCRIPT_SELECTOR: SNAPSHOT_TASK_* (no layout, §3.2)", 100: "APPLICATION_STRING1: SNAPSHOT_TASK_*", 101: "APPLICATION_STRING2: SNAPSHOT_TASK_*",
	130: "QUEUE_ID: QUEUE_UPDATED_EVENT has no number (§2)",
	142: "SERVICE: CONFIG_DIALED_NUMBER_EVENT has no number (§2)",
	194: "AGENT_ID_LONG: listed only by [HS]; no §3 layout names it",
	198: "ENABLE: ROUTE_REGISTER_EVENT (no layout)", 199: "DEVICEID: ROUTE_REQUEST_EVENT (no layout)",
	200: "TIMEOUT: ROUTE_REQUEST_EVENT (no layout)", 201: "CURRENT_ROUTE: ROUTE_REQUEST_EVENT (no layout)",
	204: "TEAM_NAME: TEAM_CONFIG_EVENT (no layout)", 205: "MEMBER_TYPE: TEAM_CONFIG_EVENT (no layout)",
	217: "CTIOS_CIL_CLIENT_ID: \"many control requests\" per §4.17 but in no §3 layout",
	222: "ENTERPRISE_QUEUE_TIME: no user documented",
	225: "NETWORK_CONTROLLED: ROUTE_SELECT_EVENT (no layout)",
	233: "SET_APPDATA_CALLID: no user documented", 234: "CLIENT_SHARE_KEY: no user documented",
	245: "OPTIONS: ROUTE_REQUEST_EVENT (internal)",
	258: "FLT_TASK_ID: AGENT_TASKS_RESP/EVENT (no layout)",
	259: "FLT_ICM_DISP: MEDIA_LOGOUT_IND (no layout)", 260: "FLT_APP_DISP: MEDIA_LOGOUT_IND (no layout)",
	268: "XFER_IN_WHILE_LOGGED_OUT: OFFER/START_APPLICATION_TASK_REQ (no layout)",
	288: "DESKTOP_CONNECTED_FLAG: AGENT_TASKS_REQUEST_EVENT (no layout)",
	289: "PLAY_TONE_DIRECTION: START_NETWORK_RECORDING_REQ (no layout)", 290: "INVOCATION_TYPE: START/STOP_NETWORK_RECORDING_REQ (no layout)",
	291: "RECORDER_ADDRESS: NETWORK_RECORDING_* (no layout)", 292: "TERMINAL_NAME: NETWORK_RECORDING_*",
	293: "MEDIA_FORKING_DEVICE_NAME: NETWORK_RECORDING_*", 295: "MEDIA_FORKING_CLUSTER_ID: NETWORK_RECORDING_*",
	296: "RECORDER_URI: NETWORK_RECORDING_*", 297: "RECORDER_ERROR_MSG: NETWORK_RECORDING_*",
	298: "RECORDER_TYPE: NETWORK_RECORDING_*", 299: "RECORDER_STATUS: NETWORK_RECORDING_*",
	300: "RECORDING_DEVICE_ID: NETWORK_RECORDING_*",
	312: "MEDIA_TYPE: MEDIA_LOGIN_REQ (no layout)", 313: "MEDIA_PROVIDER: MEDIA_LOGIN_REQ (no layout)",
}

// floatTags returns the tags of the floating fields of an encoded frame.
func floatTags(t *testing.T, frame []byte, pv ProtocolVersion) []uint16 {
	m, err := DecodeMessage(frame, pv)
	if err != nil {
		t.Fatal(err)
	}
	body := frame[HeaderSize:]
	p := m.(interface{ FixedSize(ProtocolVersion) int }).FixedSize(pv)
	var tags []uint16
	for p < len(body) {
		if pv >= WideTagsFrom {
			tags = append(tags, binary.BigEndian.Uint16(body[p:]))
			p += 4 + int(binary.BigEndian.Uint16(body[p+2:]))
		} else {
			tags = append(tags, uint16(body[p]))
			p += 2 + int(body[p+1])
		}
	}
	return tags
}

// TestEveryTagExercised: every tag of the tag table is carried by the round
// trip of at least one laid-out message, or is listed in unusedTags.
func TestEveryTagExercised(t *testing.T) {
	seen := map[uint16]bool{}
	for _, m := range roundTripTable() {
		for _, pv := range roundTripVersions {
			if since, _ := MessageType(m.Type).Since(); since > pv {
				continue
			}
			in, _ := sample(t, m, pv)
			frame, err := AppendMessage(nil, in, pv)
			if err != nil {
				t.Fatalf("%s: %v", m.Name, err)
			}
			for _, tag := range floatTags(t, frame, pv) {
				seen[tag] = true
			}
		}
	}
	for _, tg := range spec.Tags {
		_, allowed := unusedTags[tg.Tag]
		switch {
		case !seen[tg.Tag] && !allowed:
			t.Errorf("tag %d %s is exercised by no round trip and not in unusedTags", tg.Tag, tg.Name)
		case seen[tg.Tag] && allowed:
			t.Errorf("tag %d %s is in unusedTags but a layout uses it: remove it from the list", tg.Tag, tg.Name)
		}
	}
	for tag := range unusedTags {
		if _, ok := spec.TagByNumber(tag); !ok {
			t.Errorf("unusedTags lists %d, which is not in the tag table", tag)
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
