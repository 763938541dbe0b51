package lab

import (
	"context"
	"encoding/binary"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/ipcclab/ipcclab/protocol/cti"
	"github.com/ipcclab/ipcclab/scenarios"
)

// With desktop.customers, the emulated callers key the customers' accounts
// (so the people on desktops get screen pops they can find), in both the
// plain simulation and the simulated voice path; keys a caller cannot key
// (not digits, longer than IP-IVR collects) are left out.
func TestCallersKeyTheCustomersAccounts(t *testing.T) {
	sc, err := scenarios.Load(filepath.Join("..", "..", "scenarios", "desk.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	accounts := CallerAccounts(sc)
	if len(accounts) == 0 || len(accounts) != len(sc.Desktop.Customers.Records) {
		t.Fatalf("%d accounts from %d customers", len(accounts), len(sc.Desktop.Customers.Records))
	}
	for _, voice := range []bool{false, true} {
		const seed = 3
		var keyed []string
		tap := func(_ time.Time, fromServer bool, f []byte) {
			if !fromServer || len(f) < cti.HeaderSize {
				return
			}
			switch cti.MessageType(binary.BigEndian.Uint32(f[4:8])) {
			case cti.MsgBeginCallEvent, cti.MsgCallDataUpdateEvent:
			default:
				return
			}
			msg, err := cti.DecodeMessage(f, cti.ProtocolVersion(24))
			if err != nil {
				return
			}
			switch e := msg.(type) {
			case *cti.BeginCallEvent:
				if e.CallerEnteredDigits != "" {
					keyed = append(keyed, e.CallerEnteredDigits)
				}
			case *cti.CallDataUpdateEvent:
				if e.CallerEnteredDigits != "" {
					keyed = append(keyed, e.CallerEnteredDigits)
				}
			}
		}
		if _, err := Simulate(context.Background(), SimOptions{Scenario: sc, Seed: seed, Duration: 30 * time.Minute, Voice: voice, Tap: tap}); err != nil {
			t.Fatal(err)
		}
		if len(keyed) == 0 {
			t.Fatalf("voice %v, seed %d: no caller keyed digits", voice, seed)
		}
		t.Logf("voice %v: %d callers keyed customers' accounts", voice, len(keyed))
		for _, k := range keyed {
			if !slices.Contains(accounts, k) {
				t.Fatalf("voice %v, seed %d: a caller keyed %q, no customer's account", voice, seed, k)
			}
		}
	}

	// Keys a caller cannot key are not drawn.
	sc.Desktop.Customers = &scenarios.CustomerFile{Records: []scenarios.Customer{{Key: "12345678"}, {Key: "123456789"}, {Key: "AB12"}, {Key: ""}}}
	if got := CallerAccounts(sc); !slices.Equal(got, []string{"12345678"}) {
		t.Errorf("CallerAccounts = %v, want [12345678]", got)
	}
	sc.Desktop.Customers = nil
	if got := CallerAccounts(sc); got != nil {
		t.Errorf("without a customer file: %v", got)
	}
}
