// Package cti is a codec and client session for the Cisco CTI Server
// protocol (GED-188), as described in shared/reference/cti-protocol.md
// (section numbers §n below refer to it).
//
// The message structs, MessageType/Tag constants and enumerations are
// generated from the tables in package spec (go generate ./protocol/cti);
// this file holds the hand-written framing and field primitives they use.
//
// Wire format (§1): an 8-byte header (MessageLength UINT = bytes after the
// header, MessageType UINT), then the fixed part, then tagged floating
// fields. Everything is big-endian and unpadded. The floating tag and length
// are one byte each below protocol version 20 and two bytes (USHORT) from
// version 20 on (§1.3). Strings carry and count their terminating NUL.
//
// The codec never starts goroutines, reads clocks or sleeps; only the
// client Session (session.go) does.
package cti

//go:generate go run ./internal/gen

import (
	"encoding/binary"
	"fmt"
	"io"
	"time"
	"unsafe"
)

// ProtocolVersion is the session protocol version (OPEN_REQ.VersionNumber).
type ProtocolVersion uint32

// WideTagsFrom is the first protocol version whose floating tag and length
// are USHORTs (§1.3).
const WideTagsFrom ProtocolVersion = 20

// TagWidth returns the size in bytes of a floating field's tag and of its
// length for protocol version pv: 1 below PV20, 2 from PV20 (§1.3).
func TagWidth(pv ProtocolVersion) int {
	if pv >= WideTagsFrom {
		return 2
	}
	return 1
}

const (
	// HeaderSize is the size of the message header (MHDR, §1.2).
	HeaderSize = 8
	// MaxMessageSize is the largest message, header included (§1.2, PV24).
	// It is applied to every version: older guides list smaller per-message
	// maxima, never larger ones.
	MaxMessageSize = 12500
	// MaxBodySize is the largest MessageLength accepted.
	MaxBodySize = MaxMessageSize - HeaderSize
)

// Special values (§1.7).
const (
	NullCallID       = 0xFFFFFFFF
	NullPeripheralID = 0xFFFFFFFF
	NullService      = 0xFFFFFFFF
	NullSkillGroup   = 0xFFFFFFFF
)

// Time is a GED-188 TIME: seconds since 1970-01-01 00:00:00 UTC (§1.4).
type Time uint32

// Time converts t to a time.Time in UTC.
func (t Time) Time() time.Time { return time.Unix(int64(t), 0).UTC() }

// TimeOf converts a time.Time to a GED-188 TIME (truncated to seconds).
func TimeOf(t time.Time) Time { return Time(uint32(t.Unix())) }

// NamedVar is an ECC named variable (tag 82, NAMEDVAR, §1.6).
type NamedVar struct {
	Name  string // ≤ 32 characters
	Value string // ≤ 210 characters
}

// NamedArray is an element of an ECC named array (tag 83, NAMEDARRAY, §1.6).
type NamedArray struct {
	Index uint8
	Name  string
	Value string
}

// §1.6: name ≤ 33 bytes and value ≤ 211 bytes, both including the NUL.
const (
	maxECCName  = 33
	maxECCValue = 211
)

// Message is implemented by every message struct (and by *RawMessage).
type Message interface {
	// MessageType is the message's MHDR MessageType.
	MessageType() MessageType
	// AppendBody appends the message body (fixed part and floats, no
	// header) encoded for protocol version pv.
	AppendBody(dst []byte, pv ProtocolVersion) ([]byte, error)
	// UnmarshalBody decodes body (the bytes after the header) as sent in a
	// session of protocol version pv, replacing the receiver's contents.
	UnmarshalBody(body []byte, pv ProtocolVersion) error
}

// CallVariables is implemented by every message that carries
// CallVariable1..CallVariable10 (tags 13-22): CallVars returns pointers to
// the ten fields in order, so call data can be read and written without
// spelling each field out.
type CallVariables interface {
	Message
	CallVars() [10]*string
}

// GetCallVars copies a message's call variables.
func GetCallVars(m CallVariables) (out [10]string) {
	for i, p := range m.CallVars() {
		out[i] = *p
	}
	return out
}

// SetCallVars sets a message's call variables.
func SetCallVars(m CallVariables, v [10]string) {
	for i, p := range m.CallVars() {
		*p = v[i]
	}
}

// InvokeIDer is implemented by the messages whose first field is an
// InvokeID (requests and their confirmations, §5.6).
type InvokeIDer interface {
	Message
	GetInvokeID() uint32
	SetInvokeID(uint32)
}

// RawMessage carries a message type that is known (§2) but whose layout is
// not described yet; the body is kept verbatim.
type RawMessage struct {
	Type MessageType
	Body []byte
}

// MessageType implements Message.
func (m *RawMessage) MessageType() MessageType { return m.Type }

// AppendBody implements Message.
func (m *RawMessage) AppendBody(dst []byte, pv ProtocolVersion) ([]byte, error) {
	return append(dst, m.Body...), nil
}

// UnmarshalBody implements Message; it copies body.
func (m *RawMessage) UnmarshalBody(body []byte, pv ProtocolVersion) error {
	m.Body = append(m.Body[:0:0], body...)
	return nil
}

// GetInvokeID returns the first four body bytes, which are the InvokeID of
// every request and confirmation (§5.7), or 0.
func (m *RawMessage) GetInvokeID() uint32 {
	id, _ := InvokeIDFromBody(m.Body)
	return id
}

// SetInvokeID overwrites the first four body bytes.
func (m *RawMessage) SetInvokeID(id uint32) {
	if len(m.Body) >= 4 {
		binary.BigEndian.PutUint32(m.Body, id)
	}
}

// InvokeIDFromBody returns the InvokeID of a request or confirmation body
// without decoding it: it is always the first field (§5.7). A server uses
// it to answer FAILURE_CONF to a request it cannot decode.
func InvokeIDFromBody(body []byte) (uint32, bool) {
	if len(body) < 4 {
		return 0, false
	}
	return binary.BigEndian.Uint32(body), true
}

// AppendMessage appends the complete frame (header and body) of m encoded
// for protocol version pv. Fields newer than pv are omitted; a message type
// newer than pv, an over-long field or an oversized message is an *Error.
func AppendMessage(dst []byte, m Message, pv ProtocolVersion) ([]byte, error) {
	mt := m.MessageType()
	if since, ok := mt.Since(); !ok {
		return dst, &Error{Status: StatusInvalidMessageLength, Type: mt, Msg: "unknown message type"}
	} else if since > pv {
		return dst, &Error{Status: StatusInvalidMsgTypeForVersion, Type: mt,
			Msg: fmt.Sprintf("message exists from protocol version %d, session is %d", since, pv)}
	}
	start := len(dst)
	dst = append(dst, 0, 0, 0, 0, 0, 0, 0, 0)
	dst, err := m.AppendBody(dst, pv)
	if err != nil {
		return dst[:start], err
	}
	n := len(dst) - start - HeaderSize
	if n > MaxBodySize {
		return dst[:start], &Error{Status: StatusInvalidMessageLength, Type: mt,
			Msg: fmt.Sprintf("message of %d bytes exceeds the maximum of %d", n+HeaderSize, MaxMessageSize)}
	}
	binary.BigEndian.PutUint32(dst[start:], uint32(n))
	binary.BigEndian.PutUint32(dst[start+4:], uint32(mt))
	return dst, nil
}

// DecodeMessage decodes one complete frame (header and body). The result
// is a freshly allocated message struct, or a *RawMessage for types that
// have no layout yet.
func DecodeMessage(frame []byte, pv ProtocolVersion) (Message, error) {
	if len(frame) < HeaderSize {
		return nil, &Error{Status: StatusInvalidMessageLength, Msg: fmt.Sprintf("frame of %d bytes is shorter than the header", len(frame))}
	}
	n := binary.BigEndian.Uint32(frame)
	mt := MessageType(binary.BigEndian.Uint32(frame[4:]))
	if n > MaxBodySize {
		return nil, &Error{Status: StatusInvalidMessageLength, Type: mt, Msg: fmt.Sprintf("MessageLength %d exceeds the maximum of %d", n, MaxBodySize)}
	}
	if int(n) != len(frame)-HeaderSize {
		return nil, &Error{Status: StatusInvalidMessageLength, Type: mt, Msg: fmt.Sprintf("MessageLength %d but %d body bytes", n, len(frame)-HeaderSize)}
	}
	return DecodeBody(mt, frame[HeaderSize:], pv)
}

// DecodeBody decodes the body of a message of type mt (as returned by
// ReadFrame) into a freshly allocated message struct. Strings and byte
// fields of the result never alias body.
func DecodeBody(mt MessageType, body []byte, pv ProtocolVersion) (Message, error) {
	since, ok := mt.Since()
	if !ok {
		return nil, &Error{Status: StatusInvalidMessageLength, Type: mt, Msg: "unknown message type"}
	}
	if since > pv {
		return nil, &Error{Status: StatusInvalidMsgTypeForVersion, Type: mt,
			Msg: fmt.Sprintf("message exists from protocol version %d, session is %d", since, pv)}
	}
	m := newMessage(mt)
	if m == nil {
		m = &RawMessage{Type: mt}
	}
	if err := m.UnmarshalBody(body, pv); err != nil {
		return nil, err
	}
	return m, nil
}

// ReadFrame reads exactly one message from r. It returns the message type
// and the body, which aliases buf when buf is large enough (otherwise a new
// buffer is allocated). MessageLength values above MaxBodySize are refused
// with an *Error (status 2) before anything is allocated; the stream cannot
// be resynchronised after that. A clean end of stream before the header
// returns io.EOF, a truncated frame io.ErrUnexpectedEOF.
func ReadFrame(r io.Reader, buf []byte) (MessageType, []byte, error) {
	if cap(buf) < HeaderSize {
		buf = make([]byte, 512)
	}
	hdr := buf[:HeaderSize]
	if _, err := io.ReadFull(r, hdr); err != nil {
		return 0, nil, err
	}
	n := binary.BigEndian.Uint32(hdr)
	mt := MessageType(binary.BigEndian.Uint32(hdr[4:]))
	if n > MaxBodySize {
		return mt, nil, &Error{Status: StatusInvalidMessageLength, Type: mt, Msg: fmt.Sprintf("MessageLength %d exceeds the maximum of %d", n, MaxBodySize)}
	}
	if cap(buf) < int(n) {
		buf = make([]byte, n)
	}
	body := buf[:n]
	if _, err := io.ReadFull(r, body); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return mt, nil, err
	}
	return mt, body, nil
}

// ---------------------------------------------------------------------------
// Encoder

type encoder struct {
	b    []byte
	pv   ProtocolVersion
	wide bool
	mt   MessageType
	err  error
}

func newEncoder(b []byte, pv ProtocolVersion, mt MessageType) encoder {
	return encoder{b: b, pv: pv, wide: pv >= WideTagsFrom, mt: mt}
}

func (e *encoder) fail(st Status, field string, t Tag, format string, args ...any) {
	if e.err == nil {
		e.err = &Error{Status: st, Type: e.mt, Field: field, Tag: t, Offset: -1, Msg: fmt.Sprintf(format, args...)}
	}
}

func (e *encoder) u8(v uint8)   { e.b = append(e.b, v) }
func (e *encoder) u16(v uint16) { e.b = binary.BigEndian.AppendUint16(e.b, v) }
func (e *encoder) u32(v uint32) { e.b = binary.BigEndian.AppendUint32(e.b, v) }
func (e *encoder) boolean(v bool) {
	if v {
		e.u16(1)
	} else {
		e.u16(0)
	}
}

// head writes a floating field's tag and length.
func (e *encoder) head(t Tag, field string, n int) bool {
	if e.err != nil {
		return false
	}
	if e.wide {
		if n > 0xFFFF {
			e.fail(StatusInvalidFieldLength, field, t, "field of %d bytes", n)
			return false
		}
		e.b = binary.BigEndian.AppendUint16(e.b, uint16(t))
		e.b = binary.BigEndian.AppendUint16(e.b, uint16(n))
		return true
	}
	if t > 0xFF {
		e.fail(StatusInvalidTagForVersion, field, t, "tag %d needs 2-byte tags (PV20+)", t)
		return false
	}
	if n > 0xFF {
		e.fail(StatusInvalidFieldLength, field, t, "field of %d bytes does not fit a 1-byte length", n)
		return false
	}
	e.b = append(e.b, byte(t), byte(n))
	return true
}

func (e *encoder) fu8(t Tag, field string, v uint8) {
	if e.head(t, field, 1) {
		e.u8(v)
	}
}

func (e *encoder) fu16(t Tag, field string, v uint16) {
	if e.head(t, field, 2) {
		e.u16(v)
	}
}

func (e *encoder) fu32(t Tag, field string, v uint32) {
	if e.head(t, field, 4) {
		e.u32(v)
	}
}

func (e *encoder) fbool(t Tag, field string, v bool) {
	if e.head(t, field, 2) {
		e.boolean(v)
	}
}

// fstr writes a NUL-terminated string; max includes the NUL (§1.5).
func (e *encoder) fstr(t Tag, field string, v string, max int) {
	if max > 0 && len(v)+1 > max {
		e.fail(StatusInvalidFieldLength, field, t, "%d characters exceed the maximum of %d", len(v), max-1)
		return
	}
	if e.head(t, field, len(v)+1) {
		e.b = append(e.b, v...)
		e.b = append(e.b, 0)
	}
}

func (e *encoder) fbytes(t Tag, field string, v []byte, max int) {
	if max > 0 && len(v) > max {
		e.fail(StatusInvalidFieldLength, field, t, "%d bytes exceed the maximum of %d", len(v), max)
		return
	}
	if e.head(t, field, len(v)) {
		e.b = append(e.b, v...)
	}
}

func (e *encoder) eccCheck(t Tag, field string, name, value string) bool {
	if len(name)+1 > maxECCName {
		e.fail(StatusInvalidFieldLength, field, t, "variable name %q exceeds %d characters", name, maxECCName-1)
		return false
	}
	if len(value)+1 > maxECCValue {
		e.fail(StatusInvalidFieldLength, field, t, "value of %q exceeds %d characters", name, maxECCValue-1)
		return false
	}
	return true
}

func (e *encoder) fnamedVar(t Tag, field string, v NamedVar) {
	if !e.eccCheck(t, field, v.Name, v.Value) {
		return
	}
	if e.head(t, field, len(v.Name)+len(v.Value)+2) {
		e.b = append(e.b, v.Name...)
		e.b = append(e.b, 0)
		e.b = append(e.b, v.Value...)
		e.b = append(e.b, 0)
	}
}

func (e *encoder) fnamedArray(t Tag, field string, v NamedArray) {
	if !e.eccCheck(t, field, v.Name, v.Value) {
		return
	}
	if e.head(t, field, len(v.Name)+len(v.Value)+3) {
		e.b = append(e.b, v.Index)
		e.b = append(e.b, v.Name...)
		e.b = append(e.b, 0)
		e.b = append(e.b, v.Value...)
		e.b = append(e.b, 0)
	}
}

// count resolves a group count field: 0 means "use len(elements)"; any
// other value must equal len(elements).
func (e *encoder) count(field string, v uint32, n int, st Status) uint32 {
	if v == 0 {
		v = uint32(n)
	}
	if int(v) != n {
		e.fail(st, field, 0, "%s is %d but there are %d elements", field, v, n)
	}
	return v
}

// ---------------------------------------------------------------------------
// Decoder

type decoder struct {
	body []byte
	p    int // read position in body
	pv   ProtocolVersion
	wide bool
	mt   MessageType
	err  error

	// Current floating field.
	tag   Tag
	data  []byte
	start int // body offset of the field's tag

	// Private copy of the floating part, made on the first string or byte
	// field; strings are views of disjoint ranges of it (one allocation).
	own     []byte
	ownBase int

	// Open repeated-group element.
	grp     int    // group id, 0 = none
	gidx    int    // index of the last member read
	gseen   uint32 // members seen in the element
	greq    uint32 // members required in every element
	gfield  string
	gsubEnd int // last member of an open nested element, 0 = none
	ignFrom ProtocolVersion
}

func newDecoder(body []byte, pv ProtocolVersion, mt MessageType) decoder {
	return decoder{body: body, pv: pv, wide: pv >= WideTagsFrom, mt: mt}
}

func (d *decoder) setVersion(pv ProtocolVersion) {
	d.pv = pv
	d.wide = pv >= WideTagsFrom
}

// fail records the first error; off is a body offset.
func (d *decoder) fail(st Status, field string, t Tag, off int, format string, args ...any) {
	if d.err == nil {
		d.err = &Error{Status: st, Type: d.mt, Field: field, Tag: t, Offset: off + HeaderSize, Msg: fmt.Sprintf(format, args...)}
	}
}

// fixed checks that the fixed part (n bytes) is present. §1.2: a body
// shorter than its fixed part is a bad MessageLength (status 2).
func (d *decoder) fixed(n int) bool {
	if len(d.body) < n {
		d.fail(StatusInvalidMessageLength, "", 0, len(d.body), "body of %d bytes is shorter than the %d-byte fixed part for protocol version %d", len(d.body), n, d.pv)
		return false
	}
	return true
}

func (d *decoder) u8() uint8 {
	v := d.body[d.p]
	d.p++
	return v
}

func (d *decoder) u16() uint16 {
	v := binary.BigEndian.Uint16(d.body[d.p:])
	d.p += 2
	return v
}

func (d *decoder) u32() uint32 {
	v := binary.BigEndian.Uint32(d.body[d.p:])
	d.p += 4
	return v
}

// next reads the next floating field's tag and length. It returns false at
// the end of the body or on error.
func (d *decoder) next() bool {
	if d.err != nil || d.p >= len(d.body) {
		return false
	}
	d.start = d.p
	var n int
	if d.wide {
		if len(d.body)-d.p < 4 {
			d.fail(StatusBadMessageFormat, "", 0, d.p, "truncated floating field header")
			return false
		}
		d.tag = Tag(binary.BigEndian.Uint16(d.body[d.p:]))
		n = int(binary.BigEndian.Uint16(d.body[d.p+2:]))
		d.p += 4
	} else {
		if len(d.body)-d.p < 2 {
			d.fail(StatusBadMessageFormat, "", 0, d.p, "truncated floating field header")
			return false
		}
		d.tag = Tag(d.body[d.p])
		n = int(d.body[d.p+1])
		d.p += 2
	}
	if n > len(d.body)-d.p {
		d.fail(StatusBadMessageFormat, d.tag.fieldName(), d.tag, d.start, "field length %d runs past the end of the message", n)
		return false
	}
	d.data = d.body[d.p : d.p+n : d.p+n]
	d.p += n
	return true
}

// unknown handles a tag that is not allowed in the message: status 3 for a
// tag missing from the tag table, 26 for a known tag not allowed here
// (§5.7), or skip it (§8 #10, OPEN_REQ from PV24).
func (d *decoder) unknown() {
	if d.ignFrom != 0 && d.pv >= d.ignFrom {
		return
	}
	if _, ok := d.tag.info(); !ok {
		d.fail(StatusInvalidFieldTag, "", d.tag, d.start, "unknown tag %d", uint16(d.tag))
		return
	}
	d.fail(StatusInvalidTagForMsgType, d.tag.fieldName(), d.tag, d.start, "tag %s not allowed in %s", d.tag, d.mt)
}

// newer reports a tag that is allowed in the message but only from a later
// protocol version (status 49).
func (d *decoder) newer(field string, since ProtocolVersion) {
	d.fail(StatusInvalidTagForVersion, field, d.tag, d.start, "%s exists from protocol version %d, session is %d", field, since, d.pv)
}

// once marks a non-repeated float present; a second occurrence is a bad
// message format.
func (d *decoder) once(present *uint64, bit uint64, field string) bool {
	if *present&bit != 0 {
		d.fail(StatusBadMessageFormat, field, d.tag, d.start, "%s appears twice", field)
		return false
	}
	*present |= bit
	return true
}

func (d *decoder) size(field string, n int) bool {
	if len(d.data) != n {
		d.fail(StatusInvalidFieldLength, field, d.tag, d.start, "%s has length %d, want %d", field, len(d.data), n)
		return false
	}
	return true
}

func (d *decoder) fu8(field string) uint8 {
	if !d.size(field, 1) {
		return 0
	}
	return d.data[0]
}

func (d *decoder) fu16(field string) uint16 {
	if !d.size(field, 2) {
		return 0
	}
	return binary.BigEndian.Uint16(d.data)
}

func (d *decoder) fu32(field string) uint32 {
	if !d.size(field, 4) {
		return 0
	}
	return binary.BigEndian.Uint32(d.data)
}

// owned returns the private copy of the current field's data.
func (d *decoder) owned() []byte {
	if d.own == nil {
		// Copy everything from this field to the end once; all later
		// fields are inside the copy.
		d.ownBase = d.start
		d.own = append([]byte(nil), d.body[d.start:]...)
	}
	off := d.p - len(d.data) - d.ownBase
	return d.own[off : off+len(d.data) : off+len(d.data)]
}

func bytesToString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	// The bytes are a private copy that is never written again (see owned),
	// and byte fields handed to the caller never overlap a string.
	return unsafe.String(&b[0], len(b))
}

func cutNUL(b []byte) []byte {
	for i, c := range b {
		if c == 0 {
			return b[:i]
		}
	}
	return b
}

// fstr decodes a string: cut at the first NUL, a missing NUL is accepted
// (§1.5). max includes the NUL; longer fields are status 23.
func (d *decoder) fstr(field string, max int) string {
	s := cutNUL(d.data)
	if max > 0 && (len(d.data) > max || len(s)+1 > max) {
		d.fail(StatusInvalidFieldLength, field, d.tag, d.start, "%s of %d bytes exceeds the maximum of %d", field, len(d.data), max)
		return ""
	}
	if len(s) == 0 {
		return ""
	}
	o := d.owned()
	return bytesToString(o[:len(s)])
}

// fbytes decodes an UNSPEC field verbatim.
func (d *decoder) fbytes(field string, max int) []byte {
	if max > 0 && len(d.data) > max {
		d.fail(StatusInvalidFieldLength, field, d.tag, d.start, "%s of %d bytes exceeds the maximum of %d", field, len(d.data), max)
		return nil
	}
	if len(d.data) == 0 {
		return []byte{}
	}
	return d.owned()
}

func (d *decoder) ecc(field string, b []byte) (name, value string) {
	i := 0
	for i < len(b) && b[i] != 0 {
		i++
	}
	if i == len(b) {
		d.fail(StatusBadMessageFormat, field, d.tag, d.start, "%s has no NUL after the variable name", field)
		return
	}
	v := cutNUL(b[i+1:])
	if i+1 > maxECCName || len(v)+1 > maxECCValue {
		d.fail(StatusInvalidFieldLength, field, d.tag, d.start, "%s name or value too long", field)
		return
	}
	return bytesToString(b[:i]), bytesToString(v)
}

func (d *decoder) fnamedVar(field string) NamedVar {
	if len(d.data) == 0 {
		d.fail(StatusBadMessageFormat, field, d.tag, d.start, "empty %s", field)
		return NamedVar{}
	}
	n, v := d.ecc(field, d.owned())
	return NamedVar{Name: n, Value: v}
}

func (d *decoder) fnamedArray(field string) NamedArray {
	if len(d.data) < 2 {
		d.fail(StatusBadMessageFormat, field, d.tag, d.start, "%s too short", field)
		return NamedArray{}
	}
	o := d.owned()
	n, v := d.ecc(field, o[1:])
	return NamedArray{Index: o[0], Name: n, Value: v}
}

// gclose ends the open group element, checking its required members.
func (d *decoder) gclose() {
	if d.grp != 0 && (d.gseen&d.greq != d.greq || d.gsubEnd != 0) {
		d.fail(StatusBadMessageFormat, d.gfield, d.tag, d.start, "incomplete %s element", d.gfield)
	}
	d.grp = 0
	d.gsubEnd = 0
}

// gstart opens a new element of group id (first member read).
func (d *decoder) gstart(id int, req uint32, field string) {
	d.gclose()
	d.grp, d.gidx, d.gseen, d.greq, d.gfield = id, 0, 1, req, field
}

// gmember accepts member k (> 0) of group id: it must follow the earlier
// members of the same element (§1.3).
func (d *decoder) gmember(id, k int, field string) bool {
	if d.grp != id || k <= d.gidx || d.gsubEnd != 0 {
		d.fail(StatusBadMessageFormat, field, d.tag, d.start, "%s out of order in its group", field)
		return false
	}
	d.gidx = k
	d.gseen |= 1 << k
	return true
}

// gsub starts an element of a list nested in the open element of group id:
// k is the list's first member, last its last one. It may follow the
// members before the list or a complete element of the same list.
func (d *decoder) gsub(id, k, last int, field string) bool {
	if d.grp != id || (d.gidx >= k && d.gidx != last) || d.gsubEnd != 0 {
		d.fail(StatusBadMessageFormat, field, d.tag, d.start, "%s out of order in its group", field)
		return false
	}
	d.gidx = k
	d.gseen |= 1 << k
	if last > k {
		d.gsubEnd = last
	}
	return true
}

// gsubMember accepts member k of the open nested element: it must follow
// member k-1 directly.
func (d *decoder) gsubMember(id, k int, field string) bool {
	if d.grp != id || d.gidx != k-1 || d.gsubEnd < k {
		d.fail(StatusBadMessageFormat, field, d.tag, d.start, "%s out of order in its group", field)
		return false
	}
	d.gidx = k
	d.gseen |= 1 << k
	if k == d.gsubEnd {
		d.gsubEnd = 0
	}
	return true
}

func (d *decoder) missing(field string) {
	d.fail(StatusRequiredDataMissing, field, 0, len(d.body), "required field %s missing", field)
}

func (d *decoder) countMismatch(field string, st Status, v uint32, n int) {
	d.fail(st, field, 0, len(d.body), "%s is %d but %d elements were sent", field, v, n)
}
