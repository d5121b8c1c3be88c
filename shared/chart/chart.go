// Package chart draws price charts as PNG with gonum.org/v1/plot: the closes as a line, the user's
// levels as labelled dashed horizontal lines, the alerts that fired as red triangles at their time and
// price, the price axis in the currency as quoted and the time axis in the user's zone. It is the
// query.ChartRenderer the composition roots wire into query.NewChartHandler.
package chart

import (
	"bytes"
	"fmt"
	"image/color"
	"math"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/stockalert/stockalert/shared/query"
	"github.com/stockalert/stockalert/shared/stockalert"
)

// The picture's size in pixels (at gonum's 96 dpi).
const (
	Width  = 1000
	Height = 560
	dpi    = 96
)

var (
	priceColor = color.RGBA{R: 0x1f, G: 0x4e, B: 0x99, A: 0xff}
	levelColor = color.RGBA{R: 0x6a, G: 0x6a, B: 0x6a, A: 0xff}
	alertColor = color.RGBA{R: 0xd0, G: 0x21, B: 0x21, A: 0xff}
)

// Figure is a built chart, its parts kept for the tests to look at before it is drawn.
type Figure struct {
	Plot *plot.Plot
	// Price is the closes' line; Levels one line per level and LevelLabels their labels; Alerts the
	// alerts' markers (nil when none fired in the range).
	Price       *plotter.Line
	Levels      []*plotter.Line
	LevelLabels *plotter.Labels
	Alerts      *plotter.Scatter
}

// Build lays out d's chart. Errors: no closes, or a close or level that is not a finite number.
func Build(d query.ChartData) (*Figure, error) {
	h := d.History
	if len(h.Points) == 0 {
		return nil, fmt.Errorf("chart of %s: no closes", h.Ticker)
	}
	loc := stockalert.LoadZone(d.TimeZone)
	p := plot.New()
	title := fmt.Sprintf("%s · %s · last %.2f %s", h.Ticker, h.Range, h.Points[len(h.Points)-1].Price, h.Currency)
	if h.Source == stockalert.QuoteSourceSimulated {
		title += " (simulated)"
	}
	p.Title.Text = title
	p.Title.TextStyle.Font.Size = vg.Points(14)
	p.Y.Label.Text = "price (" + h.Currency + ")"
	p.X.Label.Text = "time (" + loc.String() + ")"
	p.X.Tick.Marker = plot.TimeTicks{
		Format: timeFormat(h.Range),
		Time:   func(t float64) time.Time { return time.Unix(int64(t), 0).In(loc) },
	}
	p.Add(plotter.NewGrid())

	xys := make(plotter.XYs, len(h.Points))
	for i, pt := range h.Points {
		xys[i] = plotter.XY{X: unix(pt.Time), Y: pt.Price}
	}
	price, err := plotter.NewLine(xys)
	if err != nil {
		return nil, fmt.Errorf("chart of %s: closes: %w", h.Ticker, err)
	}
	price.Color = priceColor
	price.Width = vg.Points(1.5)
	f := &Figure{Plot: p, Price: price}

	x0, x1 := xys[0].X, xys[len(xys)-1].X
	if x1 == x0 {
		x1 = x0 + 60
	}
	var labels plotter.XYLabels
	for _, l := range d.Levels {
		if math.IsNaN(l.Price) || math.IsInf(l.Price, 0) {
			return nil, fmt.Errorf("chart of %s: level %q is not a number", h.Ticker, l.Label)
		}
		line, err := plotter.NewLine(plotter.XYs{{X: x0, Y: l.Price}, {X: x1, Y: l.Price}})
		if err != nil {
			return nil, fmt.Errorf("chart of %s: level %q: %w", h.Ticker, l.Label, err)
		}
		line.Color = levelColor
		line.Dashes = []vg.Length{vg.Points(5), vg.Points(3)}
		f.Levels = append(f.Levels, line)
		labels.XYs = append(labels.XYs, plotter.XY{X: x0, Y: l.Price})
		labels.Labels = append(labels.Labels, l.Label)
	}
	if len(labels.Labels) > 0 {
		if f.LevelLabels, err = plotter.NewLabels(labels); err != nil {
			return nil, fmt.Errorf("chart of %s: level labels: %w", h.Ticker, err)
		}
		for i := range f.LevelLabels.TextStyle {
			f.LevelLabels.TextStyle[i].Color = levelColor
			f.LevelLabels.TextStyle[i].YAlign = draw.YBottom
		}
		f.LevelLabels.Offset = vg.Point{X: vg.Points(3), Y: vg.Points(1)}
	}
	if len(d.Alerts) > 0 {
		pts := make(plotter.XYs, len(d.Alerts))
		for i, a := range d.Alerts {
			pts[i] = plotter.XY{X: unix(a.Time), Y: a.Price}
		}
		if f.Alerts, err = plotter.NewScatter(pts); err != nil {
			return nil, fmt.Errorf("chart of %s: alerts: %w", h.Ticker, err)
		}
		f.Alerts.GlyphStyle = draw.GlyphStyle{Color: alertColor, Radius: vg.Points(5), Shape: draw.PyramidGlyph{}}
	}

	for _, l := range f.Levels {
		p.Add(l)
	}
	p.Add(price)
	if f.LevelLabels != nil {
		p.Add(f.LevelLabels)
	}
	if f.Alerts != nil {
		p.Add(f.Alerts)
		p.Legend.Add("alert fired", f.Alerts)
		p.Legend.Top = true
	}
	return f, nil
}

// PNG draws the figure as a Width×Height PNG.
func (f *Figure) PNG() ([]byte, error) {
	w, err := f.Plot.WriterTo(vg.Length(Width)*vg.Inch/dpi, vg.Length(Height)*vg.Inch/dpi, "png")
	if err != nil {
		return nil, fmt.Errorf("chart canvas: %w", err)
	}
	var b bytes.Buffer
	if _, err := w.WriteTo(&b); err != nil {
		return nil, fmt.Errorf("encode chart png: %w", err)
	}
	return b.Bytes(), nil
}

// Renderer is the query.ChartRenderer over Build and PNG.
type Renderer struct{}

// Render draws d as PNG bytes (Width×Height pixels). Errors are Build's and the encoder's.
func (Renderer) Render(d query.ChartData) ([]byte, error) {
	f, err := Build(d)
	if err != nil {
		return nil, err
	}
	return f.PNG()
}

// timeFormat is the time axis' tick format for a range (Go layout).
func timeFormat(r stockalert.ChartRange) string {
	switch r {
	case stockalert.Range1Day:
		return "15:04"
	case stockalert.Range5Days:
		return "Mon 15:04"
	case stockalert.Range1Month:
		return "Jan 2"
	default:
		return "Jan 2006"
	}
}

func unix(t time.Time) float64 { return float64(t.Unix()) }
