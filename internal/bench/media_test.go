package bench

import (
	"strings"
	"testing"
	"time"
)

// A slice of real `tshark -q -z rtp,streams` output (tshark 4.0.17).
const streamsSample = `========================= RTP Streams ========================
   Start time      End time     Src IP addr  Port    Dest IP addr  Port       SSRC          Payload  Pkts         Lost   Min Delta(ms)  Mean Delta(ms)   Max Delta(ms)  Min Jitter(ms) Mean Jitter(ms)  Max Jitter(ms) Problems?
    10.500992     57.061143       127.0.0.1 17142       127.0.0.1 17130 0xFA00BED6            g711U  2329     0 (0.0%)           5.841          20.000          39.266           0.048           1.490           3.914 
    10.500857     57.061031       127.0.0.1 17130       127.0.0.1 17142 0x6CCB4899            g711U  2329     3 (0.1%)           5.841          20.000          41.352           0.047           1.478           3.917 X
    10.424143     57.061127       127.0.0.1 17140       127.0.0.1 17128 0x545BC9E2            g711U  2333    -2 (-0.1%)           5.840          19.999          39.270           0.051           1.490           3.913 
==============================================================
`

func TestParseStreams(t *testing.T) {
	s, err := parseStreams(streamsSample)
	if err != nil {
		t.Fatal(err)
	}
	want := StreamSummary{Streams: 3, Packets: 2329 + 2329 + 2333, Lost: 3, MaxDelta: 41352 * time.Microsecond, Over40: 1}
	if *s != want {
		t.Errorf("got %+v, want %+v", *s, want)
	}
	if _, err := parseStreams("nothing here\n"); err == nil {
		t.Error("a table without streams parsed without error")
	}
}

// countLate measures lateness from each stream's first packet and the
// 8 kHz clock; a stream's jitter under 40 ms is not late, a packet 41 ms
// behind is, and timestamps wrap.
func TestCountLate(t *testing.T) {
	in := strings.Join([]string{
		"0x1,100.000,1000",
		"0x1,100.020,1160", // on time
		"0x1,100.075,1320", // 35 ms behind: not late
		"0x1,100.101,1480", // 41 ms behind: late
		"0x2,100.010,4294967200",
		"0x2,100.030,64",  // across the wrap, on time
		"0x2,100.120,224", // 70 ms behind: late
		",,",              // a packet without the fields
	}, "\n")
	checked, late, err := countLate(strings.NewReader(in))
	if err != nil || checked != 7 || late != 2 {
		t.Fatalf("countLate: %d checked, %d late, %v; want 7, 2", checked, late, err)
	}
	if _, _, err := countLate(strings.NewReader("0x1,abc,5\n")); err == nil || !strings.Contains(err.Error(), "line 1") {
		t.Errorf("bad line: %v", err)
	}
	if _, _, err := countLate(strings.NewReader("")); err == nil {
		t.Errorf("no packets: no error")
	}
}
