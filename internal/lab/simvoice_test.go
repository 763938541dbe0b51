package lab

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"
	"github.com/pion/rtp"
)

func simulateVoice(t testing.TB, seed uint64, hours float64) *Report {
	t.Helper()
	rep, err := Simulate(context.Background(), SimOptions{Scenario: defaultScenario(t), Seed: seed,
		Duration: time.Duration(hours * float64(time.Hour)), Voice: true})
	if err != nil {
		t.Fatalf("seed %d: %v", seed, err)
	}
	return rep
}

// The default day with the voice path: every call goes through the fabric,
// the controller still sees a coherent centre (no mismatches), and the run
// is a pure function of the seed.
func TestSimulateWithVoice(t *testing.T) {
	const seed = 1
	a := simulateVoice(t, seed, 1)
	b := simulateVoice(t, seed, 1)
	if len(a.Mismatches) != 0 {
		t.Errorf("seed %d: mismatches with the voice path: %q", seed, a.Mismatches)
	}
	if a.Inbound.Offered == 0 || a.Inbound.Answered == 0 || a.Outbound.Connects == 0 {
		t.Errorf("seed %d: no traffic through the voice path: %+v %+v", seed, a.Inbound, a.Outbound)
	}
	a.WallSeconds, b.WallSeconds = 0, 0
	if a.EventsProcessed != b.EventsProcessed || !reflect.DeepEqual(a.Inbound, b.Inbound) || a.Outbound.Attempts != b.Outbound.Attempts {
		t.Errorf("seed %d: two runs with the voice path differ: %+v vs %+v", seed, a.Inbound, b.Inbound)
	}
	// Off is the default: the plain simulation does not schedule one more
	// event for it (BENCHMARKS and the other goldens depend on its figures).
	plain := simulate(t, defaultScenario(t), seed, 1, false)
	if plain.EventsProcessed >= a.EventsProcessed {
		t.Errorf("seed %d: the voice path added no events (%d vs %d)", seed, a.EventsProcessed, plain.EventsProcessed)
	}
	sc := defaultScenario(t)
	sc.Voice.Simulate = true
	viaScenario := simulate(t, sc, seed, 1, false)
	viaScenario.WallSeconds = 0
	if viaScenario.EventsProcessed != a.EventsProcessed || !reflect.DeepEqual(viaScenario.Inbound, a.Inbound) {
		t.Errorf("seed %d: voice.simulate and --voice differ: %+v vs %+v", seed, viaScenario.Inbound, a.Inbound)
	}
}

// simulate --voice --capture: the pcapng holds, beside the CTI link, the
// SIP messages (every one parses, with the gateway's Call-IDs) and the
// callers' RFC 4733 packets, in virtual time.
func TestSimulateVoiceCapture(t *testing.T) {
	const seed = 2
	path := filepath.Join(t.TempDir(), "voice.pcapng")
	// Few inbound agents, so that callers queue at IP-IVR and key their
	// accounts within the ten minutes.
	sc := defaultScenario(t)
	for i := range sc.Agents {
		if sc.Agents[i].Role == "inbound" {
			sc.Agents[i].Count = 2
		}
	}
	if _, err := Simulate(context.Background(), SimOptions{Scenario: sc, Seed: seed, Duration: 10 * time.Minute,
		Voice: true, Capture: path}); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rd, err := pcapgo.NewNgReader(f, pcapgo.DefaultNgReaderOptions)
	if err != nil {
		t.Fatal(err)
	}
	parser := sip.NewParser()
	var sipMsgs, events, tcp int
	methods := map[string]int{}
	// Each side of a dialog numbers its requests (RFC 3261 §12.2.1.1):
	// a request seen twice would be a retransmission to Wireshark, and
	// every BYE is answered.
	type reqKey struct {
		callID, fromTag, method string
		cseq                    uint32
	}
	seen := map[reqKey]bool{}
	byes := map[string]int{} // Call-ID and From tag of each BYE: its 200s minus it
	first, last := time.Time{}, time.Time{}
	for {
		data, ci, err := rd.ReadPacketData()
		if err != nil {
			break
		}
		if first.IsZero() {
			first = ci.Timestamp
		}
		last = ci.Timestamp
		pkt := gopacket.NewPacket(data, rd.LinkType(), gopacket.Default)
		if pkt.Layer(layers.LayerTypeTCP) != nil {
			tcp++
			continue
		}
		u, ok := pkt.Layer(layers.LayerTypeUDP).(*layers.UDP)
		if !ok {
			continue
		}
		if u.DstPort == 5060 {
			msg, err := parser.ParseSIP(u.Payload)
			if err != nil {
				t.Fatalf("seed %d: a SIP datagram does not parse: %v\n%s", seed, err, u.Payload)
			}
			sipMsgs++
			from, _ := msg.From().Params.Get("tag")
			k := reqKey{msg.CallID().Value(), from, string(msg.CSeq().MethodName), msg.CSeq().SeqNo}
			if r, ok := msg.(*sip.Request); ok {
				methods[string(r.Method)]++
				if seen[k] {
					t.Errorf("seed %d: %s %s CSeq %d sent twice in dialog %s", seed, r.Method, from, k.cseq, k.callID)
				}
				seen[k] = true
				if r.Method == sip.BYE {
					byes[k.callID+" "+from]--
				}
			} else if res := msg.(*sip.Response); k.method == "BYE" && res.StatusCode == 200 {
				if !seen[k] {
					t.Errorf("seed %d: 200 OK to a BYE never sent: CSeq %d in dialog %s", seed, k.cseq, k.callID)
				}
				byes[k.callID+" "+from]++
			}
			continue
		}
		var p rtp.Packet
		if err := p.Unmarshal(u.Payload); err == nil && p.PayloadType == 101 {
			events++
		}
	}
	if tcp == 0 || sipMsgs == 0 || events == 0 {
		t.Fatalf("seed %d: capture has %d CTI segments, %d SIP messages, %d RFC 4733 packets", seed, tcp, sipMsgs, events)
	}
	for d, n := range byes {
		if n != 0 {
			t.Errorf("seed %d: dialog %s: %d BYE without its 200 OK", seed, d, -n)
		}
	}
	for _, m := range []string{"INVITE", "ACK", "BYE", "REGISTER", "REFER", "CANCEL"} {
		if methods[m] == 0 {
			t.Errorf("seed %d: no %s in the capture (%v)", seed, m, methods)
		}
	}
	// Virtual time: the capture spans the simulated ten minutes, not the
	// wall time of the run.
	if span := last.Sub(first); span < 9*time.Minute || span > 11*time.Minute {
		t.Errorf("seed %d: capture spans %v, want about the simulated 10 minutes", seed, span)
	}
}

// BenchmarkSimulateDefaultDayVoice is the default scenario's 8 simulated
// hours without and with the voice path, side by side; the target is that
// the voice path at most doubles the wall time.
func BenchmarkSimulateDefaultDayVoice(b *testing.B) {
	for _, voice := range []bool{false, true} {
		name := "plain"
		if voice {
			name = "voice"
		}
		b.Run(name, func(b *testing.B) {
			sc := defaultScenario(b)
			var rep *Report
			for b.Loop() {
				var err error
				rep, err = Simulate(context.Background(), SimOptions{Scenario: sc, Seed: 1, Duration: 8 * time.Hour, Voice: voice})
				if err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(rep.EventsProcessed), "events/op")
			b.ReportMetric(float64(rep.Inbound.Offered+rep.Outbound.Attempts), "calls/op")
		})
	}
}
