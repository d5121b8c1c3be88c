package chart_test

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stockalert/stockalert/shared/chart"
	"github.com/stockalert/stockalert/shared/query"
	"github.com/stockalert/stockalert/shared/stockalert"
)

// fixture is a deterministic 5-day history (65 closes, 110 min apart) of AAPL with a range rule and an above level, and two
// alerts that fired on it.
func fixture() query.ChartData {
	start := time.Date(2026, 3, 2, 14, 30, 0, 0, time.UTC)
	pts := make([]stockalert.PricePoint, 0, 65)
	for i := range 65 {
		p := 200 + 6*math.Sin(float64(i)/7) + 0.08*float64(i)
		pts = append(pts, stockalert.PricePoint{Time: start.Add(time.Duration(i) * 110 * time.Minute), Price: math.Round(p*100) / 100})
	}
	return query.ChartData{
		History: stockalert.PriceHistory{Ticker: "AAPL", Range: stockalert.Range5Days, Currency: "USD", Points: pts},
		Levels: []query.ChartLevel{
			{Label: "high 206.00", Price: 206}, {Label: "low 195.00", Price: 195}, {Label: "above 210.00", Price: 210},
		},
		Alerts:   []stockalert.PricePoint{pts[11], pts[55]},
		TimeZone: "America/New_York",
	}
}

func TestBuildHasTheLevelsTheAlertsAndTheAxes(t *testing.T) {
	f, err := chart.Build(fixture())
	require.NoError(t, err)
	require.Len(t, f.Levels, 3)
	require.Equal(t, []string{"high 206.00", "low 195.00", "above 210.00"}, f.LevelLabels.Labels)
	for i, l := range f.Levels {
		require.InDelta(t, []float64{206, 195, 210}[i], l.XYs[0].Y, 1e-9)
		require.Equal(t, l.XYs[0].Y, l.XYs[1].Y, "horizontal")
	}
	require.NotNil(t, f.Alerts)
	require.Len(t, f.Alerts.XYs, 2)
	require.Len(t, f.Price.XYs, 65)
	require.Equal(t, "price (USD)", f.Plot.Y.Label.Text)
	require.Equal(t, "time (America/New_York)", f.Plot.X.Label.Text)
	require.Equal(t, "AAPL · 5d · last "+formatLast(fixture()), f.Plot.Title.Text)
	require.GreaterOrEqual(t, f.Plot.Y.Max, 210.0, "the highest level is in view")
	require.LessOrEqual(t, f.Plot.Y.Min, 195.0, "the lowest level is in view")

	ticks := f.Plot.X.Tick.Marker.Ticks(f.Plot.X.Min, f.Plot.X.Max)
	var labelled []string
	for _, tk := range ticks {
		if tk.Label != "" {
			labelled = append(labelled, tk.Label)
		}
	}
	require.NotEmpty(t, labelled)
	// 14:30 UTC on a Monday in March 2026 (EST, UTC−5) is 09:30 in New York.
	first := time.Unix(int64(f.Price.XYs[0].X), 0).In(stockalert.LoadZone("America/New_York"))
	require.Equal(t, "Mon 09:30", first.Format("Mon 15:04"))
}

func formatLast(d query.ChartData) string {
	return fmt.Sprintf("%.2f USD", d.History.Points[len(d.History.Points)-1].Price)
}

// The PNG decodes, has the documented size, and shows the alerts' red and the levels' grey: a chart
// without them has none of the one and less of the other.
func TestRenderWritesADecodablePNGWithMarkersAndLevels(t *testing.T) {
	red := color.RGBA{R: 0xd0, G: 0x21, B: 0x21, A: 0xff}
	grey := color.RGBA{R: 0x6a, G: 0x6a, B: 0x6a, A: 0xff}
	full := decode(t, fixture())
	require.Equal(t, image.Rect(0, 0, chart.Width, chart.Height), full.Bounds())

	bare := fixture()
	bare.Alerts, bare.Levels = nil, nil
	plain := decode(t, bare)
	require.Equal(t, image.Rect(0, 0, chart.Width, chart.Height), plain.Bounds())

	require.Greater(t, countColor(full, red), 20, "alert markers drawn")
	require.Zero(t, countColor(plain, red), "no alert, no marker")
	require.Greater(t, countColor(full, grey), countColor(plain, grey)+500, "level lines drawn")
}

func decode(t *testing.T, d query.ChartData) image.Image {
	t.Helper()
	b, err := chart.Renderer{}.Render(d)
	require.NoError(t, err)
	img, err := png.Decode(bytes.NewReader(b))
	require.NoError(t, err)
	return img
}

func TestBuildRefusesAnEmptyHistory(t *testing.T) {
	d := fixture()
	d.History.Points = nil
	_, err := chart.Build(d)
	require.ErrorContains(t, err, "no closes")
}

func countColor(img image.Image, c color.RGBA) int {
	n := 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			if uint8(r>>8) == c.R && uint8(g>>8) == c.G && uint8(bl>>8) == c.B {
				n++
			}
		}
	}
	return n
}

// TestWriteChartImage writes the fixture's chart to $CHART_IMAGE_OUT (make chart-image: the README's
// docs/chart.png); without it, it skips.
func TestWriteChartImage(t *testing.T) {
	out := os.Getenv("CHART_IMAGE_OUT")
	if out == "" {
		t.Skip("CHART_IMAGE_OUT not set (make chart-image sets it)")
	}
	b, err := chart.Renderer{}.Render(fixture())
	require.NoError(t, err)
	require.NoError(t, os.MkdirAll(filepath.Dir(out), 0o755))
	require.NoError(t, os.WriteFile(out, b, 0o644)) //nolint:gosec // G306: a picture for the README
}

func BenchmarkRenderChart(b *testing.B) {
	d := fixture()
	for b.Loop() {
		if _, err := (chart.Renderer{}).Render(d); err != nil {
			b.Fatal(err)
		}
	}
}
