package ctifields

import (
	"fmt"
	"sort"

	"github.com/ipcclab/ipcclab/protocol/cti/spec"
)

// Layout is the layout of one message type resolved from package spec the
// way the typed codec (protocol/cti) resolves it: float types, maxima and
// first versions filled in from the tag table, groups and nested lists
// numbered. It is shared with the Wireshark dissector generator
// (pcaps/dissector) so both walk the same tables. Read-only.
type Layout struct {
	Type  uint32
	Name  string
	Since uint32 // first protocol version of the message type (0 = all)

	// HasLayout is false for the §2 types carried as raw messages
	// (spec.NoLayouts): their body decodes as one UNSPEC field "Body".
	HasLayout bool

	Fixed  []FixedField
	Floats []FloatField

	// SelfVersioned is the index in Fixed of the field carrying the version
	// the floats are encoded with (OPEN_REQ.VersionNumber, §5.1), or -1.
	SelfVersioned int
	// IgnoreUnknownTagsFrom: from this version on, tags not allowed in the
	// message are skipped instead of rejected (0 = never).
	IgnoreUnknownTagsFrom uint32

	groups []group
	tagIdx []int16 // tag -> index in Floats, -1
}

// FixedField is one field of a message's fixed part.
type FixedField struct {
	Name     string
	Type     spec.WireType
	Since    uint32        // present from this version (0 = all)
	OldType  spec.WireType // carried as OldType below OldUntil (0 = never)
	OldUntil uint32
	Enum     string // spec enum name, "" = plain number

	enum *enumTable
}

// FloatField is one floating field allowed in a message.
type FloatField struct {
	Name     string
	Tag      uint16
	Type     spec.WireType // never TypeUnknown: undocumented types are UNSPEC
	Max      int           // maximum data length (strings include the NUL), 0 = none
	Since    uint32        // the later of the tag's and the layout's first version
	Presence spec.Presence
	Enum     string
	Group    string // repeated group the field belongs to, "" = none
	Sub      string // list nested in the group element, "" = none

	enum *enumTable
	bit  int // once bit (fields outside groups)
	grp  int // index in Layout.groups, -1
	k    int // member index in the group
	sub  int // index in the group's subs, -1
	// countFor: the group (or, for members, the nested list of the same
	// group) whose element count this field carries; -1 when none.
	countFor int
}

// FixedSize is the size of the fixed part at protocol version pv.
func (l *Layout) FixedSize(pv uint32) int {
	n := 0
	for i := range l.Fixed {
		n += l.Fixed[i].SizeAt(pv)
	}
	return n
}

// SizeAt is the field's size at protocol version pv (0 when it is not sent).
func (f *FixedField) SizeAt(pv uint32) int {
	switch {
	case pv < f.Since:
		return 0
	case f.OldUntil != 0 && pv < f.OldUntil:
		return f.OldType.Size()
	}
	return f.Type.Size()
}

// FloatByTag returns the index in Floats of the field with tag t.
func (l *Layout) FloatByTag(t uint16) (int, bool) {
	if int(t) < len(l.tagIdx) && l.tagIdx[t] >= 0 {
		return int(l.tagIdx[t]), true
	}
	return 0, false
}

// group is a repeated group: its members are consecutive Floats.
type group struct {
	name     string
	count    string // field carrying the element count
	countFix int    // index in Fixed of the count, -1 when it is a float
	status   uint32 // E_CTI status when the count disagrees
	first    int    // index in Floats of member 0
	members  int
	req      uint32 // members required in every element
	subs     []subList
}

// subList is a list nested in each element of a group.
type subList struct {
	name        string
	first, last int // member indexes in the group
	count       int // member index of the count
	countName   string
}

// Limits of the decoder's fixed-size state; init checks the spec against
// them (a spec change that exceeds one fails every test at start-up).
const (
	maxGroups = 8
	maxSubs   = 4
	maxOnce   = 64
)

var (
	layouts   []*Layout // by message type
	allLayout []*Layout // in message-type order
	tagNames  map[uint16]string
	tagTypes  map[uint16]spec.WireType
	enums     map[string]*enumTable
)

func init() {
	enums = map[string]*enumTable{}
	for _, e := range spec.Enums {
		enums[e.Name] = newEnumTable(e)
	}
	tagNames = map[uint16]string{}
	tagTypes = map[uint16]spec.WireType{}
	maxTag := 0
	for _, t := range spec.Tags {
		tagNames[t.Tag] = t.Name
		tagTypes[t.Tag] = t.Type
		maxTag = max(maxTag, int(t.Tag))
	}
	maxType := uint32(0)
	for _, mt := range spec.MessageTypes {
		maxType = max(maxType, mt.Type)
	}
	layouts = make([]*Layout, maxType+1)
	for _, mt := range spec.MessageTypes {
		layouts[mt.Type] = &Layout{Type: mt.Type, Name: mt.Name, Since: mt.Since, SelfVersioned: -1}
	}
	for _, m := range spec.Messages {
		l := layouts[m.Type]
		if l == nil || l.Name != m.Name {
			panic(fmt.Sprintf("ctifields: layout %d %s is not in spec.MessageTypes", m.Type, m.Name))
		}
		if err := l.resolve(m, maxTag); err != nil {
			panic("ctifields: " + err.Error())
		}
	}
	for _, l := range layouts {
		if l != nil {
			allLayout = append(allLayout, l)
		}
	}
}

// Layouts returns every §2 message type's layout in type order (types
// without a layout have HasLayout false).
func Layouts() []*Layout { return allLayout }

// LayoutOf returns the layout of message type mt.
func LayoutOf(mt uint32) (*Layout, bool) {
	if mt < uint32(len(layouts)) && layouts[mt] != nil {
		return layouts[mt], true
	}
	return nil, false
}

// TagName returns the §4.17 name of floating tag t ("AGENT_ID_TAG") or
// "Tag<t>" for a tag the table does not have.
func TagName(t uint16) string {
	if n, ok := tagNames[t]; ok {
		return n
	}
	return fmt.Sprintf("Tag%d", t)
}

func (l *Layout) resolve(m spec.Message, maxTag int) error {
	l.HasLayout = true
	l.IgnoreUnknownTagsFrom = m.IgnoreUnknownTagsFrom
	for i, f := range m.Fixed {
		ff := FixedField{Name: f.Name, Type: f.Type, Since: f.Since, OldType: f.OldType, OldUntil: f.OldUntil, Enum: f.Enum}
		if f.Enum != "" {
			if ff.enum = enums[f.Enum]; ff.enum == nil {
				return fmt.Errorf("%s.%s: unknown enum %s", m.Name, f.Name, f.Enum)
			}
		}
		if f.Type.Size() == 0 || (f.OldUntil != 0 && f.OldType.Size() == 0) {
			return fmt.Errorf("%s.%s: variable-size fixed field", m.Name, f.Name)
		}
		if f.Name == m.SelfVersioned {
			l.SelfVersioned = i
		}
		l.Fixed = append(l.Fixed, ff)
	}
	if m.SelfVersioned != "" && l.SelfVersioned < 0 {
		return fmt.Errorf("%s: self-versioned field %s not found", m.Name, m.SelfVersioned)
	}
	l.tagIdx = make([]int16, maxTag+1)
	for i := range l.tagIdx {
		l.tagIdx[i] = -1
	}
	groupIdx := map[string]int{}
	once := 0
	for i, f := range m.Floats {
		t, ok := spec.TagByNumber(f.Tag)
		if !ok {
			return fmt.Errorf("%s.%s: tag %d not in spec.Tags", m.Name, f.Name, f.Tag)
		}
		if l.tagIdx[f.Tag] >= 0 {
			return fmt.Errorf("%s: tag %d listed twice", m.Name, f.Tag)
		}
		l.tagIdx[f.Tag] = int16(i)
		ff := FloatField{Name: f.Name, Tag: f.Tag, Type: f.Type, Max: f.Max, Since: max(t.Since, f.Since),
			Presence: f.Presence, Enum: f.Enum, Group: f.Group, Sub: f.Sub, grp: -1, sub: -1, countFor: -1}
		if ff.Type == spec.TypeUnknown {
			ff.Type = t.Type
		}
		if ff.Type == spec.TypeUnknown {
			ff.Type = spec.UNSPEC
		}
		if ff.Max == 0 {
			ff.Max = t.Max
		}
		if f.Enum != "" {
			if ff.enum = enums[f.Enum]; ff.enum == nil {
				return fmt.Errorf("%s.%s: unknown enum %s", m.Name, f.Name, f.Enum)
			}
		}
		if f.Group == "" {
			ff.bit = once
			once++
		} else {
			g, ok := groupIdx[f.Group]
			if !ok {
				g = len(l.groups)
				groupIdx[f.Group] = g
				l.groups = append(l.groups, group{name: f.Group, count: f.Count, countFix: -1, status: f.CountStatus, first: i})
				if l.groups[g].status == 0 {
					l.groups[g].status = 25 // E_CTI_BAD_MESSAGE_FORMAT, as the codec generator
				}
			} else if m.Floats[i-1].Group != f.Group {
				return fmt.Errorf("%s: members of group %s are not consecutive", m.Name, f.Group)
			}
			gr := &l.groups[g]
			ff.grp, ff.k = g, gr.members
			gr.members++
			switch {
			case f.Sub != "":
				if n := len(gr.subs); n > 0 && gr.subs[n-1].name == f.Sub {
					gr.subs[n-1].last = ff.k
					ff.sub = n - 1
				} else {
					s := subList{name: f.Sub, first: ff.k, last: ff.k, count: -1, countName: f.SubCount}
					for k := 0; k < ff.k; k++ {
						if c := m.Floats[gr.first+k]; c.Name == f.SubCount && c.Sub == "" {
							s.count = k
						}
					}
					if s.count < 0 {
						return fmt.Errorf("%s.%s: nested count %s not found", m.Name, f.Name, f.SubCount)
					}
					ff.sub = len(gr.subs)
					gr.subs = append(gr.subs, s)
				}
			case f.Presence != spec.Optional:
				gr.req |= 1 << ff.k
			}
		}
		l.Floats = append(l.Floats, ff)
	}
	if once > maxOnce || len(l.groups) > maxGroups {
		return fmt.Errorf("%s: %d floats outside groups, %d groups: raise the decoder limits", m.Name, once, len(l.groups))
	}
	for g := range l.groups {
		gr := &l.groups[g]
		if gr.members > 32 || len(gr.subs) > maxSubs {
			return fmt.Errorf("%s: group %s too large for the decoder", m.Name, gr.name)
		}
		found := false
		for i, f := range l.Fixed {
			if f.Name == gr.count {
				gr.countFix, found = i, true
			}
		}
		for i := range l.Floats {
			if f := &l.Floats[i]; f.Name == gr.count && f.grp < 0 {
				f.countFor, found = g, true
			}
		}
		if !found {
			return fmt.Errorf("%s: count %s of group %s not found", m.Name, gr.count, gr.name)
		}
		for s, sl := range gr.subs {
			l.Floats[gr.first+sl.count].countFor = s
		}
	}
	return nil
}

// enumTable gives the names of an enumeration's values the way the typed
// codec's String methods do: the first non-alias name of a value; for a
// mask, the non-alias names whose bits are set, in table order, then the
// remaining bits in hex.
type enumTable struct {
	name  string
	mask  bool
	names map[uint32]string
	bits  []enumBit
}

type enumBit struct {
	v    uint32
	name string
}

func newEnumTable(e spec.Enum) *enumTable {
	t := &enumTable{name: e.Name, mask: e.Mask, names: map[uint32]string{}}
	for _, v := range e.Values {
		if v.Alias {
			continue
		}
		if e.Mask {
			t.bits = append(t.bits, enumBit{v.Value, v.Name})
		} else if _, dup := t.names[v.Value]; !dup {
			t.names[v.Value] = v.Name
		}
	}
	return t
}

// nameOf returns the value's name, the set bits' names joined with "|" for
// a mask, or "" for a value the enumeration does not name (and a mask of
// 0).
func (t *enumTable) nameOf(v uint32) string {
	if !t.mask {
		return t.names[v]
	}
	if v == 0 {
		return ""
	}
	first, n, rest := -1, 0, v
	for i, b := range t.bits {
		if v&b.v != 0 {
			if first < 0 {
				first = i
			}
			n++
			rest &^= b.v
		}
	}
	if n == 1 && rest == 0 {
		return t.bits[first].name // the common case: no allocation
	}
	s := make([]byte, 0, 64)
	for _, b := range t.bits {
		if v&b.v != 0 {
			s = append(append(s, '|'), b.name...)
		}
	}
	if rest != 0 {
		s = fmt.Appendf(s, "|0x%x", rest)
	}
	return string(s[1:])
}

// EnumValue is one named value of an enumeration.
type EnumValue struct {
	Value uint32
	Name  string
}

// EnumValues returns the named values of enumeration e as the decoder
// names them: for a plain enumeration by value, one name per value; for a
// mask its bits in table order (names are tried in that order).
func EnumValues(e string) (vals []EnumValue, mask bool, ok bool) {
	t := enums[e]
	if t == nil {
		return nil, false, false
	}
	if t.mask {
		for _, b := range t.bits {
			vals = append(vals, EnumValue{b.v, b.name})
		}
		return vals, true, true
	}
	for v, n := range t.names {
		vals = append(vals, EnumValue{v, n})
	}
	sort.Slice(vals, func(i, j int) bool { return vals[i].Value < vals[j].Value })
	return vals, false, true
}
