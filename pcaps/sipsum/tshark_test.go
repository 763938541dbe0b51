package sipsum_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"
	"github.com/ipcclab/ipcclab/internal/capture"
	"github.com/ipcclab/ipcclab/pcaps/rtpstat"
	"github.com/ipcclab/ipcclab/pcaps/sipsum"
	"github.com/pion/rtp"
)

var (
	phoneSIP = netip.MustParseAddrPort("10.0.0.1:5060")
	gwSIP    = netip.MustParseAddrPort("10.0.0.2:5060")
	phoneRTP = netip.MustParseAddrPort("10.0.0.1:20000")
	gwRTP    = netip.MustParseAddrPort("10.0.0.2:30000")
)

func sipText(start, cseq, branch, toTag, extra, body string) []byte {
	var b strings.Builder
	b.WriteString(start + "\r\n")
	b.WriteString("Via: SIP/2.0/UDP 10.0.0.1:5060;branch=" + branch + "\r\n")
	b.WriteString("From: <sip:1001@10.0.0.1>;tag=c1\r\n")
	b.WriteString("To: <sip:8005550100@10.0.0.2>" + toTag + "\r\n")
	b.WriteString("Call-ID: xcheck@10.0.0.1\r\nCSeq: " + cseq + "\r\n" + extra)
	if body != "" {
		b.WriteString("Content-Type: application/sdp\r\n")
	}
	fmt.Fprintf(&b, "Content-Length: %d\r\n\r\n%s", len(body), body)
	return []byte(b.String())
}

func sdpFor(ip string, port int) string {
	return "v=0\r\no=- 1 1 IN IP4 " + ip + "\r\ns=-\r\nc=IN IP4 " + ip + "\r\nt=0 0\r\n" +
		"m=audio " + strconv.Itoa(port) + " RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=sendrecv\r\n"
}

// crossCheckCapture writes a call: SIP with SDP (one INVITE retransmitted)
// and 5 s of 20 ms PCMU each way with seeded arrival jitter; the phone's
// stream loses seven packets, five of them in a row.
func crossCheckCapture(t *testing.T, path string) {
	w, err := capture.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Unix(1_700_000_000, 0)
	at := func(ms float64) time.Time { return t0.Add(time.Duration(ms * float64(time.Millisecond))) }
	w.UDP(at(0), phoneSIP, gwSIP, sipText("INVITE sip:8005550100@10.0.0.2 SIP/2.0", "1 INVITE", "z9hG4bK-1", "", "", sdpFor("10.0.0.1", 20000)))
	w.UDP(at(500), phoneSIP, gwSIP, sipText("INVITE sip:8005550100@10.0.0.2 SIP/2.0", "1 INVITE", "z9hG4bK-1", "", "", sdpFor("10.0.0.1", 20000)))
	w.UDP(at(510), gwSIP, phoneSIP, sipText("SIP/2.0 100 Trying", "1 INVITE", "z9hG4bK-1", "", "", ""))
	w.UDP(at(600), gwSIP, phoneSIP, sipText("SIP/2.0 180 Ringing", "1 INVITE", "z9hG4bK-1", ";tag=g1", "", ""))
	w.UDP(at(1000), gwSIP, phoneSIP, sipText("SIP/2.0 200 OK", "1 INVITE", "z9hG4bK-1", ";tag=g1", "", sdpFor("10.0.0.2", 30000)))
	w.UDP(at(1010), phoneSIP, gwSIP, sipText("ACK sip:8005550100@10.0.0.2 SIP/2.0", "1 ACK", "z9hG4bK-2", ";tag=g1", "", ""))

	rng := rand.New(rand.NewPCG(6, 188))
	lost := map[int]bool{50: true, 51: true, 52: true, 53: true, 54: true, 120: true, 200: true}
	for i := range 250 {
		for dir, ends := range [2][2]netip.AddrPort{{phoneRTP, gwRTP}, {gwRTP, phoneRTP}} {
			if dir == 0 && lost[i] {
				continue
			}
			p, err := (&rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 0, SequenceNumber: uint16(1000*dir + i),
				Timestamp: uint32(160 * i), SSRC: uint32(0xA0 + dir), Marker: i == 0}, Payload: make([]byte, 160)}).Marshal()
			if err != nil {
				t.Fatal(err)
			}
			// Arrival: 20 ms apart plus up to 6 ms of queueing.
			w.UDP(at(1100+20*float64(i)+6*rng.Float64()+0.1*float64(dir)), ends[0], ends[1], p)
		}
	}
	w.UDP(at(7000), phoneSIP, gwSIP, sipText("BYE sip:8005550100@10.0.0.2 SIP/2.0", "2 BYE", "z9hG4bK-3", ";tag=g1",
		"Reason: Q.850;cause=16\r\n", ""))
	w.UDP(at(7010), gwSIP, phoneSIP, sipText("SIP/2.0 200 OK", "2 BYE", "z9hG4bK-3", ";tag=g1", "", ""))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

// decode reads the capture back and runs it through sipsum and rtpstat as
// the pcaps decoder does: SIP first, RTP when SIP says no, SDP announcing
// media.
func decode(t *testing.T, path string) (*sipsum.Tracker, *rtpstat.Tracker) {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := pcapgo.NewNgReader(f, pcapgo.DefaultNgReaderOptions)
	if err != nil {
		t.Fatal(err)
	}
	st, rt := sipsum.NewTracker(), rtpstat.NewTracker()
	st.OnMedia(func(_ sipsum.Message, m sipsum.Media) {
		if ep, ok := m.Endpoint(); ok {
			rt.Expect(ep, m.Codecs())
		}
	})
	var eth layers.Ethernet
	var ip4 layers.IPv4
	var udp layers.UDP
	var payload gopacket.Payload
	parser := gopacket.NewDecodingLayerParser(layers.LayerTypeEthernet, &eth, &ip4, &udp, &payload)
	var decoded []gopacket.LayerType
	for frame := 1; ; frame++ {
		data, ci, err := r.ReadPacketData()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := parser.DecodeLayers(data, &decoded); err != nil && len(decoded) < 3 {
			t.Fatalf("frame %d: %v", frame, err)
		}
		sa, _ := netip.AddrFromSlice(ip4.SrcIP)
		da, _ := netip.AddrFromSlice(ip4.DstIP)
		src, dst := netip.AddrPortFrom(sa, uint16(udp.SrcPort)), netip.AddrPortFrom(da, uint16(udp.DstPort))
		if !st.Datagram(ci.Timestamp, frame, "UDP", src, dst, udp.Payload) {
			rt.Datagram(ci.Timestamp, frame, src, dst, udp.Payload)
		}
	}
	return st, rt
}

func tshark(t *testing.T, bin, path string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var out, errb bytes.Buffer
	cmd := exec.CommandContext(ctx, bin, append([]string{"-n", "-r", path}, args...)...)
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("tshark %v: %v\n%s", args, err, errb.String())
	}
	return out.String()
}

// tsharkStream is one row of `tshark -z rtp,streams`.
type tsharkStream struct {
	src, dst    string
	ssrc        uint32
	pkts, lost  int
	maxDeltaMs  float64
	maxJitterMs float64
	meanJitter  float64
}

// Wireshark 4.0 prints: start end src sport dst dport SSRC payload pkts
// lost (pct%) min/mean/max delta, min/mean/max jitter, problem.
var rtpStreamRow = regexp.MustCompile(`^\s*[\d.]+\s+[\d.]+\s+(\S+)\s+(\d+)\s+(\S+)\s+(\d+)\s+0x([0-9A-Fa-f]+)\s+(.+?)\s+(\d+)\s+(-?\d+)\s+\([^)]*\)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)`)

func parseRTPStreams(t *testing.T, out string) []tsharkStream {
	var rows []tsharkStream
	for _, line := range strings.Split(out, "\n") {
		m := rtpStreamRow.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		num := func(i int) float64 { v, _ := strconv.ParseFloat(m[i], 64); return v }
		ssrc, _ := strconv.ParseUint(m[5], 16, 32)
		rows = append(rows, tsharkStream{src: m[1] + ":" + m[2], dst: m[3] + ":" + m[4], ssrc: uint32(ssrc),
			pkts: int(num(7)), lost: int(num(8)), maxDeltaMs: num(11), meanJitter: num(13), maxJitterMs: num(14)})
	}
	if len(rows) == 0 {
		t.Fatalf("no stream rows in tshark output:\n%s", out)
	}
	return rows
}

// TestAgainstTshark cross-checks the SIP counts and the RTP stream figures
// of one call against Wireshark's own analysis of the same capture.
// Packets and lost must match exactly; max delta within 0.01 ms (tshark
// prints 3 decimals); max and mean jitter within 0.01 ms plus 1 %, room for
// tshark's printing and its order of floating-point operations (both
// follow RFC 3550 A.8; on this capture they agree to the printed digit).
func TestAgainstTshark(t *testing.T) {
	bin, err := exec.LookPath("tshark")
	if err != nil {
		t.Skip("tshark not on PATH (apt-get install tshark); skipping the Wireshark cross-check")
	}
	path := filepath.Join(t.TempDir(), "call.pcapng")
	crossCheckCapture(t, path)
	st, rt := decode(t, path)

	t.Run("rtp,streams", func(t *testing.T) {
		rows := parseRTPStreams(t, tshark(t, bin, path, "-q", "-z", "rtp,streams"))
		ours := rt.Streams()
		if len(ours) != len(rows) {
			t.Fatalf("we found %d streams, tshark %d:\n%+v", len(ours), len(rows), rows)
		}
		for _, s := range ours {
			var row *tsharkStream
			for i := range rows {
				if rows[i].ssrc == s.SSRC && rows[i].src == s.Src.String() && rows[i].dst == s.Dst.String() {
					row = &rows[i]
				}
			}
			if row == nil {
				t.Errorf("stream %s → %s SSRC %#x not in tshark's list %+v", s.Src, s.Dst, s.SSRC, rows)
				continue
			}
			t.Logf("SSRC %#x: packets %d/%d lost %d/%d max delta %.3f/%.3f ms max jitter %.3f/%.3f ms mean jitter %.3f/%.3f ms (ours/tshark)",
				s.SSRC, s.Packets, row.pkts, s.Lost, row.lost, s.MaxDeltaMs, row.maxDeltaMs, s.MaxJitterMs, row.maxJitterMs, s.MeanJitterMs, row.meanJitter)
			if s.Packets != row.pkts || int(s.Lost) != row.lost {
				t.Errorf("SSRC %#x: packets %d lost %d, tshark %d and %d", s.SSRC, s.Packets, s.Lost, row.pkts, row.lost)
			}
			if math.Abs(s.MaxDeltaMs-row.maxDeltaMs) > 0.01 {
				t.Errorf("SSRC %#x: max delta %.4f ms, tshark %.3f", s.SSRC, s.MaxDeltaMs, row.maxDeltaMs)
			}
			for _, j := range [][3]float64{{s.MaxJitterMs, row.maxJitterMs, 0}, {s.MeanJitterMs, row.meanJitter, 1}} {
				if math.Abs(j[0]-j[1]) > 0.01+0.01*j[1] {
					t.Errorf("SSRC %#x: %s jitter %.4f ms, tshark %.3f", s.SSRC, map[float64]string{0: "max", 1: "mean"}[j[2]], j[0], j[1])
				}
			}
		}
		if ours[0].Lost != 7 || ours[1].Lost != 0 {
			t.Errorf("lost %d and %d, want 7 and 0 as written", ours[0].Lost, ours[1].Lost)
		}
	})

	t.Run("sip,stat", func(t *testing.T) {
		out := tshark(t, bin, path, "-q", "-z", "sip,stat")
		total := regexp.MustCompile(`Number of SIP messages:\s*(\d+)`).FindStringSubmatch(out)
		resent := regexp.MustCompile(`Number of resent SIP messages:\s*(\d+)`).FindStringSubmatch(out)
		if total == nil || resent == nil {
			t.Fatalf("unexpected sip,stat output:\n%s", out)
		}
		stats := st.Stats()
		if strconv.Itoa(stats.Messages) != total[1] || strconv.Itoa(stats.Retransmissions) != resent[1] {
			t.Errorf("messages %d, retransmissions %d; tshark %s and %s\n%s", stats.Messages, stats.Retransmissions, total[1], resent[1], out)
		}
		for method, n := range stats.Requests {
			if !regexp.MustCompile(`(?m)^\s*` + method + `\s*:\s*` + strconv.Itoa(n) + ` Packets\s*$`).MatchString(out) {
				t.Errorf("%s: we count %d, tshark says otherwise:\n%s", method, n, out)
			}
		}
		for code, n := range stats.Responses {
			if !regexp.MustCompile(`(?m)^\s*SIP ` + strconv.Itoa(code) + ` [^:]*:\s*` + strconv.Itoa(n) + ` Packets\s*$`).MatchString(out) {
				t.Errorf("%d: we count %d, tshark says otherwise:\n%s", code, n, out)
			}
		}
		d := st.Dialogs()
		if len(d) != 1 || d[0].Outcome != sipsum.Answered || d[0].HungUpBy != sipsum.SideCaller || d[0].TalkMs != 6000 {
			t.Errorf("dialogs %+v", d)
		}
	})
}
