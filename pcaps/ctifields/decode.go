package ctifields

import (
	"encoding/binary"
	"fmt"
	"unsafe"

	"github.com/ipcclab/ipcclab/protocol/cti"
	"github.com/ipcclab/ipcclab/protocol/cti/spec"
)

// Decode decodes the body of one message of type mt (the bytes after the
// 8-byte header) sent in a session of protocol version pv.
//
// The fields come back in wire order: the fixed part, then every floating
// field as it was sent (repeated groups are not regrouped; the order of
// the member names tells the elements apart). Floats whose tag the
// message does not allow are kept under their §4.17 tag name.
//
// The wire rules and the errors are the typed codec's (cti.DecodeBody):
// the error is a *cti.Error with the same status, field, tag, offset
// (counted from the start of the frame, header included) and text. Where
// the typed codec stops at its first error, Decode records that error and
// keeps decoding whatever still has a clear shape (a field of the wrong
// size or over its maximum is kept as UNSPEC bytes or as its over-long
// value), and stops only when the framing of the floating part is lost (a
// truncated field header or a length past the end). A message type newer
// than pv is decoded all the same, with the typed codec's error. A body
// shorter than its fixed part gives the fixed fields that fit.
//
// Strings and byte slices in the result never alias body (they share one
// copy of it per message).
func Decode(mt uint32, body []byte, pv uint32) (Message, error) {
	m := Message{Type: mt, Version: pv}
	l, ok := LayoutOf(mt)
	if !ok {
		m.Name = cti.MessageType(mt).String()
		m.Fields = []Field{bodyField(body)}
		return m, &cti.Error{Status: cti.StatusInvalidMessageLength, Type: cti.MessageType(mt), Msg: "unknown message type"}
	}
	m.Name = l.Name
	var err error
	if l.Since > pv {
		err = &cti.Error{Status: cti.StatusInvalidMsgTypeForVersion, Type: cti.MessageType(mt),
			Msg: fmt.Sprintf("message exists from protocol version %d, session is %d", l.Since, pv)}
	}
	if !l.HasLayout {
		m.Fields = []Field{bodyField(body)}
		return m, err
	}
	d := decoder{l: l, body: body, pv: pv, wide: pv >= uint32(cti.WideTagsFrom)}
	d.run()
	m.Fields, m.Version = d.out, d.pv
	if err == nil && d.err != nil {
		err = d.err
	}
	return m, err
}

func bodyField(body []byte) Field {
	return Field{Name: "Body", Type: spec.UNSPEC, Len: len(body), Bytes: append(make([]byte, 0, len(body)), body...)}
}

type decoder struct {
	l    *Layout
	body []byte
	p    int
	pv   uint32
	wide bool
	err  *cti.Error
	out  []Field
	own  []byte // private copy of body, made for the first string or byte field

	// quiet: errors are not reported (the floats after an ignored unknown
	// tag in a layout without floats, which the typed codec never reads).
	quiet bool

	// Current floating field.
	tag          uint16
	start        int // body offset of its tag
	doff, dlen   int // its data
	onceSeen     uint64
	grp          int // open group element: group index + 1, 0 = none
	gidx         int
	gseen, greq  uint32
	gfield       string
	gsubEnd      int
	gs           [maxGroups]groupState
	fixedCountOf [maxGroups]uint64
}

// groupState follows one repeated group: its element count and, for the
// current element, its nested lists' counts and elements.
type groupState struct {
	n      int
	count  uint64 // floating count field's value
	subCnt [maxSubs]uint64
	subN   [maxSubs]int
	bad    bool // a nested count disagreed (first one recorded)
	badSub int
	badV   uint64
	badN   int
}

// fail records the first error; off is a body offset.
func (d *decoder) fail(st cti.Status, field string, t uint16, off int, format string, args ...any) {
	if d.err == nil && !d.quiet {
		d.err = &cti.Error{Status: st, Type: cti.MessageType(d.l.Type), Field: field, Tag: cti.Tag(t), Offset: off + cti.HeaderSize, Msg: fmt.Sprintf(format, args...)}
	}
}

func (d *decoder) run() {
	l, body := d.l, d.body
	fixed := l.FixedSize(d.pv)
	nf := len(l.Fixed)
	if len(body) >= fixed {
		nf += countFloats(body[fixed:], d.wide || (l.SelfVersioned >= 0 && d.selfVersion() >= uint32(cti.WideTagsFrom)))
	}
	d.out = make([]Field, 0, nf)
	if len(body) < fixed {
		d.fail(cti.StatusInvalidMessageLength, "", 0, len(body), "body of %d bytes is shorter than the %d-byte fixed part for protocol version %d", len(body), fixed, d.pv)
	}
	for i := range l.Fixed {
		f := &l.Fixed[i]
		n := f.SizeAt(d.pv)
		if n == 0 {
			continue
		}
		if d.p+n > len(body) {
			return
		}
		v := uint64(0)
		for _, b := range body[d.p : d.p+n] {
			v = v<<8 | uint64(b)
		}
		fld := d.slot()
		fld.Name, fld.Type, fld.Offset, fld.Len = f.Name, f.Type, d.p, n
		setNumber(fld, f.Type, v, n, f.enum)
		d.p += n
		for g := range l.groups {
			if l.groups[g].countFix == i {
				d.fixedCountOf[g] = v
			}
		}
	}
	if d.err != nil {
		return
	}
	if l.SelfVersioned >= 0 {
		// §5.1: the floats use the width implied by the message's own
		// version, and so do the version checks.
		d.pv = d.selfVersion()
		d.wide = d.pv >= uint32(cti.WideTagsFrom)
	}
	first := true
	for d.p < len(body) {
		if !d.next() {
			if d.quiet {
				d.out = append(d.out, Field{Name: "Trailing", Type: spec.UNSPEC, Offset: d.start, Len: len(body) - d.start, Bytes: d.bytes(d.start, len(body)-d.start)})
			}
			return
		}
		i, ok := l.FloatByTag(d.tag)
		if !ok {
			ignored := d.unknown()
			if first && ignored && len(l.Floats) == 0 {
				d.quiet = true
			}
		} else {
			d.float(&l.Floats[i])
		}
		first = false
	}
	d.finish()
}

func (d *decoder) selfVersion() uint32 {
	off := 0
	for i := 0; i < d.l.SelfVersioned; i++ {
		off += d.l.Fixed[i].SizeAt(d.pv)
	}
	if off+4 > len(d.body) {
		return d.pv
	}
	return binary.BigEndian.Uint32(d.body[off:])
}

// countFloats counts the floating fields b frames into, to size the
// result in one allocation.
func countFloats(b []byte, wide bool) int {
	n, p := 0, 0
	for p < len(b) {
		if wide {
			if len(b)-p < 4 {
				return n + 1
			}
			p += 4 + int(binary.BigEndian.Uint16(b[p+2:]))
		} else {
			if len(b)-p < 2 {
				return n + 1
			}
			p += 2 + int(b[p+1])
		}
		n++
	}
	return n
}

// next reads the next floating field's tag and length; false when the
// framing is lost (recorded as an error).
func (d *decoder) next() bool {
	d.start = d.p
	var n int
	if d.wide {
		if len(d.body)-d.p < 4 {
			d.fail(cti.StatusBadMessageFormat, "", 0, d.p, "truncated floating field header")
			return false
		}
		d.tag = binary.BigEndian.Uint16(d.body[d.p:])
		n = int(binary.BigEndian.Uint16(d.body[d.p+2:]))
		d.p += 4
	} else {
		if len(d.body)-d.p < 2 {
			d.fail(cti.StatusBadMessageFormat, "", 0, d.p, "truncated floating field header")
			return false
		}
		d.tag = uint16(d.body[d.p])
		n = int(d.body[d.p+1])
		d.p += 2
	}
	if n > len(d.body)-d.p {
		d.fail(cti.StatusBadMessageFormat, cti.Tag(d.tag).String(), d.tag, d.start, "field length %d runs past the end of the message", n)
		return false
	}
	d.doff, d.dlen = d.p, n
	d.p += n
	return true
}

// unknown keeps a float whose tag the message does not allow, under the
// tag's name, and reports it unless the layout skips unknown tags at this
// version. It returns whether the tag was skipped silently.
func (d *decoder) unknown() bool {
	typ, known := tagTypes[d.tag]
	d.value(d.slot(), TagName(d.tag), typ, 0, nil, true)
	if ign := d.l.IgnoreUnknownTagsFrom; ign != 0 && d.pv >= ign {
		return true
	}
	if !known {
		d.fail(cti.StatusInvalidFieldTag, "", d.tag, d.start, "unknown tag %d", d.tag)
		return false
	}
	d.fail(cti.StatusInvalidTagForMsgType, cti.Tag(d.tag).String(), d.tag, d.start, "tag %s not allowed in %s", cti.Tag(d.tag), cti.MessageType(d.l.Type))
	return false
}

// float decodes an allowed floating field, following the typed codec's
// group and presence rules.
func (d *decoder) float(f *FloatField) {
	if f.Since > d.pv {
		d.fail(cti.StatusInvalidTagForVersion, f.Name, d.tag, d.start, "%s exists from protocol version %d, session is %d", f.Name, f.Since, d.pv)
		d.emit(f)
		return
	}
	var gr *group
	if f.grp >= 0 {
		gr = &d.l.groups[f.grp]
	}
	accepted := true
	switch {
	case f.sub >= 0:
		sl := &gr.subs[f.sub]
		if f.k == sl.first {
			if accepted = d.gsub(f.grp, f.k, sl.last, f.Name); accepted {
				d.gs[f.grp].subN[f.sub]++
			}
		} else {
			accepted = d.gsubMember(f.grp, f.k, f.Name)
		}
	case gr == nil:
		d.gclose()
		if d.onceSeen&(1<<f.bit) != 0 {
			d.fail(cti.StatusBadMessageFormat, f.Name, d.tag, d.start, "%s appears twice", f.Name)
			accepted = false
		}
		d.onceSeen |= 1 << f.bit
	case gr.members == 1:
		d.gclose()
		d.gs[f.grp].n++
	case f.k == 0:
		d.gstart(f.grp)
	default:
		accepted = d.gmember(f.grp, f.k, f.Name)
	}
	v, ok := d.emit(f)
	if accepted && ok && f.countFor >= 0 {
		if gr == nil {
			d.gs[f.countFor].count = v
		} else {
			d.gs[f.grp].subCnt[f.countFor] = v
		}
	}
}

// emit appends the current float as field f; it returns the field's
// number (for counts) and whether the value decoded.
func (d *decoder) emit(f *FloatField) (uint64, bool) {
	fld := d.slot()
	ok := d.value(fld, f.Name, f.Type, f.Max, f.enum, false)
	return fld.Uint, ok
}

// slot appends a zero Field and returns it to be filled in place (a Field
// holds pointers: copying one into the slice costs write barriers).
func (d *decoder) slot() *Field {
	d.out = append(d.out, Field{})
	return &d.out[len(d.out)-1]
}

// value decodes the current float's data as typ into fld. quiet: report
// nothing (unknown tags). It returns false when the data cannot be read
// as typ at all: the field is then kept as UNSPEC bytes. An over-long
// string is still decoded.
func (d *decoder) value(fld *Field, name string, typ spec.WireType, maxLen int, en *enumTable, quiet bool) bool {
	fld.Name, fld.Tag, fld.Type, fld.Offset, fld.Len = name, d.tag, typ, d.doff, d.dlen
	asBytes := func() bool {
		fld.Type, fld.Bytes = spec.UNSPEC, d.bytes(d.doff, d.dlen)
		return false
	}
	data := d.body[d.doff : d.doff+d.dlen]
	fail := func(st cti.Status, format string, args ...any) {
		if !quiet {
			d.fail(st, name, d.tag, d.start, format, args...)
		}
	}
	switch typ {
	case spec.UCHAR, spec.USHORT, spec.SHORT, spec.UINT, spec.INT, spec.BOOL, spec.TIME:
		n := typ.Size()
		if len(data) != n {
			fail(cti.StatusInvalidFieldLength, "%s has length %d, want %d", name, len(data), n)
			return asBytes()
		}
		v := uint64(0)
		for _, b := range data {
			v = v<<8 | uint64(b)
		}
		setNumber(fld, typ, v, n, en)
		return true
	case spec.STRING:
		s := cutNUL(data)
		if maxLen > 0 && (len(data) > maxLen || len(s)+1 > maxLen) {
			fail(cti.StatusInvalidFieldLength, "%s of %d bytes exceeds the maximum of %d", name, len(data), maxLen)
		}
		fld.Str = d.str(d.doff, len(s))
		return true
	case spec.NAMEDVAR, spec.NAMEDARRAY:
		b, minLen := data, 1
		if typ == spec.NAMEDARRAY {
			minLen = 2
		}
		if len(b) < minLen {
			if typ == spec.NAMEDVAR {
				fail(cti.StatusBadMessageFormat, "empty %s", name)
			} else {
				fail(cti.StatusBadMessageFormat, "%s too short", name)
			}
			return asBytes()
		}
		off := d.doff
		if typ == spec.NAMEDARRAY {
			fld.VarIndex = b[0]
			b, off = b[1:], off+1
		}
		i := 0
		for i < len(b) && b[i] != 0 {
			i++
		}
		if i == len(b) {
			fail(cti.StatusBadMessageFormat, "%s has no NUL after the variable name", name)
			return asBytes()
		}
		v := cutNUL(b[i+1:])
		if i+1 > maxECCName || len(v)+1 > maxECCValue {
			fail(cti.StatusInvalidFieldLength, "%s name or value too long", name)
		}
		fld.VarName, fld.VarValue = d.str(off, i), d.str(off+i+1, len(v))
		return true
	}
	// UNSPEC (and undocumented types).
	if maxLen > 0 && len(data) > maxLen {
		fail(cti.StatusInvalidFieldLength, "%s of %d bytes exceeds the maximum of %d", name, len(data), maxLen)
	}
	fld.Type = spec.UNSPEC
	fld.Bytes = d.bytes(d.doff, d.dlen)
	return true
}

// §1.6: ECC name ≤ 33 bytes and value ≤ 211 bytes, both including the NUL.
const (
	maxECCName  = 33
	maxECCValue = 211
)

func setNumber(f *Field, typ spec.WireType, v uint64, n int, en *enumTable) {
	switch typ {
	case spec.SHORT:
		f.Int = int64(int16(v))
	case spec.INT:
		f.Int = int64(int32(v))
		if n < 4 { // an INT carried as a narrower OldType
			f.Int = int64(int16(v))
		}
	case spec.BOOL:
		f.Bool, f.Uint = v != 0, v
	default:
		f.Uint = v
	}
	if en != nil {
		f.Enum = en.nameOf(uint32(v))
	}
}

func cutNUL(b []byte) []byte {
	for i, c := range b {
		if c == 0 {
			return b[:i]
		}
	}
	return b
}

// owned returns the private copy of the body, made once per message.
func (d *decoder) owned() []byte {
	if d.own == nil {
		d.own = append(make([]byte, 0, len(d.body)), d.body...)
	}
	return d.own
}

// str returns body[off:off+n] as a string backed by the private copy.
// Fields never overlap, so no string shares bytes with a Bytes slice
// handed out, and the copy is never written.
func (d *decoder) str(off, n int) string {
	if n == 0 {
		return ""
	}
	return unsafe.String(&d.owned()[off], n)
}

func (d *decoder) bytes(off, n int) []byte {
	if n == 0 {
		return []byte{}
	}
	return d.owned()[off : off+n : off+n]
}

// gclose ends the open group element, checking its required members.
func (d *decoder) gclose() {
	if d.grp != 0 && (d.gseen&d.greq != d.greq || d.gsubEnd != 0) {
		d.fail(cti.StatusBadMessageFormat, d.gfield, d.tag, d.start, "incomplete %s element", d.gfield)
	}
	d.grp = 0
	d.gsubEnd = 0
}

// gstart opens a new element of group g (its first member was read).
func (d *decoder) gstart(g int) {
	d.gclose()
	d.endElement(g)
	gr := &d.l.groups[g]
	d.gs[g].n++
	d.grp, d.gidx, d.gseen, d.greq, d.gfield = g+1, 0, 1, gr.req, gr.name
}

// endElement checks the nested counts of group g's current element and
// clears them for the next one.
func (d *decoder) endElement(g int) {
	gs := &d.gs[g]
	if gs.n > 0 && !gs.bad {
		for s := range d.l.groups[g].subs {
			if gs.subCnt[s] != uint64(gs.subN[s]) {
				gs.bad, gs.badSub, gs.badV, gs.badN = true, s, gs.subCnt[s], gs.subN[s]
				break
			}
		}
	}
	gs.subCnt, gs.subN = [maxSubs]uint64{}, [maxSubs]int{}
}

func (d *decoder) gmember(g, k int, field string) bool {
	if d.grp != g+1 || k <= d.gidx || d.gsubEnd != 0 {
		d.fail(cti.StatusBadMessageFormat, field, d.tag, d.start, "%s out of order in its group", field)
		return false
	}
	d.gidx = k
	d.gseen |= 1 << k
	return true
}

func (d *decoder) gsub(g, k, last int, field string) bool {
	if d.grp != g+1 || (d.gidx >= k && d.gidx != last) || d.gsubEnd != 0 {
		d.fail(cti.StatusBadMessageFormat, field, d.tag, d.start, "%s out of order in its group", field)
		return false
	}
	d.gidx = k
	d.gseen |= 1 << k
	if last > k {
		d.gsubEnd = last
	}
	return true
}

func (d *decoder) gsubMember(g, k int, field string) bool {
	if d.grp != g+1 || d.gidx != k-1 || d.gsubEnd < k {
		d.fail(cti.StatusBadMessageFormat, field, d.tag, d.start, "%s out of order in its group", field)
		return false
	}
	d.gidx = k
	d.gseen |= 1 << k
	if k == d.gsubEnd {
		d.gsubEnd = 0
	}
	return true
}

// finish runs the checks made once the floating part is read, in the
// typed codec's order: the open element, required floats, group counts.
func (d *decoder) finish() {
	d.gclose()
	if d.err != nil {
		return
	}
	l := d.l
	for i := range l.Floats {
		f := &l.Floats[i]
		if f.grp < 0 && f.Presence == spec.Required && f.Since <= d.pv && d.onceSeen&(1<<f.bit) == 0 {
			d.fail(cti.StatusRequiredDataMissing, f.Name, 0, len(d.body), "required field %s missing", f.Name)
		}
	}
	for g := range l.groups {
		gr, gs := &l.groups[g], &d.gs[g]
		v := gs.count
		if gr.countFix >= 0 {
			v = d.fixedCountOf[g]
		}
		if v != uint64(gs.n) {
			d.fail(cti.Status(gr.status), gr.count, 0, len(d.body), "%s is %d but %d elements were sent", gr.count, uint32(v), gs.n)
		}
		d.endElement(g)
		if gs.bad {
			name := gr.subs[gs.badSub].countName
			d.fail(cti.StatusBadMessageFormat, name, 0, len(d.body), "%s is %d but %d elements were sent", name, uint32(gs.badV), gs.badN)
		}
	}
}
