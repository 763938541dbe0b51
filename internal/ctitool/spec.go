// Package ctitool holds the support-engineer tools behind `ipcclab cti`:
// a protocol-analyser style dump of a live CTI Server session and a
// one-shot request sender. Everything is driven by the protocol tables in
// protocol/cti/spec and by reflection over the generated message structs,
// so message layouts added to the codec are printed and buildable without
// changes here.
package ctitool

import (
	"encoding/binary"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"sync"

	"github.com/ipcclab/ipcclab/protocol/cti"
	"github.com/ipcclab/ipcclab/protocol/cti/spec"
)

// fieldSpec describes one field of a message struct as the spec tables
// lay it out: a fixed field, a non-repeated float, or a repeated group.
type fieldSpec struct {
	Name  string
	Fixed bool
	Since cti.ProtocolVersion
	Type  spec.WireType
	Enum  string
	Tag   cti.Tag // floats only
	Max   int     // floats: maximum data length (strings include the NUL); 0 = none

	// Groups: Members are the element's floats in wire order.
	Group   bool
	Members []*fieldSpec
	Count   string
	// Member of a group: Optional within its element.
	Optional bool
}

// msgSpec is the index of one laid-out message.
type msgSpec struct {
	spec.Message
	fields map[string]*fieldSpec // by Go field name (= reference name, or group name)
	lower  map[string]*fieldSpec // by lower-case name, members of groups included
	order  []string              // assignable names in layout order (for error messages)
}

var (
	indexOnce sync.Once
	byType    map[cti.MessageType]*msgSpec
	byName    map[string]*msgSpec // upper-case reference name
	tagByNum  map[uint16]spec.Tag
	enumByNm  map[string]*spec.Enum
)

func index() {
	indexOnce.Do(func() {
		tagByNum = map[uint16]spec.Tag{}
		for _, t := range spec.Tags {
			tagByNum[t.Tag] = t
		}
		enumByNm = map[string]*spec.Enum{}
		for i := range spec.Enums {
			enumByNm[spec.Enums[i].Name] = &spec.Enums[i]
		}
		byType = map[cti.MessageType]*msgSpec{}
		byName = map[string]*msgSpec{}
		for _, m := range spec.Messages {
			ms := &msgSpec{Message: m, fields: map[string]*fieldSpec{}, lower: map[string]*fieldSpec{}}
			for _, f := range m.Fixed {
				fs := &fieldSpec{Name: f.Name, Fixed: true, Since: cti.ProtocolVersion(f.Since), Type: f.Type, Enum: f.Enum}
				ms.add(fs)
			}
			var grp *fieldSpec
			for _, f := range m.Floats {
				t := tagByNum[f.Tag]
				fs := &fieldSpec{Name: f.Name, Tag: cti.Tag(f.Tag), Type: f.Type, Max: f.Max, Enum: f.Enum,
					Since: cti.ProtocolVersion(max(t.Since, f.Since)), Optional: f.Presence == spec.Optional}
				if fs.Type == 0 {
					fs.Type = t.Type
				}
				if fs.Type == spec.TypeUnknown {
					fs.Type = spec.UNSPEC
				}
				if fs.Max == 0 {
					fs.Max = t.Max
				}
				if f.Group == "" {
					grp = nil
					ms.add(fs)
					continue
				}
				if grp == nil || grp.Name != f.Group {
					grp = &fieldSpec{Name: f.Group, Group: true, Count: f.Count, Since: fs.Since, Tag: fs.Tag}
					ms.fields[grp.Name] = grp
					ms.lower[strings.ToLower(grp.Name)] = grp
				}
				grp.Members = append(grp.Members, fs)
				ms.lower[strings.ToLower(fs.Name)] = fs
				ms.order = append(ms.order, fs.Name)
			}
			byType[cti.MessageType(m.Type)] = ms
			byName[m.Name] = ms
		}
	})
}

func (ms *msgSpec) add(fs *fieldSpec) {
	ms.fields[fs.Name] = fs
	ms.lower[strings.ToLower(fs.Name)] = fs
	ms.order = append(ms.order, fs.Name)
}

func specOf(mt cti.MessageType) *msgSpec {
	index()
	return byType[mt]
}

func enumOf(name string) *spec.Enum {
	index()
	return enumByNm[name]
}

// groupOf returns the group a member field belongs to.
func (ms *msgSpec) groupOf(member *fieldSpec) *fieldSpec {
	for _, g := range ms.fields {
		if !g.Group {
			continue
		}
		for _, m := range g.Members {
			if m == member {
				return g
			}
		}
	}
	return nil
}

// newMessage returns a zero message struct of type mt. The generated
// constructor is not exported, so it decodes the smallest body the spec
// allows for pv (zero fixed part, empty required floats) and zeroes the
// result.
func newMessage(mt cti.MessageType, pv cti.ProtocolVersion) (cti.Message, error) {
	ms := specOf(mt)
	if ms == nil {
		return nil, fmt.Errorf("%s has no message layout yet (only raw bytes are known)", mt)
	}
	var body []byte
	for _, f := range ms.Fixed {
		if f.Since > uint32(pv) && ms.SelfVersioned == "" {
			continue
		}
		n := len(body)
		body = append(body, make([]byte, f.Type.Size())...)
		if f.Name == ms.SelfVersioned {
			binary.BigEndian.PutUint32(body[n:], uint32(pv))
		}
	}
	for _, f := range ms.Floats {
		if f.Presence != spec.Required {
			continue
		}
		fs := ms.lower[strings.ToLower(f.Name)]
		if fs.Since > pv {
			continue
		}
		var data []byte
		switch fs.Type {
		case spec.STRING:
			data = []byte{0}
		case spec.NAMEDVAR:
			data = []byte{0, 0}
		case spec.NAMEDARRAY:
			data = []byte{0, 0, 0}
		default:
			data = make([]byte, fs.Type.Size())
		}
		if cti.TagWidth(pv) == 2 {
			body = binary.BigEndian.AppendUint16(body, f.Tag)
			body = binary.BigEndian.AppendUint16(body, uint16(len(data)))
		} else {
			body = append(body, byte(f.Tag), byte(len(data)))
		}
		body = append(body, data...)
	}
	m, err := cti.DecodeBody(mt, body, pv)
	if err != nil {
		return nil, fmt.Errorf("cannot build %s for protocol version %d: %w", mt, pv, err)
	}
	if _, raw := m.(*cti.RawMessage); raw {
		return nil, fmt.Errorf("%s has no message layout yet (only raw bytes are known)", mt)
	}
	v := reflect.ValueOf(m).Elem()
	v.SetZero()
	return m, nil
}

// lookupMessage finds a laid-out message by name: case-insensitive, with or
// without the _REQ suffix.
func lookupMessage(name string) (*msgSpec, error) {
	index()
	n := strings.ToUpper(strings.TrimSpace(name))
	n = strings.ReplaceAll(n, "-", "_")
	for _, cand := range []string{n, n + "_REQ"} {
		if ms, ok := byName[cand]; ok && cti.MessageType(ms.Type).HasLayout() {
			return ms, nil
		}
	}
	for _, t := range spec.MessageTypes {
		if t.Name == n || t.Name == n+"_REQ" {
			return nil, fmt.Errorf("message %s has no layout in the codec yet; requests that can be sent: %s", t.Name, strings.Join(requestNames(), ", "))
		}
	}
	return nil, fmt.Errorf("unknown message %q; requests that can be sent: %s", name, strings.Join(requestNames(), ", "))
}

// requestNames lists the laid-out messages a client sends (…_REQ).
func requestNames() []string {
	index()
	var out []string
	for n, ms := range byName {
		if strings.HasSuffix(n, "_REQ") && cti.MessageType(ms.Type).HasLayout() {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}
