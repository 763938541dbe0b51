package pg

import (
	"testing"
	"time"

	"github.com/ipcclab/ipcclab/internal/sim"
)

// cti-protocol.md §4.5/§4.6: each outage is announced with a SYSTEM_EVENT
// whose PGStatus carries the bits of everything down at that moment.
func TestOutagesAreAnnouncedWithPGStatus(t *testing.T) {
	loop := sim.NewLoop(time.Date(2026, 1, 5, 8, 0, 0, 0, time.UTC))
	var got []*SystemEvent
	p, err := New(Config{Scheduler: loop, SkillGroups: []SkillGroupConfig{{Number: 100, ID: 5100}},
		Emit: func(e Event) {
			if s, ok := e.(*SystemEvent); ok {
				got = append(got, s)
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	p.SetCentralController(false)
	p.SetOnline(false)
	p.SetPGProcess(false)
	p.SetPGProcess(false) // no change, no event
	p.SetPGProcess(true)
	p.SetOnline(true)
	p.SetCentralController(true)
	want := []struct {
		id     SystemEventID
		status uint32
	}{
		{SysCentralControllerOffline, PGSCCDown},
		{SysPeripheralOffline, PGSCCDown | PGSPeripheralOffline},
		{SysPeripheralGatewayOffline, PGSCCDown | PGSPeripheralOffline | PGSOPCDown},
		{SysPeripheralOnline, PGSCCDown | PGSPeripheralOffline},
		{SysPeripheralOnline, PGSCCDown},
		{SysCentralControllerOnline, 0},
	}
	if len(got) != len(want) {
		t.Fatalf("%d system events, want %d", len(got), len(want))
	}
	for i, w := range want {
		if got[i].ID != w.id || got[i].PGStatus != w.status || got[i].Arg1 != 5000 {
			t.Errorf("event %d: %v status %#x, want %v %#x", i, got[i].ID, got[i].PGStatus, w.id, w.status)
		}
	}
	if p.PGStatus() != 0 {
		t.Fatalf("PGStatus %#x after recovery", p.PGStatus())
	}
}
