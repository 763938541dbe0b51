package charts

import (
	"fmt"
	"image/color"
	"math"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/ipcclab/ipcclab/internal/lab"
)

// x is a time on the charts' x axis: Unix seconds, labelled by clockTicks.
func x(t time.Time) float64 { return float64(t.Unix()) }

// serviceLevel: the service level of each completed half-hour against the
// target, with the rolling five minutes for detail; below it the inbound
// queue over the day.
func serviceLevel(tl *lab.Timeline) (*figure, error) {
	top := panel(tl, fmt.Sprintf("Inbound service level, scenario %s, seed %d", tl.Scenario, tl.Seed), "service level (%)")
	bars := &intervalBars{fill: pale}
	for _, h := range tl.HalfHours {
		bars.start = append(bars.start, x(h.Start))
		bars.value = append(bars.value, 100*h.ServiceLevel)
	}
	bars.width = (30 * time.Minute).Seconds()
	if len(bars.start) > 0 {
		top.Add(bars)
	}
	top.Legend.Add("per half-hour", bars)
	to5 := series(tl, func(s lab.Sample) (float64, bool) { return 100 * s.ServiceLevelTo5, s.ServiceLevelTo5 >= 0 })
	if err := line(top, "rolling 5 minutes", to5, blue, vg.Points(1), false, false); err != nil {
		return nil, err
	}
	if tl.ServiceLevelTarget > 0 {
		if err := level(top, tl, fmt.Sprintf("target %.0f %%", 100*tl.ServiceLevelTarget), 100*tl.ServiceLevelTarget, red); err != nil {
			return nil, err
		}
	}
	frame(top, tl, 100)
	// A service level is at most 100 %: the axis stops just above, where
	// the bars of a perfect half-hour still show their top edge.
	top.Y.Max = 105

	bottom := panel(tl, "Inbound queue", "calls in queue (calls)")
	queue := series(tl, func(s lab.Sample) (float64, bool) { return float64(s.InQueue), true })
	if err := line(bottom, "calls in queue", queue, orange, vg.Points(1.5), false, true); err != nil {
		return nil, err
	}
	frame(bottom, tl, max(5, maxOf(queue)*1.15))
	return &figure{panels: []*plot.Plot{top, bottom}}, nil
}

// dialLevel: the campaign's calls being dialed per outbound agent against
// the configured lines per agent; below it the abandon rate against the
// campaign's limit.
func dialLevel(tl *lab.Timeline) (*figure, error) {
	top := panel(tl, fmt.Sprintf("Outbound dial level, scenario %s, seed %d", tl.Scenario, tl.Seed), "dial level (calls dialing per outbound agent)")
	dl := series(tl, func(s lab.Sample) (float64, bool) { return s.DialLevel, true })
	if err := line(top, "calls dialing per outbound agent", dl, blue, vg.Points(1.5), false, false); err != nil {
		return nil, err
	}
	ymax := maxOf(dl)
	if tl.LinesPerAgent > 0 {
		if err := level(top, tl, fmt.Sprintf("lines per agent %.2g", tl.LinesPerAgent), tl.LinesPerAgent, grey); err != nil {
			return nil, err
		}
		ymax = max(ymax, tl.LinesPerAgent)
	}
	frame(top, tl, ymax*1.1)

	bottom := panel(tl, "Outbound abandon rate", "abandoned / live answers (%)")
	ab := series(tl, func(s lab.Sample) (float64, bool) { return 100 * s.OutboundAbandonRate, true })
	if err := line(bottom, "abandon rate so far", ab, orange, vg.Points(1.5), false, false); err != nil {
		return nil, err
	}
	ymax = maxOf(ab)
	if tl.AbandonLimit > 0 {
		if err := level(bottom, tl, fmt.Sprintf("limit %.3g %%", 100*tl.AbandonLimit), 100*tl.AbandonLimit, red); err != nil {
			return nil, err
		}
		ymax = max(ymax, 100*tl.AbandonLimit)
	}
	frame(bottom, tl, max(1, ymax*1.15))
	return &figure{panels: []*plot.Plot{top, bottom}}, nil
}

// agentStates: the logged-in agents stacked by state.
func agentStates(tl *lab.Timeline) (*figure, error) {
	p := panel(tl, fmt.Sprintf("Agents by state, scenario %s, seed %d", tl.Scenario, tl.Seed), "agents (logged in)")
	// Bottom to top: work on calls first, idle last, so the stack's lower
	// edge reads as occupancy.
	layers := []struct {
		label string
		c     color.Color
		count func(lab.AgentStates) int
	}{
		{"talking inbound", blue, func(a lab.AgentStates) int { return a.TalkingInbound }},
		{"talking outbound", green, func(a lab.AgentStates) int { return a.TalkingOutbound }},
		{"reserved", purple, func(a lab.AgentStates) int { return a.Reserved }},
		{"wrap-up", brown, func(a lab.AgentStates) int { return a.WrapUp }},
		{"ready", orange, func(a lab.AgentStates) int { return a.Ready }},
		{"not ready (incl. blended on outbound)", grey, func(a lab.AgentStates) int { return a.NotReady }},
		{"outbound-only, between calls", teal, func(a lab.AgentStates) int { return a.OutboundIdle }},
	}
	below := make([]float64, len(tl.Samples))
	top := 0.0
	for _, l := range layers {
		upper := make(plotter.XYs, len(tl.Samples))
		lower := make(plotter.XYs, len(tl.Samples))
		for i, s := range tl.Samples {
			lower[len(tl.Samples)-1-i] = plotter.XY{X: x(s.At), Y: below[i]}
			below[i] += float64(l.count(s.Agents))
			upper[i] = plotter.XY{X: x(s.At), Y: below[i]}
			top = max(top, below[i])
		}
		band, err := plotter.NewPolygon(append(upper, lower...))
		if err != nil {
			return nil, err
		}
		band.Color = l.c
		band.LineStyle.Width = 0
		p.Add(band)
		p.Legend.Add(l.label, band)
	}
	frame(p, tl, top*1.05)
	return &figure{panels: []*plot.Plot{p}}, nil
}

// blending: the blended agents lent to inbound over the day, each move
// marked where it happened.
func blending(tl *lab.Timeline) (*figure, error) {
	p := panel(tl, fmt.Sprintf("Blending moves, scenario %s, seed %d", tl.Scenario, tl.Seed), "blended agents lent to inbound (agents)")
	// The count after each move, from the moves themselves, so that the
	// markers sit on the line.
	lent := plotter.XYs{{X: x(tl.Start), Y: 0}}
	var lends, returns plotter.XYs
	n := 0.0
	for _, m := range tl.Moves {
		switch m.Kind {
		case lab.MoveLend:
			n++
			lends = append(lends, plotter.XY{X: x(m.At), Y: n})
		case lab.MoveReturn:
			n = max(0, n-1)
			returns = append(returns, plotter.XY{X: x(m.At), Y: n})
		default:
			continue
		}
		lent = append(lent, plotter.XY{X: x(m.At), Y: n})
	}
	lent = append(lent, plotter.XY{X: x(tl.End), Y: n})
	if err := line(p, "agents lent (lends − returns)", lent, blue, vg.Points(1.5), false, true); err != nil {
		return nil, err
	}
	for _, mk := range []struct {
		label string
		pts   plotter.XYs
		shape draw.GlyphDrawer
		c     color.Color
	}{
		{fmt.Sprintf("lend to inbound (%d)", len(lends)), lends, draw.PyramidGlyph{}, green},
		{fmt.Sprintf("return to outbound (%d)", len(returns)), returns, invertedTriangle{}, red},
	} {
		sc, err := plotter.NewScatter(mk.pts)
		if err != nil {
			return nil, err
		}
		sc.GlyphStyle = draw.GlyphStyle{Color: mk.c, Radius: vg.Points(3.5), Shape: mk.shape}
		if len(mk.pts) > 0 {
			p.Add(sc)
		}
		p.Legend.Add(mk.label, sc)
	}
	frame(p, tl, max(4, maxOf(lent)*1.15))
	return &figure{panels: []*plot.Plot{p}}, nil
}

// invertedTriangle is a triangle pointing down: a return, the opposite of
// draw.PyramidGlyph's lend.
type invertedTriangle struct{}

func (invertedTriangle) DrawGlyph(c *draw.Canvas, sty draw.GlyphStyle, pt vg.Point) {
	c.SetLineStyle(draw.LineStyle{Color: sty.Color, Width: vg.Points(0.5)})
	r := sty.Radius + (sty.Radius-sty.Radius*vg.Length(math.Sin(math.Pi/6)))/2
	var p vg.Path
	p.Move(vg.Point{X: pt.X, Y: pt.Y - r})
	p.Line(vg.Point{X: pt.X - r*vg.Length(math.Cos(math.Pi/6)), Y: pt.Y + r*vg.Length(math.Sin(math.Pi/6))})
	p.Line(vg.Point{X: pt.X + r*vg.Length(math.Cos(math.Pi/6)), Y: pt.Y + r*vg.Length(math.Sin(math.Pi/6))})
	p.Close()
	c.SetColor(sty.Color)
	c.Fill(p)
}

// intervalBars draws one bar per interval of a fixed width starting at
// start[i], in data coordinates: plotter.BarChart spaces bars one unit
// apart, which a time axis in seconds cannot use.
type intervalBars struct {
	start, value []float64
	width        float64
	fill         color.Color
}

func (b *intervalBars) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	gap := b.width * 0.06
	for i, s := range b.start {
		x0, x1 := trX(s+gap), trX(s+b.width-gap)
		y0, y1 := trY(0), trY(b.value[i])
		pts := []vg.Point{{X: x0, Y: y0}, {X: x0, Y: y1}, {X: x1, Y: y1}, {X: x1, Y: y0}}
		c.FillPolygon(b.fill, c.ClipPolygonXY(pts))
	}
}

func (b *intervalBars) DataRange() (xmin, xmax, ymin, ymax float64) {
	xmin, xmax = math.Inf(1), math.Inf(-1)
	for i, s := range b.start {
		xmin, xmax = min(xmin, s), max(xmax, s+b.width)
		ymax = max(ymax, b.value[i])
	}
	return xmin, xmax, 0, ymax
}

func (b *intervalBars) Thumbnail(c *draw.Canvas) {
	pts := []vg.Point{{X: c.Min.X, Y: c.Min.Y}, {X: c.Min.X, Y: c.Max.Y}, {X: c.Max.X, Y: c.Max.Y}, {X: c.Max.X, Y: c.Min.Y}}
	c.FillPolygon(b.fill, c.ClipPolygonXY(pts))
}

// clockTicks labels a time axis in Unix seconds with the time of day,
// on round steps (every 15 minutes up to every day) in the run's zone.
type clockTicks struct{ loc *time.Location }

func (c clockTicks) Ticks(lo, hi float64) []plot.Tick {
	span := time.Duration((hi - lo) * float64(time.Second))
	step := 24 * time.Hour
	for _, s := range []time.Duration{5 * time.Minute, 15 * time.Minute, 30 * time.Minute, time.Hour, 2 * time.Hour,
		3 * time.Hour, 6 * time.Hour, 12 * time.Hour} {
		if span/s <= 12 {
			step = s
			break
		}
	}
	format := "15:04"
	if span > 24*time.Hour {
		format = "Mon 15:04"
	}
	minor := int64((step / 2).Seconds())
	major := int64(step.Seconds())
	_, off := time.Unix(int64(lo), 0).In(c.loc).Zone()
	first := int64(math.Floor((lo+float64(off))/float64(minor)))*minor - int64(off)
	var ticks []plot.Tick
	for v := first; float64(v) <= hi; v += minor {
		if float64(v) < lo {
			continue
		}
		t := plot.Tick{Value: float64(v)}
		if (v+int64(off))%major == 0 {
			t.Label = time.Unix(v, 0).In(c.loc).Format(format)
		}
		ticks = append(ticks, t)
	}
	return ticks
}
