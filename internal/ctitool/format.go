package ctitool

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ipcclab/ipcclab/protocol/cti"
	"github.com/ipcclab/ipcclab/protocol/cti/spec"
)

// Direction says which way a message travelled.
type Direction int

const (
	// Received is a message from the CTI Server.
	Received Direction = iota
	// Sent is a message to the CTI Server.
	Sent
)

func (d Direction) arrow() string {
	if d == Sent {
		return "->"
	}
	return "<-"
}

func (d Direction) String() string {
	if d == Sent {
		return "sent"
	}
	return "recv"
}

// TimeLayout is the timestamp at the start of every text line (local wall
// clock, milliseconds).
const TimeLayout = "2006-01-02T15:04:05.000"

// jsonTimeLayout carries the zone as well.
const jsonTimeLayout = "2006-01-02T15:04:05.000Z07:00"

type kind uint8

const (
	kUint kind = iota
	kInt
	kBool
	kString
	kBytes
	kTime
	kEnum
	kNamedVar
	kNamedArray
	kObject
	kList
)

// value is a decoded field, ready to be printed as text or JSON.
type value struct {
	kind   kind
	u      uint64
	i      int64
	b      bool
	s      string // string, enum name, named variable name
	v      string // named variable value
	bytes  []byte
	mask   bool
	bits   int // size of the integer in bits (kUint, kEnum)
	idx    uint8
	fields []field
	list   []value
}

type field struct {
	name string
	val  value
}

var (
	timeType = reflect.TypeFor[cti.Time]()
	nvType   = reflect.TypeFor[cti.NamedVar]()
	naType   = reflect.TypeFor[cti.NamedArray]()
	ctiPkg   = timeType.PkgPath()
)

// messageFields returns the fields of m in wire order: every fixed field the
// protocol version carries and the floating fields that were present.
func messageFields(m cti.Message, pv cti.ProtocolVersion) []field {
	rv := reflect.ValueOf(m)
	if rv.Kind() != reflect.Pointer || rv.Elem().Kind() != reflect.Struct {
		return nil
	}
	v := rv.Elem()
	t := v.Type()
	ms := specOf(m.MessageType())
	has, _ := m.(interface{ Has(cti.Tag) bool })
	var out []field
	for i := range t.NumField() {
		sf := t.Field(i)
		if !sf.IsExported() || (sf.Name == "Present" && sf.Type.Kind() == reflect.Uint64) {
			continue
		}
		fv := v.Field(i)
		var fs *fieldSpec
		if ms != nil {
			fs = ms.fields[sf.Name]
		}
		switch {
		case fs == nil:
			if fv.IsZero() {
				continue
			}
		case fs.Fixed:
			if pv != 0 && fs.Since > pv && ms.SelfVersioned == "" && fv.IsZero() {
				continue
			}
		case fs.Group:
			if fv.Len() == 0 {
				continue
			}
		default:
			if fv.IsZero() && (has == nil || !has.Has(fs.Tag)) {
				continue
			}
		}
		out = append(out, field{sf.Name, toValue(fv, fs)})
	}
	return out
}

// toValue converts a struct field; fs (may be nil) is its spec entry.
func toValue(fv reflect.Value, fs *fieldSpec) value {
	t := fv.Type()
	switch {
	case t == timeType:
		return value{kind: kTime, u: fv.Uint()}
	case t == nvType:
		nv := fv.Interface().(cti.NamedVar)
		return value{kind: kNamedVar, s: nv.Name, v: nv.Value}
	case t == naType:
		na := fv.Interface().(cti.NamedArray)
		return value{kind: kNamedArray, s: na.Name, v: na.Value, idx: na.Index}
	}
	if t.PkgPath() == ctiPkg && t.Name() != "" {
		if e := enumOf(t.Name()); e != nil {
			return enumValue(e, fv)
		}
	}
	switch t.Kind() {
	case reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return value{kind: kUint, u: fv.Uint(), bits: t.Bits()}
	case reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return value{kind: kInt, i: fv.Int()}
	case reflect.Bool:
		return value{kind: kBool, b: fv.Bool()}
	case reflect.String:
		return value{kind: kString, s: fv.String()}
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			return value{kind: kBytes, bytes: fv.Bytes()}
		}
		l := value{kind: kList}
		for j := range fv.Len() {
			l.list = append(l.list, elemValue(fv.Index(j), fs))
		}
		return l
	case reflect.Struct:
		return elemValue(fv, fs)
	}
	return value{kind: kString, s: fmt.Sprint(fv.Interface())}
}

// elemValue converts one element of a repeated group. Optional members
// are shown when present (Present bit k) or non-zero.
func elemValue(ev reflect.Value, grp *fieldSpec) value {
	if ev.Kind() != reflect.Struct || ev.Type() == nvType || ev.Type() == naType {
		return toValue(ev, nil)
	}
	t := ev.Type()
	var present uint64
	hasPresent := false
	if p := ev.FieldByName("Present"); p.IsValid() && p.CanUint() {
		present, hasPresent = p.Uint(), true
	}
	o := value{kind: kObject}
	k := 0
	for i := range t.NumField() {
		sf := t.Field(i)
		if !sf.IsExported() || sf.Name == "Present" {
			continue
		}
		fv := ev.Field(i)
		var ms *fieldSpec
		if grp != nil && k < len(grp.Members) {
			ms = grp.Members[k]
		}
		optional := ms != nil && ms.Optional
		if optional && fv.IsZero() && (!hasPresent || present&(1<<k) == 0) {
			k++
			continue
		}
		o.fields = append(o.fields, field{sf.Name, toValue(fv, ms)})
		k++
	}
	return o
}

func enumValue(e *spec.Enum, fv reflect.Value) value {
	var u uint64
	if fv.CanUint() {
		u = fv.Uint()
	} else {
		u = uint64(fv.Int())
	}
	return value{kind: kEnum, u: u, mask: e.Mask, s: enumName(e, u), bits: fv.Type().Bits()}
}

// enumName is the reference name of u ("" when unknown); masks list their
// bits joined with "|", unnamed bits in hex.
func enumName(e *spec.Enum, u uint64) string {
	if !e.Mask {
		for _, ev := range e.Values {
			if !ev.Alias && uint64(ev.Value) == u {
				return ev.Name
			}
		}
		return ""
	}
	var parts []string
	rest := u
	for _, ev := range e.Values {
		if ev.Alias || ev.Value == 0 {
			continue
		}
		if u&uint64(ev.Value) == uint64(ev.Value) && rest&uint64(ev.Value) != 0 {
			parts = append(parts, ev.Name)
			rest &^= uint64(ev.Value)
		}
	}
	if rest != 0 && len(parts) > 0 {
		parts = append(parts, "0x"+strconv.FormatUint(rest, 16))
	}
	return strings.Join(parts, "|")
}

// ---------------------------------------------------------------------------
// Text

func (v value) text(b *strings.Builder) {
	switch v.kind {
	case kUint:
		switch {
		case v.bits == 32 && v.u == 0xFFFFFFFF:
			b.WriteString("0xFFFFFFFF")
		case v.bits == 16 && v.u == 0xFFFF:
			b.WriteString("0xFFFF")
		default:
			b.WriteString(strconv.FormatUint(v.u, 10))
		}
	case kInt:
		b.WriteString(strconv.FormatInt(v.i, 10))
	case kBool:
		b.WriteString(strconv.FormatBool(v.b))
	case kString:
		b.WriteString(strconv.Quote(v.s))
	case kBytes:
		b.WriteString("0x")
		b.WriteString(hex.EncodeToString(v.bytes))
	case kTime:
		b.WriteString(cti.Time(v.u).Time().Format(time.RFC3339))
	case kEnum:
		num := strconv.FormatUint(v.u, 10)
		if v.mask {
			num = "0x" + strconv.FormatUint(v.u, 16)
		}
		if v.s == "" {
			b.WriteString(num)
			return
		}
		b.WriteString(v.s)
		b.WriteByte('(')
		b.WriteString(num)
		b.WriteByte(')')
	case kNamedVar:
		b.WriteString(strconv.Quote(v.s))
		b.WriteByte('=')
		b.WriteString(strconv.Quote(v.v))
	case kNamedArray:
		b.WriteString(strconv.Quote(v.s))
		fmt.Fprintf(b, "[%d]=", v.idx)
		b.WriteString(strconv.Quote(v.v))
	case kObject:
		b.WriteByte('{')
		writeFields(b, v.fields)
		b.WriteByte('}')
	case kList:
		b.WriteByte('[')
		for i, e := range v.list {
			if i > 0 {
				b.WriteByte(' ')
			}
			e.text(b)
		}
		b.WriteByte(']')
	}
}

func writeFields(b *strings.Builder, fs []field) {
	for i, f := range fs {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(f.name)
		b.WriteByte('=')
		f.val.text(b)
	}
}

// FormatLine renders m as one protocol-analyser line: timestamp, direction,
// message name and every field as Name=value (enumerations as
// NAME(number), strings quoted, repeated groups inline). pv is the
// session's protocol version (fixed fields newer than it are left out).
// The line has no trailing newline.
func FormatLine(at time.Time, dir Direction, m cti.Message, pv cti.ProtocolVersion) string {
	var b strings.Builder
	b.WriteString(at.Format(TimeLayout))
	b.WriteByte(' ')
	b.WriteString(dir.arrow())
	b.WriteByte(' ')
	switch r := m.(type) {
	case *cti.UndecodableMessage:
		fmt.Fprintf(&b, "%s(%d) undecodable: %v; body (%d bytes) 0x%s", r.Type, uint32(r.Type), r.Err, len(r.Body), hex.EncodeToString(r.Body))
		return b.String()
	case *cti.RawMessage:
		fmt.Fprintf(&b, "%s(%d) raw body (%d bytes) 0x%s", r.Type, uint32(r.Type), len(r.Body), hex.EncodeToString(r.Body))
		return b.String()
	}
	b.WriteString(m.MessageType().String())
	if fs := messageFields(m, pv); len(fs) > 0 {
		b.WriteByte(' ')
		writeFields(&b, fs)
	}
	return b.String()
}

// ---------------------------------------------------------------------------
// JSON

func (v value) json(b *strings.Builder) {
	switch v.kind {
	case kUint:
		b.WriteString(strconv.FormatUint(v.u, 10))
	case kInt:
		b.WriteString(strconv.FormatInt(v.i, 10))
	case kBool:
		b.WriteString(strconv.FormatBool(v.b))
	case kString:
		jsonString(b, v.s)
	case kBytes:
		jsonString(b, hex.EncodeToString(v.bytes))
	case kTime:
		jsonString(b, cti.Time(v.u).Time().Format(time.RFC3339))
	case kEnum:
		b.WriteString(`{"name":`)
		jsonString(b, v.s)
		b.WriteString(`,"value":`)
		b.WriteString(strconv.FormatUint(v.u, 10))
		b.WriteByte('}')
	case kNamedVar:
		b.WriteString(`{"name":`)
		jsonString(b, v.s)
		b.WriteString(`,"value":`)
		jsonString(b, v.v)
		b.WriteByte('}')
	case kNamedArray:
		fmt.Fprintf(b, `{"index":%d,"name":`, v.idx)
		jsonString(b, v.s)
		b.WriteString(`,"value":`)
		jsonString(b, v.v)
		b.WriteByte('}')
	case kObject:
		jsonObject(b, v.fields)
	case kList:
		b.WriteByte('[')
		for i, e := range v.list {
			if i > 0 {
				b.WriteByte(',')
			}
			e.json(b)
		}
		b.WriteByte(']')
	}
}

func jsonObject(b *strings.Builder, fs []field) {
	b.WriteByte('{')
	for i, f := range fs {
		if i > 0 {
			b.WriteByte(',')
		}
		jsonString(b, f.name)
		b.WriteByte(':')
		f.val.json(b)
	}
	b.WriteByte('}')
}

func jsonString(b *strings.Builder, s string) {
	q, _ := json.Marshal(s)
	b.Write(q)
}

// FormatJSON renders m as one JSON object (no trailing newline):
//
//	{"time":…,"dir":"recv","msg":"AGENT_STATE_EVENT","type":30,"fields":{…}}
//
// Enumerations are {"name":…,"value":…}, byte fields hex strings, repeated
// groups arrays. Raw messages carry "body" (hex) instead of "fields";
// undecodable ones also "error".
func FormatJSON(at time.Time, dir Direction, m cti.Message, pv cti.ProtocolVersion) string {
	var b strings.Builder
	b.WriteString(`{"time":`)
	jsonString(&b, at.Format(jsonTimeLayout))
	b.WriteString(`,"dir":`)
	jsonString(&b, dir.String())
	b.WriteString(`,"msg":`)
	jsonString(&b, m.MessageType().String())
	fmt.Fprintf(&b, `,"type":%d`, uint32(m.MessageType()))
	switch r := m.(type) {
	case *cti.UndecodableMessage:
		b.WriteString(`,"error":`)
		jsonString(&b, r.Err.Error())
		b.WriteString(`,"body":`)
		jsonString(&b, hex.EncodeToString(r.Body))
	case *cti.RawMessage:
		b.WriteString(`,"body":`)
		jsonString(&b, hex.EncodeToString(r.Body))
	default:
		b.WriteString(`,"fields":`)
		jsonObject(&b, messageFields(m, pv))
	}
	b.WriteByte('}')
	return b.String()
}

// ---------------------------------------------------------------------------
// Printer

// Printer writes messages one per line, as text or JSON; it is safe for
// concurrent use.
type Printer struct {
	W    io.Writer
	JSON bool
	// Now stamps the lines; nil means time.Now.
	Now func() time.Time

	mu sync.Mutex
}

// Print writes one message stamped now.
func (p *Printer) Print(dir Direction, m cti.Message, pv cti.ProtocolVersion) {
	p.PrintAt(p.now(), dir, m, pv)
}

// PrintAt writes one message stamped at.
func (p *Printer) PrintAt(at time.Time, dir Direction, m cti.Message, pv cti.ProtocolVersion) {
	var line string
	if p.JSON {
		line = FormatJSON(at, dir, m, pv)
	} else {
		line = FormatLine(at, dir, m, pv)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	io.WriteString(p.W, line+"\n")
}

func (p *Printer) now() time.Time {
	if p.Now != nil {
		return p.Now()
	}
	return time.Now()
}

// describe is a message without timestamp and direction, for errors.
func describe(m cti.Message, pv cti.ProtocolVersion) string {
	var b strings.Builder
	b.WriteString(m.MessageType().String())
	if fs := messageFields(m, pv); len(fs) > 0 {
		b.WriteByte(' ')
		writeFields(&b, fs)
	}
	return b.String()
}
