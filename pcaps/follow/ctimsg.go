package follow

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"github.com/ipcclab/ipcclab/protocol/cti"
)

// NULL values of the protocol (§1.7): an all-ones UINT or USHORT is "no
// value" (NULL_CALL_ID, CEC_NONE, LCS_NONE, DEVID_NONE, …).
const (
	null32 = 0xFFFFFFFF
	null16 = 0xFFFF
)

// Message kinds by name: requests end in _REQ and go client → server,
// confirmations end in _CONF (FAILURE_CONF and CONTROL_FAILURE_CONF
// included) and carry the request's InvokeID back, events end in _EVENT
// (§5.6).
func isRequest(fromClient bool, mt cti.MessageType) bool {
	return fromClient && strings.HasSuffix(mt.String(), "_REQ")
}

func isConfirmation(fromClient bool, mt cti.MessageType) bool {
	return !fromClient && strings.HasSuffix(mt.String(), "_CONF")
}

func isEvent(fromClient bool, mt cti.MessageType) bool {
	return !fromClient && strings.HasSuffix(mt.String(), "_EVENT")
}

// callRef is one call a message names.
type callRef struct {
	callID uint32
	device string
	// primary: the message's own ConnectionCallID (the call the event is
	// about), as opposed to a related call it names (a transfer's primary
	// and secondary calls, a consultation's held call, a new call ID).
	primary bool
	label   string // the field naming the call, for related calls
}

// typeInfo is what reflection found in one message struct type.
type typeInfo struct {
	periph, callID, device int // field indexes, -1 when absent
	related                []relatedField
	fields                 []describedField
	// strings are the indexes of the string fields by name.
	strings map[string]int
}

type relatedField struct {
	call, device int
	name         string
}

// describedField is a field printed by describe.
type describedField struct {
	index int
	name  string
	// routerKey: the RouterCallKeyDay field, printed as RouterCallKey=d/c/s
	// with the two other parts.
	routerKey         bool
	keyCall, keySeqNo int
}

// describeSkip are fields that identify rather than describe (the call's
// own ID, the monitor, the peripheral), are encodings of another field
// (…Type of a device ID), or are volume (client lists, UUI bytes).
var describeSkip = map[string]bool{
	"MonitorID": true, "PeripheralID": true, "PeripheralType": true, "Present": true,
	"ConnectionCallID": true, "ConnectionDeviceIDType": true, "LineHandle": true, "LineType": true,
	"SkillGroupID": true, "SkillGroupPriority": true, "ServiceID": true, "UserToUserInfo": true,
	"CTIClients": true, "CallReferenceID": true, "ICMCentralControllerTime": true, "MRDID": true,
	"NumTasks": true, "MaxTaskLimit": true, "MaxBeyondTaskLimit": true, "ICMAgentID": true,
	"DepartmentID": true, "SessionID": true, "StateDuration": true, "AgentMode": true,
	"AgentAvailabilityStatus": true, "FltSkillGroups": true, "ProtocolReferenceGUID": true,
	"Reserved1": true, "Reserved2": true, "Reserved3": true, "ClientPassword": true, "AgentPassword": true,
	"AgentSkillTargetID": true, "RouterCallKeyCallID": true, "RouterCallKeySequenceNumber": true,
	"FltEnabledServices": true, "CTIClientSignature": true, "Body": true, "ConnectionDeviceID": true,
}

// msgReader reads typed messages by field name; it caches what it found
// per struct type for one Follow call.
type msgReader struct {
	types map[reflect.Type]*typeInfo
}

func newMsgReader() *msgReader { return &msgReader{types: map[reflect.Type]*typeInfo{}} }

func (r *msgReader) info(t reflect.Type) *typeInfo {
	if ti, ok := r.types[t]; ok {
		return ti
	}
	ti := &typeInfo{periph: -1, callID: -1, device: -1, strings: map[string]int{}}
	idx := func(name string) int {
		if f, ok := t.FieldByName(name); ok && len(f.Index) == 1 {
			return f.Index[0]
		}
		return -1
	}
	uint32Field := func(i int) bool { return i >= 0 && t.Field(i).Type.Kind() == reflect.Uint32 }
	stringField := func(i int) bool { return i >= 0 && t.Field(i).Type.Kind() == reflect.String }
	if i := idx("PeripheralID"); uint32Field(i) {
		ti.periph = i
	}
	if i := idx("ConnectionCallID"); uint32Field(i) {
		ti.callID = i
		if d := idx("ConnectionDeviceID"); stringField(d) {
			ti.device = d
		}
	}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name := f.Name
		if f.Type.Kind() == reflect.String {
			ti.strings[name] = i
		}
		if strings.HasSuffix(name, "CallID") && name != "ConnectionCallID" && name != "RouterCallKeyCallID" && uint32Field(i) {
			rf := relatedField{call: i, device: -1, name: name}
			if d := idx(strings.TrimSuffix(name, "CallID") + "DeviceID"); stringField(d) {
				rf.device = d
			}
			ti.related = append(ti.related, rf)
		}
		switch {
		case name == "RouterCallKeyDay":
			ti.fields = append(ti.fields, describedField{index: i, name: "RouterCallKey", routerKey: true,
				keyCall: idx("RouterCallKeyCallID"), keySeqNo: idx("RouterCallKeySequenceNumber")})
		case describeSkip[name], strings.HasPrefix(name, "Num"),
			strings.HasSuffix(name, "DeviceType"), strings.HasSuffix(name, "DeviceIDType"):
		default:
			ti.fields = append(ti.fields, describedField{index: i, name: name})
		}
	}
	r.types[t] = ti
	return ti
}

func structOf(m cti.Message) (reflect.Value, bool) {
	v := reflect.ValueOf(m)
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct {
		return reflect.Value{}, false
	}
	return v.Elem(), true
}

// peripheral returns the message's PeripheralID.
func (r *msgReader) peripheral(m cti.Message) (uint32, bool) {
	v, ok := structOf(m)
	if !ok {
		return 0, false
	}
	ti := r.info(v.Type())
	if ti.periph < 0 {
		return 0, false
	}
	return uint32(v.Field(ti.periph).Uint()), true
}

// calls returns the calls a message names: its own ConnectionCallID
// first, then related call IDs. NULL and zero call IDs name no call.
func (r *msgReader) calls(m cti.Message) []callRef {
	v, ok := structOf(m)
	if !ok {
		return nil
	}
	ti := r.info(v.Type())
	var out []callRef
	add := func(call, device int, primary bool, label string) {
		id := uint32(v.Field(call).Uint())
		if id == 0 || id == null32 {
			return
		}
		ref := callRef{callID: id, primary: primary, label: label}
		if device >= 0 {
			ref.device = v.Field(device).String()
		}
		for _, o := range out {
			if o.callID == id {
				return
			}
		}
		out = append(out, ref)
	}
	if ti.callID >= 0 {
		add(ti.callID, ti.device, true, "")
	}
	for _, rf := range ti.related {
		add(rf.call, rf.device, false, rf.name)
	}
	return out
}

// str returns a string field by name ("" when absent).
func (r *msgReader) str(m cti.Message, name string) string {
	v, ok := structOf(m)
	if !ok {
		return ""
	}
	if i, ok := r.info(v.Type()).strings[name]; ok {
		return v.Field(i).String()
	}
	return ""
}

// describe prints a message for a ladder: its type name and the fields
// that say what happened, in wire order, as Name=value with enum names.
// Zero, empty and NULL values are left out.
func (r *msgReader) describe(m cti.Message) string {
	b := []byte(m.MessageType().String())
	v, ok := structOf(m)
	if !ok {
		return string(b)
	}
	ti := r.info(v.Type())
	device := ""
	if ti.device >= 0 {
		// The device comes first: "CALL_DELIVERED_EVENT at 1001 …".
		if device = v.Field(ti.device).String(); device != "" {
			b = append(b, " at "...)
			b = appendText(b, device)
		}
	}
	for _, f := range ti.fields {
		fv := v.Field(f.index)
		// A CALL_DATA_UPDATE that keeps the call's ID and device says so
		// by repeating them; only a change is worth printing.
		switch {
		case f.name == "NewConnectionCallID" && ti.callID >= 0 && fv.Uint() == v.Field(ti.callID).Uint(),
			f.name == "NewConnectionDeviceID" && fv.String() == device:
			continue
		}
		if f.routerKey {
			day := fv.Uint()
			var call, seq uint64
			if f.keyCall >= 0 {
				call = v.Field(f.keyCall).Uint()
			}
			if f.keySeqNo >= 0 {
				seq = v.Field(f.keySeqNo).Uint()
			}
			if day != 0 || call != 0 || seq != 0 {
				b = fmt.Appendf(b, " RouterCallKey=%d/%d/%d", day, call, seq)
			}
			continue
		}
		b = appendValue(b, f.name, fv)
	}
	return string(b)
}

var stringerType = reflect.TypeFor[fmt.Stringer]()
var timeType = reflect.TypeFor[cti.Time]()

// appendValue appends " name=value" for a non-zero, non-NULL value.
func appendValue(b []byte, name string, fv reflect.Value) []byte {
	switch fv.Kind() {
	case reflect.String:
		if s := fv.String(); s != "" {
			b = append(b, ' ')
			b = append(b, name...)
			b = append(b, '=')
			b = appendText(b, s)
		}
	case reflect.Bool:
		if fv.Bool() {
			b = append(b, ' ')
			b = append(b, name...)
			b = append(b, "=true"...)
		}
	case reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		if fv.Type() == timeType {
			return b
		}
		u := fv.Uint()
		enum := fv.Type().Implements(stringerType)
		switch {
		case fv.Kind() == reflect.Uint16 && u == null16, fv.Kind() == reflect.Uint32 && u == null32:
			return b
		case u == 0 && !enum:
			return b
		}
		if enum {
			// A zero the enumeration has no name for is an unset field.
			text := fv.Interface().(fmt.Stringer).String()
			if u == 0 && strings.HasSuffix(text, "(0)") {
				return b
			}
			b = append(b, ' ')
			b = append(b, name...)
			b = append(b, '=')
			b = append(b, text...)
		} else {
			b = append(b, ' ')
			b = append(b, name...)
			b = append(b, '=')
			b = strconv.AppendUint(b, u, 10)
		}
	case reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if i := fv.Int(); i != 0 && i != -1 {
			b = append(b, ' ')
			b = append(b, name...)
			b = append(b, '=')
			b = strconv.AppendInt(b, i, 10)
		}
	case reflect.Slice:
		switch vs := fv.Interface().(type) {
		case []cti.NamedVar:
			for _, nv := range vs {
				b = append(b, " ECC:"...)
				b = append(b, nv.Name...)
				b = append(b, '=')
				b = appendText(b, nv.Value)
			}
		case []cti.NamedArray:
			for _, na := range vs {
				b = fmt.Appendf(b, " ECC:%s[%d]=", na.Name, na.Index)
				b = appendText(b, na.Value)
			}
		default:
			if fv.Len() == 0 || fv.Type().Elem().Kind() != reflect.Struct {
				return b
			}
			// Groups (connected parties, skill groups): the first
			// string member of each element names it.
			var names []string
			for i := 0; i < fv.Len(); i++ {
				e := fv.Index(i)
				for j := 0; j < e.NumField(); j++ {
					if e.Field(j).Kind() == reflect.String && e.Field(j).String() != "" {
						names = append(names, e.Field(j).String())
						break
					}
				}
			}
			if len(names) > 0 {
				b = append(b, ' ')
				b = append(b, name...)
				b = append(b, "=["...)
				for i, n := range names {
					if i > 0 {
						b = append(b, ' ')
					}
					b = appendText(b, n)
				}
				b = append(b, ']')
			}
		}
	}
	return b
}

// appendText appends s bare when it is a plain token (digits, letters and
// the punctuation of numbers and addresses), else Go-quoted, so a value
// with spaces cannot be read as two fields.
func appendText(b []byte, s string) []byte {
	for _, c := range []byte(s) {
		plain := c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' ||
			strings.IndexByte("_.:@+-/#*", c) >= 0
		if !plain {
			return strconv.AppendQuote(b, s)
		}
	}
	if s == "" {
		return append(b, `""`...)
	}
	return append(b, s...)
}
