package lab

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ipcclab/ipcclab/emulator/callmanager"
	"github.com/ipcclab/ipcclab/scenarios"
)

func TestVoiceConfigDefaultsAndOverrides(t *testing.T) {
	sc, err := scenarios.Default()
	if err != nil {
		t.Fatal(err)
	}
	vs, err := VoiceConfig(sc)
	if err != nil {
		t.Fatal(err)
	}
	if !vs.Media || vs.DigitCount != 8 || vs.FirstDigitTimeout != 6*time.Second || vs.InterDigitTimeout != 3*time.Second ||
		vs.AnnouncementMs != 2000 || vs.TranslationRoutes != 7000 || vs.TranslationRouteCount != 2000 ||
		!reflect.DeepEqual(vs.Registrar, callmanager.RegistrarConfig{}) {
		t.Fatalf("default voice settings %+v", vs)
	}
	if st, _ := vs.Causes.Status(17); st != 486 || vs.Causes.Cause(400) != 41 {
		t.Fatalf("default cause map is not RFC 3398: 17→%d, 400→%d", st, vs.Causes.Cause(400))
	}

	off := false
	sc.Voice = scenarios.Voice{Media: &off,
		IVR:               scenarios.VoiceIVR{Digits: 4, FirstDigitTimeout: scenarios.Duration(10 * time.Second), Announcement: scenarios.Duration(1500 * time.Millisecond)},
		CauseMap:          scenarios.CauseMap{Preset: "audiocodes", Q850ToSIP: map[int]int{17: 600}, SIPToQ850: map[int]int{486: 34}},
		Registrar:         scenarios.Registrar{Rate: 1000, Burst: 2500, SourceRate: 200, SourceBurst: 1200},
		TranslationRoutes: scenarios.TranslationRoutes{First: 9000, Count: 50}}
	if vs, err = VoiceConfig(sc); err != nil {
		t.Fatal(err)
	}
	if vs.Media || vs.DigitCount != 4 || vs.FirstDigitTimeout != 10*time.Second || vs.InterDigitTimeout != 3*time.Second ||
		vs.AnnouncementMs != 1500 || vs.TranslationRoutes != 9000 || vs.TranslationRouteCount != 50 ||
		!reflect.DeepEqual(vs.Registrar, callmanager.RegistrarConfig{Rate: 1000, Burst: 2500, SourceRate: 200, SourceBurst: 1200}) {
		t.Fatalf("voice settings %+v", vs)
	}
	if st, _ := vs.Causes.Status(17); st != 600 || vs.Causes.Cause(486) != 34 || vs.Causes.Cause(400) != 31 {
		t.Fatalf("cause map: 17→%d, 486→%d, 400→%d (audiocodes gives 31)", st, vs.Causes.Cause(486), vs.Causes.Cause(400))
	}

	for _, tc := range []struct {
		cm   scenarios.CauseMap
		want string
	}{
		{scenarios.CauseMap{Preset: "cisco"}, "scenario default: voice.cause_map.preset: unknown preset \"cisco\" (valid: audiocodes, opensips, rfc3398)"},
		{scenarios.CauseMap{Q850ToSIP: map[int]int{17: 999}}, "scenario default: voice.cause_map.q850_to_sip[17]: status 999 out of range 300..699"},
		{scenarios.CauseMap{SIPToQ850: map[int]int{486: 200}}, "scenario default: voice.cause_map.sip_to_q850[486]: cause 200 out of range 1..127"},
	} {
		sc.Voice = scenarios.Voice{CauseMap: tc.cm}
		if _, err := VoiceConfig(sc); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: got %v, want %s", tc.cm, err, tc.want)
		}
	}
}

// The outbound outcome mix reaches the centre.
func TestCentreConfigCarriesOutcomeMix(t *testing.T) {
	sc, err := scenarios.Default()
	if err != nil {
		t.Fatal(err)
	}
	sc.Outbound.Machine, sc.Outbound.Fax, sc.Outbound.VacantNumber, sc.Outbound.NoCircuit, sc.Outbound.Reorder = 0.12, 0.01, 0.03, 0.01, 0.02
	o := CentreConfig(sc).Outbound
	if o.Answer != sc.Outbound.Answer || o.Busy != sc.Outbound.Busy || o.Machine != 0.12 || o.Fax != 0.01 || o.VacantNumber != 0.03 ||
		o.NoCircuit != 0.01 || o.Reorder != 0.02 || o.Fail != 0 {
		t.Fatalf("centre outbound %+v", o)
	}
}

// An agent group's RONA recovery reaches the centre, and a bad one is
// refused naming the field.
func TestRONARecoveryFromScenario(t *testing.T) {
	y := strings.Replace(string(scenarios.DefaultYAML()), "    answer_delay:", "    rona_recovery: {shape: fixed, mean: 20s}\n    answer_delay:", 1)
	sc, err := scenarios.Parse("rona.yaml", []byte(y))
	if err != nil {
		t.Fatal(err)
	}
	g := CentreConfig(sc).Agents[0]
	if g.RONARecovery.Mean != 20*time.Second {
		t.Fatalf("agents[0].rona_recovery reached the centre as %+v", g.RONARecovery)
	}
	bad := strings.Replace(string(scenarios.DefaultYAML()), "    answer_delay:", "    rona_recovery: {shape: fixed, mean: -5s}\n    answer_delay:", 1)
	if _, err := scenarios.Parse("bad.yaml", []byte(bad)); err == nil || !strings.Contains(err.Error(), "agents[0].rona_recovery") {
		t.Fatalf("negative rona_recovery: %v", err)
	}
}
