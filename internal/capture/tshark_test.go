package capture

import (
	"context"
	"net/netip"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const sipOptions = "OPTIONS sip:a@127.0.0.1 SIP/2.0\r\n" +
	"Via: SIP/2.0/%s 127.0.0.1:5062;branch=z9hG4bK776asdhds%d\r\n" +
	"Max-Forwards: 70\r\n" +
	"To: <sip:a@127.0.0.1>\r\n" +
	"From: <sip:lab@127.0.0.1>;tag=1928301774\r\n" +
	"Call-ID: a84b4c76e66710@127.0.0.1\r\n" +
	"CSeq: %d OPTIONS\r\n" +
	"Contact: <sip:lab@127.0.0.1:5062>\r\n" +
	"Accept: application/sdp\r\n" +
	"Content-Length: 0\r\n\r\n"

const sipOK = "SIP/2.0 200 OK\r\n" +
	"Via: SIP/2.0/%s 127.0.0.1:5062;branch=z9hG4bK776asdhds%d\r\n" +
	"To: <sip:a@127.0.0.1>;tag=93810874\r\n" +
	"From: <sip:lab@127.0.0.1>;tag=1928301774\r\n" +
	"Call-ID: a84b4c76e66710@127.0.0.1\r\n" +
	"CSeq: %d OPTIONS\r\n" +
	"Content-Length: 0\r\n\r\n"

func sipMsg(format, transport string, n int) []byte {
	return []byte(strings.NewReplacer("%s", transport, "%d", string(rune('0'+n))).Replace(format))
}

// TestTsharkOracle writes a capture with SIP over UDP and TCP and a bulk TCP
// flow, and has tshark check it: no malformed packets, no TCP analysis
// flags, bad checksums, and SIP decoded.
func TestTsharkOracle(t *testing.T) {
	tshark, err := exec.LookPath("tshark")
	if err != nil {
		t.Skip("tshark not on PATH (apt-get install tshark); skipping the Wireshark oracle")
	}
	path := filepath.Join(t.TempDir(), "oracle.pcapng")
	w, err := Create(path)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Unix(1_700_000_000, 0)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }

	w.UDP(at(0), sipA, sipB, sipMsg(sipOptions, "UDP", 1))
	w.UDP(at(1), sipB, sipA, sipMsg(sipOK, "UDP", 1))

	sipTCP := w.NewTCPFlow(at(2), sipA, sipB)
	sipTCP.Data(at(3), true, sipMsg(sipOptions, "TCP", 2))
	sipTCP.Data(at(4), false, sipMsg(sipOK, "TCP", 2))
	sipTCP.Close(at(5), true)

	bulk := w.NewTCPFlow(at(10), cli, srv)
	for i := range 40 {
		bulk.Data(at(11+i), i%2 == 0, pattern(100+i*997, byte(i)))
	}
	bulk.Data(at(60), false, pattern(300_000, 9)) // one-way run: pure ACKs
	bulk.CloseWrite(at(61), false)
	bulk.Data(at(62), true, []byte("bye"))
	bulk.Close(at(63), true)

	v6 := w.NewTCPFlow(at(70), netip6("[::1]:40001"), netip6("[::1]:42027"))
	v6.Data(at(71), true, pattern(4000, 1))
	v6.Close(at(72), false)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}

	run := func(args ...string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, tshark, append([]string{"-n", "-r", path}, args...)...)
		b, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("tshark %v: %v\n%s", args, err, b)
		}
		return stripNoise(string(b))
	}
	lines := func(s string) int {
		if s = strings.TrimSpace(s); s == "" {
			return 0
		}
		return len(strings.Split(s, "\n"))
	}

	phs := run("-q", "-z", "io,phs")
	t.Logf("protocol hierarchy:\n%s", phs)
	seen := map[string]bool{}
	for _, l := range strings.Split(phs, "\n") {
		if f := strings.Fields(l); len(f) > 1 && strings.HasPrefix(f[1], "frames:") {
			seen[f[0]] = true
		}
	}
	for _, proto := range []string{"eth", "ip", "ipv6", "udp", "tcp", "sip"} {
		if !seen[proto] {
			t.Errorf("protocol %s missing from the hierarchy", proto)
		}
	}
	if flags := run("-T", "fields", "-e", "frame.number", "-e", "tcp.analysis.flags", "-Y", "tcp.analysis.flags"); lines(flags) != 0 {
		t.Errorf("TCP analysis flags:\n%s", flags)
	}
	if bad := run("-Y", "_ws.malformed || _ws.expert.severity >= warning"); lines(bad) != 0 {
		t.Errorf("malformed or warned packets:\n%s", bad)
	}
	if bad := run("-o", "ip.check_checksum:TRUE", "-o", "tcp.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE",
		"-Y", "ip.checksum.status == 0 || tcp.checksum.status == 0 || udp.checksum.status == 0"); lines(bad) != 0 {
		t.Errorf("bad checksums:\n%s", bad)
	}
	if sip := run("-T", "fields", "-e", "sip.Method", "-e", "sip.Status-Code", "-Y", "sip"); lines(sip) != 4 ||
		strings.Count(sip, "OPTIONS") != 2 || strings.Count(sip, "200") != 2 {
		t.Errorf("SIP not decoded as expected:\n%s", sip)
	}
	// Reassembly: the bulk server->client stream is 20*avg + 300000 bytes, all
	// of it seen without gaps (no "previous segment not captured").
	if lost := run("-Y", "tcp.analysis.lost_segment || tcp.analysis.ack_lost_segment || tcp.analysis.out_of_order"); lines(lost) != 0 {
		t.Errorf("lost or out-of-order segments:\n%s", lost)
	}
}

// stripNoise drops tshark's warning about running as root.
func stripNoise(s string) string {
	var keep []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, "Running as user \"root\"") {
			continue
		}
		keep = append(keep, l)
	}
	return strings.Join(keep, "\n")
}

func netip6(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }
