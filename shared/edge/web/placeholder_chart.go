package web

import (
	"bytes"
	"fmt"
	"hash/fnv"
	"image"
	"image/color"
	"image/png"
	"net/http"

	"github.com/stockalert/stockalert/shared/stockalert"
)

// placeholderChartPNG is a PLACEHOLDER until the chart renderer (branch charts) lands: a 480×160 PNG
// drawn with the standard library, a grey frame and a made-up zigzag seeded by the ticker. It shows
// no prices; the chart route will serve the real renderer's PNG instead.
func placeholderChartPNG(t stockalert.Ticker) ([]byte, error) {
	const w, h = 480, 160
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	bg, frame, line := color.RGBA{250, 250, 250, 255}, color.RGBA{180, 180, 180, 255}, color.RGBA{30, 90, 200, 255}
	for y := range h {
		for x := range w {
			c := bg
			if x == 0 || y == 0 || x == w-1 || y == h-1 {
				c = frame
			}
			img.Set(x, y, c)
		}
	}
	f := fnv.New32a()
	_, _ = f.Write([]byte(t))
	seed := f.Sum32()
	y := h / 2
	for x := 10; x < w-10; x++ {
		seed = seed*1664525 + 1013904223
		y += int(seed>>29) - 3
		y = min(max(y, 10), h-10)
		img.Set(x, y, line)
		img.Set(x, y+1, line)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, fmt.Errorf("encode placeholder chart of %s: %w", t, err)
	}
	return buf.Bytes(), nil
}

// faviconPNG is the pages' icon: a 16×16 blue square with a white rising line.
var faviconPNG = func() []byte {
	img := image.NewRGBA(image.Rect(0, 0, 16, 16))
	for y := range 16 {
		for x := range 16 {
			c := color.RGBA{30, 90, 200, 255}
			if y == 15-x || y == 14-x {
				c = color.RGBA{255, 255, 255, 255}
			}
			img.Set(x, y, c)
		}
	}
	var buf bytes.Buffer
	_ = png.Encode(&buf, img) // encoding an in-memory RGBA image into a buffer cannot fail
	return buf.Bytes()
}()

func favicon(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "image/png")
	w.Header().Set("Cache-Control", "public, max-age=86400")
	_, _ = w.Write(faviconPNG)
}
