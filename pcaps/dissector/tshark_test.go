package dissector

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ipcclab/ipcclab/internal/capture"
	"github.com/ipcclab/ipcclab/pcaps/ctifields"
	"github.com/ipcclab/ipcclab/pcaps/ctifields/ctisample"
	"github.com/ipcclab/ipcclab/protocol/cti"
	"github.com/ipcclab/ipcclab/protocol/cti/spec"
)

// sentMsg is one message written to the test capture: what ctifields
// makes of it is what tshark must show.
type sentMsg struct {
	session string
	mt, pv  uint32 // pv: the session's version (OPEN_REQ: its own)
	body    []byte
	inferV  bool // the session has no OPEN_REQ: the dissector infers the version
}

// session is one CTI connection of the test capture.
type session struct {
	name         string
	pv           uint32
	client, srv  netip.AddrPort
	openReq      bool
	withElements int
}

// fromClient says which side sends a message type: requests (and the
// client-originated CONFIG_REQUEST_* events) from the client.
func fromClient(mt uint32) bool {
	name := cti.MessageType(mt).String()
	return strings.HasSuffix(name, "_REQ") || strings.HasPrefix(name, "CONFIG_REQUEST_") || name == "CLIENT_EVENT_REPORT_REQ"
}

// chunkSizes is the cycle of TCP write sizes: with the 1460-byte segments
// of internal/capture they split headers (5, 3), bodies, and put several
// messages in one segment (700, 2000).
var chunkSizes = []int{5, 700, 3, 2000, 40, 1, 9000, 11}

// writeSession writes one connection: OPEN_REQ (when the session has one)
// then a message of every laid-out type that exists at the session's
// version, each run of same-direction messages as one byte stream cut at
// chunkSizes. A session found only heuristically must start with a whole
// header, so its first write is at least 8 bytes.
func writeSession(t *testing.T, w *capture.Writer, at func() time.Time, s session) []sentMsg {
	t.Helper()
	var msgs []sentMsg
	add := func(mt uint32, o ctisample.Options) {
		body, err := ctisample.Body(mt, s.pv, o)
		if err != nil {
			if strings.Contains(err.Error(), "exists from version") {
				return
			}
			t.Fatalf("%s: %v", s.name, err)
		}
		msgs = append(msgs, sentMsg{session: s.name, mt: mt, pv: s.pv, body: body, inferV: !s.openReq})
	}
	if s.openReq {
		add(uint32(cti.MsgOpenReq), ctisample.Options{Seed: 7})
	}
	for _, m := range spec.Messages {
		if m.Type != uint32(cti.MsgOpenReq) {
			add(m.Type, ctisample.Options{Seed: int(s.pv), Elements: s.withElements})
		}
	}
	// Two types without a layout: one Body field each.
	for _, nl := range spec.NoLayouts[:2] {
		msgs = append(msgs, sentMsg{session: s.name, mt: nl.Type, pv: s.pv, body: []byte{0, 0, 0, 9, 1, 2}, inferV: !s.openReq})
	}
	flow := w.NewTCPFlow(at(), s.client, s.srv)
	ci := 0
	if !s.openReq {
		ci = 1 // 700 bytes first
	}
	for i := 0; i < len(msgs); {
		dir := fromClient(msgs[i].mt)
		var stream []byte
		for ; i < len(msgs) && fromClient(msgs[i].mt) == dir; i++ {
			stream = binary.BigEndian.AppendUint32(stream, uint32(len(msgs[i].body)))
			stream = binary.BigEndian.AppendUint32(stream, msgs[i].mt)
			stream = append(stream, msgs[i].body...)
		}
		for len(stream) > 0 {
			n := min(chunkSizes[ci%len(chunkSizes)], len(stream))
			ci++
			flow.Data(at(), dir, stream[:n])
			stream = stream[n:]
		}
	}
	flow.Close(at(), true)
	return msgs
}

// PDML, as much of it as the test reads.
type pdmlDoc struct {
	Packets []struct {
		Protos []pdmlProto `xml:"proto"`
	} `xml:"packet"`
}

type pdmlProto struct {
	Name   string      `xml:"name,attr"`
	Fields []pdmlField `xml:"field"`
}

type pdmlField struct {
	Name     string      `xml:"name,attr"`
	Show     string      `xml:"show,attr"`
	ShowName string      `xml:"showname,attr"`
	Value    string      `xml:"value,attr"`
	Fields   []pdmlField `xml:"field"`
}

// flatten lists fields depth-first, in tree order.
func flatten(fs []pdmlField, out []pdmlField) []pdmlField {
	for _, f := range fs {
		out = append(out, f)
		out = flatten(f.Fields, out)
	}
	return out
}

// tsharkSetup skips the test without tshark, else writes the generated
// dissector into a temporary directory.
func tsharkSetup(t *testing.T) (tshark, dir, lua string) {
	t.Helper()
	tshark, err := exec.LookPath("tshark")
	if err != nil {
		t.Skip("tshark not on PATH (apt-get install tshark); skipping the Wireshark cross-check")
	}
	dir = t.TempDir()
	lua = filepath.Join(dir, "ged188.lua")
	var src bytes.Buffer
	if err := Generate(&src); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(lua, src.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return tshark, dir, lua
}

// ged188Messages returns, for every GED-188 message tshark shows, its
// fields in tree order.
func ged188Messages(t *testing.T, pdml []byte) [][]pdmlField {
	t.Helper()
	var doc pdmlDoc
	if err := xml.Unmarshal(pdml, &doc); err != nil {
		t.Fatalf("PDML: %v", err)
	}
	var got [][]pdmlField
	for _, p := range doc.Packets {
		for _, pr := range p.Protos {
			if pr.Name == "ged188" {
				got = append(got, flatten(pr.Fields, nil))
			}
		}
	}
	return got
}

func runTshark(t *testing.T, tshark string, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, tshark, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("tshark %v: %v\n%s", args, err, stderr.String())
	}
	for _, l := range strings.Split(stderr.String(), "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.Contains(l, `Running as user "root"`) {
			t.Errorf("tshark stderr: %s", l)
		}
	}
	return stdout.Bytes()
}

// TestTsharkAgreesWithCtifields writes a capture with a PV24 session (with
// OPEN_REQ, port 42027), a PV15 session (with OPEN_REQ, port 43027) and
// two sessions without OPEN_REQ on other ports (PV24 and PV15: found by
// the heuristic, version inferred), each carrying a message of every
// laid-out type, split over and packed into TCP segments. tshark with the
// generated dissector must show every message with exactly the fields
// ctifields decodes, in order, with the same values and enum names, and
// no Lua error, malformed packet or expert warning.
func TestTsharkAgreesWithCtifields(t *testing.T) {
	tshark, dir, lua := tsharkSetup(t)
	pcap := filepath.Join(dir, "cti.pcapng")
	w, err := capture.Create(pcap)
	if err != nil {
		t.Fatal(err)
	}
	clock := time.Unix(1_700_000_000, 0)
	at := func() time.Time { clock = clock.Add(time.Millisecond); return clock }
	ap := netip.MustParseAddrPort
	var sent []sentMsg
	for _, s := range []session{
		{name: "PV24 with OPEN_REQ", pv: 24, client: ap("10.1.0.1:50001"), srv: ap("10.1.0.2:42027"), openReq: true},
		{name: "PV15 with OPEN_REQ", pv: 15, client: ap("10.1.0.1:50002"), srv: ap("10.1.0.2:43027"), openReq: true, withElements: 3},
		{name: "PV24 heuristic", pv: 24, client: ap("10.1.0.3:50003"), srv: ap("10.1.0.4:40123"), withElements: 1},
		{name: "PV15 heuristic", pv: 15, client: ap("10.1.0.3:50004"), srv: ap("10.1.0.4:40124")},
	} {
		sent = append(sent, writeSession(t, w, at, s)...)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}

	out := runTshark(t, tshark, "-n", "-X", "lua_script:"+lua, "-r", pcap, "-T", "pdml")
	for _, bad := range []string{"Lua Error", "Malformed Packet", "_ws.malformed", "_ws.lua.text", "ged188.expert.malformed", "ged188.expert.protocol"} {
		if i := bytes.Index(out, []byte(bad)); i >= 0 {
			t.Errorf("tshark output has %q: %s", bad, out[max(0, i-300):min(len(out), i+300)])
		}
	}
	got := ged188Messages(t, out)
	if len(got) != len(sent) {
		t.Fatalf("tshark shows %d GED-188 messages, %d were sent", len(got), len(sent))
	}
	m, err := buildModel()
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for i, s := range sent {
		checked += compareMessage(t, m, s, got[i])
	}
	t.Logf("%d messages, %d fields compared", len(sent), checked)
}

// compareMessage checks tshark's fields for one message against
// ctifields; it returns the number of fields compared.
func compareMessage(t *testing.T, m *model, s sentMsg, fields []pdmlField) int {
	t.Helper()
	dm, err := ctifields.Decode(s.mt, s.body, s.pv)
	if err != nil {
		t.Fatalf("%s: ctifields: %v", s.session, err)
	}
	where := fmt.Sprintf("%s %s", s.session, dm.Name)
	var vals []pdmlField
	for _, f := range fields {
		switch f.Name {
		case "ged188.length":
			if f.Show != strconv.Itoa(len(s.body)) {
				t.Errorf("%s: length %s, want %d", where, f.Show, len(s.body))
			}
		case "ged188.type":
			if f.Show != strconv.Itoa(int(s.mt)) || !strings.Contains(f.ShowName, dm.Name) {
				t.Errorf("%s: type %s (%s)", where, f.Show, f.ShowName)
			}
		case "ged188.version":
			if !s.inferV && f.Show != strconv.Itoa(int(dm.Version)) {
				t.Errorf("%s: decoded with version %s, want %d (%s)", where, f.Show, dm.Version, f.ShowName)
			}
			if s.inferV && !strings.Contains(f.ShowName, "inferred") {
				t.Errorf("%s: version %s", where, f.ShowName)
			}
		case "ged188.float_tag", "ged188.float_len":
		case "_ws.expert", "_ws.expert.message", "_ws.expert.severity", "_ws.expert.group", "ged188.expert.version", "ged188.expert.protocol", "ged188.expert.malformed":
			if f.Name == "_ws.expert.severity" && !strings.Contains(f.ShowName, "Note") {
				t.Errorf("%s: expert info %s", where, f.ShowName)
			}
			if f.Name == "_ws.expert.message" && !s.inferV {
				t.Errorf("%s: expert info %s", where, f.Show)
			}
		default:
			vals = append(vals, f)
		}
	}
	if len(vals) != len(dm.Fields) {
		var names []string
		for _, f := range vals {
			names = append(names, f.Name)
		}
		t.Errorf("%s: tshark shows %d fields, ctifields %d\n tshark: %v\n ctifields: %s", where, len(vals), len(dm.Fields), names, ctifields.AppendText(nil, dm))
		return 0
	}
	for i, f := range dm.Fields {
		checkField(t, m, where, s.mt, s.body, f, vals[i])
	}
	return len(vals)
}

// checkField compares one field: abbreviation, value (normalising the way
// tshark prints it), enum or mask names, and the bytes of its range.
func checkField(t *testing.T, m *model, where string, mt uint32, body []byte, f ctifields.Field, p pdmlField) {
	t.Helper()
	want, ok := m.abbrev(mt, f.Name)
	if f.Name == "Body" {
		want, ok = "ged188.Body", true
	}
	if !ok {
		want = "ged188.tag_unknown"
	}
	if p.Name != want {
		t.Errorf("%s: field %s shown as %s, want %s", where, f.Name, p.Name, want)
		return
	}
	bad := func(got string) {
		t.Errorf("%s: %s = %s (ctifields), tshark shows %q (%s)", where, f.Name, f.Value(), got, p.ShowName)
	}
	switch f.Type {
	case spec.UCHAR, spec.USHORT, spec.UINT:
		v, err := strconv.ParseUint(p.Show, 0, 64)
		if err != nil || v != f.Uint {
			bad(p.Show)
		}
	case spec.SHORT, spec.INT:
		if v, err := strconv.ParseInt(p.Show, 10, 64); err != nil || v != f.Int {
			bad(p.Show)
		}
	case spec.BOOL:
		if (p.Show == "1") != f.Bool || (p.Show != "1" && p.Show != "0") {
			bad(p.Show)
		}
	case spec.TIME:
		tm, err := time.Parse("Jan _2, 2006 15:04:05.000000000 UTC", p.Show)
		if err != nil || tm.Unix() != int64(f.Uint) {
			bad(p.Show)
		}
	case spec.STRING:
		if p.Show != f.Str {
			bad(p.Show)
		}
	case spec.NAMEDVAR, spec.NAMEDARRAY:
		if p.Show != f.Value() {
			bad(p.Show)
		}
	default:
		if strings.ReplaceAll(p.Show, ":", "") != hex.EncodeToString(f.Bytes) {
			bad(p.Show)
		}
	}
	if f.Enum != "" && !enumShown(p.ShowName, f.Enum) {
		t.Errorf("%s: %s enum %s not in tshark's %q", where, f.Name, f.Enum, p.ShowName)
	}
	// The item's bytes are the value's (a string's up to its NUL).
	raw := hex.EncodeToString(body[f.Offset : f.Offset+f.Len])
	if f.Type == spec.STRING {
		raw = hex.EncodeToString([]byte(f.Str))
	}
	if p.Value != raw {
		t.Errorf("%s: %s covers bytes %s, want %s", where, f.Name, p.Value, raw)
	}
}

// enumShown says whether tshark's label shows the enum or mask names.
// Wireshark cuts item labels at 240 bytes (ITEM_LABEL_LENGTH): a long
// mask's names are then checked as far as the label goes.
func enumShown(label, enum string) bool {
	if strings.Contains(label, enum) {
		return true
	}
	if len(label) < 239 {
		return false
	}
	i := strings.LastIndexByte(label, '(')
	if i < 0 {
		return false
	}
	shown := label[i+1:]
	return len(shown) > 0 && strings.HasPrefix(enum, shown)
}
