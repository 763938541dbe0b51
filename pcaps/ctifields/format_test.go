package ctifields

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/ipcclab/ipcclab/protocol/cti"
	"github.com/ipcclab/ipcclab/protocol/cti/spec"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

func TestValue(t *testing.T) {
	for _, c := range []struct {
		f     Field
		value string
		json  string
	}{
		{Field{Name: "AgentState", Type: spec.USHORT, Uint: 4, Enum: "AGENT_STATE_TALKING"}, "4",
			`{"name":"AgentState","type":"USHORT","value":4,"enum":"AGENT_STATE_TALKING"}`},
		{Field{Name: "ForcedFlag", Type: spec.UCHAR, Uint: 1}, "1", `{"name":"ForcedFlag","type":"UCHAR","value":1}`},
		{Field{Name: "CallMsgMask", Type: spec.UINT, Uint: 0x8001, Enum: "CALL_DELIVERED_MASK|CALL_DATA_UPDATE_MASK"}, "32769",
			`{"name":"CallMsgMask","type":"UINT","value":32769,"enum":"CALL_DELIVERED_MASK|CALL_DATA_UPDATE_MASK"}`},
		{Field{Name: "MRDID", Type: spec.INT, Int: -1}, "-1", `{"name":"MRDID","type":"INT","value":-1}`},
		{Field{Name: "S", Type: spec.SHORT, Int: -32768}, "-32768", `{"name":"S","type":"SHORT","value":-32768}`},
		{Field{Name: "PeripheralOnline", Type: spec.BOOL, Bool: true, Uint: 1}, "true", `{"name":"PeripheralOnline","type":"BOOL","value":true}`},
		{Field{Name: "ICMCentralControllerTime", Type: spec.TIME, Uint: 0x4c8e1f00}, "2010-09-13T12:54:24Z",
			`{"name":"ICMCentralControllerTime","type":"TIME","value":"2010-09-13T12:54:24Z"}`},
		{Field{Name: "AgentID", Tag: 5, Type: spec.STRING, Str: "1001 \"x\"\n"}, `"1001 \"x\"\n"`,
			`{"name":"AgentID","tag":5,"type":"STRING","value":"1001 \"x\"\n"}`},
		{Field{Name: "Odd", Tag: 7, Type: spec.STRING, Str: "a\x00\xff<"}, `"a\x00\xff<"`,
			`{"name":"Odd","tag":7,"type":"STRING","value":"a\u0000\ufffd\u003c"}`},
		{Field{Name: "UserToUserInfo", Tag: 9, Type: spec.UNSPEC, Bytes: []byte{0, 0xab}}, "00ab",
			`{"name":"UserToUserInfo","tag":9,"type":"UNSPEC","value":"00ab"}`},
		{Field{Name: "NamedVariable", Tag: 82, Type: spec.NAMEDVAR, VarName: "user.acct", VarValue: "42"}, "user.acct=42",
			`{"name":"NamedVariable","tag":82,"type":"NAMEDVAR","value":"user.acct=42"}`},
		{Field{Name: "NamedArray", Tag: 83, Type: spec.NAMEDARRAY, VarIndex: 3, VarName: "user.list", VarValue: "c"}, "user.list[3]=c",
			`{"name":"NamedArray","tag":83,"type":"NAMEDARRAY","value":"user.list[3]=c"}`},
	} {
		if got := c.f.Value(); got != c.value {
			t.Errorf("%s: Value %q, want %q", c.f.Name, got, c.value)
		}
		b, err := json.Marshal(c.f)
		if err != nil {
			t.Fatalf("%s: %v", c.f.Name, err)
		}
		if string(b) != c.json {
			t.Errorf("%s: JSON\n got %s\nwant %s", c.f.Name, b, c.json)
		}
		// The JSON is what encoding/json would write for the same values.
		var back map[string]any
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatal(err)
		}
		if back["name"] != c.f.Name {
			t.Errorf("%s: name round-trips as %v", c.f.Name, back["name"])
		}
		if c.f.Type == spec.STRING && back["value"] != string(bytes.ToValidUTF8([]byte(c.f.Str), []byte("\uFFFD"))) {
			t.Errorf("%s: string round-trips as %q", c.f.Name, back["value"])
		}
	}
}

// TestGoldenVectors prints the typed codec's vector frames as text lines
// and JSON (testdata/vectors.golden; go test -update rewrites it).
func TestGoldenVectors(t *testing.T) {
	var out bytes.Buffer
	for _, path := range vectorFiles(t) {
		pv, frames := parseVectors(t, path)
		fmt.Fprintf(&out, "# %s (PV%d)\n", shortName(path), pv)
		for _, fr := range frames {
			m, err := Decode(binary.BigEndian.Uint32(fr[4:]), fr[cti.HeaderSize:], pv)
			if err != nil {
				t.Fatalf("%s: %v", path, err)
			}
			out.Write(AppendText(nil, m))
			out.WriteByte('\n')
			j, err := json.Marshal(m.Fields)
			if err != nil {
				t.Fatal(err)
			}
			out.Write(j)
			out.WriteByte('\n')
		}
	}
	golden := filepath.Join("testdata", "vectors.golden")
	if *update {
		if err := os.WriteFile(golden, out.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	if !bytes.Equal(out.Bytes(), want) {
		t.Errorf("output differs from %s (go test -update rewrites it):\n%s", golden, out.Bytes())
	}
}

func TestEnumNames(t *testing.T) {
	l, _ := LayoutOf(3) // OPEN_REQ: masks
	for _, c := range []struct {
		field string
		v     uint32
		want  string
	}{
		{"ServicesRequested", 0, ""},
		{"ServicesRequested", 0x1, "CTI_SERVICE_CLIENT_EVENTS"},
		{"ServicesRequested", 0x1c0296, "CTI_SERVICE_CALL_DATA_UPDATE|CTI_SERVICE_CLIENT_CONTROL|CTI_SERVICE_ALL_EVENTS|CTI_SERVICE_SUPERVISOR|CTI_SERVICE_CONFIG_EVENTS|CTI_SERVICE_UPDATE_EVENTS|CTI_SERVICE_IGNORE_DUPLICATE_AGENT_EVENTS|0x200"},
		{"ServicesRequested", 0x200, "0x200"},
	} {
		for _, f := range l.Fixed {
			if f.Name == c.field {
				if got := f.enum.nameOf(c.v); got != c.want {
					t.Errorf("%s %#x: %q, want %q", c.field, c.v, got, c.want)
				}
				if want := cti.ServiceMask(c.v).String(); c.v != 0 && got(f, c.v) != want {
					t.Errorf("%s %#x: typed String %q", c.field, c.v, want)
				}
			}
		}
	}
	vals, mask, ok := EnumValues("AgentState")
	if !ok || mask || len(vals) < 10 || vals[0].Value != 0 || vals[0].Name != "AGENT_STATE_LOGIN" {
		t.Errorf("EnumValues(AgentState) = %v %v %v", vals[:min(3, len(vals))], mask, ok)
	}
	if _, _, ok := EnumValues("NoSuchEnum"); ok {
		t.Error("EnumValues of an unknown enum")
	}
}

func got(f FixedField, v uint32) string { return f.enum.nameOf(v) }
