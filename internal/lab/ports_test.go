package lab

import (
	"strings"
	"testing"

	"github.com/ipcclab/ipcclab/emulator/centre"
	"github.com/ipcclab/ipcclab/internal/sim"
	"github.com/ipcclab/ipcclab/scenarios"
)

// outbound.dialer_ports and outbound.fate reach the centre; the default
// scenario has neither.
func TestCentreConfigCarriesDialerPortsAndFate(t *testing.T) {
	sc, err := scenarios.Default()
	if err != nil {
		t.Fatal(err)
	}
	if cfg := CentreConfig(sc); cfg.DialerPorts != nil || cfg.Outbound.PerNumberFate {
		t.Fatalf("default scenario: dialer ports %v, per-number fate %v", cfg.DialerPorts, cfg.Outbound.PerNumberFate)
	}
	text := strings.Replace(string(scenarios.DefaultYAML()), "  number_prefix: \"1555\"\n",
		"  number_prefix: \"1555\"\n  dialer_ports: {count: 4, first_extension: 3001}\n  fate: per_number\n", 1)
	if sc, err = scenarios.Parse("ports.yaml", []byte(text)); err != nil {
		t.Fatal(err)
	}
	cfg := CentreConfig(sc)
	if strings.Join(cfg.DialerPorts, ",") != "3001,3002,3003,3004" || !cfg.Outbound.PerNumberFate {
		t.Fatalf("dialer ports %v, per-number fate %v", cfg.DialerPorts, cfg.Outbound.PerNumberFate)
	}
	c, err := centre.New(cfg, sim.NewLoop(sc.StartTime()), sc.Seed)
	if err != nil {
		t.Fatal(err)
	}
	if ls := c.PG().Lines(); len(ls) != 24+4 || ls[24].Extension != "3001" || len(c.Agents()) != 120 {
		t.Fatalf("%d PG lines, %d agents", len(ls), len(c.Agents()))
	}
}
