package ctitool

import (
	"encoding/hex"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/ipcclab/ipcclab/protocol/cti"
	"github.com/ipcclab/ipcclab/protocol/cti/spec"
)

// Limits of the ECC named variables (§1.6), without the NUL.
const (
	maxNamedVarName  = 32
	maxNamedVarValue = 210
)

// BuildMessage builds the message called name (case-insensitive, with or
// without _REQ: "set_agent_state", "SET_AGENT_STATE_REQ") for protocol
// version pv from FIELD=VALUE assignments by reference field name.
//
// Values: numbers in decimal or 0x hex (range-checked against the field);
// enumerations by reference name, with or without their prefix, or by
// number (masks: names joined with | or ,); strings verbatim (length-checked);
// BOOL true/false/1/0; TIME a number or RFC 3339; UNSPEC text, or hex with a
// "hex:" prefix. Repeated groups are filled in wire order: assigning a
// group's first member starts a new element, later members fill the last
// one (SkillGroupNumber=10 SkillGroupPriority=1 SkillGroupNumber=11 …).
// Named variables are NamedVariable=name=value, named arrays
// NamedArray=name[index]=value. Group counts are filled in by the encoder.
// InvokeID is assigned when the message is sent.
func BuildMessage(name string, assignments []string, pv cti.ProtocolVersion) (cti.Message, error) {
	ms, err := lookupMessage(name)
	if err != nil {
		return nil, err
	}
	m, err := newMessage(cti.MessageType(ms.Type), pv)
	if err != nil {
		return nil, err
	}
	v := reflect.ValueOf(m).Elem()
	for _, a := range assignments {
		if err := assign(ms, m, v, a, pv); err != nil {
			return nil, fmt.Errorf("%s: %w", ms.Name, err)
		}
	}
	return m, nil
}

func assign(ms *msgSpec, m cti.Message, v reflect.Value, a string, pv cti.ProtocolVersion) error {
	name, val, ok := strings.Cut(a, "=")
	name = strings.TrimSpace(name)
	if !ok || name == "" {
		return fmt.Errorf("%q is not FIELD=VALUE", a)
	}
	fs := ms.lower[strings.ToLower(name)]
	if fs == nil {
		return fmt.Errorf("unknown field %q; %s has: %s", name, ms.Name, strings.Join(assignable(ms), ", "))
	}
	if fs.Group {
		if len(fs.Members) != 1 {
			return fmt.Errorf("%s is a repeated group: assign its members (%s) in wire order", fs.Name, memberNames(fs))
		}
		fs = fs.Members[0]
	}
	if fs.Name == "InvokeID" {
		return fmt.Errorf("InvokeID is assigned by the session when the message is sent")
	}
	if fs.Since > pv && ms.SelfVersioned == "" {
		return fmt.Errorf("field %s exists from protocol version %d; the session uses %d", fs.Name, fs.Since, pv)
	}
	if grp := ms.groupOf(fs); grp != nil {
		return assignMember(ms, v, grp, fs, val)
	}
	f := v.FieldByName(fs.Name)
	if !f.IsValid() {
		return fmt.Errorf("field %s is in the spec but not in the generated struct", fs.Name)
	}
	if err := setValue(f, fs, val); err != nil {
		return err
	}
	if !fs.Fixed {
		if p, ok := m.(interface{ SetPresent(cti.Tag) }); ok {
			p.SetPresent(fs.Tag)
		}
	}
	return nil
}

func assignable(ms *msgSpec) []string {
	var out []string
	for _, n := range ms.order {
		if n != "InvokeID" {
			out = append(out, n)
		}
	}
	return out
}

func memberNames(g *fieldSpec) string {
	var n []string
	for _, m := range g.Members {
		n = append(n, m.Name)
	}
	return strings.Join(n, ", ")
}

// assignMember sets a member of a repeated group: the first member appends
// a new element, the others fill the last element.
func assignMember(ms *msgSpec, v reflect.Value, grp, fs *fieldSpec, val string) error {
	list := v.FieldByName(grp.Name)
	if !list.IsValid() || list.Kind() != reflect.Slice {
		return fmt.Errorf("group %s is in the spec but not in the generated struct", grp.Name)
	}
	k := 0
	for i, m := range grp.Members {
		if m == fs {
			k = i
		}
	}
	if k == 0 {
		list.Set(reflect.Append(list, reflect.Zero(list.Type().Elem())))
	} else if list.Len() == 0 {
		return fmt.Errorf("%s belongs to an element of %s: assign %s first", fs.Name, grp.Name, grp.Members[0].Name)
	}
	el := list.Index(list.Len() - 1)
	if len(grp.Members) == 1 {
		return setValue(el, fs, val)
	}
	f := el.FieldByName(fs.Name)
	if !f.IsValid() {
		return fmt.Errorf("group member %s is in the spec but not in the generated struct", fs.Name)
	}
	if err := setValue(f, fs, val); err != nil {
		return err
	}
	if p := el.FieldByName("Present"); p.IsValid() && p.CanSet() && p.CanUint() {
		p.SetUint(p.Uint() | 1<<k)
	}
	return nil
}

// setValue parses val into f according to the field's spec.
func setValue(f reflect.Value, fs *fieldSpec, val string) error {
	t := f.Type()
	switch {
	case t == timeType:
		if u, err := parseUint(val, 32); err == nil {
			f.SetUint(u)
			return nil
		}
		tm, err := time.Parse(time.RFC3339, val)
		if err != nil {
			return fmt.Errorf("%s: %q is neither a number of seconds nor an RFC 3339 time", fs.Name, val)
		}
		f.SetUint(uint64(cti.TimeOf(tm)))
		return nil
	case t == nvType:
		n, value, ok := strings.Cut(val, "=")
		if !ok || n == "" {
			return fmt.Errorf("%s: want name=value, got %q", fs.Name, val)
		}
		if err := checkNamedVar(fs.Name, n, value); err != nil {
			return err
		}
		f.Set(reflect.ValueOf(cti.NamedVar{Name: n, Value: value}))
		return nil
	case t == naType:
		lhs, value, ok := strings.Cut(val, "=")
		n, idx, ok2 := strings.Cut(lhs, "[")
		if !ok || !ok2 || !strings.HasSuffix(idx, "]") || n == "" {
			return fmt.Errorf("%s: want name[index]=value, got %q", fs.Name, val)
		}
		i, err := parseUint(strings.TrimSuffix(idx, "]"), 8)
		if err != nil {
			return fmt.Errorf("%s: index: %w", fs.Name, err)
		}
		if err := checkNamedVar(fs.Name, n, value); err != nil {
			return err
		}
		f.Set(reflect.ValueOf(cti.NamedArray{Index: uint8(i), Name: n, Value: value}))
		return nil
	}
	if t.PkgPath() == ctiPkg && t.Name() != "" {
		if e := enumOf(t.Name()); e != nil {
			u, err := ParseEnum(e.Name, val)
			if err != nil {
				return fmt.Errorf("%s: %w", fs.Name, err)
			}
			if t.Bits() < 64 && u >= 1<<t.Bits() {
				return fmt.Errorf("%s: %d is out of range for a %d-bit field", fs.Name, u, t.Bits())
			}
			f.SetUint(u)
			return nil
		}
	}
	switch t.Kind() {
	case reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		u, err := parseUint(val, t.Bits())
		if err != nil {
			return fmt.Errorf("%s: %w", fs.Name, err)
		}
		f.SetUint(u)
	case reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		i, err := parseInt(val, t.Bits())
		if err != nil {
			return fmt.Errorf("%s: %w", fs.Name, err)
		}
		f.SetInt(i)
	case reflect.Bool:
		switch strings.ToLower(val) {
		case "true", "1", "yes":
			f.SetBool(true)
		case "false", "0", "no":
			f.SetBool(false)
		default:
			return fmt.Errorf("%s: %q is not a boolean (true/false)", fs.Name, val)
		}
	case reflect.String:
		if fs.Max > 0 && len(val)+1 > fs.Max {
			return fmt.Errorf("%s: %d characters exceed the maximum of %d", fs.Name, len(val), fs.Max-1)
		}
		f.SetString(val)
	case reflect.Slice:
		if t.Elem().Kind() != reflect.Uint8 {
			return fmt.Errorf("%s cannot be assigned directly", fs.Name)
		}
		b := []byte(val)
		if h, ok := strings.CutPrefix(val, "hex:"); ok {
			var err error
			if b, err = hex.DecodeString(h); err != nil {
				return fmt.Errorf("%s: bad hex: %w", fs.Name, err)
			}
		}
		if fs.Max > 0 && len(b) > fs.Max {
			return fmt.Errorf("%s: %d bytes exceed the maximum of %d", fs.Name, len(b), fs.Max)
		}
		f.SetBytes(b)
	default:
		return fmt.Errorf("%s cannot be assigned directly", fs.Name)
	}
	return nil
}

func checkNamedVar(field, name, value string) error {
	if len(name) > maxNamedVarName {
		return fmt.Errorf("%s: name %q exceeds %d characters", field, name, maxNamedVarName)
	}
	if len(value) > maxNamedVarValue {
		return fmt.Errorf("%s: value of %q has %d characters, more than the maximum of %d", field, name, len(value), maxNamedVarValue)
	}
	return nil
}

// parseUint accepts decimal or 0x hex and checks the range of an unsigned
// field of the given size.
func parseUint(s string, bits int) (uint64, error) {
	s = strings.TrimSpace(s)
	base := 10
	digits := s
	if h, ok := strings.CutPrefix(strings.ToLower(s), "0x"); ok {
		base, digits = 16, h
	}
	u, err := strconv.ParseUint(digits, base, 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not a number (decimal or 0x hex)", s)
	}
	if bits < 64 && u > 1<<bits-1 {
		return 0, fmt.Errorf("%s is out of range (0..%d)", s, uint64(1)<<bits-1)
	}
	return u, nil
}

func parseInt(s string, bits int) (int64, error) {
	s = strings.TrimSpace(s)
	neg := strings.HasPrefix(s, "-")
	u, err := parseUint(strings.TrimPrefix(s, "-"), 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not a number (decimal or 0x hex)", s)
	}
	lo, hi := int64(-1)<<(bits-1), int64(1)<<(bits-1)-1
	if bits == 64 {
		lo, hi = math.MinInt64, math.MaxInt64
	}
	if (!neg && u > uint64(hi)) || (neg && u > uint64(-(lo+1))+1) {
		return 0, fmt.Errorf("%s is out of range (%d..%d)", s, lo, hi)
	}
	if neg {
		return -int64(u), nil
	}
	return int64(u), nil
}

// ParseEnum parses a value of the enumeration or mask called enum (a type
// name of package cti, e.g. "AgentState", "ServiceMask"): a number (decimal
// or 0x hex), or a reference name, with or without its prefix
// (AGENT_STATE_AVAILABLE, AVAILABLE) and, for masks, without _MASK; mask
// names may be joined with | or ,.
func ParseEnum(enum, s string) (uint64, error) {
	e := enumOf(enum)
	if e == nil {
		return 0, fmt.Errorf("unknown enumeration %s", enum)
	}
	if !e.Mask {
		return enumOne(e, s)
	}
	var u uint64
	for _, part := range strings.FieldsFunc(s, func(r rune) bool { return r == '|' || r == ',' }) {
		v, err := enumOne(e, part)
		if err != nil {
			return 0, err
		}
		u |= v
	}
	if strings.TrimSpace(s) == "" {
		return 0, fmt.Errorf("empty %s value", e.Name)
	}
	return u, nil
}

func enumOne(e *spec.Enum, s string) (uint64, error) {
	s = strings.TrimSpace(s)
	if u, err := parseUint(s, 32); err == nil {
		return u, nil
	}
	in := strings.ToUpper(s)
	norm := func(n string) []string {
		out := []string{n}
		if e.Strip != "" {
			out = append(out, strings.TrimPrefix(n, e.Strip))
		}
		for _, x := range out {
			if t, ok := strings.CutSuffix(x, "_MASK"); ok {
				out = append(out, t)
			}
		}
		return out
	}
	for _, v := range e.Values {
		for _, n := range norm(v.Name) {
			if n == in {
				return uint64(v.Value), nil
			}
		}
	}
	var suffix []spec.EnumValue
	for _, v := range e.Values {
		// Go constant names: AgentStateTalking, StatusInvalidVersion.
		goName := v.GoName
		if goName == "" {
			goName = e.Prefix + strings.TrimPrefix(v.Name, e.Strip)
		}
		if squash(goName) == squash(in) || squash(v.Name) == squash(in) {
			return uint64(v.Value), nil
		}
		for _, n := range norm(v.Name) {
			if strings.HasSuffix(n, "_"+in) {
				suffix = append(suffix, v)
			}
		}
	}
	if len(suffix) > 0 {
		same := true
		for _, v := range suffix {
			same = same && v.Value == suffix[0].Value
		}
		if same {
			return uint64(suffix[0].Value), nil
		}
	}
	var names []string
	for _, v := range e.Values {
		if !v.Alias {
			names = append(names, v.Name)
		}
	}
	return 0, fmt.Errorf("%q is not a %s; valid names: %s (or a number)", s, e.Name, strings.Join(names, ", "))
}

func squash(s string) string { return strings.ToUpper(strings.ReplaceAll(s, "_", "")) }
