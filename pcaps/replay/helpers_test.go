package replay

import (
	"context"
	"encoding/binary"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/ipcclab/ipcclab/controller"
	"github.com/ipcclab/ipcclab/internal/lab"
	"github.com/ipcclab/ipcclab/protocol/cti"
	"github.com/ipcclab/ipcclab/scenarios"
)

// loadScenario reads one of the tests' scenarios from testdata.
func loadScenario(t testing.TB, name string) *scenarios.Scenario {
	t.Helper()
	sc, err := scenarios.Load("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

// controllerConfig is the reference controller's configuration for a
// scenario, as the lab builds it.
func controllerConfig(t testing.TB, sc *scenarios.Scenario) controller.Config {
	t.Helper()
	cfg, err := lab.ControllerConfig(sc, false)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// recorder is a recording TCP proxy between a CTI client and a CTI Server:
// it forwards whole frames both ways and keeps the first session as a
// Script, stamped with the time each frame crossed it.
type recorder struct {
	ln       net.Listener
	upstream string
	mu       sync.Mutex
	frames   []Frame
	// intercept, when set, sees every client frame and may keep it from
	// the server (drop) and answer it in the server's place (reply): test
	// doubles of a client that skips a request and of a server that
	// refuses one.
	intercept func(frame []byte) (drop bool, reply []byte)
	wg        sync.WaitGroup
	conns     []net.Conn
	taken     bool
	// wmu serialises the writes to the client, which come from both
	// directions' goroutines once intercept replies.
	wmu sync.Mutex
}

func newRecorder(t testing.TB, upstream string) *recorder {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &recorder{ln: ln, upstream: upstream}
	r.wg.Add(1)
	go r.accept()
	t.Cleanup(r.close)
	return r
}

func (r *recorder) addr() string { return r.ln.Addr().String() }

func (r *recorder) accept() {
	defer r.wg.Done()
	for {
		c, err := r.ln.Accept()
		if err != nil {
			return
		}
		r.mu.Lock()
		first := !r.taken
		r.taken = true
		r.mu.Unlock()
		if !first {
			// Only the first session is recorded; a reconnect after it
			// is refused.
			c.Close()
			continue
		}
		up, err := net.DialTimeout("tcp", r.upstream, 5*time.Second)
		if err != nil {
			c.Close()
			continue
		}
		r.mu.Lock()
		r.conns = append(r.conns, c, up)
		r.mu.Unlock()
		r.wg.Add(2)
		go r.pipe(c, up, true)
		go r.pipe(up, c, false)
	}
}

func (r *recorder) pipe(from, to net.Conn, fromClient bool) {
	defer r.wg.Done()
	defer to.Close()
	defer from.Close()
	buf := make([]byte, 4096)
	for {
		mt, body, err := cti.ReadFrame(from, buf)
		if err != nil {
			return
		}
		f := make([]byte, cti.HeaderSize+len(body))
		binary.BigEndian.PutUint32(f, uint32(len(body)))
		binary.BigEndian.PutUint32(f[4:], uint32(mt))
		copy(f[cti.HeaderSize:], body)
		if fromClient && r.intercept != nil {
			drop, reply := r.intercept(f)
			if reply != nil {
				r.wmu.Lock()
				_, err := from.Write(reply)
				r.wmu.Unlock()
				if err != nil {
					return
				}
			}
			if drop {
				continue
			}
		}
		r.mu.Lock()
		r.frames = append(r.frames, Frame{Time: time.Now(), FromClient: fromClient, Data: f})
		r.mu.Unlock()
		if !fromClient {
			r.wmu.Lock()
		}
		_, err = to.Write(f)
		if !fromClient {
			r.wmu.Unlock()
		}
		if err != nil {
			return
		}
	}
}

func (r *recorder) close() {
	r.ln.Close()
	r.mu.Lock()
	for _, c := range r.conns {
		c.Close()
	}
	r.mu.Unlock()
	r.wg.Wait()
}

func (r *recorder) script(name string) Script {
	r.mu.Lock()
	defer r.mu.Unlock()
	return Script{Name: name, Frames: append([]Frame(nil), r.frames...)}
}

// dropFirst is an intercept that keeps the first client message of type mt
// from the server: a client that skips that request.
func dropFirst(mt cti.MessageType) func([]byte) (bool, []byte) {
	done := false
	return func(f []byte) (bool, []byte) {
		if done || cti.MessageType(binary.BigEndian.Uint32(f[4:])) != mt {
			return false, nil
		}
		done = true
		return true, nil
	}
}

// refuseFirst is an intercept that answers the first client message of
// type mt with FAILURE_CONF in the server's place: a server that refuses
// that request.
func refuseFirst(t testing.TB, mt cti.MessageType, pv cti.ProtocolVersion) func([]byte) (bool, []byte) {
	done := false
	return func(f []byte) (bool, []byte) {
		if done || cti.MessageType(binary.BigEndian.Uint32(f[4:])) != mt {
			return false, nil
		}
		done = true
		inv, _ := cti.InvokeIDFromBody(f[cti.HeaderSize:])
		b, err := cti.AppendMessage(nil, &cti.FailureConf{InvokeID: inv, Status: cti.StatusInvalidObjectState}, pv)
		if err != nil {
			t.Error(err)
		}
		return true, b
	}
}

// recordLive runs the scenario's emulator in real time and the reference
// controller against it through a recording proxy for d, and returns the
// controller's CTI session.
func recordLive(t testing.TB, sc *scenarios.Scenario, seed uint64, d time.Duration) Script {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d+30*time.Second)
	defer cancel()
	r, err := lab.Start(ctx, lab.UpOptions{Scenario: sc, Seed: seed, CTIAddr: "127.0.0.1:0", NoController: true})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Stop()
	rec := newRecorder(t, r.CTIAddr())
	h, err := controller.Start(ctx, controllerConfig(t, sc), rec.addr())
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(d)
	h.Stop()
	rec.close()
	return rec.script(sc.Name + " (live)")
}

// recordSim runs the scenario in virtual time for d and returns the
// controller's CTI session, stamped with virtual time.
func recordSim(t testing.TB, sc *scenarios.Scenario, seed uint64, d time.Duration) Script {
	t.Helper()
	s := Script{Name: sc.Name + " (simulated)"}
	_, err := lab.Simulate(context.Background(), lab.SimOptions{Scenario: sc, Seed: seed, Duration: d,
		Tap: func(at time.Time, fromServer bool, frame []byte) {
			s.Frames = append(s.Frames, Frame{Time: at, FromClient: !fromServer, Data: append([]byte(nil), frame...)})
		}})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// replayToController serves the script to a freshly started reference
// controller configured from sc. With intercept set, a proxy between the
// controller and the replay applies it to the controller's messages.
func replayToController(t testing.TB, sc *scenarios.Scenario, s Script, o Options, intercept func([]byte) (bool, []byte)) *Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	addr := ln.Addr().String()
	if intercept != nil {
		p := newRecorder(t, addr)
		p.intercept = intercept
		addr = p.addr()
	}
	h, err := controller.Start(ctx, controllerConfig(t, sc), addr)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Stop()
	conn, err := acceptWithin(ln, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	res, err := Serve(ctx, conn, s, o)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// acceptWithin accepts one connection or gives up after d.
func acceptWithin(ln net.Listener, d time.Duration) (net.Conn, error) {
	if tl, ok := ln.(*net.TCPListener); ok {
		_ = tl.SetDeadline(time.Now().Add(d))
	}
	return ln.Accept()
}
