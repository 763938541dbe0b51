package scenarios

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestDefaultScenarioIsValidAndBelievable(t *testing.T) {
	s, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	total := map[string]int{}
	for _, g := range s.Agents {
		total[g.Role] += g.Count
	}
	all := total[RoleInbound] + total[RoleBlended] + total[RoleOutbound]
	if all < 100 || all > 140 || total[RoleInbound] == 0 || total[RoleBlended] == 0 || total[RoleOutbound] == 0 {
		t.Fatalf("default scenario should be a ~120-agent centre with all three roles, got %v", total)
	}
	if len(s.ICM.SkillGroups) != 2 {
		t.Fatalf("want two skill groups, got %d", len(s.ICM.SkillGroups))
	}
	for _, ct := range s.ICM.CallTypes {
		if ct.ServiceLevelType != 2 {
			t.Fatalf("call type %s: want ServiceLevelType 2 (abandons count negatively)", ct.Name)
		}
	}
	if !s.Outbound.Enabled || !s.Controller.Blend.Enabled {
		t.Fatal("default scenario must run an outbound campaign with blending")
	}
	if got := s.StartTime().Format("15:04"); got != "08:00" {
		t.Fatalf("start %s", got)
	}
	if s.ICM.CallTypes[0].Arrivals.Segment.D() != 30*time.Minute {
		t.Fatal("segment")
	}
}

func TestBadScenariosNameFileLineAndField(t *testing.T) {
	base := string(DefaultYAML())
	cases := []struct {
		name string
		edit func(string) string
		want []string
	}{
		{
			name: "unknown field",
			edit: func(s string) string { return strings.Replace(s, "  peripheral_id: 5000", "  peripheral_idd: 5000", 1) },
			want: []string{"bad.yaml:16: icm.peripheral_idd: field peripheral_idd not found"},
		},
		{
			name: "bad duration",
			edit: func(s string) string {
				return strings.Replace(s, "ring_no_answer_timeout: 15s", "ring_no_answer_timeout: soon", 1)
			},
			want: []string{"bad.yaml:18: icm.ring_no_answer_timeout: not a duration"},
		},
		{
			name: "desktop outbound-only agents",
			edit: func(s string) string {
				return strings.Replace(s, "  - name: outbound\n    role: outbound\n", "  - name: outbound\n    role: outbound\n    desktop: true\n", 1)
			},
			want: []string{"agents[3].desktop: only agents defined in ICM (inbound or blended) can be driven from a desktop"},
		},
		{
			name: "desktop agents with emulated preview answers",
			edit: func(s string) string {
				return strings.Replace(s, "  - name: sales\n    role: inbound\n", "  - name: sales\n    role: inbound\n    desktop: true\n    preview: {accept: 1}\n", 1)
			},
			want: []string{"agents[0].preview: desktop agents answer previews on their desktop; remove preview"},
		},
		{
			name: "zero count",
			edit: func(s string) string { return strings.Replace(s, "count: 36", "count: 0", 1) },
			want: []string{"bad.yaml:47: agents[0].count: must be between 1 and 20000, got 0"},
		},
		{
			name: "unknown skill group in routing script",
			edit: func(s string) string {
				return strings.Replace(s, "{skill_group: 200, priority: 5}", "{skill_group: 300, priority: 11}", 1)
			},
			want: []string{
				"icm.call_types[1].targets[0].skill_group: unknown skill group 300",
				"icm.call_types[1].targets[0].priority: queue priority must be 1-10, got 11",
			},
		},
		{
			name: "bad service level type",
			edit: func(s string) string {
				return strings.Replace(s, "service_level_type: 2}\n    - {number: 200", "service_level_type: 4}\n    - {number: 200", 1)
			},
			want: []string{"bad.yaml:20: icm.skill_groups[0].service_level_type: must be 1 (ignore abandons)"},
		},
		{
			name: "overlapping agent IDs",
			edit: func(s string) string { return strings.Replace(s, "first_agent_id: 1101", "first_agent_id: 1030", 1) },
			want: []string{"agents[1].first_agent_id: agent ID 1030 overlaps group agents[0]"},
		},
		{
			name: "bad role and defined_in",
			edit: func(s string) string {
				return strings.Replace(s, "role: outbound\n", "role: outboundd\n    defined_in: [pbx]\n", 1)
			},
			want: []string{"agents[3].role: must be inbound, blended or outbound", "agents[3].defined_in[0]: must be icm or controller"},
		},
		{
			name: "outbound outcomes over 1",
			edit: func(s string) string {
				return strings.Replace(s, "  machine: 0 ", "  machine: 0.6 ", 1)
			},
			want: []string{"bad.yaml:85: outbound.answer: answer (0.35), busy (0.1), machine (0.6), fax (0), vacant_number (0), no_circuit (0) and reorder (0) must add up to at most 1, got 1.05"},
		},
		{
			name: "negative outcome",
			edit: func(s string) string { return strings.Replace(s, "  fax: 0 ", "  fax: -0.1 ", 1) },
			want: []string{"bad.yaml:93: outbound.fax: must be a probability between 0 and 1, got -0.1"},
		},
		{
			name: "dialer ports overlapping agents and a bad fate",
			edit: func(s string) string {
				return strings.Replace(s, "  number_prefix: \"1555\"\n",
					"  number_prefix: \"1555\"\n  dialer_ports: {count: 8, first_extension: 2320}\n  fate: per_numbr\n", 1)
			},
			want: []string{
				"bad.yaml:101: outbound.dialer_ports.first_extension: port extension 2320 overlaps group agents[3]",
				"bad.yaml:102: outbound.fate: must be stream or per_number, got \"per_numbr\"",
			},
		},
		{
			name: "negative dialer port count",
			edit: func(s string) string {
				return strings.Replace(s, "  number_prefix: \"1555\"\n", "  number_prefix: \"1555\"\n  dialer_ports:\n    count: -2\n", 1)
			},
			want: []string{"bad.yaml:102: outbound.dialer_ports.count: must be between 0 (none) and 20000, got -2"},
		},
		{
			name: "dialer ports without a first extension",
			edit: func(s string) string {
				return strings.Replace(s, "  number_prefix: \"1555\"\n", "  number_prefix: \"1555\"\n  dialer_ports: {count: 4}\n", 1)
			},
			want: []string{"bad.yaml:101: outbound.dialer_ports.first_extension: must be positive, got 0"},
		},
		{
			name: "translation routes over the dialer ports",
			edit: func(s string) string {
				s = strings.Replace(s, "  number_prefix: \"1555\"\n", "  number_prefix: \"1555\"\n  dialer_ports: {count: 8, first_extension: 7990}\n", 1)
				return strings.Replace(s, "first: 7000", "first: 7995", 1)
			},
			want: []string{"voice.translation_routes.first: routes 7995-9994 overlap extension 7995 of outbound.dialer_ports"},
		},
		{
			name: "simulated voice: hop latency over a second",
			edit: func(s string) string {
				return strings.Replace(s, "\nvoice:\n", "\nvoice:\n  simulate: true\n  hop_latency: 5s\n", 1)
			},
			want: []string{"voice.hop_latency: must be between 0 (default 2ms) and 1s, got 5s"},
		},
		{
			name: "simulated voice: negative hop latency",
			edit: func(s string) string { return strings.Replace(s, "\nvoice:\n", "\nvoice:\n  hop_latency: -1ms\n", 1) },
			want: []string{"voice.hop_latency: must be between 0 (default 2ms) and 1s, got -1ms"},
		},
		{
			name: "simulated voice: simulate is not a boolean",
			edit: func(s string) string { return strings.Replace(s, "\nvoice:\n", "\nvoice:\n  simulate: sometimes\n", 1) },
			want: []string{"voice.simulate", "sometimes"},
		},
		{
			name: "bad voice section",
			edit: func(s string) string {
				s = strings.Replace(s, "digits: 8 ", "digits: 40 ", 1)
				s = strings.Replace(s, "first_digit_timeout: 6s", "first_digit_timeout: -1s", 1)
				s = strings.Replace(s, "preset: rfc3398 ", "preset: cisco ", 1)
				s = strings.Replace(s, "q850_to_sip: {} ", "q850_to_sip: {17: 486, 200: 486, 34: 200} ", 1)
				s = strings.Replace(s, "sip_to_q850: {} ", "sip_to_q850: {486: 0}\n  registrar: {rate: -5} ", 1)
				return strings.Replace(s, "first: 7000", "first: 2001", 1)
			},
			want: []string{
				"bad.yaml:125: voice.ivr.digits: must be between 1 and 32 (0: default 8), got 40",
				"bad.yaml:126: voice.ivr.first_digit_timeout: must be between 0 (default) and 1m0s, got -1s",
				"bad.yaml:130: voice.cause_map.preset: must be rfc3398, audiocodes or opensips, got \"cisco\"",
				"bad.yaml:131: voice.cause_map.q850_to_sip.200: Q.850 cause must be 1-127, got 200",
				"bad.yaml:131: voice.cause_map.q850_to_sip.34: SIP status must be a final failure response 300-699, got 200",
				"bad.yaml:132: voice.cause_map.sip_to_q850.486: Q.850 cause must be 1-127, got 0",
				"bad.yaml:133: voice.registrar.rate: must be between 0 (default) and 1000000 REGISTERs, got -5",
				"voice.translation_routes.first: routes 2001-4000 overlap extension 2001 of agents[0]",
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("bad.yaml", []byte(tc.edit(base)))
			if err == nil {
				t.Fatal("bad scenario accepted")
			}
			var se *Error
			if !errors.As(err, &se) {
				t.Fatalf("error %T %v is not a *scenarios.Error", err, err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error\n%s\ndoes not contain\n%s", err, w)
				}
			}
		})
	}
}

func TestEmptyAndNonYAMLFiles(t *testing.T) {
	for _, in := range []string{"", "\x00\x01garbage: [", "- just\n- a list\n"} {
		if _, err := Parse("x.yaml", []byte(in)); err == nil {
			t.Errorf("%q accepted", in)
		} else if !strings.Contains(err.Error(), "x.yaml") {
			t.Errorf("%q: error %v does not name the file", in, err)
		}
	}
}

func TestDefinedInFollowsRole(t *testing.T) {
	cases := []struct {
		g             AgentGroup
		icm, ctrlSide bool
	}{
		{AgentGroup{Role: RoleInbound}, true, false},
		{AgentGroup{Role: RoleBlended}, true, true},
		{AgentGroup{Role: RoleOutbound}, false, true},
		{AgentGroup{Role: RoleBlended, DefinedIn: []string{"controller"}}, false, true},
	}
	for _, c := range cases {
		if c.g.IsDefinedIn(DefinedInICM) != c.icm || c.g.IsDefinedIn(DefinedInController) != c.ctrlSide {
			t.Errorf("%+v", c.g)
		}
	}
}

// The outbound outcome mix and the voice section parse; absent voice fields
// are zero (the real driver resolves them to defaults) except media, which
// defaults to on.
func TestOutcomeMixAndVoiceSection(t *testing.T) {
	s, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	o := s.Outbound
	if o.Answer != 0.35 || o.Busy != 0.10 || o.Machine != 0 || o.Fax != 0 || o.VacantNumber != 0 || o.NoCircuit != 0 || o.Reorder != 0 {
		t.Fatalf("default outbound mix changed (README/BENCHMARKS figures depend on it): %+v", o)
	}
	v := s.Voice
	if !v.MediaOn() || v.IVR.Digits != 8 || v.IVR.FirstDigitTimeout.D() != 6*time.Second || v.IVR.InterDigitTimeout.D() != 3*time.Second ||
		v.IVR.Announcement.D() != 2*time.Second || v.CauseMap.Preset != CauseMapRFC3398 ||
		v.TranslationRoutes != (TranslationRoutes{First: DefaultTranslationRouteFirst, Count: DefaultTranslationRouteCount}) {
		t.Fatalf("default voice section %+v", v)
	}

	text := string(DefaultYAML())
	text = text[:strings.Index(text, "\nvoice:")] + `
voice:
  media: false
  cause_map:
    preset: AudioCodes
    q850_to_sip: {17: 486, 34: 503}
    sip_to_q850: {486: 17}
  registrar: {rate: 1000, burst: 2500, source_rate: 200, source_burst: 1200}
`
	text = strings.Replace(text, "  answer: 0.35 ", "  answer: 0.30 ", 1)
	text = strings.Replace(text, "  busy: 0.10\n", "  busy: 0.08\n", 1)
	for k, v := range map[string]string{"machine": "0.12", "fax": "0.01", "vacant_number": "0.03", "no_circuit": "0.01", "reorder": "0.01"} {
		text = strings.Replace(text, "  "+k+": 0 ", "  "+k+": "+v+" ", 1)
	}
	s, err = Parse("mix.yaml", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	o = s.Outbound
	if o.Answer != 0.30 || o.Busy != 0.08 || o.Machine != 0.12 || o.Fax != 0.01 || o.VacantNumber != 0.03 || o.NoCircuit != 0.01 || o.Reorder != 0.01 {
		t.Fatalf("outbound %+v", o)
	}
	v = s.Voice
	if v.MediaOn() || v.IVR != (VoiceIVR{}) || v.TranslationRoutes != (TranslationRoutes{}) || v.CauseMap.Preset != "AudioCodes" ||
		v.CauseMap.Q850ToSIP[17] != 486 || v.CauseMap.Q850ToSIP[34] != 503 || v.CauseMap.SIPToQ850[486] != 17 ||
		v.Registrar != (Registrar{Rate: 1000, Burst: 2500, SourceRate: 200, SourceBurst: 1200}) {
		t.Fatalf("voice %+v", v)
	}

	// Without a voice section media is on and everything else is zero.
	text = string(DefaultYAML())
	s, err = Parse("novoice.yaml", []byte(text[:strings.Index(text, "\n# The real voice path")]))
	if err != nil {
		t.Fatal(err)
	}
	if !s.Voice.MediaOn() || s.Voice.IVR != (VoiceIVR{}) || s.Voice.CauseMap.Preset != "" {
		t.Fatalf("absent voice section: %+v", s.Voice)
	}
}

// Dialer ports and the per-number fate parse; by default there are no ports
// and fates come from the stream.
func TestDialerPortsAndFate(t *testing.T) {
	s, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	if s.Outbound.DialerPorts != (DialerPorts{}) || s.Outbound.DialerPorts.Extensions() != nil || s.Outbound.Fate != FateStream {
		t.Fatalf("default: dialer ports %+v, fate %q", s.Outbound.DialerPorts, s.Outbound.Fate)
	}
	text := strings.Replace(string(DefaultYAML()), "  number_prefix: \"1555\"\n",
		"  number_prefix: \"1555\"\n  dialer_ports: {count: 3, first_extension: 3001}\n  fate: per_number\n", 1)
	s, err = Parse("ports.yaml", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(s.Outbound.DialerPorts.Extensions(), ","); got != "3001,3002,3003" || s.Outbound.Fate != FatePerNumber {
		t.Fatalf("dialer ports %q, fate %q", got, s.Outbound.Fate)
	}
}

// TestPacingModesAndStrategies: the outbound scenario is valid, and every
// bad pacing setting is reported with its field.
func TestPacingModesAndStrategies(t *testing.T) {
	o, err := Embedded("outbound")
	if err != nil {
		t.Fatal(err)
	}
	if o.Controller.Pacing.Mode != PacingPool || o.Outbound.Fate != FatePerNumber || o.Outbound.DialerPorts.Count == 0 {
		t.Fatalf("outbound scenario: pacing %+v, fate %q, ports %+v", o.Controller.Pacing, o.Outbound.Fate, o.Outbound.DialerPorts)
	}
	if _, err := Embedded("nosuch"); err == nil {
		t.Fatal("Embedded(nosuch): no error")
	}
	base := string(DefaultYAML())
	for _, tc := range []struct {
		pacing, want string
	}{
		{"    mode: burst\n", "controller.pacing.mode: must be agent, pool or preview"},
		{"    mode: pool\n", "controller.pacing.mode: pool mode places calls from dialer ports"},
		{"    strategy: magic\n", "controller.pacing.strategy: unknown strategy \"magic\""},
		{"    strategy: ratio-0.5\n", "controller.pacing.strategy: unknown strategy \"ratio-0.5\""},
		{"    abandon_limit: 3\n", "controller.pacing.abandon_limit: must be a fraction"},
		{"    connect_within: 5s\n", "controller.pacing.connect_within: must be at most 2s"},
		{"    abandon_window: 10m\n", "controller.pacing.abandon_window: must be between 1h and 8784h"},
		{"    abandon_window: 9000h\n", "controller.pacing.abandon_window: must be between 1h and 8784h"},
	} {
		y := strings.Replace(base, "  pacing:\n", "  pacing:\n"+tc.pacing, 1)
		_, err := Parse("bad.yaml", []byte(y))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want %q", tc.pacing, err, tc.want)
		}
	}
	for _, good := range []string{"    strategy: ratio-1.25\n", "    strategy: vicidial-tapered\n", "    mode: agent\n", "    abandon_window: 24h\n"} {
		if _, err := Parse("good.yaml", []byte(strings.Replace(base, "  pacing:\n", "  pacing:\n"+good, 1))); err != nil {
			t.Errorf("%q: %v", good, err)
		}
	}
}

func TestBlendModes(t *testing.T) {
	base := string(DefaultYAML())
	for _, mode := range []string{"reactive", "reserve"} {
		if _, err := Parse("good.yaml", []byte(strings.Replace(base, "  blend:\n", "  blend:\n    mode: "+mode+"\n", 1))); err != nil {
			t.Errorf("mode %s: %v", mode, err)
		}
	}
	_, err := Parse("bad.yaml", []byte(strings.Replace(base, "  blend:\n", "  blend:\n    mode: eager\n", 1)))
	if err == nil || !strings.Contains(err.Error(), "controller.blend.mode: must be reactive or reserve") {
		t.Errorf("mode eager: %v", err)
	}
}

// TestEveryShippedScenarioIsValid: the scenario files in this directory
// (embedded or referenced from BENCHMARKS.md) all parse.
func TestEveryShippedScenarioIsValid(t *testing.T) {
	files, err := filepath.Glob("*.yaml")
	if err != nil || len(files) < 3 {
		t.Fatalf("scenario files: %v %v", files, err)
	}
	for _, f := range files {
		if _, err := Load(f); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
}

// TestReserveAgentsAndBorrow: a planned reserve and a borrow parse in
// reserve mode; in reactive mode, negative, or a borrow above the reserve,
// they are refused with the field named, not ignored.
func TestReserveAgentsAndBorrow(t *testing.T) {
	base := string(DefaultYAML())
	with := func(lines string) error {
		_, err := Parse("s.yaml", []byte(strings.Replace(base, "  blend:\n", "  blend:\n"+lines, 1)))
		return err
	}
	if err := with("    mode: reserve\n    reserve_agents: 5\n"); err != nil {
		t.Fatalf("planned 5: %v", err)
	}
	// The borrow is taken from the shared idle pool of pool pacing: the
	// shipped §5.6 D scenario has both.
	sc, err := Load("blended-frontier.yaml")
	if err != nil || sc.Controller.Blend.ReserveAgents != 5 || sc.Controller.Blend.ReserveBorrow != 2 {
		t.Fatalf("blended-frontier.yaml: %v, blend %+v", err, sc.Controller.Blend)
	}
	for _, tc := range []struct{ lines, want string }{
		{"    reserve_agents: 5\n", "controller.blend.reserve_agents: reserve_agents and reserve_borrow need mode: reserve"},
		{"    mode: reserve\n    reserve_agents: -1\n", "controller.blend.reserve_agents: reserve_agents -1"},
		{"    mode: reserve\n    reserve_agents: 2\n    reserve_borrow: 3\n", "controller.blend.reserve_borrow: must be at most reserve_agents (2), got 3"},
		{"    mode: reserve\n    reserve_borrow: 1\n", "controller.blend.reserve_borrow: needs controller.pacing.mode: pool"},
	} {
		if err := with(tc.lines); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: %v, want %q", tc.lines, err, tc.want)
		}
	}
}
