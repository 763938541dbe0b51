package ctitool

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ipcclab/ipcclab/internal/lab"
	"github.com/ipcclab/ipcclab/scenarios"
)

// output is a writer the test can wait on.
type output struct {
	mu   sync.Mutex
	b    strings.Builder
	wake chan struct{}
}

func newOutput() *output { return &output{wake: make(chan struct{}, 1)} }

func (o *output) Write(p []byte) (int, error) {
	o.mu.Lock()
	o.b.Write(p)
	o.mu.Unlock()
	select {
	case o.wake <- struct{}{}:
	default:
	}
	return len(p), nil
}

func (o *output) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.b.String()
}

// count is the number of lines containing every one of parts.
func (o *output) count(parts ...string) int {
	n := 0
	for _, l := range strings.Split(o.String(), "\n") {
		ok := true
		for _, p := range parts {
			ok = ok && strings.Contains(l, p)
		}
		if ok {
			n++
		}
	}
	return n
}

// waitCount waits (bounded) until more than n lines contain every one of parts.
func (o *output) waitCount(t *testing.T, d time.Duration, n int, parts ...string) {
	t.Helper()
	deadline := time.NewTimer(d)
	defer deadline.Stop()
	for o.count(parts...) <= n {
		select {
		case <-o.wake:
		case <-deadline.C:
			t.Fatalf("no new line with %q within %v; output:\n%s", parts, d, o.String())
		}
	}
}

// waitLine waits (bounded) for a line containing every one of parts.
func (o *output) waitLine(t *testing.T, d time.Duration, parts ...string) string {
	t.Helper()
	deadline := time.NewTimer(d)
	defer deadline.Stop()
	for {
		for _, l := range strings.Split(o.String(), "\n") {
			ok := true
			for _, p := range parts {
				ok = ok && strings.Contains(l, p)
			}
			if ok {
				return l
			}
		}
		select {
		case <-o.wake:
		case <-deadline.C:
			t.Fatalf("no line with %q within %v; output:\n%s", parts, d, o.String())
		}
	}
}

func startLab(t *testing.T) *lab.Running {
	t.Helper()
	sc, err := scenarios.Default()
	if err != nil {
		t.Fatal(err)
	}
	r, err := lab.Start(context.Background(), lab.UpOptions{Scenario: sc, Seed: 1, CTIAddr: "127.0.0.1:0", HoldTraffic: true, NoController: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Stop() })
	return r
}

// dump against an in-process lab sees the open and the agents logging in;
// send sets agent 1201 AVAILABLE, the dump sees the state change, and the
// dump closes cleanly when its context ends.
func TestDumpAndSendAgainstTheLab(t *testing.T) {
	r := startLab(t)
	addr := r.CTIAddr()

	dumpOut := newOutput()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- DumpAddr(ctx, DumpOptions{SessionOptions: SessionOptions{Addr: addr}, Duration: time.Minute}, dumpOut)
	}()
	dumpOut.waitLine(t, 10*time.Second, "<- OPEN_CONF InvokeID=1", "ServicesGranted=CTI_SERVICE_ALL_EVENTS(0x10)")
	dumpOut.waitLine(t, 10*time.Second, "<- SYSTEM_EVENT", "SystemEventID=SYS_PERIPHERAL_ONLINE(3)")
	r.Begin() // agents log in only now, so the dump sees it
	dumpOut.waitLine(t, 20*time.Second, "<- AGENT_STATE_EVENT", `AgentID="1201"`)

	available := []string{"<- AGENT_STATE_EVENT", `AgentID="1201"`, "AgentState=AGENT_STATE_AVAILABLE(3)"}
	before := dumpOut.count(available...)

	sendOut := newOutput()
	sctx, scancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer scancel()
	err := SendAddr(sctx, SendOptions{SessionOptions: SessionOptions{Addr: addr}}, "set_agent_state",
		[]string{"AgentID=1201", "AgentState=AVAILABLE"}, sendOut)
	if err != nil {
		t.Fatalf("send: %v\n%s", err, sendOut.String())
	}
	req := sendOut.waitLine(t, time.Second, "-> SET_AGENT_STATE_REQ", "AgentState=AGENT_STATE_AVAILABLE(3)", `AgentID="1201"`)
	if !strings.Contains(req, "PeripheralID=5000") {
		t.Errorf("PeripheralID not taken from OPEN_CONF: %s", req)
	}
	sendOut.waitLine(t, time.Second, "<- SET_AGENT_STATE_CONF InvokeID=")
	if strings.Contains(sendOut.String(), "OPEN_REQ") || strings.Contains(sendOut.String(), "EVENT") {
		t.Errorf("send without --follow printed more than the request and its answer:\n%s", sendOut.String())
	}
	dumpOut.waitCount(t, 10*time.Second, before, available...)

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("dump: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("dump did not stop")
	}
	out := dumpOut.String()
	for _, want := range []string{"-> OPEN_REQ InvokeID=1 VersionNumber=24 IdleTimeout=60", "-> CLOSE_REQ", "<- CLOSE_CONF"} {
		if !strings.Contains(out, want) {
			t.Errorf("dump output lacks %q", want)
		}
	}
	if t.Failed() {
		t.Log(out)
	}
}

func TestSendFailuresAreErrors(t *testing.T) {
	r := startLab(t)
	r.Begin()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out := newOutput()
	err := SendAddr(ctx, SendOptions{SessionOptions: SessionOptions{Addr: r.CTIAddr()}, Quiet: true}, "SET_AGENT_STATE_REQ",
		[]string{"AgentID=9999", "AgentState=AVAILABLE"}, out)
	var re *RefusedError
	if !errors.As(err, &re) || !strings.Contains(err.Error(), "CONTROL_FAILURE_CONF") || !strings.Contains(err.Error(), "FailureCode=CF_") {
		t.Fatalf("unknown agent: err %v", err)
	}
	out.waitLine(t, time.Second, "<- CONTROL_FAILURE_CONF", "FailureCode=CF_")

	// --follow shows the events after the confirmation, for the time asked.
	out = newOutput()
	err = SendAddr(ctx, SendOptions{SessionOptions: SessionOptions{Addr: r.CTIAddr(), JSON: true}, Follow: 20 * time.Second},
		"set_agent_state", []string{"AgentID=1202", "AgentState=NOT_READY", "EventReasonCode=101"}, &stopAfter{out, `"AgentID":"1202"`, cancel})
	if err != nil && !errors.Is(err, context.Canceled) {
		t.Fatalf("follow: %v", err)
	}
	out.waitLine(t, time.Second, `"msg":"SET_AGENT_STATE_CONF"`)
	out.waitLine(t, time.Second, `"msg":"AGENT_STATE_EVENT"`, `"AgentID":"1202"`)
}

// stopAfter cancels the follow once a line with want was written.
type stopAfter struct {
	*output
	want   string
	cancel context.CancelFunc
}

func (s *stopAfter) Write(p []byte) (int, error) {
	n, err := s.output.Write(p)
	if strings.Contains(string(p), `"msg":"AGENT_STATE_EVENT"`) && strings.Contains(string(p), s.want) {
		s.cancel()
	}
	return n, err
}

func TestDumpRefusedOpenAndDuration(t *testing.T) {
	r := startLab(t)
	out := newOutput()
	err := DumpAddr(context.Background(), DumpOptions{SessionOptions: SessionOptions{Addr: r.CTIAddr(), Version: 99}, Duration: 10 * time.Second}, out)
	var re *RefusedError
	if !errors.As(err, &re) || !strings.Contains(err.Error(), "E_CTI_INVALID_VERSION") {
		t.Fatalf("version 99: err %v", err)
	}
	out.waitLine(t, time.Second, "<- FAILURE_CONF InvokeID=1 Status=E_CTI_INVALID_VERSION(1)")

	out = newOutput()
	start := time.Now()
	err = DumpAddr(context.Background(), DumpOptions{SessionOptions: SessionOptions{Addr: r.CTIAddr(), Version: 13}, Duration: 300 * time.Millisecond}, out)
	if err != nil {
		t.Fatal(err)
	}
	if el := time.Since(start); el > 10*time.Second {
		t.Errorf("--duration 300ms took %v", el)
	}
	l := out.waitLine(t, time.Second, "-> OPEN_REQ", "VersionNumber=13")
	if strings.Contains(l, "CALL_AGENT_GREETING_MASK") {
		t.Errorf("PV13 OPEN_REQ asks for PV15 events: %s", l)
	}
	out.waitLine(t, time.Second, "<- CLOSE_CONF")

	if err := DumpAddr(context.Background(), DumpOptions{SessionOptions: SessionOptions{Addr: "127.0.0.1:1"}}, out); err == nil {
		t.Error("dump to a closed port succeeded")
	}
}
