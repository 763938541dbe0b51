package main

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"
	"go.yaml.in/yaml/v3"

	"github.com/ipcclab/ipcclab/protocol/cti"
)

// testdata is where the committed fixtures live, relative to this package.
var testdata = filepath.Join("..", "..", "testdata")

type committed struct {
	name   string
	pcap   []byte
	expect Expect
}

// loadCommitted reads every committed fixture and its expectations.
func loadCommitted(t *testing.T) []committed {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(testdata, "*.pcapng"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != len(fixtures) {
		t.Errorf("%d captures in %s, want the %d fixtures the generator writes", len(files), testdata, len(fixtures))
	}
	var out []committed
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".pcapng")
		pcap, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		y, err := os.ReadFile(filepath.Join(testdata, name+".expect.yaml"))
		if err != nil {
			t.Errorf("%s: no expectations: %v", name, err)
			continue
		}
		var x Expect
		if err := yaml.Unmarshal(y, &x); err != nil {
			t.Errorf("%s.expect.yaml: %v", name, err)
			continue
		}
		out = append(out, committed{name: name, pcap: pcap, expect: x})
	}
	return out
}

// Every committed capture is at most 1 MiB, reads with gopacket's pcapng
// reader (and tshark's, when installed), and has the packets, start and
// duration its expectations name.
func TestCommittedFixturesRead(t *testing.T) {
	tshark, _ := exec.LookPath("tshark")
	for _, c := range loadCommitted(t) {
		t.Run(c.name, func(t *testing.T) {
			if len(c.pcap) > maxFixtureSize {
				t.Errorf("%d bytes, over 1 MiB", len(c.pcap))
			}
			n, first, last, err := pcapFacts(c.pcap)
			if err != nil {
				t.Fatalf("pcapgo.NgReader: %v", err)
			}
			x := c.expect
			if x.Name != c.name || x.File != c.name+".pcapng" {
				t.Errorf("expectations name %q / %q", x.Name, x.File)
			}
			if n != x.Packets {
				t.Errorf("%d packets, expectations say %d", n, x.Packets)
			}
			if s := first.UTC().Format(time.RFC3339Nano); s != x.Start {
				t.Errorf("first packet at %s, expectations say %s", s, x.Start)
			}
			if d := secs(last.Sub(first)); d.String() != x.Duration.String() {
				t.Errorf("lasts %s s, expectations say %s s", d, x.Duration)
			}
			if tshark == "" {
				return
			}
			cmd := exec.Command(tshark, "-r", filepath.Join(testdata, x.File), "-q")
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			if err := cmd.Run(); err != nil || strings.Contains(stderr.String(), "tshark:") {
				t.Errorf("tshark -r %s -q: %v %s", x.File, err, stderr.String())
			}
		})
	}
}

// The expectations of every fixture whose TCP is clean (handshake, every
// segment once and in order) match what an independent reading of the
// capture finds: the CTI messages with their frames and times, the SIP
// dialogs, the RTP streams.
func TestExpectationsMatchCleanCaptures(t *testing.T) {
	for _, c := range loadCommitted(t) {
		clean := true
		for _, s := range c.expect.CTI {
			clean = clean && s.Handshake && len(s.TCP) == 0
		}
		if !clean {
			continue
		}
		t.Run(c.name, func(t *testing.T) {
			x, err := extract(c.pcap)
			if err != nil {
				t.Fatal(err)
			}
			if len(x.cti) != len(c.expect.CTI) {
				t.Fatalf("%d CTI sessions in the capture, expectations list %d", len(x.cti), len(c.expect.CTI))
			}
			for i, l := range x.cti {
				got, want := l.session(), c.expect.CTI[i]
				if got.Client != want.Client || got.Server != want.Server || got.Version != want.Version {
					t.Errorf("session %d: %s → %s PV%d, expectations %s → %s PV%d", i, got.Client, got.Server, got.Version, want.Client, want.Server, want.Version)
				}
				if (got.IdleTimeout == nil) != (want.IdleTimeout == nil) || (got.IdleTimeout != nil && *got.IdleTimeout != *want.IdleTimeout) {
					t.Errorf("session %d: IdleTimeout %v, expectations %v", i, got.IdleTimeout, want.IdleTimeout)
				}
				if len(got.Messages) != len(want.Messages) {
					t.Fatalf("session %d: %d messages, expectations %d", i, len(got.Messages), len(want.Messages))
				}
				for k := range got.Messages {
					g, w := got.Messages[k], want.Messages[k]
					if g.T.String() != w.T.String() {
						t.Errorf("message %d: t=%s, expectations t=%s", k, g.T, w.T)
					}
					g.T, w.T = 0, 0
					if g != w {
						t.Errorf("message %d:\n got  %+v\n want %+v", k, g, w)
					}
				}
				if got.End != nil && want.End != nil && got.End.How == "fin" && (got.End.Frame != want.End.Frame || got.End.From != want.End.From) {
					t.Errorf("session %d ends with a FIN from the %s at frame %d, expectations: %s at %d", i, got.End.From, got.End.Frame, want.End.From, want.End.Frame)
				}
			}
			if !reflect.DeepEqual(normSIP(x.sip), normSIP(c.expect.SIP)) {
				t.Errorf("SIP:\n got  %+v\n want %+v", x.sip, c.expect.SIP)
			}
			if !reflect.DeepEqual(normRTP(x.rtp), normRTP(c.expect.RTP)) {
				t.Errorf("RTP:\n got  %+v\n want %+v", x.rtp, c.expect.RTP)
			}
		})
	}
}

// normSIP and normRTP compare times at the precision written.
func normSIP(ds []Dialog) []Dialog {
	out := []Dialog{}
	for _, d := range ds {
		n := Dialog{CallID: d.CallID}
		for _, m := range d.Messages {
			m.T = Secs(mustFloat(m.T))
			n.Messages = append(n.Messages, m)
		}
		out = append(out, n)
	}
	return out
}

func normRTP(ss []Stream) []Stream {
	out := []Stream{}
	for _, s := range ss {
		s.FirstT, s.LastT = Secs(mustFloat(s.FirstT)), Secs(mustFloat(s.LastT))
		out = append(out, s)
	}
	return out
}

func mustFloat(s Secs) float64 {
	v, _ := s.MarshalYAML()
	var f float64
	_ = yaml.Unmarshal([]byte(v.(*yaml.Node).Value), &f)
	return f
}

// tcpSeg is one TCP segment of a capture.
type tcpSeg struct {
	frame         int
	t             time.Duration
	src, dst      netip.AddrPort
	seq, ack      uint32
	syn, fin, rst bool
	payload       []byte
}

func tcpSegments(t *testing.T, pcap []byte) []tcpSeg {
	t.Helper()
	r, err := pcapgo.NewNgReader(bytes.NewReader(pcap), pcapgo.DefaultNgReaderOptions)
	if err != nil {
		t.Fatal(err)
	}
	var out []tcpSeg
	var t0 time.Time
	for frame := 1; ; frame++ {
		data, ci, err := r.ReadPacketData()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		if frame == 1 {
			t0 = ci.Timestamp
		}
		p := gopacket.NewPacket(data, layers.LinkTypeEthernet, gopacket.Default)
		ip, _ := p.Layer(layers.LayerTypeIPv4).(*layers.IPv4)
		tcp, _ := p.Layer(layers.LayerTypeTCP).(*layers.TCP)
		if ip == nil || tcp == nil {
			continue
		}
		s, _ := netip.AddrFromSlice(ip.SrcIP)
		d, _ := netip.AddrFromSlice(ip.DstIP)
		out = append(out, tcpSeg{frame: frame, t: ci.Timestamp.Sub(t0), src: netip.AddrPortFrom(s, uint16(tcp.SrcPort)), dst: netip.AddrPortFrom(d, uint16(tcp.DstPort)),
			seq: tcp.Seq, ack: tcp.Ack, syn: tcp.SYN, fin: tcp.FIN, rst: tcp.RST, payload: append([]byte(nil), tcp.Payload...)})
	}
}

func committedByName(t *testing.T, name string) committed {
	t.Helper()
	for _, c := range loadCommitted(t) {
		if c.name == name {
			return c
		}
	}
	t.Fatalf("no committed fixture %s", name)
	return committed{}
}

// packet-loss holds the gap, the retransmissions and the reordering its
// expectations describe, at the frames they name.
func TestPacketLossSegments(t *testing.T) {
	c := committedByName(t, "packet-loss")
	segs := tcpSegments(t, c.pcap)
	s := c.expect.CTI[0]
	server := netip.MustParseAddrPort(s.Server)
	var isn [2]uint32 // client, server
	for _, g := range segs {
		if g.syn {
			if g.src == server {
				isn[1] = g.seq
			} else {
				isn[0] = g.seq
			}
		}
	}
	byFrame := map[int]tcpSeg{}
	for _, g := range segs {
		byFrame[g.frame] = g
	}
	side := func(from string) (netip.AddrPort, uint32) {
		if from == "server" {
			return server, isn[1]
		}
		return netip.MustParseAddrPort(s.Client), isn[0]
	}
	if len(s.TCP) != 4 {
		t.Fatalf("%d TCP events, want gap, two retransmissions and one reordering", len(s.TCP))
	}
	for _, ev := range s.TCP {
		src, base := side(ev.From)
		g, ok := byFrame[ev.Frame]
		if !ok || g.src != src {
			t.Fatalf("%s: frame %d is not a segment from the %s", ev.Kind, ev.Frame, ev.From)
		}
		off := int(g.seq - base - 1)
		switch ev.Kind {
		case "gap":
			for _, h := range segs {
				if h.src != src || len(h.payload) == 0 {
					continue
				}
				o := int(h.seq - base - 1)
				if o < ev.Offset+ev.Bytes && o+len(h.payload) > ev.Offset {
					t.Errorf("gap: frame %d carries bytes %d–%d, inside the gap %d–%d", h.frame, o, o+len(h.payload), ev.Offset, ev.Offset+ev.Bytes)
				}
			}
			if off != ev.Offset+ev.Bytes {
				t.Errorf("gap: frame %d starts at offset %d, want the end of the gap %d", ev.Frame, off, ev.Offset+ev.Bytes)
			}
		case "retransmission":
			dup := false
			for _, h := range segs {
				if h.frame < g.frame && h.src == src && h.seq == g.seq && bytes.Equal(h.payload, g.payload) {
					dup = true
				}
			}
			if !dup || off != ev.Offset || len(g.payload) != ev.Bytes {
				t.Errorf("retransmission: frame %d (offset %d, %d bytes) repeats no earlier segment / does not match %d+%d", g.frame, off, len(g.payload), ev.Offset, ev.Bytes)
			}
		case "out_of_order":
			var next *tcpSeg
			for i := range segs {
				if segs[i].frame > g.frame && segs[i].src == src && len(segs[i].payload) > 0 {
					next = &segs[i]
					break
				}
			}
			if next == nil || int32(next.seq-g.seq) >= 0 || int(g.seq-next.seq) != len(next.payload) {
				t.Errorf("out_of_order: frame %d is not followed by the segment just before it in the stream", g.frame)
			}
		default:
			t.Errorf("unexpected TCP event %q", ev.Kind)
		}
	}
	// The client acknowledges the bytes the capture lost.
	gap := s.TCP[0]
	acked := false
	for _, g := range segs {
		if g.src != server && g.t < 2*time.Second && int(g.ack-isn[1]-1) >= gap.Offset+gap.Bytes {
			acked = true
		}
	}
	if !acked {
		t.Error("no client ACK covers the missing segment")
	}
}

// mid-stream-start has no SYN, and its first server segment begins
// exactly the number of bytes before a CTI header that the expectations
// say must be skipped.
func TestMidStreamStart(t *testing.T) {
	c := committedByName(t, "mid-stream-start")
	segs := tcpSegments(t, c.pcap)
	for _, g := range segs {
		if g.syn {
			t.Fatalf("frame %d is a SYN", g.frame)
		}
	}
	ev := c.expect.CTI[0].TCP[0]
	first := segs[0]
	if first.frame != ev.Frame || first.src.String() != c.expect.CTI[0].Server {
		t.Fatalf("frame 1 is not the server's first segment")
	}
	rest := first.payload[ev.Bytes:]
	if len(rest) < cti.HeaderSize {
		t.Fatal("nothing after the skipped bytes")
	}
	mt := cti.MessageType(binary.BigEndian.Uint32(rest[4:8]))
	n := cti.HeaderSize + int(binary.BigEndian.Uint32(rest[:4]))
	if _, err := cti.DecodeMessage(rest[:n], 24); err != nil {
		t.Errorf("the message after the %d skipped bytes does not decode at PV24: %v", ev.Bytes, err)
	}
	want := ""
	for _, m := range c.expect.CTI[0].Messages {
		if m.From == "server" {
			want = m.Type
			break
		}
	}
	if mt.String() != want {
		t.Errorf("first whole server message is %v, expectations say %s", mt, want)
	}
	// The skipped tail alone is not a message: it must not frame as one
	// that decodes (otherwise resynchronising would be trivial).
	tail := first.payload[:ev.Bytes]
	if l := cti.HeaderSize + int(binary.BigEndian.Uint32(tail[:4])); l <= len(tail) {
		if _, err := cti.DecodeMessage(tail[:l], 24); err == nil {
			t.Errorf("the skipped tail frames as a decodable message")
		}
	}
	for _, v := range []cti.ProtocolVersion{15, 19} {
		if _, err := cti.DecodeMessage(rest[:n], v); err == nil {
			t.Errorf("the first whole message also decodes at PV%d: the version would not be inferable", v)
		}
	}
}

// idle-timeout ends with a RST from the server more than IdleTimeout after
// the client's last message.
func TestIdleTimeoutReset(t *testing.T) {
	c := committedByName(t, "idle-timeout")
	s := c.expect.CTI[0]
	segs := tcpSegments(t, c.pcap)
	last := segs[len(segs)-1]
	if !last.rst || last.src.String() != s.Server || last.frame != s.End.Frame {
		t.Fatalf("the last frame (%d) is not the server's RST at frame %d", last.frame, s.End.Frame)
	}
	var lastClient time.Duration
	for _, g := range segs {
		if g.src.String() == s.Client && len(g.payload) > 0 {
			lastClient = g.t
		}
	}
	if s.IdleTimeout == nil || last.t-lastClient <= time.Duration(*s.IdleTimeout)*time.Second {
		t.Errorf("reset %v after the client's last message, IdleTimeout %v", last.t-lastClient, s.IdleTimeout)
	}
}

// The step captures start at the session's beginning and last at most 15 s.
func TestStepFixturesStartAtOpenAndAreShort(t *testing.T) {
	for _, c := range loadCommitted(t) {
		if !strings.HasPrefix(c.name, "step") {
			continue
		}
		s := c.expect.CTI[0]
		if !s.Handshake || len(s.Messages) == 0 || s.Messages[0].Type != "OPEN_REQ" {
			t.Errorf("%s: does not start with the handshake and OPEN_REQ", c.name)
		}
		if c.expect.Origin == originSimulation && float64(c.expect.Duration) > maxStepSpan.Seconds() {
			t.Errorf("%s: lasts %s s, over %v", c.name, c.expect.Duration, maxStepSpan)
		}
		if len(c.expect.Unconfirmed) > 0 {
			t.Errorf("%s: ends with unconfirmed requests %+v", c.name, c.expect.Unconfirmed)
		}
	}
}

// Generating the deterministic fixtures twice gives the same bytes, and
// the same packets and expectations as the committed files (the section
// header names the OS, so whole files are compared between the two runs
// only).
func TestRegenerationIsDeterministic(t *testing.T) {
	if testing.Short() {
		t.Skip("regenerates every fixture twice")
	}
	var names []string
	for _, f := range fixtures {
		if f.origin != originLive {
			names = append(names, f.name)
		}
	}
	dirs := [2]string{t.TempDir(), t.TempDir()}
	for _, d := range dirs {
		var out, errs bytes.Buffer
		if err := run([]string{"-out", d, "-steps", filepath.Join(testdata, "steps"), "-only", strings.Join(names, ",")}, &out, &errs); err != nil {
			t.Fatalf("%v\n%s", err, errs.String())
		}
	}
	for _, n := range names {
		for _, ext := range []string{".pcapng", ".expect.yaml"} {
			a, errA := os.ReadFile(filepath.Join(dirs[0], n+ext))
			b, errB := os.ReadFile(filepath.Join(dirs[1], n+ext))
			if errA != nil || errB != nil {
				t.Fatalf("%s%s: %v %v", n, ext, errA, errB)
			}
			if !bytes.Equal(a, b) {
				t.Errorf("%s%s differs between two runs", n, ext)
			}
			want, err := os.ReadFile(filepath.Join(testdata, n+ext))
			if err != nil {
				t.Fatal(err)
			}
			same := bytes.Equal(a, want)
			if ext == ".pcapng" {
				same = samePackets(t, a, want)
			}
			if !same {
				t.Errorf("%s%s is not what the generator writes now: run go run ./pcaps/internal/mkfixtures -out pcaps/testdata -only %s (and update the golden outputs)", n, ext, n)
			}
		}
	}
}

// samePackets compares two captures packet by packet (data and time).
func samePackets(t *testing.T, a, b []byte) bool {
	t.Helper()
	ra, err := pcapgo.NewNgReader(bytes.NewReader(a), pcapgo.DefaultNgReaderOptions)
	if err != nil {
		t.Fatal(err)
	}
	rb, err := pcapgo.NewNgReader(bytes.NewReader(b), pcapgo.DefaultNgReaderOptions)
	if err != nil {
		t.Fatal(err)
	}
	for {
		da, ca, ea := ra.ReadPacketData()
		db, cb, eb := rb.ReadPacketData()
		if ea != nil || eb != nil {
			return errors.Is(ea, io.EOF) && errors.Is(eb, io.EOF)
		}
		if !bytes.Equal(da, db) || !ca.Timestamp.Equal(cb.Timestamp) {
			return false
		}
	}
}

// Bad command lines and bad scenario directories are refused with an
// error naming the problem.
func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	quiet := t.TempDir()
	noLend := strings.Replace(mustRead(t, filepath.Join(testdata, "steps", "steps.yaml")), "per_hour: [0, 0, 10800, 10800, 0]", "per_hour: [0]", 1)
	if err := os.WriteFile(filepath.Join(quiet, "steps.yaml"), []byte(noLend), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"missing out", []string{"-out", filepath.Join(dir, "nope")}, "-out " + filepath.Join(dir, "nope")},
		{"out is a file", []string{"-out", file}, "not a directory"},
		{"unknown fixture", []string{"-out", dir, "-only", "step9"}, `unknown fixture "step9" (known: step1-monitor`},
		{"stray argument", []string{"-out", dir, "extra"}, `unexpected argument "extra"`},
		{"no scenario", []string{"-out", dir, "-steps", dir, "-only", "step3-session"}, "session.yaml"},
		{"no surge", []string{"-out", dir, "-steps", quiet, "-only", "step2-lend"}, "never lends"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errs bytes.Buffer
			err := run(tc.args, &out, &errs)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("run %v: %v, want an error containing %q", tc.args, err, tc.want)
			}
		})
	}
	var out bytes.Buffer
	if err := run([]string{"-list"}, &out, io.Discard); err != nil || strings.Count(out.String(), "\n") != len(fixtures) {
		t.Errorf("-list: %v\n%s", err, out.String())
	}
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// The generated part of testdata/README.md is what the committed
// expectations say.
func TestReadmeInSync(t *testing.T) {
	doc := mustRead(t, filepath.Join(testdata, "README.md"))
	xs, err := readExpectations(testdata)
	if err != nil {
		t.Fatal(err)
	}
	if len(xs) != len(fixtures) {
		t.Errorf("%d fixtures have expectations, want %d", len(xs), len(fixtures))
	}
	want, err := spliceReadme(doc, renderFixtures(xs))
	if err != nil {
		t.Fatal(err)
	}
	if doc != want {
		t.Error("testdata/README.md's fixture paragraphs are stale: run go run ./pcaps/internal/mkfixtures -out pcaps/testdata")
	}
	if _, err := spliceReadme("no markers here", ""); err == nil {
		t.Error("a README without markers is accepted")
	}
}
