package scenarios

import (
	"errors"
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
