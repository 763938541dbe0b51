package replay

import (
	"encoding/binary"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"sync"

	"github.com/ipcclab/ipcclab/protocol/cti"
	"github.com/ipcclab/ipcclab/protocol/cti/spec"
)

// This file turns typed CTI messages into readable field lists and compares
// two messages of the same type field by field. It reflects over the
// generated structs rather than listing fields by hand, so every message
// type the codec knows is covered and stays covered as the tables grow.

var (
	timeType = reflect.TypeFor[cti.Time]()
	strType  = reflect.TypeFor[fmt.Stringer]()
)

// fixedFields names the fixed-part fields of each message type (from the
// spec tables): their enumerations are printed even when zero, because a
// zero there is a value the sender chose (AGENT_STATE_LOGIN is 0), whereas
// a zero floating field is one that was not sent.
var fixedFields = sync.OnceValue(func() map[cti.MessageType]map[string]bool {
	out := map[cti.MessageType]map[string]bool{}
	for _, m := range spec.Messages {
		set := map[string]bool{}
		for _, f := range m.Fixed {
			set[f.Name] = true
		}
		out[cti.MessageType(m.Type)] = set
	}
	return out
})

// skipField reports the struct fields that are never shown or compared:
// bookkeeping (Present), the InvokeID (chosen by whoever sends the request,
// mapped rather than compared) and reserved words.
func skipField(name string) bool {
	return name == "Present" || name == "InvokeID" || strings.HasPrefix(name, "Reserved")
}

// describe renders a message as its type name followed by its fields,
// "SET_AGENT_STATE_REQ PeripheralID=5000 AgentState=AGENT_STATE_AVAILABLE
// AgentID=\"1201\"": the form every divergence uses.
func describe(m cti.Message) string {
	fs := fields(m)
	if fs == "" {
		return m.MessageType().String()
	}
	return m.MessageType().String() + " " + fs
}

// fields renders a message's fields as Name=value pairs in wire order:
// those that carry a value, and the fixed part's enumerations even when
// zero. Enumerations print their reference names, strings are quoted.
func fields(m cti.Message) string {
	if raw, ok := asRaw(m); ok {
		if len(raw.Body) == 0 {
			return ""
		}
		return fmt.Sprintf("Body=%x", raw.Body)
	}
	v := reflect.ValueOf(m)
	if v.Kind() == reflect.Pointer {
		v = v.Elem()
	}
	if v.Kind() != reflect.Struct {
		return fmt.Sprint(m)
	}
	fixed := fixedFields()[m.MessageType()]
	var parts []string
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() || skipField(f.Name) {
			continue
		}
		fv := v.Field(i)
		if fv.IsZero() && !(fixed[f.Name] && namedZero(fv)) {
			// A zero is shown where it is a named value of the fixed
			// part (AGENT_STATE_LOGIN is 0); elsewhere it is noise.
			continue
		}
		parts = append(parts, f.Name+"="+value(fv))
	}
	return strings.Join(parts, " ")
}

// namedZero reports a zero enumeration value worth showing: one with a
// name that says something. An empty bit mask ("0") and the "nothing
// chosen" values (CPT_UNSPECIFIED, LINETYPE_NONE) and a zero without a
// name ("PeripheralType(0)") are left out.
func namedZero(v reflect.Value) bool {
	s, ok := v.Interface().(fmt.Stringer)
	if !ok {
		return false
	}
	n := s.String()
	return n != "0" && !strings.Contains(n, "(") && !strings.HasSuffix(n, "_UNSPECIFIED") && !strings.HasSuffix(n, "_NONE")
}

// value renders one field value.
func value(v reflect.Value) string {
	if v.Type() == timeType {
		return cti.Time(v.Uint()).Time().Format("2006-01-02T15:04:05Z")
	}
	if v.Type().Implements(strType) && v.Kind() != reflect.Struct {
		return v.Interface().(fmt.Stringer).String()
	}
	switch v.Kind() {
	case reflect.String:
		return strconv.Quote(v.String())
	case reflect.Bool:
		return strconv.FormatBool(v.Bool())
	case reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return strconv.FormatUint(v.Uint(), 10)
	case reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Int:
		return strconv.FormatInt(v.Int(), 10)
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return strconv.Quote(string(v.Bytes()))
		}
		parts := make([]string, v.Len())
		for i := range parts {
			parts[i] = value(v.Index(i))
		}
		return "[" + strings.Join(parts, " ") + "]"
	case reflect.Struct:
		var parts []string
		for i := 0; i < v.NumField(); i++ {
			if f := v.Type().Field(i); f.IsExported() {
				parts = append(parts, f.Name+"="+value(v.Field(i)))
			}
		}
		return "{" + strings.Join(parts, " ") + "}"
	}
	return fmt.Sprint(v.Interface())
}

// asRaw returns the raw body of a message the codec has no layout for.
func asRaw(m cti.Message) (*cti.RawMessage, bool) {
	r, ok := m.(*cti.RawMessage)
	return r, ok
}

// fieldDiff is one field that differs between the captured message (want)
// and the one seen during the replay (got).
type fieldDiff struct {
	Path      string // "AgentID", "SkillGroups[1].SkillGroupNumber"
	Want, Got string
}

func (d fieldDiff) String() string {
	return fmt.Sprintf("%s=%s (captured %s)", d.Path, d.Got, d.Want)
}

func joinDiffs(ds []fieldDiff) string {
	parts := make([]string, len(ds))
	for i, d := range ds {
		parts[i] = d.String()
	}
	return strings.Join(parts, ", ")
}

// idField reports whether a numeric field carries an identifier the server
// assigns (a call, a monitor, a session, an ICM router call key) and its
// namespace: values in one namespace are mapped together, so a
// ConnectionCallID seen as 17 in the capture and 42 in the replay maps every
// later PrimaryCallID 17 to 42 as well.
func idField(name string) (ns string, ok bool) {
	switch {
	case strings.HasPrefix(name, "RouterCallKey"):
		return name, true
	case strings.HasSuffix(name, "CallID"):
		return "call", true
	case name == "MonitorID", name == "SessionID", name == "PreCallInvokeID":
		return name, true
	}
	return "", false
}

// nullID reports identifier values that mean "none" (§1.7) and are never
// mapped.
func nullID(v uint64) bool { return v == 0 || v == cti.NullCallID }

// idKey is a captured identifier.
type idKey struct {
	ns string
	v  uint64
}

// idMap maps identifiers the server assigned in the capture to the ones the
// live server assigned, consistently on first sight.
type idMap struct {
	fwd map[idKey]uint64 // captured -> live
	rev map[idKey]uint64 // live -> captured
}

func newIDMap() *idMap { return &idMap{fwd: map[idKey]uint64{}, rev: map[idKey]uint64{}} }

// bind is an identifier pairing found by a comparison, committed only when
// the comparison is accepted.
type bind struct {
	ns        string
	want, got uint64
}

func (m *idMap) commit(bs []bind) {
	for _, b := range bs {
		m.fwd[idKey{b.ns, b.want}] = b.got
		m.rev[idKey{b.ns, b.got}] = b.want
	}
}

// comparer compares two messages of the same type. With ids nil every
// field but the volatile ones must be equal (server role: the client only
// ever sees the captured identifiers). With ids set, identifier fields must
// agree with the mapping or extend it consistently (client role).
type comparer struct {
	ids   *idMap
	binds []bind
	diffs []fieldDiff
	seen  map[idKey]uint64 // bindings proposed by this comparison
}

// compare returns the differing fields of got against want and the
// identifier pairings the comparison relied on.
func compare(want, got cti.Message, ids *idMap) ([]fieldDiff, []bind) {
	c := &comparer{ids: ids}
	if rw, ok := asRaw(want); ok {
		rg, _ := asRaw(got)
		a, b := rawComparable(rw), rawComparable(rg)
		if string(a) != string(b) {
			c.diffs = append(c.diffs, fieldDiff{Path: "Body", Want: fmt.Sprintf("%x", a), Got: fmt.Sprintf("%x", b)})
		}
		return c.diffs, nil
	}
	c.walk("", reflect.ValueOf(want).Elem(), reflect.ValueOf(got).Elem())
	return c.diffs, c.binds
}

// rawComparable is the part of a raw body that is compared: without the
// InvokeID of a request or confirmation.
func rawComparable(r *cti.RawMessage) []byte {
	if r == nil {
		return nil
	}
	if hasInvokeID(r.Type) && len(r.Body) >= 4 {
		return r.Body[4:]
	}
	return r.Body
}

func (c *comparer) walk(path string, w, g reflect.Value) {
	switch w.Kind() {
	case reflect.Struct:
		for i := 0; i < w.NumField(); i++ {
			f := w.Type().Field(i)
			if !f.IsExported() || skipField(f.Name) || f.Type == timeType {
				// Time fields stamp when something happened; a replay
				// happens at another time.
				continue
			}
			p := f.Name
			if path != "" {
				p = path + "." + f.Name
			}
			if ns, ok := idField(f.Name); ok && c.ids != nil && w.Field(i).CanUint() {
				c.id(p, ns, w.Field(i).Uint(), g.Field(i).Uint())
				continue
			}
			c.walk(p, w.Field(i), g.Field(i))
		}
	case reflect.Slice:
		if w.Type().Elem().Kind() != reflect.Uint8 {
			if w.Len() != g.Len() {
				c.diffs = append(c.diffs, fieldDiff{Path: path, Want: fmt.Sprintf("%d elements %s", w.Len(), value(w)), Got: fmt.Sprintf("%d elements %s", g.Len(), value(g))})
				return
			}
			for i := 0; i < w.Len(); i++ {
				c.walk(fmt.Sprintf("%s[%d]", path, i), w.Index(i), g.Index(i))
			}
			return
		}
		fallthrough
	default:
		if !reflect.DeepEqual(w.Interface(), g.Interface()) {
			c.diffs = append(c.diffs, fieldDiff{Path: path, Want: value(w), Got: value(g)})
		}
	}
}

// id checks an identifier field against the mapping.
func (c *comparer) id(path, ns string, want, got uint64) {
	if nullID(want) || nullID(got) {
		if want != got {
			c.diffs = append(c.diffs, fieldDiff{Path: path, Want: strconv.FormatUint(want, 10), Got: strconv.FormatUint(got, 10)})
		}
		return
	}
	k := idKey{ns, want}
	if mapped, ok := c.ids.fwd[k]; ok {
		if mapped != got {
			c.diffs = append(c.diffs, fieldDiff{Path: path, Want: fmt.Sprintf("%d (seen as %d so far)", want, mapped), Got: strconv.FormatUint(got, 10)})
		}
		return
	}
	if prev, ok := c.seen[k]; ok {
		if prev != got {
			c.diffs = append(c.diffs, fieldDiff{Path: path, Want: fmt.Sprintf("%d (seen as %d in this message)", want, prev), Got: strconv.FormatUint(got, 10)})
		}
		return
	}
	if other, ok := c.ids.rev[idKey{ns, got}]; ok {
		// The live value already stands for another captured one: two
		// identifiers the capture told apart are one in the replay.
		c.diffs = append(c.diffs, fieldDiff{Path: path, Want: strconv.FormatUint(want, 10), Got: fmt.Sprintf("%d (already the replay's %d)", got, other)})
		return
	}
	if c.seen == nil {
		c.seen = map[idKey]uint64{}
	}
	c.seen[k] = got
	c.binds = append(c.binds, bind{ns: ns, want: want, got: got})
}

// rewriteIDs replaces, in a message the replay is about to send, every
// identifier the live server has been seen to assign differently. It
// reports whether anything changed and the identifiers it could not map
// (never seen from the live server).
func rewriteIDs(m cti.Message, ids *idMap) (changed bool, unmapped []string) {
	if _, ok := asRaw(m); ok {
		return false, nil
	}
	var walk func(path string, v reflect.Value)
	walk = func(path string, v reflect.Value) {
		switch v.Kind() {
		case reflect.Struct:
			for i := 0; i < v.NumField(); i++ {
				f := v.Type().Field(i)
				if !f.IsExported() || skipField(f.Name) {
					continue
				}
				p := f.Name
				if path != "" {
					p = path + "." + f.Name
				}
				fv := v.Field(i)
				if ns, ok := idField(f.Name); ok && fv.CanUint() {
					old := fv.Uint()
					if nullID(old) {
						continue
					}
					if live, ok := ids.fwd[idKey{ns, old}]; ok {
						if live != old {
							fv.SetUint(live)
							changed = true
						}
					} else {
						unmapped = append(unmapped, fmt.Sprintf("%s=%d", p, old))
					}
					continue
				}
				walk(p, fv)
			}
		case reflect.Slice:
			if v.Type().Elem().Kind() == reflect.Struct {
				for i := 0; i < v.Len(); i++ {
					walk(fmt.Sprintf("%s[%d]", path, i), v.Index(i))
				}
			}
		}
	}
	walk("", reflect.ValueOf(m).Elem())
	return changed, unmapped
}

// hasInvokeID reports message types whose body starts with an InvokeID:
// requests and their confirmations (§5.7).
func hasInvokeID(mt cti.MessageType) bool {
	n := mt.String()
	return strings.HasSuffix(n, "_REQ") || isConfirmation(mt)
}

// isConfirmation reports the server's answers to requests, as the client
// session tells them apart (protocol/cti session.go): …_CONF and …_RESP,
// FAILURE_CONF and CONTROL_FAILURE_CONF included.
func isConfirmation(mt cti.MessageType) bool {
	n := mt.String()
	return strings.HasSuffix(n, "_CONF") || strings.HasSuffix(n, "_RESP")
}

// setInvokeID returns a copy of a request or confirmation frame with its
// InvokeID (the first body word) replaced.
func setInvokeID(frame []byte, id uint32) []byte {
	out := append([]byte(nil), frame...)
	if len(out) >= cti.HeaderSize+4 {
		binary.BigEndian.PutUint32(out[cti.HeaderSize:], id)
	}
	return out
}

// keyWriter renders the compared fields of a message (everything but the
// InvokeID, TIME fields and bookkeeping), zero values included, so that two
// messages have the same rendering exactly when compare finds no
// difference between them without an identifier mapping.
type keyWriter struct {
	b *strings.Builder
	// noIDs leaves the identifier fields out (eventKey).
	noIDs bool
}

func (k *keyWriter) write(m cti.Message) {
	k.walk(reflect.ValueOf(m).Elem())
}

// eventKey renders the compared fields of a message but its identifiers:
// the messages that can match m under some identifier mapping have m's key.
func eventKey(m cti.Message) string {
	if r, ok := asRaw(m); ok {
		return fmt.Sprintf("%v %x", r.Type, rawComparable(r))
	}
	var b strings.Builder
	b.WriteString(m.MessageType().String())
	(&keyWriter{b: &b, noIDs: true}).write(m)
	return b.String()
}

func (k *keyWriter) walk(v reflect.Value) {
	if v.Kind() != reflect.Struct {
		k.b.WriteString(value(v))
		return
	}
	for i := 0; i < v.NumField(); i++ {
		f := v.Type().Field(i)
		if !f.IsExported() || skipField(f.Name) || f.Type == timeType {
			continue
		}
		if _, id := idField(f.Name); id && k.noIDs && v.Field(i).CanUint() {
			continue
		}
		k.b.WriteString(" ")
		k.b.WriteString(f.Name)
		k.b.WriteString("=")
		fv := v.Field(i)
		if fv.Kind() == reflect.Slice && fv.Type().Elem().Kind() == reflect.Struct {
			k.b.WriteString("[")
			for j := 0; j < fv.Len(); j++ {
				k.b.WriteString("{")
				k.walk(fv.Index(j))
				k.b.WriteString("}")
			}
			k.b.WriteString("]")
			continue
		}
		k.b.WriteString(value(fv))
	}
}
