package dedup

import (
	"image"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"testing"

	xdraw "golang.org/x/image/draw"

	"github.com/corpusflow/corpusflow/internal/imageutil"
)

// The near-duplicate transforms of the dedup proof: what happens to a
// photo on its way around the web. Each is applied to every bundled photo.
type imageTransform struct {
	name  string
	apply func(image.Image) image.Image
}

var imageTransforms = []imageTransform{
	{"resize 50 %", func(m image.Image) image.Image { return resizeBy(m, 0.5) }},
	{"resize 150 %", func(m image.Image) image.Image { return resizeBy(m, 1.5) }},
	{"JPEG quality 30", func(m image.Image) image.Image { return jpegRoundTrip(m, 30) }},
	{"JPEG quality 60", func(m image.Image) image.Image { return jpegRoundTrip(m, 60) }},
	{"JPEG quality 90", func(m image.Image) image.Image { return jpegRoundTrip(m, 90) }},
	{"crop 5 % (centred)", func(m image.Image) image.Image { return cropBy(m, 0.05, true) }},
	{"crop 10 % (centred)", func(m image.Image) image.Image { return cropBy(m, 0.10, true) }},
	{"crop 10 % (one corner)", func(m image.Image) image.Image { return cropBy(m, 0.10, false) }},
	{"crop 15 % (centred)", func(m image.Image) image.Image { return cropBy(m, 0.15, true) }},
	{"crop 20 % (centred)", func(m image.Image) image.Image { return cropBy(m, 0.20, true) }},
	{"crop 5 % (one corner)", func(m image.Image) image.Image { return cropBy(m, 0.05, false) }},
	{"crop 15 % (one corner)", func(m image.Image) image.Image { return cropBy(m, 0.15, false) }},
	{"crop 7 % (one corner)", func(m image.Image) image.Image { return cropBy(m, 0.07, false) }},
	{"crop 12 % (one corner)", func(m image.Image) image.Image { return cropBy(m, 0.12, false) }},
	{"brightness +10 %", func(m image.Image) image.Image { return brighten(m, 1.10) }},
	{"brightness −10 %", func(m image.Image) image.Image { return brighten(m, 0.90) }},
	{"rotate 2°", func(m image.Image) image.Image { return rotate(m, 2) }},
	{"rotate 5°", func(m image.Image) image.Image { return rotate(m, 5) }},
	{"mirrored", func(m image.Image) image.Image { return mirrorOf(m) }},
	{"resize 70 % + crop 5 % + JPEG 50", func(m image.Image) image.Image {
		return jpegRoundTrip(cropBy(resizeBy(m, 0.7), 0.05, true), 50)
	}},
}

func resizeBy(m image.Image, f float64) image.Image {
	b := m.Bounds()
	dst := image.NewRGBA(image.Rect(0, 0, int(float64(b.Dx())*f+0.5), int(float64(b.Dy())*f+0.5)))
	xdraw.BiLinear.Scale(dst, dst.Bounds(), m, b, xdraw.Src, nil)
	return dst
}

func jpegRoundTrip(m image.Image, q int) image.Image {
	data, err := imageutil.EncodeJPEG(m, q)
	if err != nil {
		panic(err)
	}
	img, _, err := imageutil.Decode(data, 0)
	if err != nil {
		panic(err)
	}
	return img
}

// cropBy cuts frac of each dimension away: half on each side when centred,
// all from the top-left corner otherwise (the content shifts).
func cropBy(m image.Image, frac float64, centred bool) image.Image {
	b := m.Bounds()
	cw, ch := int(float64(b.Dx())*frac), int(float64(b.Dy())*frac)
	r := image.Rect(b.Min.X+cw, b.Min.Y+ch, b.Max.X, b.Max.Y)
	if centred {
		r = image.Rect(b.Min.X+cw/2, b.Min.Y+ch/2, b.Max.X-(cw-cw/2), b.Max.Y-(ch-ch/2))
	}
	dst := image.NewRGBA(image.Rect(0, 0, r.Dx(), r.Dy()))
	xdraw.Copy(dst, image.Point{}, m, r, xdraw.Src, nil)
	return dst
}

func brighten(m image.Image, f float64) image.Image {
	b := m.Bounds()
	dst := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	clamp := func(v uint32) uint8 { return uint8(math.Min(255, float64(v>>8)*f)) }
	for y := 0; y < b.Dy(); y++ {
		for x := 0; x < b.Dx(); x++ {
			r, g, bl, _ := m.At(b.Min.X+x, b.Min.Y+y).RGBA()
			dst.SetRGBA(x, y, color.RGBA{clamp(r), clamp(g), clamp(bl), 255})
		}
	}
	return dst
}

// rotate turns m by deg degrees about its centre, keeping its size and
// filling the uncovered corners with black, as an image editor does.
func rotate(m image.Image, deg float64) image.Image {
	b := m.Bounds()
	w, h := b.Dx(), b.Dy()
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	s, c := math.Sincos(deg * math.Pi / 180)
	cx, cy := float64(w)/2, float64(h)/2
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			dx, dy := float64(x)+0.5-cx, float64(y)+0.5-cy
			sx, sy := c*dx+s*dy+cx, -s*dx+c*dy+cy
			ix, iy := int(math.Floor(sx)), int(math.Floor(sy))
			if ix < 0 || iy < 0 || ix >= w || iy >= h {
				dst.SetRGBA(x, y, color.RGBA{A: 255})
				continue
			}
			dst.Set(x, y, m.At(b.Min.X+ix, b.Min.Y+iy))
		}
	}
	return dst
}

// bundledPhotos are the real photos of testdata/images (the truncated JPEG
// and the held-out folder left out).
var bundledPhotos = []string{
	"astronaut.jpg", "brick.png", "camera.png", "chelsea.jpg", "coffee.jpg", "coins.png",
	"grass.png", "gravel.png", "hubble_deep_field.jpg", "retina.jpg", "rocket.jpg",
}

func imagesDir() string { return filepath.Join("..", "testdata", "images") }

func loadPhoto(t testing.TB, name string) (image.Image, []byte) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(imagesDir(), name))
	if err != nil {
		t.Fatal(err)
	}
	img, _, err := imageutil.Decode(data, 0)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return img, data
}
