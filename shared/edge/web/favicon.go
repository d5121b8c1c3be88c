package web

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"net/http"
)

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
