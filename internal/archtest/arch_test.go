// Package archtest enforces the three rings of the architecture (design.md):
// codecs and cores are pure — they never read the wall clock, sleep, start
// timers of their own, use global randomness or open sockets — and the
// controller and the conformance specs never import the emulator.
package archtest

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/ipcclab/ipcclab/internal/testutil"
)

const module = "github.com/ipcclab/ipcclab"

// pureDirs are the cores and codecs. A file there may not use the forbidden
// identifiers below. Files named *_test.go are exempt (tests may measure
// wall time in benchmarks), and so is the CTI client session, the one place in
// protocol/cti allowed to run a heartbeat goroutine.
var pureDirs = []string{
	"protocol/cti",
	"emulator/icm", "emulator/pg", "emulator/pstn", "emulator/agents", "emulator/centre", "emulator/ctiserver", "emulator/fabric",
	"controller/blend", "controller/dialer", "controller/reporting/alerts", "controller/reporting/attempts",
	"internal/erlang", "internal/media",
}

var pureExempt = map[string]bool{
	"protocol/cti/session.go": true,
}

// forbidden selector expressions in pure code: package path -> names.
var forbidden = map[string][]string{
	"time":         {"Now", "Sleep", "After", "AfterFunc", "NewTimer", "NewTicker", "Tick", "Since", "Until"},
	"math/rand":    {"*"},
	"math/rand/v2": {"Int", "IntN", "Int64", "Int64N", "Uint32", "Uint64", "Float64", "Float32", "ExpFloat64", "NormFloat64", "Perm", "Shuffle", "N", "IntN", "UintN", "Int32", "Int32N", "Uint64N", "Uint32N"},
	"net":          {"*"},
	"os":           {"*"},
}

func goFiles(t *testing.T, dir string, tests bool) []string {
	t.Helper()
	var files []string
	_ = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if d.IsDir() && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".")) {
			return filepath.SkipDir
		}
		if strings.HasSuffix(p, ".go") && (tests || !strings.HasSuffix(p, "_test.go")) {
			files = append(files, p)
		}
		return nil
	})
	return files
}

// pureFiles are the pure parts of adapter packages: the voice components
// own sockets, but their decisions that need no I/O are kept in files of
// their own, checked like the cores.
var pureFiles = []string{
	"emulator/gateway/q850.go",
	"emulator/gateway/fate.go",
	"emulator/callmanager/registrar.go",
	"emulator/callmanager/dialplan.go",
	"emulator/ivr/collect.go",
	"emulator/phones/line.go",
	"internal/sipnode/sdp.go",
	"controller/sipdialer/core.go",
	"controller/sipdialer/outcome.go",
}

func TestArchitecturePureCores(t *testing.T) {
	top := testutil.ModuleRoot(t)
	fset := token.NewFileSet()
	var files []string
	for _, d := range pureDirs {
		files = append(files, goFiles(t, filepath.Join(top, d), false)...)
	}
	for _, f := range pureFiles {
		files = append(files, filepath.Join(top, f))
	}
	for _, f := range files {
		rel, _ := filepath.Rel(top, f)
		rel = filepath.ToSlash(rel)
		if pureExempt[rel] || strings.Contains(rel, "/internal/gen/") {
			continue
		}
		file, err := parser.ParseFile(fset, f, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatalf("%s: %v", rel, err)
		}
		names := map[string]string{} // local name -> import path
		for _, imp := range file.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			local := p[strings.LastIndex(p, "/")+1:]
			if p == "math/rand/v2" {
				local = "rand"
			}
			if imp.Name != nil {
				local = imp.Name.Name
			}
			if list, ok := forbidden[p]; ok && len(list) == 1 && list[0] == "*" {
				t.Errorf("%s imports %s: cores and codecs must not (time, randomness and I/O are injected)", rel, p)
			}
			names[local] = p
		}
		ast.Inspect(file, func(n ast.Node) bool {
			sel, ok := n.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			id, ok := sel.X.(*ast.Ident)
			if !ok {
				return true
			}
			p, ok := names[id.Name]
			if !ok {
				return true
			}
			for _, name := range forbidden[p] {
				if name == sel.Sel.Name {
					t.Errorf("%s: %s uses %s.%s: cores get time from a sim.Scheduler and randomness from a seeded stream", rel, fset.Position(sel.Pos()), p, name)
				}
			}
			return true
		})
	}
}

func imports(t *testing.T, files []string) map[string][]string {
	t.Helper()
	fset := token.NewFileSet()
	out := map[string][]string{}
	for _, f := range files {
		file, err := parser.ParseFile(fset, f, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, imp := range file.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			out[f] = append(out[f], p)
		}
	}
	return out
}

func TestArchitectureControllerNeverImportsEmulator(t *testing.T) {
	top := testutil.ModuleRoot(t)
	for f, list := range imports(t, goFiles(t, filepath.Join(top, "controller"), true)) {
		for _, p := range list {
			if strings.HasPrefix(p, module+"/emulator") {
				t.Errorf("%s imports %s: the controller speaks CTI only, so it runs unchanged against a real IPCC", f, p)
			}
		}
	}
}

func TestArchitectureConformanceSpecsSpeakOnlyTheWire(t *testing.T) {
	top := testutil.ModuleRoot(t)
	for f, list := range imports(t, goFiles(t, filepath.Join(top, "conformance"), true)) {
		if strings.Contains(filepath.ToSlash(f), "/conformance/target/") {
			continue // only the in-process target may start the emulator
		}
		for _, p := range list {
			if strings.HasPrefix(p, module+"/emulator") || strings.HasPrefix(p, module+"/internal/lab") {
				t.Errorf("%s imports %s: specs see only the wire; use conformance/target", f, p)
			}
		}
	}
}

func TestArchitectureProtocolImportsNothingOfOurs(t *testing.T) {
	top := testutil.ModuleRoot(t)
	for f, list := range imports(t, goFiles(t, filepath.Join(top, "protocol"), false)) {
		for _, p := range list {
			if strings.HasPrefix(p, module) && !strings.HasPrefix(p, module+"/protocol") {
				t.Errorf("%s imports %s: protocol/ is the inner ring", f, p)
			}
		}
	}
}
