// Package ctifields decodes Cisco CTI Server (GED-188) message bodies into
// ordered lists of named fields by walking the declarative tables of
// package spec at run time — the tables the typed codec (protocol/cti) is
// generated from and the Wireshark dissector (pcaps/dissector) is
// generated from — so a capture decoder can print every field of every
// message type, with enum names, without a type switch over ~100 structs.
//
// The lookup tables (Layouts) are built once at package init; Decode
// allocates the field slice and, when the message has strings or bytes,
// one copy of the body.
package ctifields

import (
	"encoding/hex"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/ipcclab/ipcclab/protocol/cti/spec"
)

// Field is one decoded field of a message.
type Field struct {
	// Name is the spec name: the fixed field's name ("AgentState") or the
	// float's name in the message layout ("AgentID"). A float whose tag
	// the message does not allow is named after its tag ("AGENT_ID_TAG",
	// or "Tag<N>" for a tag §4.17 does not list).
	Name string
	// Tag is the floating tag; 0 for fixed-part fields (which always come
	// first: a malformed float with tag 0 on the wire also has Tag 0).
	Tag  uint16
	Type spec.WireType
	// Offset and Len locate the value (the data, not a float's tag and
	// length) in the body.
	Offset, Len int

	// The value, in the member that applies to Type: Uint for UCHAR,
	// USHORT, UINT and TIME (seconds since 1970 UTC); Int for SHORT and
	// INT; Bool for BOOL (with the raw USHORT in Uint: any non-zero value
	// is true); Str for STRING (cut at the first NUL); Bytes for
	// UNSPEC; VarName/VarValue (and VarIndex) for NAMEDVAR/NAMEDARRAY.
	Uint     uint64
	Int      int64
	Bool     bool
	Str      string
	Bytes    []byte
	VarName  string
	VarValue string
	VarIndex uint8

	// Enum is the value's name when the field has an enumeration
	// ("AGENT_STATE_TALKING"); for a bit mask the names of the set bits
	// joined with "|" (bits without a name as 0x…). "" when the field has
	// no enumeration, the value has no name, or a mask is 0.
	Enum string
}

// Message is one decoded message.
type Message struct {
	Type uint32
	Name string // "AGENT_STATE_EVENT"; "MessageType(N)" for a type §2 does not list
	// Version is the protocol version the body was decoded with: the
	// session's, or for OPEN_REQ its own VersionNumber (§5.1).
	Version uint32
	Fields  []Field
}

// Value returns the canonical text of the field's value: decimal numbers,
// "true"/"false", TIME as RFC 3339 UTC, STRING quoted Go-style, UNSPEC as
// lower-case hex, NAMEDVAR as name=value, NAMEDARRAY as name[index]=value.
func (f Field) Value() string { return string(f.AppendValue(nil)) }

// AppendValue appends Value to dst.
func (f Field) AppendValue(dst []byte) []byte {
	switch f.Type {
	case spec.UCHAR, spec.USHORT, spec.UINT:
		return strconv.AppendUint(dst, f.Uint, 10)
	case spec.SHORT, spec.INT:
		return strconv.AppendInt(dst, f.Int, 10)
	case spec.BOOL:
		return strconv.AppendBool(dst, f.Bool)
	case spec.TIME:
		return time.Unix(int64(f.Uint), 0).UTC().AppendFormat(dst, time.RFC3339)
	case spec.STRING:
		return strconv.AppendQuote(dst, f.Str)
	case spec.NAMEDVAR:
		return append(append(append(dst, f.VarName...), '='), f.VarValue...)
	case spec.NAMEDARRAY:
		dst = append(append(dst, f.VarName...), '[')
		dst = strconv.AppendUint(dst, uint64(f.VarIndex), 10)
		return append(append(dst, "]="...), f.VarValue...)
	}
	return hex.AppendEncode(dst, f.Bytes)
}

// AppendText appends the message as one line: its name, then
// Field=value for every field, with the enum name in parentheses when
// there is one ("AGENT_STATE_EVENT MonitorID=0 AgentState=4(AGENT_STATE_TALKING) …").
func AppendText(dst []byte, m Message) []byte {
	dst = append(dst, m.Name...)
	for i := range m.Fields {
		f := &m.Fields[i]
		dst = append(append(append(dst, ' '), f.Name...), '=')
		dst = f.AppendValue(dst)
		if f.Enum != "" {
			dst = append(append(append(dst, '('), f.Enum...), ')')
		}
	}
	return dst
}

// MarshalJSON writes {"name","tag","type","value","enum"}: tag is left out
// for fixed fields and enum when empty; value is a JSON number for the
// integer types, true/false for BOOL and a string otherwise (STRING as is,
// TIME as RFC 3339, UNSPEC as hex, NAMEDVAR as name=value).
func (f Field) MarshalJSON() ([]byte, error) {
	b := make([]byte, 0, 64+len(f.Str)+2*len(f.Bytes)+len(f.VarName)+len(f.VarValue))
	b = append(b, `{"name":`...)
	b = appendJSONString(b, f.Name)
	if f.Tag != 0 {
		b = strconv.AppendUint(append(b, `,"tag":`...), uint64(f.Tag), 10)
	}
	b = append(b, `,"type":"`...)
	b = append(b, f.Type.String()...)
	b = append(b, `","value":`...)
	switch f.Type {
	case spec.UCHAR, spec.USHORT, spec.UINT, spec.SHORT, spec.INT, spec.BOOL:
		b = f.AppendValue(b)
	case spec.STRING:
		b = appendJSONString(b, f.Str)
	default:
		b = appendJSONString(b, string(f.AppendValue(nil)))
	}
	if f.Enum != "" {
		b = appendJSONString(append(b, `,"enum":`...), f.Enum)
	}
	return append(b, '}'), nil
}

// appendJSONString appends s as a JSON string; invalid UTF-8 becomes
// U+FFFD as encoding/json does.
func appendJSONString(b []byte, s string) []byte {
	const hexd = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c == '\n':
				b = append(b, '\\', 'n')
			case c == '\r':
				b = append(b, '\\', 'r')
			case c == '\t':
				b = append(b, '\\', 't')
			case c < 0x20 || c == '<' || c == '>' || c == '&':
				b = append(b, '\\', 'u', '0', '0', hexd[c>>4], hexd[c&0xf])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, `\u202`...)
			b = append(b, hexd[r&0xf])
		default:
			b = append(b, s[i:i+n]...)
		}
		i += n
	}
	return append(b, '"')
}
