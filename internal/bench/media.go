package bench

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/ipcclab/ipcclab/internal/lab"
	"github.com/ipcclab/ipcclab/internal/rtpio"
	"github.com/ipcclab/ipcclab/scenarios"
)

// MediaOptions configure the media benchmark.
type MediaOptions struct {
	// Calls is the number of concurrent two-way calls to hold.
	Calls    int
	Duration time.Duration
	// Capture, when set, records the run (pcapng) and runs tshark's
	// rtp,streams on it.
	Capture string
	Logf    func(string, ...any)
}

// MediaResult is one media run.
type MediaResult struct {
	Options MediaOptions
	// Connected is the number of calls up when the window started.
	Connected int
	Window    time.Duration
	// RTP counters over the window.
	RTP rtpio.Stats
	CPU time.Duration
	// Tshark is tshark's rtp,streams summary of the capture.
	Tshark *StreamSummary
}

func mediaScenario(calls int, talk time.Duration) (*scenarios.Scenario, error) {
	// No arrival profile: the bench brings exactly `calls` callers in over
	// about 10 s (Running.Arrive); each agent talks for the whole run.
	y := fmt.Sprintf(`name: bench-media
description: media benchmark — N concurrent two-way G.711 calls
start: "08:00"
hours: 1
seed: 9
icm:
  peripheral_id: 5000
  abandon_call_wait_time: 1s
  ring_no_answer_timeout: 10s
  skill_groups:
    - {number: 100, id: 5100, name: Bench, service_level_threshold: 20s, service_level_type: 2}
  call_types:
    - id: 1
      name: BenchInbound
      dialed_number: "8005550100"
      service_level_threshold: 20s
      service_level_type: 2
      targets: [{skill_group: 100, priority: 5}]
      arrivals: {segment: 10s, per_hour: [0]}
agents:
  - name: bench
    role: inbound
    count: %d
    first_agent_id: 10001
    first_extension: 20001
    skill_groups: [100]
    answer_delay: {shape: fixed, mean: 1ms}
callers:
  patience: {shape: fixed, mean: 0s}
  talk: {shape: fixed, mean: %s}
outbound:
  enabled: false
controller:
  not_ready_reason: 101
  blend: {enabled: false}
voice:
  media: true
  ivr: {digits: 1, first_digit_timeout: 1s}
  registrar: {rate: 100000, burst: 100000, source_rate: 100000, source_burst: 100000}
`, calls, talk)
	return scenarios.Parse("bench-media", []byte(y))
}

// Media runs the media benchmark.
func Media(ctx context.Context, o MediaOptions) (*MediaResult, error) {
	if o.Calls <= 0 || o.Duration <= 0 {
		return nil, errors.New("bench: --calls and --duration must be positive")
	}
	logf := o.Logf
	if logf == nil {
		logf = func(string, ...any) {}
	}
	sc, err := mediaScenario(o.Calls, o.Duration+2*time.Minute)
	if err != nil {
		return nil, err
	}
	run, err := lab.Start(ctx, lab.UpOptions{Scenario: sc, Seed: sc.Seed, CTIAddr: "127.0.0.1:0", SIPAddr: "127.0.0.1:0",
		NoController: true, HoldTraffic: true, Capture: o.Capture})
	if err != nil {
		return nil, err
	}
	stopped := false
	defer func() {
		if !stopped {
			run.Stop()
		}
	}()
	run.Begin()
	time.Sleep(2 * time.Second) // the agents log in and go Ready
	logf("ramping up to %d concurrent calls (PSTN-model callers, %d a second)", o.Calls, max(1, o.Calls/10))
	for left := o.Calls; left > 0; left -= max(1, o.Calls/10) {
		run.Arrive(min(left, max(1, o.Calls/10)))
		time.Sleep(time.Second)
	}
	deadline := time.Now().Add(40 * time.Second)
	var vc lab.VoiceCounters
	for time.Now().Before(deadline) {
		time.Sleep(time.Second)
		vc = run.VoiceCounters()
		if int(vc.CallManager.PhoneAnswered) >= o.Calls {
			break
		}
	}
	// Let the last calls' media settle, then measure a clean window.
	time.Sleep(2 * time.Second)
	res := &MediaResult{Options: o}
	v0 := run.VoiceCounters()
	res.Connected = int(v0.CallManager.PhoneAnswered)
	logf("%d calls connected; measuring %v", res.Connected, o.Duration)
	cpu0, t0 := cpuSelf(), time.Now()
	time.Sleep(o.Duration)
	v1 := run.VoiceCounters()
	res.CPU, res.Window = cpuSelf()-cpu0, time.Since(t0)
	a, b := v0.RTP, v1.RTP
	res.RTP = rtpio.Stats{PacketsSent: b.PacketsSent - a.PacketsSent, PacketsReceived: b.PacketsReceived - a.PacketsReceived,
		Lost: b.Lost - a.Lost, Late: b.Late - a.Late, Duplicates: b.Duplicates - a.Duplicates, SendErrors: b.SendErrors - a.SendErrors,
		UnknownSource: b.UnknownSource - a.UnknownSource, WrongPayloadType: b.WrongPayloadType - a.WrongPayloadType, Jitter: b.Jitter}
	run.Stop()
	stopped = true
	if o.Capture != "" {
		logf("tshark -z rtp,streams on %s", o.Capture)
		res.Tshark, err = TsharkStreams(ctx, o.Capture)
		if err != nil {
			return res, err
		}
		logf("tshark per-packet RTP fields on %s", o.Capture)
		if res.Tshark.Checked, res.Tshark.Late, err = TsharkLate(ctx, o.Capture); err != nil {
			return res, err
		}
	}
	return res, nil
}

// StreamSummary totals tshark's rtp,streams table.
type StreamSummary struct {
	Streams       int
	Packets, Lost int
	// MaxDelta is the largest inter-packet gap of any stream; Over40 the
	// streams whose largest gap exceeded 40 ms.
	MaxDelta time.Duration
	Over40   int
	// Late counts the packets tshark decoded (Checked, RFC 4733 events
	// aside) that were captured more than 40 ms after their RTP timestamp
	// predicts, measured from each stream's first packet: the issue's
	// "late" by tshark's decode rather than our receiver's counters.
	Checked, Late int
}

// TsharkStreams runs `tshark -q -z rtp,streams` on a capture and totals the
// table (the independent oracle for loss and late packets).
func TsharkStreams(ctx context.Context, path string) (*StreamSummary, error) {
	cmd := exec.CommandContext(ctx, "tshark", "-r", path, "-q", "-z", "rtp,streams")
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("tshark: %w (install the Debian package tshark)", err)
	}
	return parseStreams(string(out))
}

// lateBound is when a packet counts as late: captured more than this after
// its RTP timestamp predicts.
const lateBound = 40 * time.Millisecond

// TsharkLate has tshark decode every RTP packet of a capture (SSRC, capture
// time, RTP timestamp; telephone events, whose packets all carry their
// event's start timestamp, left out) and counts those captured more than
// 40 ms after their stream's first packet and the 8 kHz clock predict.
func TsharkLate(ctx context.Context, path string) (checked, late int, err error) {
	cmd := exec.CommandContext(ctx, "tshark", "-r", path, "-Y", "rtp && !rtpevent", "-T", "fields",
		"-e", "rtp.ssrc", "-e", "frame.time_epoch", "-e", "rtp.timestamp", "-E", "separator=,")
	out, err := cmd.StdoutPipe()
	if err != nil {
		return 0, 0, err
	}
	if err := cmd.Start(); err != nil {
		return 0, 0, fmt.Errorf("tshark: %w (install the Debian package tshark)", err)
	}
	checked, late, perr := countLate(out)
	if err := cmd.Wait(); err != nil {
		return 0, 0, fmt.Errorf("tshark: %w", err)
	}
	return checked, late, perr
}

// countLate reads "ssrc,epoch seconds,timestamp" lines (tshark -T fields).
func countLate(r io.Reader) (checked, late int, err error) {
	type ref struct {
		at float64
		ts uint32
	}
	first := map[string]ref{}
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		f := strings.Split(sc.Text(), ",")
		if len(f) != 3 || f[0] == "" {
			continue // a packet tshark decoded without these fields
		}
		at, e1 := strconv.ParseFloat(f[1], 64)
		ts, e2 := strconv.ParseUint(f[2], 10, 32)
		if e1 != nil || e2 != nil {
			return checked, late, fmt.Errorf("tshark fields line %d: %q", n, sc.Text())
		}
		r0, ok := first[f[0]]
		if !ok {
			first[f[0]] = ref{at, uint32(ts)}
			checked++
			continue
		}
		checked++
		want := float64(int32(uint32(ts)-r0.ts)) / 8000
		if time.Duration((at-r0.at-want)*float64(time.Second)) > lateBound {
			late++
		}
	}
	if err := sc.Err(); err != nil {
		return checked, late, err
	}
	if checked == 0 {
		return 0, 0, errors.New("tshark: no RTP packets in the capture")
	}
	return checked, late, nil
}

// parseStreams totals the text of tshark's rtp,streams tap.
func parseStreams(out string) (*StreamSummary, error) {
	s := &StreamSummary{}
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		// Rows: start, end, src addr, port, dst addr, port, SSRC,
		// payload, packets, lost, (lost%), min/mean/max delta (ms),
		// min/mean/max jitter, problems.
		i := -1
		for k, v := range f {
			if strings.HasPrefix(v, "0x") {
				i = k
				break
			}
		}
		if i < 0 {
			continue
		}
		for j := i + 2; j+5 < len(f); j++ {
			if !strings.HasPrefix(f[j+2], "(") {
				continue
			}
			pk, e1 := strconv.Atoi(f[j])
			lo, e2 := strconv.Atoi(f[j+1])
			md, e3 := strconv.ParseFloat(f[j+5], 64)
			if e1 != nil || e2 != nil || e3 != nil {
				break
			}
			s.Streams++
			s.Packets += pk
			if lo > 0 {
				s.Lost += lo
			}
			d := time.Duration(md * float64(time.Millisecond))
			if d > s.MaxDelta {
				s.MaxDelta = d
			}
			if d > 40*time.Millisecond {
				s.Over40++
			}
			break
		}
	}
	if s.Streams == 0 {
		return s, errors.New("tshark: no RTP streams in the capture")
	}
	return s, nil
}

// Report renders the result.
func (r *MediaResult) Report() string {
	var b strings.Builder
	st := r.RTP
	secs := r.Window.Seconds()
	fmt.Fprintf(&b, "media: %d concurrent two-way G.711 calls (20 ms) over %.0f s\n\n", r.Connected, secs)
	fmt.Fprintf(&b, "| RTP sent | sent/s | received | received/s | lost | late >40 ms | lost+late | send errors | max jitter | CPU |\n|---|---|---|---|---|---|---|---|---|---|\n")
	bad := float64(st.Lost+st.Late) / float64(max(1, st.PacketsSent))
	fmt.Fprintf(&b, "| %d | %.0f | %d | %.0f | %d | %d | %.3f %% | %d | %v | %.1f s (%.2f cores) |\n",
		st.PacketsSent, float64(st.PacketsSent)/secs, st.PacketsReceived, float64(st.PacketsReceived)/secs, st.Lost, st.Late,
		100*bad, st.SendErrors, st.Jitter.Round(10*time.Microsecond), r.CPU.Seconds(), r.CPU.Seconds()/secs)
	if t := r.Tshark; t != nil {
		fmt.Fprintf(&b, "\ntshark rtp,streams over the whole capture: %d streams, %d packets, %d lost, max delta %v, %d streams with a gap > 40 ms\n",
			t.Streams, t.Packets, t.Lost, t.MaxDelta.Round(100*time.Microsecond), t.Over40)
		if t.Checked > 0 {
			fmt.Fprintf(&b, "tshark per packet: %d of %d RTP packets captured > 40 ms after their timestamp predicts (%.3f %%); lost + late %.3f %%\n",
				t.Late, t.Checked, 100*float64(t.Late)/float64(t.Checked), 100*float64(t.Late+max(0, t.Lost))/float64(t.Checked))
		}
	}
	return b.String()
}

// SIPpMediaOptions configure the SIPp media reference.
type SIPpMediaOptions struct {
	// Calls is the concurrency to aim for: SIPp's uac_pcap calls last
	// about 9 s (g711a.pcap, 30 ms packets, then an RFC 2833 digit), so
	// the rate is Calls/9 per second.
	Calls    int
	Duration time.Duration
	Logf     func(string, ...any)
}

// SIPpMediaResult is SIPp running both ends: uac_pcap against uas
// -rtp_echo, recorded on lo by dumpcap and read by tshark.
type SIPpMediaResult struct {
	Rate, Calls, Failed int
	UASCPU, UACCPU      time.Duration
	Tshark              *StreamSummary
}

// SIPpMedia runs the reference: the same tshark oracle on a capture of lo.
func SIPpMedia(ctx context.Context, o SIPpMediaOptions) (*SIPpMediaResult, error) {
	logf := o.Logf
	if logf == nil {
		logf = func(string, ...any) {}
	}
	dir, err := os.MkdirTemp("", "ipcclab-sipp-media-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	// uac_pcap plays pcap/g711a.pcap and pcap/dtmf_2833_1.pcap.
	if err := os.MkdirAll(filepath.Join(dir, "pcap"), 0o755); err != nil {
		return nil, err
	}
	for _, f := range []string{"g711a.pcap", "dtmf_2833_1.pcap"} {
		b, err := os.ReadFile(filepath.Join("/usr/share/sip-tester", f))
		if err != nil {
			return nil, fmt.Errorf("sipp media reference: %w (install the Debian package sip-tester)", err)
		}
		if err := os.WriteFile(filepath.Join(dir, "pcap", f), b, 0o644); err != nil {
			return nil, err
		}
	}
	rate := max(1, o.Calls/9)
	total := rate * int(o.Duration.Seconds())
	res := &SIPpMediaResult{Rate: rate}
	capFile := filepath.Join(dir, "lo.pcapng")
	dc := exec.CommandContext(ctx, "dumpcap", "-q", "-i", "lo", "-f", "udp", "-B", "256", "-w", capFile)
	if err := dc.Start(); err != nil {
		return nil, fmt.Errorf("dumpcap: %w (install wireshark-common)", err)
	}
	stopCapture := func() { _ = dc.Process.Signal(syscall.SIGINT); _ = dc.Wait() }
	time.Sleep(time.Second)
	uasPort, _ := freePort()
	uas := exec.CommandContext(ctx, "sipp", "-sn", "uas", "-i", "127.0.0.1", "-p", strconv.Itoa(uasPort), "-mi", "127.0.0.1",
		"-mp", "6000", "-rtp_echo", "-buff_size", "4194304", "-nostdin", "-timeout", strconv.Itoa(int(o.Duration.Seconds())+60)+"s")
	uas.Dir = dir
	if err := uas.Start(); err != nil {
		stopCapture()
		return nil, err
	}
	defer func() { _ = uas.Process.Kill(); _ = uas.Wait() }()
	time.Sleep(300 * time.Millisecond)
	uacPort, _ := freePort()
	logf("reference: SIPp uac_pcap → SIPp uas -rtp_echo, %d calls/s for %v (≈ %d concurrent)", rate, o.Duration, rate*9)
	r, uacCPU, err := runSIPp(ctx, dir, "-sn", "uac_pcap", "127.0.0.1:"+strconv.Itoa(uasPort), "-i", "127.0.0.1",
		"-p", strconv.Itoa(uacPort), "-mi", "127.0.0.1", "-mp", "16000", "-r", strconv.Itoa(rate), "-m", strconv.Itoa(total),
		"-l", strconv.Itoa(rate*20), "-timeout", strconv.Itoa(int(o.Duration.Seconds())+60)+"s")
	res.UASCPU = cpuOf(uas.Process.Pid)
	res.UACCPU = uacCPU
	stopCapture()
	if err != nil {
		return res, err
	}
	res.Calls, res.Failed = r.Successful, r.Failed
	logf("tshark -z rtp,streams on the lo capture")
	res.Tshark, err = TsharkStreams(ctx, capFile)
	return res, err
}

// Report renders the reference.
func (r *SIPpMediaResult) Report() string {
	var b strings.Builder
	fmt.Fprintf(&b, "\nSIPp reference: uac_pcap → uas -rtp_echo, %d calls/s (≈ %d concurrent, 30 ms G.711 A-law, echoed), %d calls ok, %d failed; CPU UAS %.1f s, UAC %.1f s\n",
		r.Rate, r.Rate*9, r.Calls, r.Failed, r.UASCPU.Seconds(), r.UACCPU.Seconds())
	if t := r.Tshark; t != nil {
		fmt.Fprintf(&b, "tshark rtp,streams on lo: %d streams, %d packets, %d lost, max delta %v, %d streams with a gap > 40 ms\n",
			t.Streams, t.Packets, t.Lost, t.MaxDelta.Round(100*time.Microsecond), t.Over40)
	}
	return b.String()
}
