// Package spec is the declarative description of the Cisco CTI Server
// protocol (GED-188): message type numbers, floating-field tags, message
// layouts (fixed part and allowed floating fields) and enumerations.
//
// It is pure data and the single source of truth for everything derived
// from the protocol: the Go codec in package cti is generated from it
// (protocol/cti/internal/gen), and the Wireshark Lua dissector will be
// generated from the same tables. Section references (§n) point into
// shared/reference/cti-protocol.md.
//
// Conventions:
//   - Names are the reference's names (message names in UPPER_CASE as in §2,
//     field names in CamelCase as in §3, tag names as in §4.17).
//   - Since is the first protocol version in which an item exists; 0 means
//     "in every version we know of" (i.e. no version history was found).
//   - Field order in Message.Fixed is the wire order; order in
//     Message.Floats is the documented order the encoder follows.
package spec

// Version is a GED-188 protocol version number (OPEN_REQ.VersionNumber).
type Version = uint32

// WireType is the on-the-wire data type of a field (§1.4).
type WireType uint8

// Wire types (§1.4). TypeUnknown marks tags whose type the reference does
// not document; codecs treat them as opaque bytes.
const (
	TypeUnknown WireType = iota
	UCHAR
	USHORT
	SHORT
	UINT
	INT
	BOOL // 2 bytes, 0 = false, 1 = true
	TIME // 4 bytes, seconds since 1970-01-01 UTC
	STRING
	UNSPEC
	NAMEDVAR
	NAMEDARRAY
)

var wireTypeNames = [...]string{"UNKNOWN", "UCHAR", "USHORT", "SHORT", "UINT", "INT", "BOOL", "TIME", "STRING", "UNSPEC", "NAMEDVAR", "NAMEDARRAY"}

func (t WireType) String() string {
	if int(t) < len(wireTypeNames) {
		return wireTypeNames[t]
	}
	return "WireType(?)"
}

// Size is the fixed size in bytes of a scalar wire type, or 0 for the
// variable-length types (STRING, UNSPEC, NAMEDVAR, NAMEDARRAY, UNKNOWN).
func (t WireType) Size() int {
	switch t {
	case UCHAR:
		return 1
	case USHORT, SHORT, BOOL:
		return 2
	case UINT, INT, TIME:
		return 4
	}
	return 0
}

// Field is one field of a message's fixed part.
type Field struct {
	Name  string
	Type  WireType
	Since Version // first protocol version carrying the field (0 = all)
	Enum  string  // name of the Enum giving the field's values ("" = plain number)
	Note  string

	// OldType/OldUntil: below protocol version OldUntil the field is
	// carried as OldType (a narrower integer) instead of Type (e.g.
	// SEND_DTMF_SIGNAL_REQ.PauseDuration, USHORT before PV10-13).
	OldType  WireType
	OldUntil Version
}

// Presence says how a floating field may occur in a message.
type Presence uint8

const (
	// Required floats must occur exactly once.
	Required Presence = iota + 1
	// Optional floats occur at most once.
	Optional
	// Repeated floats occur once per element of their group (Group is set).
	Repeated
)

func (p Presence) String() string {
	switch p {
	case Required:
		return "required"
	case Optional:
		return "optional"
	case Repeated:
		return "repeated"
	}
	return "?"
}

// Float is one floating field allowed in a message.
//
// Members of a repeated group share Group (the name of the list, e.g.
// "SkillGroups") and are listed consecutively in wire order. The first
// member of a group starts a new element and is always Repeated; later
// members are Repeated (must be present in each element) or Optional (may
// be missing from an element). Count names the field (fixed or floating)
// carrying the number of elements; CountStatus is the E_CTI status to
// report when the count and the elements disagree.
type Float struct {
	Name     string
	Tag      uint16
	Presence Presence
	Since    Version  // 0 = as the tag (Tag.Since)
	Type     WireType // 0 = the tag's type (Tag.Type)
	Max      int      // 0 = the tag's maximum (Tag.Max)
	Enum     string

	Group       string // list name for repeated groups
	GroupType   string // Go element type for groups with more than one member
	Count       string // field holding the element count
	CountStatus uint32 // status when Count disagrees with the elements

	// Sub names a list nested inside each element of the group (e.g. the
	// skill groups of one CONFIG_AGENT_EVENT record). Its members are
	// consecutive members of the group with the same Sub; SubType is the Go
	// element type (needed when the list has more than one member) and
	// SubCount the earlier member of the group element carrying the number
	// of nested elements.
	Sub      string
	SubType  string
	SubCount string

	Note string
}

// Message is the layout of one message type.
type Message struct {
	Type   uint32
	Name   string
	Fixed  []Field
	Floats []Float

	// SelfVersioned names the fixed field that carries the protocol version
	// the rest of the message is encoded with (OPEN_REQ: VersionNumber, §5.1:
	// the OPEN_REQ floats use the tag width of its own VersionNumber).
	SelfVersioned string
	// IgnoreUnknownTagsFrom: from this version on, floats whose tag is not
	// allowed in the message are skipped instead of rejected (§8 #10; also
	// used for layouts whose floating part is only partly documented).
	IgnoreUnknownTagsFrom Version

	Note string
}

// NoLayout records a §2 message type that deliberately has no layout (it
// is carried as a raw message) and why.
type NoLayout struct {
	Type   uint32
	Reason string
}

// MessageType is one row of the message-type number table (§2).
type MessageType struct {
	Type  uint32
	Name  string
	Since Version
	Note  string
}

// Tag is one floating-field tag (§4.17).
type Tag struct {
	Tag    uint16
	Name   string
	Type   WireType
	Max    int // maximum data length in bytes (strings include the NUL); 0 = not documented
	Since  Version
	GoName string // overrides the generated Go identifier (duplicate reference names)
	Note   string
}

// Enum is a set of named values (or bits, when Mask is set) of a field.
type Enum struct {
	Name   string // Go type name
	Type   WireType
	Mask   bool
	Strip  string // prefix removed from value names when forming Go names
	Prefix string // prefix added to Go names
	Values []EnumValue
	Ref    string // reference section
	Note   string
}

// EnumValue is one named value. Alias values produce an extra Go constant
// but are not used by String().
type EnumValue struct {
	Value  uint32
	Name   string
	GoName string
	Alias  bool
	Note   string
}

// TagByNumber returns the tag definition for n.
func TagByNumber(n uint16) (Tag, bool) {
	for _, t := range Tags {
		if t.Tag == n {
			return t, true
		}
	}
	return Tag{}, false
}

// EnumByName returns the enumeration called name.
func EnumByName(name string) (Enum, bool) {
	for _, e := range Enums {
		if e.Name == name {
			return e, true
		}
	}
	return Enum{}, false
}
