package dissector

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/ipcclab/ipcclab/pcaps/ctifields"
	"github.com/ipcclab/ipcclab/pcaps/ctifields/ctisample"
	"github.com/ipcclab/ipcclab/protocol/cti/spec"
)

var update = flag.Bool("update", false, "rewrite testdata/ged188.lua.golden")

// TestGoldenLua keeps the generated dissector under review: a change to the
// generator or the spec tables shows up as a diff of
// testdata/ged188.lua.golden (go test ./pcaps/dissector -update rewrites it).
func TestGoldenLua(t *testing.T) {
	var b bytes.Buffer
	if err := Generate(&b); err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "ged188.lua.golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (go test ./pcaps/dissector -update writes it)", err)
	}
	if !bytes.Equal(b.Bytes(), want) {
		gl, wl := strings.Split(b.String(), "\n"), strings.Split(string(want), "\n")
		for i := 0; i < min(len(gl), len(wl)); i++ {
			if gl[i] != wl[i] {
				t.Fatalf("generated Lua differs from %s at line %d:\n got %s\nwant %s\n(go test ./pcaps/dissector -update rewrites it)", golden, i+1, gl[i], wl[i])
			}
		}
		t.Fatalf("generated Lua differs from %s in length (%d vs %d lines)", golden, len(gl), len(wl))
	}
	var again bytes.Buffer
	if err := Generate(&again); err != nil || !bytes.Equal(again.Bytes(), b.Bytes()) {
		t.Fatal("Generate is not deterministic")
	}
}

// TestFieldNamingRule checks the abbreviation rule on the names the spec
// uses with several types or enumerations, and that abbreviations are
// unique.
func TestFieldNamingRule(t *testing.T) {
	m, err := buildModel()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		mt   uint32
		name string
		want string
	}{
		{30, "SkillGroupNumber", "ged188.SkillGroupNumber"},             // AGENT_STATE_EVENT fixed UINT (first use)
		{38, "SkillGroupNumber", "ged188.SkillGroupNumber_INT"},         // SET_AGENT_STATE_REQ float INT
		{30, "FltSkillGroupNumber", "ged188.FltSkillGroupNumber"},       // only ever INT
		{105, "AgentSkillTargetID", "ged188.AgentSkillTargetID"},        // AGENT_PRE_CALL_EVENT fixed UINT
		{236, "AgentSkillTargetID", "ged188.AgentSkillTargetID_USHORT"}, // CONFIG_SKILL_GROUP_EVENT float USHORT
		{5, "InvokeID", "ged188.InvokeID"},
	} {
		if got, ok := m.abbrev(c.mt, c.name); !ok || got != c.want {
			t.Errorf("%d %s: %s, want %s", c.mt, c.name, got, c.want)
		}
	}
	seen := map[string]bool{}
	for _, pf := range m.fields {
		if seen[pf.key] || reserved[pf.key] {
			t.Errorf("abbreviation ged188.%s used twice", pf.key)
		}
		seen[pf.key] = true
		if pf.label != strings.SplitN(pf.key, "_", 2)[0] && pf.label != pf.key {
			t.Errorf("ged188.%s labelled %s", pf.key, pf.label)
		}
	}
	if _, err := m.fieldKey("Body", spec.UINT, "", ""); err == nil {
		t.Error("a spec field named Body would collide with ged188.Body")
	}
}

// TestVersionClasses checks that the versions the dissector lumps together
// really decode alike: a body built for version v decodes with ctifields
// to the same fields at the class's representative version, and the
// classes cover every version the type exists in exactly once.
func TestVersionClasses(t *testing.T) {
	m, err := buildModel()
	if err != nil {
		t.Fatal(err)
	}
	for _, mm := range m.layouts {
		l := mm.l
		if !l.HasLayout {
			continue
		}
		var all uint32
		for _, c := range mm.classes {
			if all&c.mask != 0 || c.mask&(1<<c.rep) == 0 {
				t.Fatalf("%s: classes overlap or a representative is outside its class: %+v", l.Name, mm.classes)
			}
			all |= c.mask
			if c.mask&(1<<preferVersion) != 0 && c.rep != preferVersion {
				t.Errorf("%s: the class of version %d tries %d", l.Name, preferVersion, c.rep)
			}
			for v := uint32(1); v <= m.maxVersion; v++ {
				if c.mask&(1<<v) == 0 {
					continue
				}
				body, err := ctisample.Body(l.Type, v, ctisample.Options{Seed: int(v)})
				if err != nil {
					continue // cannot be built at v (e.g. a float needing 2-byte tags)
				}
				if l.SelfVersioned >= 0 {
					continue // OPEN_REQ carries its own version
				}
				at, err1 := ctifields.Decode(l.Type, body, v)
				rep, err2 := ctifields.Decode(l.Type, body, c.rep)
				at.Version, rep.Version = 0, 0
				if err1 != nil || err2 != nil || !reflect.DeepEqual(at, rep) {
					t.Errorf("%s: a version %d body decodes differently at %d (%v, %v)", l.Name, v, c.rep, err1, err2)
				}
			}
		}
		want := uint32(0)
		for v := max(l.Since, 1); v <= m.maxVersion; v++ {
			want |= 1 << v
		}
		if all != want {
			t.Errorf("%s: classes cover %#x, want %#x", l.Name, all, want)
		}
	}
}
