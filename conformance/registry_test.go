package conformance

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// registryPath is the golden registry: every spec, the documented step it
// belongs to and the MUST statement it proves.
const registryPath = "testdata/conformance.yaml"

type registry struct {
	Steps map[string]string `yaml:"steps"`
	Specs []registryEntry   `yaml:"specs"`
}

type registryEntry struct {
	ID   string `yaml:"id"`
	Step string `yaml:"step"`
	Spec string `yaml:"spec"`
	Must string `yaml:"must"`
	// Section is the reference section the spec proves ("cti-protocol.md
	// §5.2"); required for the protocol labels.
	Section string `yaml:"section"`
}

// sectionRE is a reference section: a document of /work/shared/reference
// (as the team calls it) and a § number.
var sectionRE = regexp.MustCompile(`^(cti-protocol|ipcc-behaviour|dialer-anchors)\.md §[0-9]+(\.[0-9]+)*( ?\([a-e]\))?(, (cti-protocol\.md |ipcc-behaviour\.md |dialer-anchors\.md )?§[0-9]+(\.[0-9]+)*( ?\([a-e]\))?)*$`)

func loadRegistry(path string) (*registry, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	dec := yaml.NewDecoder(strings.NewReader(string(b)))
	dec.KnownFields(true)
	var r registry
	if err := dec.Decode(&r); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &r, nil
}

func (r *registry) byID() map[string]registryEntry {
	m := map[string]registryEntry{}
	for _, e := range r.Specs {
		m[e.ID] = e
	}
	return m
}

var idRE = regexp.MustCompile(`^\[([A-Z][0-9A-Za-z.-]*)\] `)

// specID extracts the registry ID a spec's text starts with ("[C2.1] ...").
func specID(text string) (string, bool) {
	m := idRE.FindStringSubmatch(text)
	if m == nil {
		return "", false
	}
	return m[1], true
}

// sourceSpec is an It found in the suite's sources.
type sourceSpec struct {
	ID, Text, Pos string
	Labels        []string // labels of the It and its enclosing containers
}

var specFuncs = map[string]bool{"It": true, "FIt": true, "PIt": true, "XIt": true, "Specify": true, "FSpecify": true, "PSpecify": true, "XSpecify": true}
var containerFuncs = map[string]bool{"Describe": true, "Context": true, "When": true, "FDescribe": true, "FContext": true, "FWhen": true, "PDescribe": true, "PContext": true, "XDescribe": true, "XContext": true}

// sourceSpecs parses every _test.go file of the suite and returns its specs.
// A spec whose text is not a string literal is an error: the registry must
// be checkable without running the suite.
func sourceSpecs(dir string) ([]sourceSpec, []string, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*_test.go"))
	if err != nil {
		return nil, nil, err
	}
	fset := token.NewFileSet()
	var specs []sourceSpec
	var problems []string
	for _, path := range files {
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return nil, nil, err
		}
		var walk func(n ast.Node, labels []string)
		walk = func(n ast.Node, labels []string) {
			ast.Inspect(n, func(n ast.Node) bool {
				call, ok := n.(*ast.CallExpr)
				if !ok {
					return true
				}
				id, ok := call.Fun.(*ast.Ident)
				if !ok || (!specFuncs[id.Name] && !containerFuncs[id.Name]) || len(call.Args) == 0 {
					return true
				}
				own := append(slices.Clone(labels), labelsOf(call.Args[1:])...)
				if containerFuncs[id.Name] {
					for _, a := range call.Args[1:] {
						walk(a, own)
					}
					return false
				}
				pos := fset.Position(call.Pos()).String()
				lit, ok := call.Args[0].(*ast.BasicLit)
				if !ok || lit.Kind != token.STRING {
					problems = append(problems, fmt.Sprintf("%s: %s text is not a string literal", pos, id.Name))
					return false
				}
				text, _ := strconv.Unquote(lit.Value)
				sid, ok := specID(text)
				if !ok {
					problems = append(problems, fmt.Sprintf("%s: spec %q does not start with an [ID]", pos, text))
					return false
				}
				specs = append(specs, sourceSpec{ID: sid, Text: text, Pos: pos, Labels: own})
				return false
			})
		}
		walk(f, nil)
	}
	return specs, problems, nil
}

// labelsOf collects the string literals of Label(...) decorators.
func labelsOf(args []ast.Expr) []string {
	var out []string
	for _, a := range args {
		call, ok := a.(*ast.CallExpr)
		if !ok {
			continue
		}
		if id, ok := call.Fun.(*ast.Ident); !ok || id.Name != "Label" {
			continue
		}
		for _, l := range call.Args {
			if lit, ok := l.(*ast.BasicLit); ok && lit.Kind == token.STRING {
				s, _ := strconv.Unquote(lit.Value)
				out = append(out, s)
			}
		}
	}
	return out
}

// TestRegistry fails when a spec is missing from the registry, when the
// registry names a spec that does not exist, or when they disagree on the
// step or the text.
func TestRegistry(t *testing.T) {
	reg, err := loadRegistry(registryPath)
	if err != nil {
		t.Fatal(err)
	}
	specs, problems, err := sourceSpecs(".")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Error(p)
	}
	if len(specs) == 0 {
		t.Fatal("no specs found in the suite's sources")
	}
	byID := reg.byID()
	if len(byID) != len(reg.Specs) {
		t.Errorf("%s lists an ID twice", registryPath)
	}
	seen := map[string]string{}
	for _, s := range specs {
		if prev, dup := seen[s.ID]; dup {
			t.Errorf("%s: spec ID %s is used twice (also at %s)", s.Pos, s.ID, prev)
		}
		seen[s.ID] = s.Pos
		e, ok := byID[s.ID]
		if !ok {
			t.Errorf("%s: spec %s %q is missing from %s", s.Pos, s.ID, s.Text, registryPath)
			continue
		}
		if !slices.Contains(s.Labels, e.Step) {
			t.Errorf("%s: spec %s is registered under %s but is labelled %v", s.Pos, s.ID, e.Step, s.Labels)
		}
		if e.Spec != s.Text {
			t.Errorf("%s: spec %s text differs from the registry:\n  spec:     %q\n  registry: %q", s.Pos, s.ID, s.Text, e.Spec)
		}
	}
	for _, e := range reg.Specs {
		if _, ok := seen[e.ID]; !ok {
			t.Errorf("%s names spec %s (%q), which does not exist", registryPath, e.ID, e.Spec)
		}
		if _, ok := reg.Steps[e.Step]; !ok {
			t.Errorf("%s: spec %s names step %q, which is not among the documented steps", registryPath, e.ID, e.Step)
		}
		if strings.TrimSpace(e.Must) == "" {
			t.Errorf("%s: spec %s has no MUST statement", registryPath, e.ID)
		}
		if slices.Contains(protocolLabels, e.Step) && e.Section == "" {
			t.Errorf("%s: protocol spec %s (%s) names no reference section (section: \"cti-protocol.md §5.2\")", registryPath, e.ID, e.Step)
		}
		if e.Section != "" && !sectionRE.MatchString(e.Section) {
			t.Errorf("%s: spec %s: section %q is not of the form \"cti-protocol.md §5.2\", \"ipcc-behaviour.md §3.4\" or \"dialer-anchors.md §3\"", registryPath, e.ID, e.Section)
		}
	}
	for step := range reg.Steps {
		n := 0
		for _, e := range reg.Specs {
			if e.Step == step {
				n++
			}
		}
		if n == 0 {
			t.Errorf("%s: documented step %s has no spec", registryPath, step)
		}
	}
}
