package bench

import (
	"context"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/pion/rtp"

	"github.com/ipcclab/ipcclab/internal/capture"
	"github.com/ipcclab/ipcclab/internal/lab"
	"github.com/ipcclab/ipcclab/pcaps"
	"github.com/ipcclab/ipcclab/pcaps/dissector"
	"github.com/ipcclab/ipcclab/scenarios"
)

// PcapOptions configures the capture-decoding benchmark.
type PcapOptions struct {
	// Dir keeps the generated captures (a temporary directory when empty).
	Dir string
	// Calls and Talk size the SIP+RTP capture: Calls concurrent two-way
	// G.711 calls of Talk each (50 packets/s each way).
	Calls int
	Talk  time.Duration
	// SimHours sizes the CTI capture: the default scenario simulated for
	// this long, its CTI link captured.
	SimHours float64
	// Runs is how many times each decoder runs on each capture (best run
	// reported).
	Runs int
	// NoTshark skips the tshark side.
	NoTshark bool
	Logf     func(format string, args ...any)
}

// PcapRow is one decoder on one capture.
type PcapRow struct {
	Capture string // "SIP+RTP" or "CTI"
	Decoder string
	Packets int
	Bytes   int64
	Seconds float64
	Note    string
}

// PktPerSec and MBPerSec are the row's throughput.
func (r PcapRow) PktPerSec() float64 { return float64(r.Packets) / r.Seconds }
func (r PcapRow) MBPerSec() float64  { return float64(r.Bytes) / 1e6 / r.Seconds }

// PcapResult is the benchmark's table.
type PcapResult struct{ Rows []PcapRow }

// Pcap generates a SIP+RTP capture and a CTI capture, decodes each with
// `pcap decode` in process (text output to io.Discard: the whole decode,
// printing included), and times tshark on the same files: `-q -z
// io,stat,0` (the issue's reference) and with the generated GED-188
// dissector loaded and a ged188 field asked for, which makes tshark run it
// on every CTI message.
func Pcap(ctx context.Context, o PcapOptions) (*PcapResult, error) {
	logf := o.Logf
	if logf == nil {
		logf = func(string, ...any) {}
	}
	if o.Runs <= 0 {
		o.Runs = 3
	}
	dir := o.Dir
	if dir == "" {
		d, err := os.MkdirTemp("", "ipcclab-pcapbench-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(d)
		dir = d
	}
	media := filepath.Join(dir, "sip-rtp.pcapng")
	logf("writing %s: %d calls × %v", media, o.Calls, o.Talk)
	if err := WriteMediaCapture(media, o.Calls, o.Talk); err != nil {
		return nil, err
	}
	ctiCap := filepath.Join(dir, "cti.pcapng")
	logf("writing %s: default scenario, %.1f h simulated", ctiCap, o.SimHours)
	sc, err := scenarios.Default()
	if err != nil {
		return nil, err
	}
	if _, err := lab.Simulate(ctx, lab.SimOptions{Scenario: sc, Seed: 1, Duration: time.Duration(o.SimHours * float64(time.Hour)), Capture: ctiCap}); err != nil {
		return nil, err
	}
	lua := filepath.Join(dir, "ged188.lua")
	f, err := os.Create(lua)
	if err != nil {
		return nil, err
	}
	if err := dissector.Generate(f); err != nil {
		f.Close()
		return nil, err
	}
	f.Close()

	res := &PcapResult{}
	for _, cp := range []struct{ name, path string }{{"SIP+RTP", media}, {"CTI", ctiCap}} {
		st, err := os.Stat(cp.path)
		if err != nil {
			return nil, err
		}
		best := time.Duration(1 << 62)
		var packets int
		for i := 0; i < o.Runs; i++ {
			start := time.Now()
			c, err := pcaps.DecodeFile(cp.path, pcaps.Options{})
			if err != nil {
				return nil, err
			}
			if err := c.WriteText(io.Discard); err != nil {
				return nil, err
			}
			packets = c.Packets
			best = min(best, time.Since(start))
		}
		res.Rows = append(res.Rows, PcapRow{Capture: cp.name, Decoder: "ipcclab pcap decode", Packets: packets, Bytes: st.Size(), Seconds: best.Seconds()})
		logf("%s: ours %v for %d packets", cp.name, best, packets)
		if o.NoTshark {
			continue
		}
		runs := []struct {
			name string
			args []string
			note string
		}{
			{"tshark -q -z io,stat,0", []string{"-r", cp.path, "-q", "-z", "io,stat,0"}, ""},
			{"tshark + ged188.lua", []string{"-X", "lua_script:" + lua, "-r", cp.path, "-q", "-z", "io,stat,0,ged188"}, "io,stat filtered on ged188: the dissector runs on every packet"},
		}
		for _, r := range runs {
			best := time.Duration(1 << 62)
			for i := 0; i < o.Runs; i++ {
				d, err := timeCmd(ctx, "tshark", r.args...)
				if err != nil {
					return nil, err
				}
				best = min(best, d)
			}
			res.Rows = append(res.Rows, PcapRow{Capture: cp.name, Decoder: r.name, Packets: packets, Bytes: st.Size(), Seconds: best.Seconds(), Note: r.note})
			logf("%s: %s %v", cp.name, r.name, best)
		}
	}
	return res, nil
}

func timeCmd(ctx context.Context, name string, args ...string) (time.Duration, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	var errb strings.Builder
	cmd.Stdout = io.Discard
	cmd.Stderr = &errb
	start := time.Now()
	if err := cmd.Run(); err != nil {
		return 0, fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, tail(errb.String(), 5))
	}
	return time.Since(start), nil
}

// Report prints the table with each tshark row's ratio to ours.
func (r *PcapResult) Report() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%-8s %-24s %9s %8s %8s %12s %8s %s\n", "capture", "decoder", "packets", "MB", "seconds", "packets/s", "MB/s", "ours ×")
	ours := map[string]float64{}
	for _, row := range r.Rows {
		if row.Decoder == "ipcclab pcap decode" {
			ours[row.Capture] = row.Seconds
		}
	}
	for _, row := range r.Rows {
		ratio := "—"
		if row.Decoder != "ipcclab pcap decode" && ours[row.Capture] > 0 {
			ratio = fmt.Sprintf("%.1f×", row.Seconds/ours[row.Capture])
		}
		fmt.Fprintf(&b, "%-8s %-24s %9d %8.1f %8.3f %12.0f %8.1f %s\n", row.Capture, row.Decoder, row.Packets, float64(row.Bytes)/1e6, row.Seconds, row.PktPerSec(), row.MBPerSec(), ratio)
	}
	return b.String()
}

// WriteMediaCapture writes a SIP+RTP capture: calls concurrent calls, each
// an INVITE/100/180/200/ACK then talk of G.711 µ-law both ways at 20 ms
// (with one RFC 4733 digit from the caller) and BYE/200, between a gateway
// and phones on loopback addresses.
func WriteMediaCapture(path string, calls int, talk time.Duration) error {
	w, err := capture.Create(path)
	if err != nil {
		return err
	}
	t0 := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
	gw := netip.MustParseAddr("127.0.0.1")
	phone := netip.MustParseAddr("127.0.0.2")
	sipGW, sipPhone := netip.AddrPortFrom(gw, 5060), netip.AddrPortFrom(phone, 5060)
	payload := make([]byte, 160)
	for i := range payload {
		payload[i] = byte(0xff - i%16)
	}
	frames := int(talk / (20 * time.Millisecond))
	buf := make([]byte, 0, 256)
	for c := 0; c < calls; c++ {
		callID := fmt.Sprintf("bench-%d@127.0.0.1", c)
		start := t0.Add(time.Duration(c) * 7 * time.Millisecond)
		ga := netip.AddrPortFrom(gw, uint16(20000+2*c))
		pa := netip.AddrPortFrom(phone, uint16(30000+2*c))
		sdp := func(a netip.AddrPort) string {
			return fmt.Sprintf("v=0\r\no=- %d 1 IN IP4 %s\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\nm=audio %d RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\na=sendrecv\r\n", c, a.Addr(), a.Addr(), a.Port())
		}
		msg := func(first, extra, body string, cseq string) []byte {
			return []byte(fmt.Sprintf("%s\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK-%d-%s\r\nFrom: <sip:5551%06d@127.0.0.1>;tag=a%d\r\nTo: <sip:2001@127.0.0.2>%s\r\nCall-ID: %s\r\nCSeq: %s\r\nMax-Forwards: 70\r\nContent-Type: application/sdp\r\nContent-Length: %d\r\n\r\n%s",
				first, c, strings.Fields(cseq)[1], c, c, extra, callID, cseq, len(body), body))
		}
		w.UDP(start, sipGW, sipPhone, msg("INVITE sip:2001@127.0.0.2 SIP/2.0", "", sdp(ga), "1 INVITE"))
		w.UDP(start.Add(time.Millisecond), sipPhone, sipGW, msg("SIP/2.0 100 Trying", "", "", "1 INVITE"))
		w.UDP(start.Add(2*time.Millisecond), sipPhone, sipGW, msg("SIP/2.0 180 Ringing", fmt.Sprintf(";tag=b%d", c), "", "1 INVITE"))
		w.UDP(start.Add(500*time.Millisecond), sipPhone, sipGW, msg("SIP/2.0 200 OK", fmt.Sprintf(";tag=b%d", c), sdp(pa), "1 INVITE"))
		w.UDP(start.Add(501*time.Millisecond), sipGW, sipPhone, msg("ACK sip:2001@127.0.0.2 SIP/2.0", fmt.Sprintf(";tag=b%d", c), "", "1 ACK"))
	}
	// Media interleaved across calls in time order, as on the wire.
	for f := 0; f < frames; f++ {
		for c := 0; c < calls; c++ {
			at := t0.Add(time.Duration(c)*7*time.Millisecond + 510*time.Millisecond + time.Duration(f)*20*time.Millisecond)
			ga := netip.AddrPortFrom(gw, uint16(20000+2*c))
			pa := netip.AddrPortFrom(phone, uint16(30000+2*c))
			for dir := 0; dir < 2; dir++ {
				src, dst, ssrc := ga, pa, uint32(0x10000+c)
				if dir == 1 {
					src, dst, ssrc = pa, ga, uint32(0x20000+c)
				}
				pkt := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 0, SequenceNumber: uint16(f + c), Timestamp: uint32(f * 160), SSRC: ssrc, Marker: f == 0}, Payload: payload}
				if dir == 0 && f >= 100 && f < 105 {
					// One digit "5" in five packets, the last with E set.
					dur := (f - 99) * 160
					ev := []byte{5, 10, byte(dur >> 8), byte(dur)}
					if f == 104 {
						ev[1] |= 0x80
					}
					pkt.Header.PayloadType = 101
					pkt.Header.Marker = f == 100
					pkt.Header.Timestamp = 100 * 160
					pkt.Payload = ev
				}
				b, err := pkt.Header.MarshalTo(buf[:cap(buf)])
				if err != nil {
					return err
				}
				out := append(buf[:b], pkt.Payload...)
				w.UDP(at, src, dst, out)
			}
		}
	}
	end := t0.Add(510*time.Millisecond + talk + time.Duration(calls)*7*time.Millisecond)
	for c := 0; c < calls; c++ {
		callID := fmt.Sprintf("bench-%d@127.0.0.1", c)
		bye := fmt.Sprintf("BYE sip:2001@127.0.0.2 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK-bye-%d\r\nFrom: <sip:5551%06d@127.0.0.1>;tag=a%d\r\nTo: <sip:2001@127.0.0.2>;tag=b%d\r\nCall-ID: %s\r\nCSeq: 2 BYE\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n", c, c, c, c, callID)
		ok := fmt.Sprintf("SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK-bye-%d\r\nFrom: <sip:5551%06d@127.0.0.1>;tag=a%d\r\nTo: <sip:2001@127.0.0.2>;tag=b%d\r\nCall-ID: %s\r\nCSeq: 2 BYE\r\nContent-Length: 0\r\n\r\n", c, c, c, c, callID)
		at := end.Add(time.Duration(c) * time.Millisecond)
		w.UDP(at, sipGW, sipPhone, []byte(bye))
		w.UDP(at.Add(time.Millisecond), sipPhone, sipGW, []byte(ok))
	}
	return w.Close()
}
