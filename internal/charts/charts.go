// Package charts draws a simulated day (lab.Timeline) as pictures for
// people: service level and queue, dial level and abandon rate, the agent
// state stack and the blending moves, each as PNG and SVG with a title,
// axes labelled with their units, a legend and the time of day along x.
// It uses gonum.org/v1/plot, pure Go, so `ipcclab simulate --plot` needs
// nothing installed.
package charts

import (
	"errors"
	"fmt"
	"image/color"
	"io"
	"os"
	"path/filepath"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"

	"github.com/ipcclab/ipcclab/internal/lab"
)

// The charts, by file name without extension.
const (
	ServiceLevel = "service-level"
	DialLevel    = "dial-level"
	AgentStates  = "agent-states"
	Blending     = "blending"
)

// Names lists the charts Write draws, in order.
var Names = []string{ServiceLevel, DialLevel, AgentStates, Blending}

// Size of every chart: wide enough for a day's hourly ticks to breathe.
const (
	width  = 11 * vg.Inch
	height = 6.5 * vg.Inch
)

// figure is one chart: one or more panels stacked vertically, sharing the
// time axis.
type figure struct {
	panels []*plot.Plot
}

// PrepareDir makes dir ready to take the charts before a long run starts:
// it creates it (and its parents) when missing, and refuses a path that is
// not a directory or cannot be written, naming the path.
func PrepareDir(dir string) error {
	if dir == "" {
		return errors.New("charts: no directory given")
	}
	if fi, err := os.Stat(dir); err == nil && !fi.IsDir() {
		return fmt.Errorf("charts: %s is not a directory", dir)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("charts: cannot create directory %s: %w", dir, err)
	}
	f, err := os.CreateTemp(dir, ".ipcclab-plot-*")
	if err != nil {
		return fmt.Errorf("charts: cannot write in %s: %w", dir, err)
	}
	name := f.Name()
	f.Close()
	return os.Remove(name)
}

// Write draws every chart of tl into dir as <name>.png and <name>.svg and
// returns the files written. dir must exist (PrepareDir).
func Write(dir string, tl *lab.Timeline) ([]string, error) {
	figs, err := figures(tl)
	if err != nil {
		return nil, err
	}
	var files []string
	for _, name := range Names {
		for _, ext := range []string{"png", "svg"} {
			path := filepath.Join(dir, name+"."+ext)
			if err := writeFile(path, func(w io.Writer) error { return figs[name].render(w, ext) }); err != nil {
				return files, err
			}
			files = append(files, path)
		}
	}
	return files, nil
}

func writeFile(path string, render func(io.Writer) error) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("charts: %w", err)
	}
	if err := render(f); err != nil {
		f.Close()
		return fmt.Errorf("charts: %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("charts: %s: %w", path, err)
	}
	return nil
}

// Render draws one chart (a name from Names) as format "png" or "svg".
func Render(w io.Writer, tl *lab.Timeline, name, format string) error {
	figs, err := figures(tl)
	if err != nil {
		return err
	}
	f, ok := figs[name]
	if !ok {
		return fmt.Errorf("charts: no chart %q (charts: %v)", name, Names)
	}
	return f.render(w, format)
}

// figures builds every chart of tl, by name.
func figures(tl *lab.Timeline) (map[string]*figure, error) {
	if tl == nil || len(tl.Samples) == 0 {
		return nil, errors.New("charts: the timeline has no samples")
	}
	if !tl.End.After(tl.Start) {
		return nil, fmt.Errorf("charts: the timeline ends (%s) before it starts (%s)", tl.End.Format("15:04"), tl.Start.Format("15:04"))
	}
	figs := map[string]*figure{}
	for name, build := range map[string]func(*lab.Timeline) (*figure, error){
		ServiceLevel: serviceLevel, DialLevel: dialLevel, AgentStates: agentStates, Blending: blending,
	} {
		f, err := build(tl)
		if err != nil {
			return nil, fmt.Errorf("charts: %s: %w", name, err)
		}
		figs[name] = f
	}
	return figs, nil
}

func (f *figure) render(w io.Writer, format string) error {
	var c vg.CanvasWriterTo
	switch format {
	case "png":
		c = vgimg.PngCanvas{Canvas: vgimg.NewWith(vgimg.UseWH(width, height), vgimg.UseDPI(vgimg.DefaultDPI))}
	case "svg":
		c = vgsvg.New(width, height)
	default:
		return fmt.Errorf("charts: format %q: want png or svg", format)
	}
	f.draw(draw.New(c))
	_, err := c.WriteTo(w)
	return err
}

// legendGap separates the panels from the legend column.
const legendGap = 14 * vg.Inch / 72 // 14 pt

// draw lays the figure out on dc and draws it.
func (f *figure) draw(dc draw.Canvas) {
	panels, legends, areas := f.layout(dc)
	for i := range panels {
		panels[i].Draw(areas[i].panel)
		legends[i].Draw(areas[i].legend)
	}
}

// area is where one panel and its legend go.
type area struct{ panel, legend draw.Canvas }

// layout places the panels one above the other and their legends in a
// column to their right, each legend level with its panel's plotting
// area: outside the axes, so a legend never covers data (inside, the
// legend of a busy day sat on its lines). It returns the panels without
// their legends (copies: the figure renders again for the other format)
// and the legends, to draw in the areas.
func (f *figure) layout(dc draw.Canvas) ([]*plot.Plot, []plot.Legend, []area) {
	panels := make([]*plot.Plot, len(f.panels))
	legends := make([]plot.Legend, len(f.panels))
	col := vg.Length(0)
	for i, p := range f.panels {
		cp := *p
		legends[i], cp.Legend = p.Legend, plot.NewLegend()
		panels[i] = &cp
		col = max(col, legends[i].Rectangle(dc).Size().X)
	}
	left := draw.Crop(dc, 0, -(col + legendGap), 0, 0)
	rows := make([][]*plot.Plot, len(panels))
	for i, p := range panels {
		rows[i] = []*plot.Plot{p}
	}
	tiles := draw.Tiles{Rows: len(panels), Cols: 1, PadTop: vg.Points(6), PadBottom: vg.Points(6),
		PadLeft: vg.Points(6), PadRight: vg.Points(6), PadY: vg.Points(10)}
	canvases := plot.Align(rows, tiles, left)
	areas := make([]area, len(panels))
	for i, p := range panels {
		c := canvases[i][0]
		// Level with the plotting area: below the panel's title.
		top := c.Max.Y
		if p.Title.Text != "" {
			top -= p.Title.TextStyle.Rectangle(p.Title.Text).Size().Y + p.Title.Padding
		}
		lg := draw.Canvas{Canvas: dc.Canvas, Rectangle: vg.Rectangle{
			Min: vg.Point{X: left.Max.X + legendGap, Y: c.Min.Y},
			Max: vg.Point{X: dc.Max.X, Y: top},
		}}
		areas[i] = area{panel: c, legend: lg}
	}
	return panels, legends, areas
}

// Colours: one per meaning, the same on every chart.
var (
	blue   = color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff}
	orange = color.RGBA{R: 0xff, G: 0x7f, B: 0x0e, A: 0xff}
	green  = color.RGBA{R: 0x2c, G: 0xa0, B: 0x2c, A: 0xff}
	red    = color.RGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0xff}
	purple = color.RGBA{R: 0x94, G: 0x67, B: 0xbd, A: 0xff}
	brown  = color.RGBA{R: 0x8c, G: 0x56, B: 0x4b, A: 0xff}
	grey   = color.RGBA{R: 0x99, G: 0x99, B: 0x99, A: 0xff}
	pale   = color.RGBA{R: 0x9e, G: 0xc9, B: 0xe8, A: 0xff}
	teal   = color.RGBA{R: 0x17, G: 0xbe, B: 0xcf, A: 0xff}
)

// panel is a plot over the timeline's day with the time of day on x.
func panel(tl *lab.Timeline, title, ylabel string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.Y.Label.Text = ylabel
	p.X.Label.Text = fmt.Sprintf("time of day (%s)", tl.Start.Location())
	p.X.Tick.Marker = clockTicks{loc: tl.Start.Location()}
	// Drawn in a column right of the panel (layout): from its top, text
	// after the swatch.
	p.Legend.Top = true
	p.Legend.Left = true
	p.Legend.ThumbnailWidth = vg.Points(18)
	p.Add(plotter.NewGrid())
	return p
}

// frame sets the axes after the plotters are added: x the whole run, y from
// 0 to at least ymax (a flat line at zero still gets an axis).
func frame(p *plot.Plot, tl *lab.Timeline, ymax float64) {
	p.X.Min, p.X.Max = x(tl.Start), x(tl.End)
	p.Y.Min = 0
	if p.Y.Max < ymax {
		p.Y.Max = ymax
	}
	if p.Y.Max <= p.Y.Min {
		p.Y.Max = 1
	}
}

// line adds a line (when it has points) and its legend entry.
func line(p *plot.Plot, label string, pts plotter.XYs, c color.Color, width vg.Length, dashed, step bool) error {
	l, err := plotter.NewLine(pts)
	if err != nil {
		return err
	}
	l.LineStyle.Color = c
	l.LineStyle.Width = width
	if dashed {
		l.LineStyle.Dashes = []vg.Length{vg.Points(6), vg.Points(3)}
	}
	if step {
		l.StepStyle = plotter.PostStep
	}
	if len(pts) > 0 {
		p.Add(l)
	}
	p.Legend.Add(label, l)
	return nil
}

// level draws a horizontal reference line (a target, a limit) across the
// run.
func level(p *plot.Plot, tl *lab.Timeline, label string, y float64, c color.Color) error {
	return line(p, label, plotter.XYs{{X: x(tl.Start), Y: y}, {X: x(tl.End), Y: y}}, c, vg.Points(1.5), true, false)
}

func series(tl *lab.Timeline, value func(lab.Sample) (float64, bool)) plotter.XYs {
	pts := make(plotter.XYs, 0, len(tl.Samples))
	for _, s := range tl.Samples {
		if v, ok := value(s); ok {
			pts = append(pts, plotter.XY{X: x(s.At), Y: v})
		}
	}
	return pts
}

func maxOf(pts plotter.XYs) float64 {
	m := 0.0
	for _, p := range pts {
		m = max(m, p.Y)
	}
	return m
}
