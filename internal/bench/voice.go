// Package bench measures the voice path against the reference peer, SIPp,
// in one run on this machine (ipcclab bench sip / bench media). Nothing
// here asserts a figure: it reports what it measured, and BENCHMARKS.md
// records it.
//
// Signalling: SIPp's built-in UAC places calls at a fixed rate into the
// gateway's PSTN side; each is routed to an agent's emulated phone, which
// answers, then SIPp hangs up after the hold time. An ALL_EVENTS CTI
// session receives the events of every call. Then SIPp's UAC runs against
// SIPp's UAS at the same rate: the reference for CPU per call.
//
// Media: PSTN-model callers fill the agents' phones up to N concurrent
// two-way G.711 calls (20 ms); every packet is generated and received by the
// emulator (gateway caller legs and phones). The RTP engine's counters give
// loss and lateness, and, with a capture, tshark's rtp,streams is the
// independent oracle.
package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/ipcclab/ipcclab/internal/lab"
	"github.com/ipcclab/ipcclab/protocol/cti"
	"github.com/ipcclab/ipcclab/scenarios"
)

// cpuSelf is this process's user+system CPU time.
func cpuSelf() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// cpuOf is the user+system CPU time of process pid so far (Linux).
func cpuOf(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// Fields after the parenthesised command: state is field 3; utime and
	// stime are fields 14 and 15 (clock ticks, 100 Hz on Linux).
	i := bytes.LastIndexByte(b, ')')
	f := strings.Fields(string(b[i+2:]))
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * 10 * time.Millisecond
}

func freePort() (int, error) {
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer pc.Close()
	return pc.LocalAddr().(*net.UDPAddr).Port, nil
}

// SIPpResult is what one SIPp run reported in its statistics file.
type SIPpResult struct {
	Successful, Failed, Retransmissions int
	Elapsed                             time.Duration
	// CPS is the achieved rate of successful calls.
	CPS float64
}

// parseStat reads the last line of SIPp's -trace_stat CSV.
func parseStat(path string) (SIPpResult, error) {
	f, err := os.Open(path)
	if err != nil {
		return SIPpResult{}, err
	}
	defer f.Close()
	r := csv.NewReader(bufio.NewReader(f))
	r.Comma = ';'
	r.FieldsPerRecord = -1
	var head, last []string
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return SIPpResult{}, err
		}
		if head == nil {
			head = rec
			continue
		}
		last = rec
	}
	if head == nil || last == nil {
		return SIPpResult{}, errors.New("sipp: empty statistics file")
	}
	get := func(name string) string {
		for i, h := range head {
			if h == name && i < len(last) {
				return last[i]
			}
		}
		return ""
	}
	var res SIPpResult
	res.Successful, _ = strconv.Atoi(get("SuccessfulCall(C)"))
	res.Failed, _ = strconv.Atoi(get("FailedCall(C)"))
	res.Retransmissions, _ = strconv.Atoi(get("Retransmissions(C)"))
	if d := get("ElapsedTime(C)"); d != "" {
		// HH:MM:SS:mmmmmm
		p := strings.Split(d, ":")
		if len(p) >= 3 {
			h, _ := strconv.Atoi(p[0])
			m, _ := strconv.Atoi(p[1])
			sec, _ := strconv.Atoi(p[2])
			res.Elapsed = time.Duration(h)*time.Hour + time.Duration(m)*time.Minute + time.Duration(sec)*time.Second
			if len(p) == 4 {
				us, _ := strconv.Atoi(p[3])
				res.Elapsed += time.Duration(us) * time.Microsecond
			}
		}
	}
	if res.Elapsed > 0 {
		res.CPS = float64(res.Successful) / res.Elapsed.Seconds()
	}
	return res, nil
}

// runSIPp runs sipp with args in dir and returns its statistics and the
// CPU it used itself.
func runSIPp(ctx context.Context, dir string, args ...string) (SIPpResult, time.Duration, error) {
	stat := filepath.Join(dir, fmt.Sprintf("stat-%d.csv", time.Now().UnixNano()))
	args = append(args, "-nostdin", "-trace_stat", "-stf", stat, "-fd", "1", "-buff_size", "4194304")
	cmd := exec.CommandContext(ctx, "sipp", args...)
	cmd.Dir = dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		return SIPpResult{}, 0, fmt.Errorf("sipp: %w (install the Debian package sip-tester)", err)
	}
	pid := cmd.Process.Pid
	var cpu time.Duration
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t := time.NewTicker(200 * time.Millisecond)
	defer t.Stop()
	var werr error
wait:
	for {
		select {
		case werr = <-done:
			break wait
		case <-t.C:
			if c := cpuOf(pid); c > 0 {
				cpu = c
			}
		}
	}
	res, err := parseStat(stat)
	if err != nil {
		return res, cpu, fmt.Errorf("sipp %s: %v (exit: %v)\n%s", strings.Join(args, " "), err, werr, tail(out.String(), 2000))
	}
	return res, cpu, nil
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// SignallingOptions configure the signalling benchmark.
type SignallingOptions struct {
	CPS      int
	Duration time.Duration
	// Hold is how long SIPp keeps each call up after the answer.
	Hold time.Duration
	// Agents is the number of agents (phones) answering.
	Agents int
	Logf   func(string, ...any)
}

// SignallingResult is one signalling run: ours and SIPp's UAS side by side.
type SignallingResult struct {
	Options SignallingOptions
	Ours    SIPpResult
	// OurCPU is the emulator's CPU over the run (gateway, CallManager,
	// phones, PG, CTI Server); SIPpUACCPU the load generator's.
	OurCPU, OurUACCPU time.Duration
	// CTIEvents is how many events the ALL_EVENTS session received.
	CTIEvents   int
	PhoneAnswer uint64
	Ref         SIPpResult
	RefUASCPU   time.Duration
	RefUACCPU   time.Duration
}

// PerCall is CPU per successful call.
func PerCall(cpu time.Duration, calls int) time.Duration {
	if calls == 0 {
		return 0
	}
	return cpu / time.Duration(calls)
}

func signallingScenario(agents int) (*scenarios.Scenario, error) {
	y := fmt.Sprintf(`name: bench-signalling
description: signalling benchmark — agents answer at once, no media
start: "08:00"
hours: 1
seed: 7
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
      arrivals: {segment: 60s, per_hour: [0]}
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
  talk: {shape: fixed, mean: 1h}
outbound:
  enabled: false
controller:
  not_ready_reason: 101
  blend: {enabled: false}
voice:
  media: false
  registrar: {rate: 100000, burst: 100000, source_rate: 100000, source_burst: 100000}
`, agents)
	return scenarios.Parse("bench-signalling", []byte(y))
}

// countEvents opens an ALL_EVENTS session and counts what it receives until
// ctx ends.
func countEvents(ctx context.Context, addr string, peripheral uint32) (func() int, error) {
	conn, err := (&net.Dialer{}).DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	s := cti.NewSession(conn, nil)
	if _, err := s.Open(ctx, &cti.OpenReq{VersionNumber: 24, IdleTimeout: 0xFFFFFFFF, PeripheralID: peripheral,
		ServicesRequested: cti.ServiceAllEvents, ClientID: "bench", CallMsgMask: 0xFFFFFFFF, AgentStateMask: 0x3FFF}); err != nil {
		conn.Close()
		return nil, err
	}
	n := make(chan int, 1)
	count := 0
	go func() {
		for range s.Events() {
			count++
		}
		if err := s.Err(); err != nil && ctx.Err() == nil {
			fmt.Fprintf(os.Stderr, "bench: CTI session ended early: %v\n", err)
		}
		n <- count
	}()
	go func() {
		<-ctx.Done()
		cctx, c := context.WithTimeout(context.Background(), time.Second)
		_ = s.Close(cctx)
		c()
		conn.Close()
	}()
	return func() int { return <-n }, nil
}

// Signalling runs the signalling benchmark.
func Signalling(ctx context.Context, o SignallingOptions) (*SignallingResult, error) {
	if o.CPS <= 0 || o.Duration <= 0 {
		return nil, errors.New("bench: --cps and --duration must be positive")
	}
	if o.Hold <= 0 {
		o.Hold = time.Second
	}
	if o.Agents <= 0 {
		// Each agent holds a call for the transfer delay (0.5 s), the hold
		// and a little slack.
		o.Agents = int(float64(o.CPS)*(o.Hold.Seconds()+1.5)) + 50
	}
	logf := o.Logf
	if logf == nil {
		logf = func(string, ...any) {}
	}
	dir, err := os.MkdirTemp("", "ipcclab-bench-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	sc, err := signallingScenario(o.Agents)
	if err != nil {
		return nil, err
	}
	logf("starting the lab: %d agents with phones", o.Agents)
	run, err := lab.Start(ctx, lab.UpOptions{Scenario: sc, Seed: sc.Seed, CTIAddr: "127.0.0.1:0", SIPAddr: "127.0.0.1:0",
		NoController: true, HoldTraffic: true})
	if err != nil {
		return nil, err
	}
	defer run.Stop()
	ectx, ecancel := context.WithCancel(ctx)
	events, err := countEvents(ectx, run.CTIAddr(), sc.ICM.PeripheralID)
	if err != nil {
		ecancel()
		return nil, err
	}
	run.Begin()
	time.Sleep(2 * time.Second) // agents log in and go Ready
	res := &SignallingResult{Options: o}
	calls := int(float64(o.CPS) * o.Duration.Seconds())
	port, err := freePort()
	if err != nil {
		ecancel()
		return nil, err
	}
	timeout := o.Duration + o.Hold + 30*time.Second
	logf("SIPp UAC → ipcclab gateway %s: %d calls/s for %v (%d calls), hold %v", run.SIPAddr(), o.CPS, o.Duration, calls, o.Hold)
	cpu0 := cpuSelf()
	vc0 := run.VoiceCounters()
	res.Ours, res.OurUACCPU, err = runSIPp(ctx, dir, "-sn", "uac", run.SIPAddr(), "-s", "8005550100", "-i", "127.0.0.1",
		"-p", strconv.Itoa(port), "-r", strconv.Itoa(o.CPS), "-m", strconv.Itoa(calls), "-d", strconv.Itoa(int(o.Hold/time.Millisecond)),
		"-l", strconv.Itoa(o.CPS*int(o.Hold.Seconds()+10)), "-timeout", strconv.Itoa(int(timeout.Seconds()))+"s", "-timeout_error")
	res.OurCPU = cpuSelf() - cpu0
	vc1 := run.VoiceCounters()
	res.PhoneAnswer = vc1.CallManager.PhoneAnswered - vc0.CallManager.PhoneAnswered
	time.Sleep(time.Second)
	ecancel()
	res.CTIEvents = events()
	if err != nil {
		return res, err
	}
	// The reference: SIPp against SIPp at the same rate and hold.
	uasPort, err := freePort()
	if err != nil {
		return res, err
	}
	uas := exec.CommandContext(ctx, "sipp", "-sn", "uas", "-i", "127.0.0.1", "-p", strconv.Itoa(uasPort), "-nostdin",
		"-buff_size", "4194304", "-timeout", strconv.Itoa(int(timeout.Seconds()))+"s")
	uas.Dir = dir
	if err := uas.Start(); err != nil {
		return res, err
	}
	defer func() { _ = uas.Process.Kill(); _ = uas.Wait() }()
	time.Sleep(300 * time.Millisecond)
	port2, _ := freePort()
	logf("reference: SIPp UAC → SIPp UAS, same rate and hold")
	res.Ref, res.RefUACCPU, err = runSIPp(ctx, dir, "-sn", "uac", "127.0.0.1:"+strconv.Itoa(uasPort), "-i", "127.0.0.1",
		"-p", strconv.Itoa(port2), "-r", strconv.Itoa(o.CPS), "-m", strconv.Itoa(calls), "-d", strconv.Itoa(int(o.Hold/time.Millisecond)),
		"-l", strconv.Itoa(o.CPS*int(o.Hold.Seconds()+10)), "-timeout", strconv.Itoa(int(timeout.Seconds()))+"s", "-timeout_error")
	res.RefUASCPU = cpuOf(uas.Process.Pid)
	return res, err
}

// Report renders the result as a Markdown table.
func (r *SignallingResult) Report() string {
	var b strings.Builder
	o := r.Options
	fmt.Fprintf(&b, "signalling: %d calls/s for %v, hold %v, %d agents\n\n", o.CPS, o.Duration, o.Hold, o.Agents)
	fmt.Fprintf(&b, "| path | calls ok | failed | retrans | achieved cps | server CPU | CPU µs/call | load generator CPU |\n|---|---|---|---|---|---|---|---|\n")
	fmt.Fprintf(&b, "| SIPp UAC → ipcclab (gateway → CallManager → phones, CTI) | %d | %d | %d | %.0f | %.1f s | %.0f | %.1f s |\n",
		r.Ours.Successful, r.Ours.Failed, r.Ours.Retransmissions, r.Ours.CPS, r.OurCPU.Seconds(),
		float64(PerCall(r.OurCPU, r.Ours.Successful).Microseconds()), r.OurUACCPU.Seconds())
	fmt.Fprintf(&b, "| SIPp UAC → SIPp UAS (reference) | %d | %d | %d | %.0f | %.1f s | %.0f | %.1f s |\n",
		r.Ref.Successful, r.Ref.Failed, r.Ref.Retransmissions, r.Ref.CPS, r.RefUASCPU.Seconds(),
		float64(PerCall(r.RefUASCPU, r.Ref.Successful).Microseconds()), r.RefUACCPU.Seconds())
	ratio := 0.0
	if p := PerCall(r.RefUASCPU, r.Ref.Successful); p > 0 {
		ratio = float64(PerCall(r.OurCPU, r.Ours.Successful)) / float64(p)
	}
	fmt.Fprintf(&b, "\nCTI events received on one ALL_EVENTS session: %d (%.1f per call); phones answered %d calls.\n",
		r.CTIEvents, float64(r.CTIEvents)/float64(max(1, r.Ours.Successful)), r.PhoneAnswer)
	fmt.Fprintf(&b, "CPU per call, ipcclab (whole emulator) / SIPp UAS: %.1f×\n", ratio)
	return b.String()
}
