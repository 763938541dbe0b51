package sipdialer

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/ipcclab/ipcclab/controller/dialer"
	"github.com/ipcclab/ipcclab/internal/sipnode"
)

var (
	someGW = netip.MustParseAddrPort("127.0.0.1:5070")
	someCM = netip.MustParseAddrPort("127.0.0.1:5080")
)

// Invalid configurations fail at New with errors that name the field; in
// particular no ring time under 15 s can be configured.
func TestConfigValidation(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
		want string
	}{
		{"no gateway", Config{CallManager: someCM}, "Config.Gateway"},
		{"no CallManager", Config{Gateway: someGW}, "Config.CallManager"},
		{"no-answer timeout under 15 s", Config{Gateway: someGW, CallManager: someCM, NoAnswerTimeout: 10 * time.Second}, "Config.NoAnswerTimeout"},
		{"min ring under 15 s", Config{Gateway: someGW, CallManager: someCM, MinRing: 12 * time.Second}, "Config.MinRing"},
		{"no-answer timeout under min ring", Config{Gateway: someGW, CallManager: someCM, MinRing: 20 * time.Second, NoAnswerTimeout: 18 * time.Second}, "Config.NoAnswerTimeout"},
		{"connect within over 2 s", Config{Gateway: someGW, CallManager: someCM, ConnectWithin: 3 * time.Second}, "Config.ConnectWithin"},
		{"IVR treatment without a number", Config{Gateway: someGW, CallManager: someCM, Machine: MachineToIVR}, "Config.MachineIVR"},
		{"AMD out of Cisco's range", Config{Gateway: someGW, CallManager: someCM, AMD: AMDConfig{Cisco: dialer.CPAConfig{MinSilence: 50 * time.Millisecond}}}, "Config.AMD.Cisco"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := New(tc.cfg)
			if err == nil {
				d.Close()
				t.Fatal("accepted")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q does not name %s", err, tc.want)
			}
		})
	}
	if err := (Config{Gateway: someGW, CallManager: someCM, NoAnswerTimeout: 15 * time.Second}).Validate(); err != nil {
		t.Fatalf("15 s refused: %v", err)
	}
}

// fakeGateway is a trunk that rejects every INVITE with status and a
// Q.850 Reason, counting them.
type fakeGateway struct {
	node    *sipnode.Node
	invites atomic.Int32
	// recorded reports whether the dialer's store write had happened when
	// the INVITE arrived.
	recorded func() bool
	early    atomic.Bool
}

func startFakeGateway(t *testing.T, status, cause int, recorded func() bool) *fakeGateway {
	t.Helper()
	g := &fakeGateway{recorded: recorded}
	node, err := sipnode.Start(sipnode.Config{Name: "fake-gateway", Addr: "127.0.0.1:0", OnInvite: func(in *sipnode.Incoming) {
		g.invites.Add(1)
		if g.recorded != nil && !g.recorded() {
			g.early.Store(true)
		}
		_ = in.Reject(status, "Busy Here", sip.NewHeader("Reason", fmt.Sprintf("Q.850;cause=%d;text=\"User busy\"", cause)))
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { node.Close() })
	g.node = node
	return g
}

func newTestDialer(t *testing.T, gw netip.AddrPort) *Dialer {
	t.Helper()
	d, err := New(Config{Gateway: gw, CallManager: someCM})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// The store write comes first: a failed write means no INVITE, and Dial
// reports the write's error; a successful one happens before the INVITE
// arrives. A busy line comes back busy with its Q.850 cause.
func TestStoreWriteBeforeInvite(t *testing.T) {
	var wrote atomic.Bool
	g := startFakeGateway(t, 486, 17, wrote.Load)
	d := newTestDialer(t, g.node.Addr())
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	boom := errors.New("store: disk full")
	res, err := d.Dial(ctx, Attempt{ID: "rec-1", Number: "15555550100", BeforeInvite: func() error { return boom }})
	if !errors.Is(err, boom) || res.Outcome != OutcomeNotPlaced {
		t.Fatalf("failed store write: %v, %+v", err, res)
	}
	time.Sleep(100 * time.Millisecond)
	if n := g.invites.Load(); n != 0 {
		t.Fatalf("%d INVITEs left although the attempt was not recorded", n)
	}

	res, err = d.Dial(ctx, Attempt{ID: "rec-2", Number: "15555550101", BeforeInvite: func() error { wrote.Store(true); return nil }})
	if err != nil {
		t.Fatal(err)
	}
	if g.invites.Load() != 1 || g.early.Load() {
		t.Fatalf("INVITEs %d, before the store write: %v", g.invites.Load(), g.early.Load())
	}
	if res.Outcome != OutcomeBusy || res.SIPStatus != 486 || res.Q850 != 17 || res.CallID == "" || !strings.HasPrefix(res.CallID, "rec-2-") {
		t.Fatalf("result %+v", res)
	}
}

// Attempts that break the rules are refused before anything happens.
func TestAttemptValidation(t *testing.T) {
	g := startFakeGateway(t, 486, 17, nil)
	d := newTestDialer(t, g.node.Addr())
	ok := func() error { return nil }
	for _, tc := range []struct {
		a    Attempt
		want string
	}{
		{Attempt{Number: "15555550100", RingTimeout: 10 * time.Second, BeforeInvite: ok}, "Attempt.RingTimeout"},
		{Attempt{Number: "555-0100", BeforeInvite: ok}, "Attempt.Number"},
		{Attempt{Number: "15555550100"}, "Attempt.BeforeInvite"},
	} {
		_, err := d.Dial(context.Background(), tc.a)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: error %v, want one naming %s", tc.a, err, tc.want)
		}
	}
	if n := g.invites.Load(); n != 0 {
		t.Fatalf("%d INVITEs for invalid attempts", n)
	}
}
