package ctiserver

import (
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ipcclab/ipcclab/emulator/icm"
	"github.com/ipcclab/ipcclab/emulator/pg"
	"github.com/ipcclab/ipcclab/internal/sim"
	"github.com/ipcclab/ipcclab/protocol/cti"
)

// eventProbes must hold one event of every kind the PG has (every type with
// a Type() method in emulator/pg), or CallEventsSupported would miss bits.
func TestEventProbesCoverEveryPGEvent(t *testing.T) {
	files, err := filepath.Glob("../pg/*.go")
	if err != nil || len(files) == 0 {
		t.Fatalf("PG sources: %v", err)
	}
	pgTypes := map[string]bool{}
	fset := token.NewFileSet()
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		af, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range af.Decls {
			fd, ok := d.(*ast.FuncDecl)
			if !ok || fd.Recv == nil || fd.Name.Name != "Type" || len(fd.Type.Params.List) != 0 {
				continue
			}
			if star, ok := fd.Recv.List[0].Type.(*ast.StarExpr); ok {
				if id, ok := star.X.(*ast.Ident); ok {
					pgTypes[id.Name] = true
				}
			}
		}
	}
	probed := map[string]bool{}
	for _, ev := range eventProbes {
		probed[reflect.TypeOf(ev).Elem().Name()] = true
	}
	for name := range pgTypes {
		if !probed[name] {
			t.Errorf("pg.%s is not in eventProbes", name)
		}
	}
	if len(pgTypes) < 15 {
		t.Fatalf("found only %d PG event types: %v", len(pgTypes), pgTypes)
	}
}

// The control capabilities are found by asking: a request the server does
// not serve is not reported.
func TestProbeTellsServedFromUnserved(t *testing.T) {
	f := newInternalServer(t)
	if !f.probeServed(&cti.HoldCallReq{AgentInstrument: probeName}) {
		t.Fatal("HOLD_CALL_REQ is served")
	}
	if f.probeServed(&cti.SuperviseCallReq{}) {
		t.Fatal("SUPERVISE_CALL_REQ is not served, yet the probe says it is")
	}
}

type noStats struct{}

func (noStats) SkillGroupStats(uint32) (icm.SkillGroupStats, error) {
	return icm.SkillGroupStats{}, errors.New("none")
}

func newInternalServer(t *testing.T) *Server {
	t.Helper()
	loop := sim.NewLoop(time.Date(2026, 1, 5, 8, 0, 0, 0, time.UTC))
	p, err := pg.New(pg.Config{Scheduler: loop, Agents: []pg.AgentConfig{{AgentID: "1", Extension: "100", ICMAgentID: 5001}}})
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(DefaultConfig(), loop, p, noStats{})
	if err != nil {
		t.Fatal(err)
	}
	return s
}
