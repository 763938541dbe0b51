// Package dissector generates a Wireshark/tshark Lua dissector for the
// Cisco CTI Server protocol (GED-188) from the same spec tables the Go
// codec (protocol/cti) and the capture decoder's field walker
// (pcaps/ctifields) use, so the three cannot drift apart.
//
// The generated script (Lua 5.2, Wireshark/tshark 4.0 or later):
//   - registers protocol ged188 on TCP ports 42027 and 43027 and as a
//     heuristic TCP dissector (a header with MessageLength ≤ 12492 and a
//     §2 message type, and — when the whole message is in the segment — a
//     body that parses under some protocol version), so CTI on any port
//     decodes;
//   - reassembles messages split over segments and splits segments
//     carrying several messages;
//   - shows the header, every fixed field and every floating field of
//     every laid-out message type, enumerations by name and masks in hex
//     with the names of their set bits; message types without a layout
//     as one Body field;
//   - learns each TCP connection's protocol version from its OPEN_REQ.
//     Without one, the preference ged188.version is used when set, else
//     the version is inferred per message: the versions under which the
//     message parses exactly (fixed part, tag width, allowed tags and their
//     sizes, required floats), intersected with those of the connection's
//     earlier messages; 24 is preferred, else the newest.
//
// Field abbreviations: ged188.length, ged188.type (header),
// ged188.<FieldName> for every spec field name (fixed and floating),
// ged188.float_tag and ged188.float_len (each float's tag and length, as
// children of the float), ged188.tag_unknown (floats the layout does not
// list, and values of the wrong size), ged188.Body (types without a
// layout) and ged188.version (the version the message was decoded with,
// generated). A spec name used with different wire types in different
// messages gets one ProtoField per type: the first use in message-type
// order (fixed fields before floats) is ged188.<Name>, a later one with
// another type ged188.<Name>_<TYPE> (ged188.AgentSkillTargetID_USHORT), one
// with the same type but another enumeration ged188.<Name>_<Enum> (or
// _plain without one).
//
// What the dissector does not check (ipcclab pcap decode does): the order
// of repeated-group members and the group counts.
package dissector

import (
	"bytes"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/ipcclab/ipcclab/pcaps/ctifields"
	"github.com/ipcclab/ipcclab/protocol/cti"
	"github.com/ipcclab/ipcclab/protocol/cti/spec"
)

// Generate writes the Lua dissector.
func Generate(w io.Writer) error {
	m, err := buildModel()
	if err != nil {
		return fmt.Errorf("dissector: %w", err)
	}
	var b bytes.Buffer
	m.write(&b)
	_, err = w.Write(b.Bytes())
	return err
}

// luaQuote quotes s as a Lua 5.2 string literal (bytes ≥ 0x80 are kept:
// the spec's text is UTF-8 and so is the script).
func luaQuote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c == '\n':
			b.WriteString(`\n`)
		case c < 0x20 || c == 0x7f:
			fmt.Fprintf(&b, `\%03d`, c)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}

var luaType = map[spec.WireType]string{
	spec.UCHAR: "UCHAR", spec.USHORT: "USHORT", spec.SHORT: "SHORT", spec.UINT: "UINT", spec.INT: "INT",
	spec.BOOL: "BOOL", spec.TIME: "TIME", spec.STRING: "STRING", spec.UNSPEC: "UNSPEC",
	spec.NAMEDVAR: "NAMEDVAR", spec.NAMEDARRAY: "NAMEDARRAY",
}

// protoFieldCtor is the ProtoField constructor call of pf.
func protoFieldCtor(pf *protoField) string {
	abbr, label := luaQuote("ged188."+pf.key), luaQuote(pf.label)
	desc := "nil"
	if pf.desc != "" {
		desc = luaQuote(pf.desc)
	}
	vs := "nil"
	if pf.enum != "" && !pf.mask {
		vs = "vs." + pf.enum
	}
	baseDisp := "base.DEC"
	if pf.mask {
		baseDisp = "base.HEX"
	}
	switch pf.typ {
	case spec.UCHAR:
		return fmt.Sprintf("ProtoField.uint8(%s, %s, %s, %s, nil, %s)", abbr, label, baseDisp, vs, desc)
	case spec.USHORT:
		return fmt.Sprintf("ProtoField.uint16(%s, %s, %s, %s, nil, %s)", abbr, label, baseDisp, vs, desc)
	case spec.UINT:
		return fmt.Sprintf("ProtoField.uint32(%s, %s, %s, %s, nil, %s)", abbr, label, baseDisp, vs, desc)
	case spec.SHORT:
		return fmt.Sprintf("ProtoField.int16(%s, %s, base.DEC, %s, nil, %s)", abbr, label, vs, desc)
	case spec.INT:
		return fmt.Sprintf("ProtoField.int32(%s, %s, base.DEC, %s, nil, %s)", abbr, label, vs, desc)
	case spec.BOOL:
		return fmt.Sprintf("ProtoField.bool(%s, %s, base.NONE, nil, nil, %s)", abbr, label, desc)
	case spec.TIME:
		return fmt.Sprintf("ProtoField.absolute_time(%s, %s, base.UTC, %s)", abbr, label, desc)
	case spec.STRING, spec.NAMEDVAR, spec.NAMEDARRAY:
		return fmt.Sprintf("ProtoField.string(%s, %s, base.ASCII, %s)", abbr, label, desc)
	}
	return fmt.Sprintf("ProtoField.bytes(%s, %s, base.NONE, %s)", abbr, label, desc)
}

func (m *model) write(b *bytes.Buffer) {
	fmt.Fprintf(b, luaHeader, cti.MaxBodySize, cti.WideTagsFrom, m.maxVersion, preferVersion)

	b.WriteString("\n-- §2 message types.\nlocal msg_names = {\n")
	for _, t := range spec.MessageTypes {
		fmt.Fprintf(b, "\t[%d] = %s,\n", t.Type, luaQuote(t.Name))
	}
	b.WriteString("}\n\n-- §4.17 floating-field tags.\nlocal tag_names = {\n")
	for _, t := range spec.Tags {
		fmt.Fprintf(b, "\t[%d] = %s,\n", t.Tag, luaQuote(t.Name))
	}
	b.WriteString("}\n\n-- §4 enumerations (value_strings) and bit masks ({bit, name} in the order\n-- names are tried, as the Go decoder does).\nlocal vs, bits = {}, {}\n")
	for _, e := range m.enums {
		vals, mask, _ := ctifields.EnumValues(e)
		if mask {
			fmt.Fprintf(b, "bits.%s = {", e)
			for i, v := range vals {
				if i > 0 {
					b.WriteString(", ")
				}
				fmt.Fprintf(b, "{0x%x, %s}", v.Value, luaQuote(v.Name))
			}
			b.WriteString("}\n")
			continue
		}
		fmt.Fprintf(b, "vs.%s = {", e)
		for i, v := range vals {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(b, "[%d] = %s", v.Value, luaQuote(v.Name))
		}
		b.WriteString("}\n")
	}

	b.WriteString(luaFixedFields)
	b.WriteString("\n-- Message fields: one ProtoField per spec name and wire type (see the\n-- naming rule at the top).\n")
	keys := make([]*protoField, len(m.fields))
	copy(keys, m.fields)
	sort.Slice(keys, func(i, j int) bool { return keys[i].key < keys[j].key })
	for _, pf := range keys {
		fmt.Fprintf(b, "hf[%s] = %s\n", luaQuote(pf.key), protoFieldCtor(pf))
	}
	b.WriteString(luaRegisterFields)

	b.WriteString("\n-- Layouts by message type. fixed: {field, type, since, old type, old until,\n-- mask bits, name}; floats by tag: {field, type, max, since, presence (1\n-- required, 2 optional, 3 in a repeated group), mask bits, name}; req: required tags; classes: {versions mask, version to try} for\n-- version inference, newest first.\nlocal L = {}\n")
	for _, mm := range m.layouts {
		l := mm.l
		if !l.HasLayout {
			fmt.Fprintf(b, "L[%d] = {raw = true, since = %d}\n", l.Type, l.Since)
			continue
		}
		fmt.Fprintf(b, "L[%d] = {since = %d, min = %d,", l.Type, l.Since, mm.minBody)
		if l.SelfVersioned >= 0 {
			off := 0
			for i := 0; i < l.SelfVersioned; i++ {
				off += l.Fixed[i].SizeAt(0)
			}
			fmt.Fprintf(b, " selfoff = %d,", off)
		}
		if l.IgnoreUnknownTagsFrom != 0 {
			fmt.Fprintf(b, " ign = %d,", l.IgnoreUnknownTagsFrom)
		}
		b.WriteString("\n\tfixed = {")
		for i, f := range l.Fixed {
			old := "0"
			if f.OldUntil != 0 {
				old = luaType[f.OldType]
			}
			fmt.Fprintf(b, "\n\t\t{hf[%s], %s, %d, %s, %d, %s, %s},", luaQuote(mm.fixed[i].key), luaType[f.Type], f.Since, old, f.OldUntil, maskRef(mm.fixed[i]), luaQuote(f.Name))
		}
		b.WriteString("\n\t},\n\tfloats = {")
		var req []string
		for i, f := range l.Floats {
			pres := f.Presence
			if f.Group != "" {
				pres = spec.Repeated // any member of a group may recur
			}
			fmt.Fprintf(b, "\n\t\t[%d] = {hf[%s], %s, %d, %d, %d, %s, %s},", f.Tag, luaQuote(mm.floats[i].key), luaType[f.Type], f.Max, f.Since, pres, maskRef(mm.floats[i]), luaQuote(f.Name))
			if f.Presence == spec.Required && f.Group == "" {
				req = append(req, fmt.Sprint(f.Tag))
			}
		}
		fmt.Fprintf(b, "\n\t},\n\treq = {%s},\n\tclasses = {", strings.Join(req, ", "))
		for i, c := range mm.classes {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(b, "{0x%x, %d}", c.mask, c.rep)
		}
		b.WriteString("},\n}\n")
	}
	b.WriteString(luaRuntime)
}

func maskRef(pf *protoField) string {
	if pf.mask {
		return "bits." + pf.enum
	}
	return "nil"
}

const luaHeader = `-- Code generated by ipcclab (pcaps/dissector) from protocol/cti/spec; DO NOT EDIT.
--
-- Wireshark / tshark 4.0+ dissector for the Cisco CTI Server protocol
-- (GED-188). Regenerate with:  ipcclab pcap dissector -o ged188.lua
-- Use:  tshark -X lua_script:ged188.lua -r capture.pcapng
--   or copy it to the personal Lua plugins folder (Help > About > Folders).
--
-- Decodes TCP ports 42027/43027 and, heuristically, CTI on any TCP port.
-- Each connection's protocol version comes from its OPEN_REQ; without one
-- from the preference ged188.version (-o ged188.version:15), else it is
-- inferred per message (see the "Protocol version" item of each message).
--
-- Fields: ged188.length, ged188.type, ged188.<FieldName> (spec names; a
-- name used with several wire types gets ged188.<Name>_<TYPE> for the later
-- ones, or ged188.<Name>_<Enum> / _plain for another enumeration),
-- ged188.float_tag / ged188.float_len (under each floating field),
-- ged188.tag_unknown, ged188.Body (types without a layout), ged188.version.

local ged188 = Proto("ged188", "Cisco CTI Server (GED-188)")

-- Largest MessageLength (12500-byte messages); first version with 2-byte
-- floating tags and lengths; newest version the tables know; version
-- preferred when several fit.
local MAX_BODY, WIDE_FROM, MAX_VERSION, PREFER_VERSION = %d, %d, %d, %d

-- Wire types (§1.4).
local UCHAR, USHORT, SHORT, UINT, INT, BOOL, TIME, STRING, UNSPEC, NAMEDVAR, NAMEDARRAY = 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11
local SIZE = {[UCHAR] = 1, [USHORT] = 2, [SHORT] = 2, [UINT] = 4, [INT] = 4, [BOOL] = 2, [TIME] = 4}
`

const luaFixedFields = `
-- Header and structural fields.
local hf = {}
hf.length = ProtoField.uint32("ged188.length", "MessageLength", base.DEC, nil, nil, "bytes after the 8-byte header")
hf.type = ProtoField.uint32("ged188.type", "MessageType", base.DEC, msg_names)
hf.version = ProtoField.uint32("ged188.version", "Protocol version", base.DEC, nil, nil, "the version the message was decoded with")
hf.float_tag = ProtoField.uint16("ged188.float_tag", "Floating tag", base.DEC, tag_names)
hf.float_len = ProtoField.uint16("ged188.float_len", "Floating length", base.DEC)
hf.tag_unknown = ProtoField.bytes("ged188.tag_unknown", "Floating field not in the layout", base.NONE)
hf.Body = ProtoField.bytes("ged188.Body", "Body", base.NONE, "message type without a field layout")
`

const luaRegisterFields = `
do
	local list = {}
	for _, f in pairs(hf) do list[#list + 1] = f end
	ged188.fields = list
end

local ef = {
	malformed = ProtoExpert.new("ged188.expert.malformed", "Malformed GED-188 message", expert.group.MALFORMED, expert.severity.ERROR),
	protocol = ProtoExpert.new("ged188.expert.protocol", "GED-188 protocol rule broken", expert.group.PROTOCOL, expert.severity.WARN),
	version = ProtoExpert.new("ged188.expert.version", "GED-188 protocol version inferred", expert.group.ASSUMPTION, expert.severity.NOTE),
}
ged188.experts = {ef.malformed, ef.protocol, ef.version}

ged188.prefs.version = Pref.uint("Protocol version", 0,
	"GED-188 protocol version of connections whose OPEN_REQ is not in the capture (0 = infer it from the messages)")
`

const luaRuntime = `
-- Big-endian unsigned integer of n bytes at 0-based offset o of string s.
local function num(s, o, n)
	local v = 0
	for i = o + 1, o + n do
		v = v * 256 + s:byte(i)
	end
	return v
end

-- Size of fixed field f at version pv (0 = not sent).
local function fsize(f, pv)
	if pv < f[3] then
		return 0
	end
	if f[5] ~= 0 and pv < f[5] then
		return SIZE[f[4]]
	end
	return SIZE[f[2]]
end

local function fixed_size(l, pv)
	local n = 0
	for i = 1, #l.fixed do
		n = n + fsize(l.fixed[i], pv)
	end
	return n
end

local function tag_label(tag)
	return (tag_names[tag] or "Tag") .. " (" .. tag .. ")"
end

-- parses reports whether body s is a well-formed message of layout l at
-- version pv: fixed part present, floats framed exactly to the end, every
-- tag allowed at pv with the size of its type and within its maximum,
-- required floats present.
local function parses(l, s, pv)
	local p = fixed_size(l, pv)
	if #s < p then
		return false
	end
	if l.selfoff then
		pv = num(s, l.selfoff, 4)
	end
	local w = (pv >= WIDE_FROM) and 2 or 1
	local seen = {}
	while p < #s do
		if #s - p < 2 * w then
			return false
		end
		local tag, n = num(s, p, w), num(s, p + w, w)
		p = p + 2 * w
		if n > #s - p then
			return false
		end
		local f = l.floats[tag]
		if f then
			local sz = SIZE[f[2]]
			if f[4] > pv or (sz and n ~= sz) or (f[3] > 0 and n > f[3]) then
				return false
			end
			seen[tag] = true
		elseif not (l.ign and pv >= l.ign) then
			return false
		end
		p = p + n
	end
	for _, t in ipairs(l.req) do
		if not seen[t] and l.floats[t][4] <= pv then
			return false
		end
	end
	return true
end

-- Names of the set bits of v ({bit, name} list b), unnamed bits in hex.
local function mask_names(b, v)
	if v == 0 then
		return nil
	end
	local names, rest = {}, v
	for _, e in ipairs(b) do
		if bit32.band(v, e[1]) ~= 0 then
			names[#names + 1] = e[2]
			rest = bit32.band(rest, bit32.bnot(e[1]))
		end
	end
	if rest ~= 0 then
		names[#names + 1] = string.format("0x%x", rest)
	end
	return table.concat(names, "|")
end

-- printable escapes the bytes of s that are not printable ASCII (named
-- variables are shown as name=value text).
local function printable(s)
	return (s:gsub("[^\032-\126]", function(c) return string.format("\\x%02x", c:byte()) end))
end

-- add_value adds the n-byte value at body offset p of field f ({field,
-- type, ..., [6] = mask bits}) and returns its tree item.
local function add_value(tree, tvb, base, s, p, n, f)
	local field, typ = f[1], f[2]
	local r = tvb(base + p, n)
	if typ == STRING then
		local z = s:find("\0", p + 1, true)
		local len = n
		if z and z <= p + n then
			len = z - 1 - p
		end
		return (tree:add_packet_field(field, tvb(base + p, len), ENC_UTF_8))
	elseif typ == UNSPEC then
		if n == 0 then
			local it = tree:add(field, r, "")
			it:append_text("(empty)")
			return it
		end
		return tree:add(field, r)
	elseif typ == NAMEDVAR or typ == NAMEDARRAY then
		local d, idx = s:sub(p + 1, p + n), nil
		if typ == NAMEDARRAY then
			idx, d = d:byte(1), d:sub(2)
		end
		local z = d:find("\0", 1, true) or (#d + 1)
		local name, value = d:sub(1, z - 1), d:sub(z + 1)
		local z2 = value:find("\0", 1, true)
		if z2 then
			value = value:sub(1, z2 - 1)
		end
		if idx then
			name = name .. "[" .. idx .. "]"
		end
		return tree:add(field, r, printable(name) .. "=" .. printable(value))
	end
	local v = num(s, p, n)
	if typ == BOOL then
		return tree:add(field, r, v ~= 0)
	elseif typ == TIME then
		return tree:add(field, r, NSTime.new(v, 0))
	elseif (typ == SHORT or typ == INT) and v >= 2 ^ (8 * n - 1) then
		v = v - 2 ^ (8 * n)
	end
	local it = tree:add(field, r, v)
	if f[6] then
		local names = mask_names(f[6], v)
		if names then
			it:append_text(" (" .. names .. ")")
		end
	end
	return it
end

-- walk adds the fields of body s (at offset base of tvb) of layout l
-- decoded at version pv.
local function walk(l, name, tvb, base, s, pv, tree)
	local p, fsz = 0, fixed_size(l, pv)
	if #s < fsz then
		tree:add_proto_expert_info(ef.malformed, string.format(
			"body of %d bytes is shorter than the %d-byte fixed part for protocol version %d", #s, fsz, pv))
	end
	for _, f in ipairs(l.fixed) do
		local n = fsize(f, pv)
		if n > 0 then
			if p + n > #s then
				return
			end
			add_value(tree, tvb, base, s, p, n, f)
			p = p + n
		end
	end
	if l.selfoff then
		pv = num(s, l.selfoff, 4)
	end
	local w = (pv >= WIDE_FROM) and 2 or 1
	local seen = {}
	while p < #s do
		local h = p
		if #s - p < 2 * w then
			tree:add(hf.tag_unknown, tvb(base + p, #s - p)):add_proto_expert_info(ef.malformed, "truncated floating field header")
			return
		end
		local tag, n = num(s, p, w), num(s, p + w, w)
		p = p + 2 * w
		if n > #s - p then
			tree:add(hf.tag_unknown, tvb(base + h, #s - h)):add_proto_expert_info(ef.malformed,
				string.format("%s: field length %d runs past the end of the message", tag_label(tag), n))
			return
		end
		local f = l.floats[tag]
		local it
		if f and SIZE[f[2]] and n ~= SIZE[f[2]] then
			it = tree:add(hf.tag_unknown, tvb(base + p, n))
			it:append_text(" [" .. f[7] .. "]")
			it:add_proto_expert_info(ef.malformed, string.format("%s has length %d, want %d", f[7], n, SIZE[f[2]]))
		elseif f then
			it = add_value(tree, tvb, base, s, p, n, f)
			if f[4] > pv then
				it:add_proto_expert_info(ef.protocol, string.format("%s exists from protocol version %d, session is %d", f[7], f[4], pv))
			end
			if f[3] > 0 and n > f[3] then
				it:add_proto_expert_info(ef.protocol, string.format("%s of %d bytes exceeds the maximum of %d", f[7], n, f[3]))
			end
			if seen[tag] and f[5] ~= 3 then
				it:add_proto_expert_info(ef.protocol, f[7] .. " appears twice")
			end
			seen[tag] = true
		else
			it = tree:add(hf.tag_unknown, tvb(base + p, n))
			it:append_text(" [" .. tag_label(tag) .. "]")
			if not (l.ign and pv >= l.ign) then
				if tag_names[tag] then
					it:add_proto_expert_info(ef.protocol, string.format("tag %s not allowed in %s", tag_names[tag], name))
				else
					it:add_proto_expert_info(ef.protocol, string.format("unknown tag %d", tag))
				end
			end
		end
		it:add(hf.float_tag, tvb(base + h, w), tag)
		it:add(hf.float_len, tvb(base + h + w, w), n)
		p = p + n
	end
	for _, t in ipairs(l.req) do
		local f = l.floats[t]
		if not seen[t] and f[4] <= pv then
			tree:add_proto_expert_info(ef.protocol, "required field " .. f[7] .. " missing")
		end
	end
end

-- Per-connection state, by tcp.stream: the OPEN_REQs seen ({frame,
-- version}) and the versions all messages so far parse under.
local f_tcp_stream = Field.new("tcp.stream")
local conns = {}

function ged188.init()
	conns = {}
end

local function conn_state(pinfo)
	local fi = f_tcp_stream()
	local key = fi and fi.value or (tostring(pinfo.src) .. ":" .. pinfo.src_port .. "-" .. tostring(pinfo.dst) .. ":" .. pinfo.dst_port)
	local st = conns[key]
	if not st then
		st = {opens = {}, mask = 0xffffffff}
		conns[key] = st
	end
	return st
end

-- pick returns the preferred version of a mask.
local function pick(mask)
	if bit32.btest(mask, bit32.lshift(1, PREFER_VERSION)) then
		return PREFER_VERSION
	end
	for v = MAX_VERSION, 1, -1 do
		if bit32.btest(mask, bit32.lshift(1, v)) then
			return v
		end
	end
	return PREFER_VERSION
end

-- ranges lists the versions of a mask as "15-18, 24".
local function ranges(mask)
	local out, v = {}, 1
	while v <= MAX_VERSION do
		if bit32.btest(mask, bit32.lshift(1, v)) then
			local e = v
			while e < MAX_VERSION and bit32.btest(mask, bit32.lshift(1, e + 1)) do
				e = e + 1
			end
			out[#out + 1] = (e > v) and (v .. "-" .. e) or tostring(v)
			v = e + 1
		else
			v = v + 1
		end
	end
	return table.concat(out, ", ")
end

-- version_of returns the version to decode body s of layout l with, and
-- where it came from.
local function version_of(pinfo, l, s)
	local st = conn_state(pinfo)
	local open
	for _, o in ipairs(st.opens) do
		if o[1] <= pinfo.number then
			open = o
		end
	end
	if open then
		return open[2], "from the OPEN_REQ in frame " .. open[1], false
	end
	if ged188.prefs.version ~= 0 then
		return ged188.prefs.version, "preference ged188.version", false
	end
	local m = 0
	for _, c in ipairs(l.classes) do
		if parses(l, s, c[2]) then
			m = bit32.bor(m, c[1])
		end
	end
	if m == 0 then
		return pick(st.mask), "assumed: the message parses under no version", true
	end
	local both = bit32.band(m, st.mask)
	if both ~= 0 then
		m = both
	end
	if not pinfo.visited then
		st.mask = m
	end
	return pick(m), "inferred, no OPEN_REQ in the capture: the connection's messages fit versions " .. ranges(m), true
end

-- dissect_message dissects the message at offset base of tvb (header
-- included, complete); first: the first message of this call (it sets the
-- Info column, later ones append; TCP fences the column between calls).
local function dissect_message(tvb, base, pinfo, tree, first)
	local len, mt = tvb(base, 4):uint(), tvb(base + 4, 4):uint()
	local name = msg_names[mt] or ("MessageType(" .. mt .. ")")
	local item = tree:add(ged188, tvb(base, 8 + len))
	item:append_text(", " .. name)
	item:add(hf.length, tvb(base, 4))
	item:add(hf.type, tvb(base + 4, 4))
	if first then
		pinfo.cols.protocol:set("GED188")
		pinfo.cols.info:set(name)
	else
		pinfo.cols.info:append(", " .. name)
	end
	local l = L[mt]
	if not l then
		item:add_proto_expert_info(ef.protocol, "unknown message type " .. mt)
	end
	if not l or l.raw then
		if len > 0 then
			item:add(hf.Body, tvb(base + 8, len))
		end
		return
	end
	local s = (len > 0) and tvb:raw(base + 8, len) or ""
	local pv, how, guessed
	if l.selfoff and #s >= l.selfoff + 4 then
		pv, how, guessed = num(s, l.selfoff, 4), "the message's own VersionNumber", false
		if not pinfo.visited then
			local st = conn_state(pinfo)
			st.opens[#st.opens + 1] = {pinfo.number, pv}
		end
	else
		pv, how, guessed = version_of(pinfo, l, s)
	end
	local vi = item:add(hf.version, pv)
	vi:set_generated()
	vi:append_text(" (" .. how .. ")")
	if guessed then
		vi:add_proto_expert_info(ef.version)
	end
	if l.since > pv then
		item:add_proto_expert_info(ef.protocol, string.format("%s exists from protocol version %d, session is %d", name, l.since, pv))
	end
	walk(l, name, tvb, base + 8, s, pv, item)
end

-- plausible_at says whether a GED-188 message plausibly starts at offset
-- i of tvb: a §2 message type, a MessageLength within the limit and at
-- least the type's smallest fixed part, a body that parses under some
-- version when all of it is in the segment, and a plausible header right
-- after it when the segment goes on. The resynchronising search and the
-- heuristic use it.
local function plausible_at(tvb, i)
	local total = tvb:len()
	if total - i < 8 then
		return false
	end
	local len, mt = tvb(i, 4):uint(), tvb(i + 4, 4):uint()
	if len > MAX_BODY or not msg_names[mt] then
		return false
	end
	local l = L[mt]
	if l and l.min and len < l.min then
		return false
	end
	if total - i < 8 + len then
		return true
	end
	if l and not l.raw then
		local s = (len > 0) and tvb:raw(i + 8, len) or ""
		local ok = false
		if l.selfoff then
			ok = parses(l, s, 0)
		else
			for _, c in ipairs(l.classes) do
				if parses(l, s, c[2]) then
					ok = true
					break
				end
			end
		end
		if not ok then
			return false
		end
	end
	local nx = i + 8 + len
	if total - nx >= 8 then
		local l2, t2 = tvb(nx, 4):uint(), tvb(nx + 4, 4):uint()
		return l2 <= MAX_BODY and msg_names[t2] ~= nil
	end
	return true
end

-- The dissector: splits the segment into messages and asks TCP for more
-- data when the last one is incomplete.
function ged188.dissector(tvb, pinfo, tree)
	local total, off = tvb:len(), 0
	while off < total do
		local avail = total - off
		if avail < 8 then
			pinfo.desegment_offset = off
			pinfo.desegment_len = DESEGMENT_ONE_MORE_SEGMENT
			return total
		end
		local len = tvb(off, 4):uint()
		if len > MAX_BODY or not msg_names[tvb(off + 4, 4):uint()] then
			-- Not a header: the capture started inside a message, or a
			-- segment was lost. Resynchronise on the next plausible
			-- header in this segment (a known type, a length within the
			-- limit, at least the type's fixed part), as pcap decode does.
			local at = nil
			for i = off + 1, total - 8 do
				if plausible_at(tvb, i) then
					at = i
					break
				end
			end
			local item = tree:add(ged188, tvb(off, (at or total) - off))
			item:append_text(", not a message header")
			item:add(hf.length, tvb(off, 4))
			local why
			if len > MAX_BODY then
				why = string.format("MessageLength %d exceeds the maximum of %d", len, MAX_BODY)
			else
				why = string.format("unknown message type %d", tvb(off + 4, 4):uint())
			end
			if at then
				item:add_proto_expert_info(ef.malformed, why .. string.format(": %d bytes skipped, resynchronised on the next plausible header", at - off))
				off = at
			else
				item:add_proto_expert_info(ef.malformed, why .. ": the rest of the segment is skipped")
				return total
			end
			goto continue
		end
		if avail < 8 + len then
			pinfo.desegment_offset = off
			pinfo.desegment_len = 8 + len - avail
			return total
		end
		dissect_message(tvb, off, pinfo, tree, off == 0)
		off = off + 8 + len
		::continue::
	end
	return off
end

-- heuristic accepts a TCP payload that starts with a plausible GED-188
-- message (plausible_at: the same test the resynchronising search uses).
local function heuristic(tvb, pinfo, tree)
	if not plausible_at(tvb, 0) then
		return false
	end
	pinfo.conversation = ged188
	ged188.dissector(tvb, pinfo, tree)
	return true
end

local tcp_port = DissectorTable.get("tcp.port")
tcp_port:add(42027, ged188)
tcp_port:add(43027, ged188)
ged188:register_heuristic("tcp", heuristic)
`
