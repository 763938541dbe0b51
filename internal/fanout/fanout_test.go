package fanout

import (
	"context"
	"encoding/binary"
	"fmt"
	"runtime"
	"runtime/pprof"
	"strings"
	"testing"
	"time"

	"github.com/ipcclab/ipcclab/protocol/cti"
)

// TestFanOutSmoke runs a small fan-out over loopback TCP: every client must
// receive every event exactly once, in emit order (hence in order per
// agent), with nothing dropped and no goroutine left behind.
func TestFanOutSmoke(t *testing.T) {
	before := runtime.NumGoroutine()
	cfg := Config{Agents: 200, SkillGroups: 4, Clients: 4, Versions: []cti.ProtocolVersion{24, 15}, Events: 5000,
		Window: 500, Timeout: 20 * time.Second}
	start := time.Now()
	r, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Log(r)
	for _, p := range r.Problems {
		t.Error(p)
	}
	if r.Emitted != cfg.Events {
		t.Errorf("emitted %d events, want %d", r.Emitted, cfg.Events)
	}
	if want := int64(cfg.Events * cfg.Clients); r.Delivered != want {
		t.Errorf("delivered %d events, want %d", r.Delivered, want)
	}
	for i, c := range r.Clients {
		if c.Received != cfg.Events || c.Err != nil {
			t.Errorf("client %d (PV%d): %d of %d events, err %v", i, c.Version, c.Received, cfg.Events, c.Err)
		}
		if c.Other < 1 {
			t.Errorf("client %d: no SYSTEM_EVENT after OPEN_CONF", i)
		}
	}
	if r.Dropped != 0 || r.GeneratorErrors != 0 {
		t.Errorf("dropped %d clients, %d generator errors", r.Dropped, r.GeneratorErrors)
	}
	if r.Server.FramesOut < uint64(cfg.Events*cfg.Clients) {
		t.Errorf("server sent %d frames, want at least %d", r.Server.FramesOut, cfg.Events*cfg.Clients)
	}
	if el := time.Since(start); el > 10*time.Second {
		t.Errorf("smoke run took %v", el)
	}

	// Every goroutine the run started must be gone.
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		var sb strings.Builder
		_ = pprof.Lookup("goroutine").WriteTo(&sb, 1)
		t.Errorf("%d goroutines before the run, %d after:\n%s", before, n, sb.String())
	}
}

func TestFanOutRejectsBadConfig(t *testing.T) {
	for _, cfg := range []Config{
		{},
		{Agents: 10, SkillGroups: 1, Clients: 1, Events: 10},                                                    // no versions
		{Agents: 10, SkillGroups: 1, Clients: 1, Events: 10, Versions: []cti.ProtocolVersion{12}},               // unserved version
		{Agents: 1, SkillGroups: 1, Clients: 1, Events: 1 << 16, Versions: []cti.ProtocolVersion{24}},           // rounds overflow the reason code
		{Agents: 10, SkillGroups: 1, Clients: 1, Events: 10, Rate: -1, Versions: []cti.ProtocolVersion{24, 15}}, // negative rate
	} {
		if _, err := Run(context.Background(), cfg); err == nil {
			t.Errorf("Run(%+v) accepted", cfg)
		}
	}
}

func TestHistogramQuantiles(t *testing.T) {
	var h hist
	for i := 1; i <= 1000; i++ {
		h.add(time.Duration(i) * time.Microsecond)
	}
	for _, c := range []struct {
		q    float64
		want time.Duration
	}{{0.5, 500 * time.Microsecond}, {0.99, 990 * time.Microsecond}, {1, 1000 * time.Microsecond}} {
		got := h.quantile(c.q)
		if got < c.want || float64(got) > float64(c.want)*1.016 {
			t.Errorf("quantile(%v) = %v, want %v (+1.6 %%)", c.q, got, c.want)
		}
	}
	if h.max != uint64(time.Millisecond) {
		t.Errorf("max %v", time.Duration(h.max))
	}
	for v := uint64(0); v < 1<<20; v += 7 {
		if i := bucketOf(v); upper(i) < v || (i > 0 && upper(i-1) >= v) {
			t.Fatalf("value %d in bucket %d (upper %d, previous upper %d)", v, i, upper(i), upper(i-1))
		}
	}
}

// BenchmarkFanOut is issue 3's fan-out benchmark: 2,000 agents, 20 ALL_EVENTS
// clients (10 at PV24, 10 at PV15) over loopback TCP. "target" offers 5,500
// PG events/s, i.e. 110,000 events/s delivered (target: at least 100,000
// events/s, p99 under 10 ms, no client dropped); the faster paced runs show the headroom, "closed-loop"
// the throughput the server and the 20 decoding clients sustain together.
//
//	go test -run '^$' -bench BenchmarkFanOut -benchtime 1x ./internal/fanout/
func BenchmarkFanOut(b *testing.B) {
	cases := []struct {
		name   string
		rate   int
		events int
	}{
		{"target/pg=5500/s", 5500, 25000},
		{"pg=10000/s", 10000, 25000},
		{"pg=20000/s", 20000, 40000},
		{"closed-loop", 0, 50000},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			cfg := Target()
			cfg.Rate, cfg.Events = c.rate, c.events
			var last *Result
			for b.Loop() {
				r, err := Run(context.Background(), cfg)
				if err != nil {
					b.Fatal(err)
				}
				last = r
			}
			r := last
			b.Log(r)
			for _, p := range r.Problems {
				if !strings.Contains(p, "dropped") {
					b.Error(p)
				}
			}
			b.ReportMetric(r.DeliveredPerSec, "delivered/s")
			b.ReportMetric(float64(r.P50)/1e6, "p50-ms")
			b.ReportMetric(float64(r.P99)/1e6, "p99-ms")
			b.ReportMetric(float64(r.Max)/1e6, "max-ms")
			b.ReportMetric(float64(r.CPUUser+r.CPUSys)/1e6, "cpu-ms")
			b.ReportMetric(float64(r.CPUPerDelivery()), "cpu-ns/delivery")
			b.ReportMetric(float64(r.Dropped), "dropped")
			if c.rate == Target().Rate {
				met := r.DeliveredPerSec >= 100_000 && r.P99 < 10*time.Millisecond && r.Dropped == 0 && len(r.Problems) == 0
				b.Logf("issue 3 target (>= 100,000 events/s delivered, p99 < 10 ms, no drops): met=%v", met)
			}
		})
	}
}

// fanOutEvent is the AGENT_STATE_EVENT the CTI Server renders for one flip
// of the benchmark (an agent in two skill groups going NOT_READY).
func fanOutEvent() *cti.AgentStateEvent {
	return &cti.AgentStateEvent{
		PeripheralID: 5000, PeripheralType: cti.PTEnterpriseAgent, SkillGroupState: cti.AgentStateNotReady,
		SkillGroupNumber: cti.NullSkillGroup, SkillGroupID: cti.NullSkillGroup, AgentState: cti.AgentStateNotReady,
		EventReasonCode: 7, MRDID: 1, AgentMode: cti.AgentModeRoutable, MaxTaskLimit: 1, ICMAgentID: 111001,
		AgentID: "11001", AgentExtension: "41001", AgentInstrument: "41001", NumFltSkillGroups: 2,
		FltSkillGroups: []cti.FltSkillGroup{
			{FltSkillGroupNumber: 100, FltSkillGroupID: 5000, FltSkillGroupState: cti.AgentStateNotReady},
			{FltSkillGroupNumber: 101, FltSkillGroupID: 5001, FltSkillGroupState: cti.AgentStateNotReady},
		},
	}
}

// BenchmarkCodecFanOutEvent is the pure codec cost of the fan-out's event:
// the server encodes it once per protocol version in use, every client
// decodes it once.
func BenchmarkCodecFanOutEvent(b *testing.B) {
	m := fanOutEvent()
	for _, pv := range []cti.ProtocolVersion{24, 15} {
		frame, err := cti.AppendMessage(nil, m, pv)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("encode/PV%d", pv), func(b *testing.B) {
			buf := make([]byte, 0, 512)
			b.ReportAllocs()
			b.SetBytes(int64(len(frame)))
			for b.Loop() {
				if buf, err = cti.AppendMessage(buf[:0], m, pv); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("DecodeBody/PV%d", pv), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(frame)))
			mt := cti.MessageType(binary.BigEndian.Uint32(frame[4:]))
			for b.Loop() {
				if _, err := cti.DecodeBody(mt, frame[cti.HeaderSize:], pv); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
