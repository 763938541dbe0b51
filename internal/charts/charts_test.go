package charts

import (
	"bytes"
	"context"
	"encoding/xml"
	"image"
	"image/color"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgsvg"

	"github.com/ipcclab/ipcclab/internal/lab"
	"github.com/ipcclab/ipcclab/scenarios"
)

// day is three simulated hours of the default scenario (08:00–11:00, the
// first peak: the queue builds, blended agents are lent and returned),
// simulated once for every test.
var day = sync.OnceValues(func() (*lab.Timeline, error) {
	sc, err := scenarios.Default()
	if err != nil {
		return nil, err
	}
	tl := &lab.Timeline{Every: time.Minute}
	_, err = lab.Simulate(context.Background(), lab.SimOptions{Scenario: sc, Seed: 3, Duration: 3 * time.Hour, Timeline: tl})
	return tl, err
})

func timeline(t *testing.T) *lab.Timeline {
	t.Helper()
	tl, err := day()
	if err != nil {
		t.Fatal(err)
	}
	return tl
}

// What a person must find on each chart: its title, the axis labels with
// their units and the legend entries.
var wantTexts = map[string][]string{
	ServiceLevel: {"Inbound service level", "service level (%)", "time of day (UTC)", "per half-hour", "rolling 5 minutes",
		"target 80 %", "Inbound queue", "calls in queue (calls)"},
	DialLevel: {"Outbound dial level", "dial level (calls dialing per outbound agent)", "calls dialing per outbound agent",
		"lines per agent 1", "Outbound abandon rate", "abandoned / live answers (%)", "abandon rate so far", "limit 3 %"},
	AgentStates: {"Agents by state", "agents (logged in)", "talking inbound", "talking outbound", "reserved", "wrap-up", "ready",
		"not ready (incl. blended on outbound)", "outbound-only, between calls"},
	Blending: {"Blending moves", "blended agents lent to inbound (agents)", "agents lent (lends − returns)",
		"lend to inbound (", "return to outbound ("},
}

func TestWriteDrawsEveryChartAsPNGAndSVG(t *testing.T) {
	tl := timeline(t)
	dir := t.TempDir()
	files, err := Write(dir, tl)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 2*len(Names) {
		t.Fatalf("wrote %v, want %d files", files, 2*len(Names))
	}
	for _, name := range Names {
		f, err := os.Open(filepath.Join(dir, name+".png"))
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(f)
		f.Close()
		if err != nil {
			t.Fatalf("%s.png: %v", name, err)
		}
		if b := img.Bounds(); b.Dx() != 1056 || b.Dy() != 624 { // 11 × 6.5 in at 96 dpi
			t.Errorf("%s.png is %d×%d, want 1056×624", name, b.Dx(), b.Dy())
		}
		if colours := distinctColours(img); colours < 8 {
			t.Errorf("%s.png has %d colours: nothing drawn", name, colours)
		}

		svg, err := os.ReadFile(filepath.Join(dir, name+".svg"))
		if err != nil {
			t.Fatal(err)
		}
		root, texts, err := parseSVG(svg)
		if err != nil {
			t.Fatalf("%s.svg: %v", name, err)
		}
		if root != "svg" {
			t.Errorf("%s.svg: root element <%s>", name, root)
		}
		all := strings.Join(texts, "\n")
		for _, want := range wantTexts[name] {
			if !strings.Contains(all, want) {
				t.Errorf("%s.svg: no text %q in\n%s", name, want, all)
			}
		}
		for _, clock := range []string{"08:00", "09:00", "10:00", "11:00"} {
			if !strings.Contains(all, clock) {
				t.Errorf("%s.svg: no time-of-day tick %s", name, clock)
			}
		}
	}
}

// A chart is a function of the timeline: the same run draws the same SVG
// and PNG bytes.
func TestChartsAreDeterministic(t *testing.T) {
	tl := timeline(t)
	for _, name := range Names {
		for _, format := range []string{"svg", "png"} {
			var a, b bytes.Buffer
			if err := Render(&a, tl, name, format); err != nil {
				t.Fatal(err)
			}
			if err := Render(&b, tl, name, format); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(a.Bytes(), b.Bytes()) {
				t.Errorf("%s.%s differs between two renderings", name, format)
			}
		}
	}
}

// A day without blending or outbound still draws every chart, with the
// lines flat at zero.
func TestChartsOfAQuietDay(t *testing.T) {
	start := time.Date(2026, 1, 5, 8, 0, 0, 0, time.UTC)
	tl := &lab.Timeline{Scenario: "quiet", Start: start, End: start.Add(time.Hour), Moves: []lab.BlendMove{},
		Samples: []lab.Sample{{At: start, ServiceLevelHalf: -1, ServiceLevelTo5: -1}, {At: start.Add(time.Hour), ServiceLevelHalf: -1, ServiceLevelTo5: -1}}}
	for _, name := range Names {
		if err := Render(io.Discard, tl, name, "svg"); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestBadInputIsRefused(t *testing.T) {
	start := time.Date(2026, 1, 5, 8, 0, 0, 0, time.UTC)
	one := []lab.Sample{{At: start}}
	for _, tc := range []struct {
		name         string
		tl           *lab.Timeline
		chart, fmt   string
		wantInErrors string
	}{
		{"no timeline", nil, ServiceLevel, "svg", "no samples"},
		{"no samples", &lab.Timeline{Start: start, End: start.Add(time.Hour)}, ServiceLevel, "svg", "no samples"},
		{"ends before it starts", &lab.Timeline{Start: start, End: start, Samples: one}, ServiceLevel, "svg", "ends (08:00) before it starts (08:00)"},
		{"unknown chart", &lab.Timeline{Start: start, End: start.Add(time.Hour), Samples: one}, "pie", "svg", `no chart "pie"`},
		{"unknown format", &lab.Timeline{Start: start, End: start.Add(time.Hour), Samples: one}, Blending, "gif", `format "gif"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := Render(io.Discard, tc.tl, tc.chart, tc.fmt)
			if err == nil || !strings.Contains(err.Error(), tc.wantInErrors) {
				t.Fatalf("got %v, want an error with %q", err, tc.wantInErrors)
			}
		})
	}
}

func TestPrepareDir(t *testing.T) {
	base := t.TempDir()
	file := filepath.Join(base, "report.txt")
	if err := os.WriteFile(file, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	nested := filepath.Join(base, "a", "b")
	if err := PrepareDir(nested); err != nil {
		t.Fatalf("a missing directory: %v", err)
	}
	if fi, err := os.Stat(nested); err != nil || !fi.IsDir() {
		t.Fatalf("%s not created: %v", nested, err)
	}
	if left, _ := os.ReadDir(nested); len(left) != 0 {
		t.Errorf("PrepareDir left %d files behind", len(left))
	}
	for _, tc := range []struct{ dir, want string }{
		{"", "no directory"},
		{file, file + " is not a directory"},
		{filepath.Join(file, "sub"), "cannot create directory " + filepath.Join(file, "sub")},
	} {
		if err := PrepareDir(tc.dir); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("PrepareDir(%q): got %v, want an error with %q", tc.dir, err, tc.want)
		}
	}
	if os.Geteuid() != 0 { // root writes anywhere
		ro := filepath.Join(base, "ro")
		if err := os.Mkdir(ro, 0o555); err != nil {
			t.Fatal(err)
		}
		if err := PrepareDir(ro); err == nil || !strings.Contains(err.Error(), "cannot write in "+ro) {
			t.Errorf("PrepareDir(read-only): got %v", err)
		}
	}
}

// parseSVG checks that b is well-formed XML and returns its root element's
// name and the character data of its <text> elements.
func parseSVG(b []byte) (root string, texts []string, err error) {
	d := xml.NewDecoder(bytes.NewReader(b))
	inText := 0
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return root, texts, nil
		}
		if err != nil {
			return root, texts, err
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			if root == "" {
				root = tok.Name.Local
			}
			if tok.Name.Local == "text" {
				inText++
			}
		case xml.EndElement:
			if tok.Name.Local == "text" {
				inText--
			}
		case xml.CharData:
			if inText > 0 {
				texts = append(texts, string(tok))
			}
		}
	}
}

// distinctColours counts the colours of a grid of pixels across img.
func distinctColours(img image.Image) int {
	seen := map[color.Color]bool{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y += 3 {
		for x := b.Min.X; x < b.Max.X; x += 3 {
			seen[img.At(x, y)] = true
		}
	}
	return len(seen)
}

// A service level axis ends just above 100 %, not far beyond it.
func TestServiceLevelAxisStopsAt105(t *testing.T) {
	figs, err := figures(timeline(t))
	if err != nil {
		t.Fatal(err)
	}
	if y := figs[ServiceLevel].panels[0].Y; y.Min != 0 || y.Max != 105 {
		t.Errorf("service level axis %v–%v %%, want 0–105", y.Min, y.Max)
	}
}

// Every legend is drawn outside the panels, in a column to their right,
// level with its own panel, wide enough for its longest entry, and the
// panels drawn have no legend of their own (which would sit on the data).
func TestLegendsStayOffTheData(t *testing.T) {
	figs, err := figures(timeline(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range Names {
		f := figs[name]
		c := vgsvg.New(width, height)
		dc := draw.New(c)
		panels, legends, areas := f.layout(dc)
		if len(panels) != len(f.panels) || len(legends) != len(f.panels) {
			t.Fatalf("%s: %d panels, %d legends for %d panels", name, len(panels), len(legends), len(f.panels))
		}
		for i, a := range areas {
			need := legends[i].Rectangle(a.legend).Size()
			if got := a.legend.Size(); got.X < need.X || got.Y < need.Y {
				t.Errorf("%s panel %d: legend area %v smaller than the legend %v", name, i, got, need)
			}
			for j, b := range areas {
				if overlaps(a.legend.Rectangle, b.panel.Rectangle) {
					t.Errorf("%s: legend %d overlaps panel %d (%v, %v)", name, i, j, a.legend.Rectangle, b.panel.Rectangle)
				}
			}
			if a.legend.Min.Y < a.panel.Min.Y || a.legend.Max.Y > a.panel.Max.Y {
				t.Errorf("%s: legend %d (%v) not level with its panel (%v)", name, i, a.legend.Rectangle, a.panel.Rectangle)
			}
			if a.legend.Max.X > dc.Max.X {
				t.Errorf("%s: legend %d runs off the figure", name, i)
			}
			if n := legends[i].Rectangle(dc).Size().Y; n == 0 {
				t.Errorf("%s: legend %d has no entries", name, i)
			}
			if n := panels[i].Legend.Rectangle(dc).Size().Y; n != 0 {
				t.Errorf("%s: panel %d still draws a legend inside", name, i)
			}
		}
		// Laying out twice (PNG, then SVG) finds the legends again.
		if _, again, _ := f.layout(dc); again[0].Rectangle(dc).Size().Y == 0 {
			t.Errorf("%s: the second layout lost the legend", name)
		}
	}
}

func overlaps(a, b vg.Rectangle) bool {
	return a.Min.X < b.Max.X && b.Min.X < a.Max.X && a.Min.Y < b.Max.Y && b.Min.Y < a.Max.Y
}
