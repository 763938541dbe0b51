package dissector

import (
	"fmt"
	"sort"

	"github.com/ipcclab/ipcclab/pcaps/ctifields"
	"github.com/ipcclab/ipcclab/protocol/cti"
	"github.com/ipcclab/ipcclab/protocol/cti/spec"
)

// Version range the dissector reasons about: inference tries versions
// 1..maxVersion (the newest any table names) and prefers preferVersion,
// the current one (and the one `ipcclab pcap decode` prefers).
const preferVersion = 24

// protoField is one ProtoField of the generated dissector.
type protoField struct {
	key   string // Lua table key and abbreviation suffix: ged188.<key>
	label string
	typ   spec.WireType
	enum  string // value_string enumeration ("" = none)
	mask  bool   // enum is a bit mask: hex display plus set-bit names
	desc  string
}

// model is everything the Lua is generated from, resolved from the
// ctifields layouts (the decoder's own view of package spec).
type model struct {
	fields     []*protoField
	byName     map[string][]*protoField // spec field name -> its variants, first one unsuffixed
	layouts    []*msgModel
	enums      []string // enumerations used by some field, sorted
	maxVersion uint32
}

// msgModel is one message type.
type msgModel struct {
	l       *ctifields.Layout
	fixed   []*protoField // parallel to l.Fixed
	floats  []*protoField // parallel to l.Floats
	classes []versionClass
	minBody int // smallest fixed part over the versions the type exists in
}

// versionClass is a set of versions under which a message type decodes
// identically (same fixed part, tag width, allowed floats, unknown-tag
// rule); rep is the version the dissector tries for the class.
type versionClass struct {
	mask uint32 // bit v set for version v
	rep  uint32
}

// reserved are the dissector's own field keys; no spec name may take them.
var reserved = map[string]bool{"length": true, "type": true, "version": true, "float_tag": true, "float_len": true, "tag_unknown": true, "Body": true}

// fieldKey chooses the ProtoField of a spec field. The first message (in
// type order, fixed fields before floats) to use a name gets ged188.<Name>;
// a later use of the name with another wire type gets ged188.<Name>_<TYPE>
// (e.g. ged188.SkillGroupNumber_INT), and one with the same type but another
// enumeration ged188.<Name>_<Enum> (or _plain when it has none): one
// ProtoField can carry only one type and one value_string.
func (m *model) fieldKey(name string, typ spec.WireType, enum, desc string) (*protoField, error) {
	if reserved[name] {
		return nil, fmt.Errorf("spec field name %q collides with a dissector field", name)
	}
	for _, pf := range m.byName[name] {
		if pf.typ == typ && pf.enum == enum {
			return pf, nil
		}
	}
	key := name
	if vs := m.byName[name]; len(vs) > 0 {
		switch {
		case vs[0].typ != typ:
			key = name + "_" + typ.String()
		case enum != "":
			key = name + "_" + enum
		default:
			key = name + "_plain"
		}
		for _, pf := range vs {
			if pf.key == key {
				return nil, fmt.Errorf("field %s: a third variant (%s %s) needs a naming rule", name, typ, enum)
			}
		}
	}
	pf := &protoField{key: key, label: name, typ: typ, enum: enum, desc: desc}
	if enum != "" {
		_, mask, ok := ctifields.EnumValues(enum)
		if !ok {
			return nil, fmt.Errorf("field %s: unknown enumeration %s", name, enum)
		}
		pf.mask = mask
	}
	m.byName[name] = append(m.byName[name], pf)
	m.fields = append(m.fields, pf)
	return pf, nil
}

func buildModel() (*model, error) {
	m := &model{byName: map[string][]*protoField{}}
	for _, t := range spec.Tags {
		m.maxVersion = max(m.maxVersion, t.Since)
	}
	for _, l := range ctifields.Layouts() {
		m.maxVersion = max(m.maxVersion, l.Since, l.IgnoreUnknownTagsFrom)
		for _, f := range l.Fixed {
			m.maxVersion = max(m.maxVersion, f.Since, f.OldUntil)
		}
		for _, f := range l.Floats {
			m.maxVersion = max(m.maxVersion, f.Since)
		}
	}
	m.maxVersion = max(m.maxVersion, preferVersion)
	if m.maxVersion > 31 {
		return nil, fmt.Errorf("version %d does not fit the 32-bit version masks", m.maxVersion)
	}
	notes := fieldNotes()
	enums := map[string]bool{}
	for _, l := range ctifields.Layouts() {
		mm := &msgModel{l: l}
		if l.HasLayout {
			for _, f := range l.Fixed {
				pf, err := m.fieldKey(f.Name, f.Type, f.Enum, notes[l.Type][f.Name])
				if err != nil {
					return nil, fmt.Errorf("%s: %w", l.Name, err)
				}
				mm.fixed = append(mm.fixed, pf)
				if f.Enum != "" {
					enums[f.Enum] = true
				}
			}
			for _, f := range l.Floats {
				pf, err := m.fieldKey(f.Name, f.Type, f.Enum, notes[l.Type][f.Name])
				if err != nil {
					return nil, fmt.Errorf("%s: %w", l.Name, err)
				}
				mm.floats = append(mm.floats, pf)
				if f.Enum != "" {
					enums[f.Enum] = true
				}
			}
			mm.classes = versionClasses(l, m.maxVersion)
			mm.minBody = -1
			for v := max(l.Since, 1); v <= m.maxVersion; v++ {
				if n := l.FixedSize(v); mm.minBody < 0 || n < mm.minBody {
					mm.minBody = n
				}
			}
		}
		m.layouts = append(m.layouts, mm)
	}
	for e := range enums {
		m.enums = append(m.enums, e)
	}
	sort.Strings(m.enums)
	return m, nil
}

// versionClasses splits the versions a message type exists in (from
// max(Since, 1) to maxVersion) into classes that decode a body the same
// way, newest class first. Each class is tried once when the version has
// to be inferred; its representative is preferVersion when the class has
// it, else its newest version.
func versionClasses(l *ctifields.Layout, maxVersion uint32) []versionClass {
	sig := func(v uint32) string {
		s := fmt.Sprintf("w%d i%v", cti.TagWidth(cti.ProtocolVersion(v)), l.IgnoreUnknownTagsFrom != 0 && v >= l.IgnoreUnknownTagsFrom)
		for i := range l.Fixed {
			s += fmt.Sprintf(" %d", l.Fixed[i].SizeAt(v))
		}
		for _, f := range l.Floats {
			s += fmt.Sprintf(" %v", f.Since <= v)
		}
		return s
	}
	var out []versionClass
	idx := map[string]int{}
	for v := maxVersion; v >= max(l.Since, 1); v-- {
		s := sig(v)
		i, ok := idx[s]
		if !ok {
			i = len(out)
			idx[s] = i
			out = append(out, versionClass{rep: v})
		}
		out[i].mask |= 1 << v
		if v == preferVersion {
			out[i].rep = v
		}
	}
	return out
}

// fieldNotes returns the spec notes of every field by message type and
// name (the ProtoField description of the field's first use).
func fieldNotes() map[uint32]map[string]string {
	out := map[uint32]map[string]string{}
	for _, msg := range spec.Messages {
		n := map[string]string{}
		for _, f := range msg.Fixed {
			if f.Note != "" {
				n[f.Name] = f.Note
			}
		}
		for _, f := range msg.Floats {
			if f.Note != "" {
				n[f.Name] = f.Note
			}
		}
		out[msg.Type] = n
	}
	return out
}

// abbrev returns the Wireshark field abbreviation under which the
// dissector shows field name of message type mt (fixed or floating), as
// ctifields names it.
func (m *model) abbrev(mt uint32, name string) (string, bool) {
	for _, mm := range m.layouts {
		if mm.l.Type != mt {
			continue
		}
		for i, f := range mm.l.Fixed {
			if f.Name == name {
				return "ged188." + mm.fixed[i].key, true
			}
		}
		for i, f := range mm.l.Floats {
			if f.Name == name {
				return "ged188." + mm.floats[i].key, true
			}
		}
	}
	return "", false
}
