package imageutil

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/jpeg"
	"math"
	"math/rand/v2"
	"testing"

	xdraw "golang.org/x/image/draw"
)

// The plane resampler against x/image/draw, which the package used before
// and keeps as ResizeXDraw: same kernels, so on one plane the two must
// agree up to rounding (x/image/draw truncates its 16-bit result to 8 bits,
// the resampler rounds). On YCbCr images the two differ by design: x/image/draw
// converts every pixel to RGB first (chroma repeated over each 2×2 block,
// out-of-gamut values clipped), the resampler scales each plane, so there
// the test compares plane by plane, and end to end after JPEG encoding.

// maxChannelDiff is the largest difference of any R, G, B or A value.
func maxChannelDiff(a, b image.Image) int {
	ab, bb := a.Bounds(), b.Bounds()
	if ab.Size() != bb.Size() {
		return 1 << 30
	}
	worst := 0
	for y := 0; y < ab.Dy(); y++ {
		for x := 0; x < ab.Dx(); x++ {
			ca := color.NRGBAModel.Convert(a.At(ab.Min.X+x, ab.Min.Y+y)).(color.NRGBA)
			cb := color.NRGBAModel.Convert(b.At(bb.Min.X+x, bb.Min.Y+y)).(color.NRGBA)
			for _, d := range []int{int(ca.R) - int(cb.R), int(ca.G) - int(cb.G), int(ca.B) - int(cb.B), int(ca.A) - int(cb.A)} {
				worst = max(worst, d, -d)
			}
		}
	}
	return worst
}

// psnr is the peak signal-to-noise ratio of b against a over R, G, B, in dB.
func psnr(a, b image.Image) float64 {
	ab, bb := a.Bounds(), b.Bounds()
	var se float64
	for y := 0; y < ab.Dy(); y++ {
		for x := 0; x < ab.Dx(); x++ {
			r1, g1, b1, _ := a.At(ab.Min.X+x, ab.Min.Y+y).RGBA()
			r2, g2, b2, _ := b.At(bb.Min.X+x, bb.Min.Y+y).RGBA()
			for _, d := range []float64{float64(r1>>8) - float64(r2>>8), float64(g1>>8) - float64(g2>>8), float64(b1>>8) - float64(b2>>8)} {
				se += d * d
			}
		}
	}
	mse := se / float64(3*ab.Dx()*ab.Dy())
	if mse == 0 {
		return math.Inf(1)
	}
	return 10 * math.Log10(255*255/mse)
}

var resizeCases = []struct {
	mode string
	size int
}{
	{ResizeKeepRatio, 64}, {ResizeKeepRatio, 256}, {ResizeKeepRatio, 333},
	{ResizeKeepRatioLargest, 100}, {ResizeCenterCrop, 90}, {ResizeCenterCrop, 500},
	{ResizeBorder, 128}, {ResizeBorder, 420},
}

func TestResizeMatchesXDrawOnRGBAAndGray(t *testing.T) {
	gray, _, err := Decode(readTestImage(t, "camera.png"), 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := gray.(*image.Gray); !ok {
		t.Fatalf("camera.png decodes as %T, the test wants *image.Gray", gray)
	}
	sources := map[string]image.Image{
		"rgba 400×200":   SyntheticImage(7, 400, 200),
		"rgba 97×61":     SyntheticImage(8, 97, 61),
		"gray 320×320":   gray,
		"rgba sub-image": SyntheticImage(9, 300, 300).SubImage(image.Rect(13, 7, 290, 211)),
	}
	for name, src := range sources {
		for _, c := range resizeCases {
			for _, interp := range []string{"bilinear", "catmull_rom"} {
				o := ResizeOptions{Mode: c.mode, Size: c.size, Interpolator: interp}
				got, err := Resize(src, o)
				if err != nil {
					t.Fatal(err)
				}
				want, _ := ResizeXDraw(src, o)
				if d := maxChannelDiff(got, want); d > 1 {
					t.Errorf("%s %s %d %s: differs from x/image/draw by %d levels", name, c.mode, c.size, interp, d)
				}
			}
		}
	}
}

// ycbcrFrom converts img to a YCbCr image of the given subsampling, with
// even sizes so that every chroma sample covers whole pixels.
func ycbcrFrom(img image.Image, ratio image.YCbCrSubsampleRatio) *image.YCbCr {
	b := img.Bounds()
	m := image.NewYCbCr(b, ratio)
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			yy, cb, cr := color.RGBToYCbCr(uint8(r>>8), uint8(g>>8), uint8(bl>>8))
			m.Y[m.YOffset(x, y)] = yy
			// The last pixel written into a chroma sample wins: fine, the
			// test only needs some chroma.
			m.Cb[m.COffset(x, y)], m.Cr[m.COffset(x, y)] = cb, cr
		}
	}
	return m
}

// grayPlane views one plane of samples as a Gray image.
func grayPlane(pix []uint8, stride, w, h int) *image.Gray {
	return &image.Gray{Pix: pix, Stride: stride, Rect: image.Rect(0, 0, w, h)}
}

func xdrawPlane(p *image.Gray, w, h int, k xdraw.Interpolator) *image.Gray {
	out := image.NewGray(image.Rect(0, 0, w, h))
	k.Scale(out, out.Bounds(), p, p.Bounds(), xdraw.Src, nil)
	return out
}

// TestResizeYCbCrPlaneByPlane: each plane of the result is x/image/draw's
// resize of that plane alone, for every subsampling a JPEG can have.
func TestResizeYCbCrPlaneByPlane(t *testing.T) {
	photo, _, err := Decode(readTestImage(t, "astronaut.jpg"), 0)
	if err != nil {
		t.Fatal(err)
	}
	sources := map[string]*image.YCbCr{"astronaut.jpg (4:2:0 from the decoder)": photo.(*image.YCbCr)}
	for _, r := range []image.YCbCrSubsampleRatio{image.YCbCrSubsampleRatio444, image.YCbCrSubsampleRatio422,
		image.YCbCrSubsampleRatio440, image.YCbCrSubsampleRatio411, image.YCbCrSubsampleRatio410} {
		sources[r.String()] = ycbcrFrom(SyntheticImage(3, 320, 240), r)
	}
	for name, src := range sources {
		sw, sh := src.Rect.Dx(), src.Rect.Dy()
		rx, ry, _ := chromaRatio(src.SubsampleRatio)
		for _, interp := range []string{"bilinear", "catmull_rom"} {
			for _, size := range []int{60, 160, 400} { // keep_ratio: whole frame, so planes map onto planes
				got, err := Resize(src, ResizeOptions{Mode: ResizeKeepRatio, Size: size, Interpolator: interp})
				if err != nil {
					t.Fatal(err)
				}
				out, ok := got.(*image.YCbCr)
				if !ok {
					t.Fatalf("%s: result is %T, want *image.YCbCr", name, got)
				}
				if want := src.SubsampleRatio == image.YCbCrSubsampleRatio420; want != (out.SubsampleRatio == image.YCbCrSubsampleRatio420) {
					t.Errorf("%s: result subsampling %v", name, out.SubsampleRatio)
				}
				dw, dh := out.Rect.Dx(), out.Rect.Dy()
				k := interpolators[interp]
				wantY := xdrawPlane(grayPlane(src.Y, src.YStride, sw, sh), dw, dh, k)
				if d := maxChannelDiff(grayPlane(out.Y, out.YStride, dw, dh), wantY); d > 1 {
					t.Errorf("%s %s %d: Y plane differs by %d", name, interp, size, d)
				}
				if dw%2 != 0 || dh%2 != 0 {
					continue // odd sizes: the last 4:2:0 chroma sample covers half a pixel
				}
				cw, ch := dw, dh
				if out.SubsampleRatio == image.YCbCrSubsampleRatio420 {
					cw, ch = dw/2, dh/2
				}
				for _, p := range []struct {
					name     string
					src, dst []uint8
				}{{"Cb", src.Cb, out.Cb}, {"Cr", src.Cr, out.Cr}} {
					want := xdrawPlane(grayPlane(p.src, src.CStride, sw/rx, sh/ry), cw, ch, k)
					if d := maxChannelDiff(grayPlane(p.dst, out.CStride, cw, ch), want); d > 1 {
						t.Errorf("%s %s %d: %s plane differs by %d", name, interp, size, p.name, d)
					}
				}
			}
		}
	}
}

// TestResizeSameSizeIsIdentity: scale 1 copies every sample.
func TestResizeSameSizeIsIdentity(t *testing.T) {
	photo, _, _ := Decode(readTestImage(t, "chelsea.jpg"), 0) // 320×213, odd height
	gray, _, _ := Decode(readTestImage(t, "coins.png"), 0)
	for _, src := range []image.Image{photo, gray, SyntheticImage(1, 51, 37)} {
		b := src.Bounds()
		got, err := Resize(src, ResizeOptions{Mode: ResizeKeepRatio, Size: min(b.Dx(), b.Dy())})
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprintf("%T", got) != fmt.Sprintf("%T", src) {
			t.Errorf("%T became %T", src, got)
		}
		if d := maxChannelDiff(got, src); d != 0 {
			t.Errorf("%T %v: identity resize changed pixels by %d", src, b, d)
		}
	}
}

// TestResizeJPEGEndToEnd: what a pipeline stores is the re-encoded JPEG.
// On the bundled photos the resampler's JPEG must be as close to x/image/draw's
// unencoded result as x/image/draw's own JPEG is (the JPEG encoding, not
// the resampler, is then the loss), and close to that JPEG.
func TestResizeJPEGEndToEnd(t *testing.T) {
	lowest, highest, worstGap := math.Inf(1), 0.0, math.Inf(-1)
	for _, name := range []string{"astronaut.jpg", "chelsea.jpg", "coffee.jpg", "rocket.jpg", "retina.jpg", "hubble_deep_field.jpg", "brick.png"} {
		src, _, err := Decode(readTestImage(t, name), 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, mode := range []string{ResizeKeepRatio, ResizeBorder, ResizeCenterCrop} {
			o := ResizeOptions{Mode: mode, Size: 256}
			fast, _ := Resize(src, o)
			ref, _ := ResizeXDraw(src, o)
			fastJPEG, refJPEG := jpegRoundTrip(t, fast), jpegRoundTrip(t, ref)
			pFast, pRef := psnr(ref, fastJPEG), psnr(ref, refJPEG)
			worstGap = max(worstGap, pRef-pFast)
			if pFast < pRef-0.5 {
				t.Errorf("%s %s: resampler JPEG %.1f dB from the reference, x/image/draw's own JPEG %.1f dB", name, mode, pFast, pRef)
			}
			p := psnr(refJPEG, fastJPEG)
			lowest, highest = min(lowest, p), max(highest, p)
			if p < 40 {
				t.Errorf("%s %s: the two JPEGs are %.1f dB apart, want ≥ 40", name, mode, p)
			}
		}
	}
	t.Logf("JPEGs of the two resamplers: %.1f–%.1f dB PSNR apart; the resampler's JPEG is at most %.2f dB further from x/image/draw's unencoded result than x/image/draw's own JPEG", lowest, highest, worstGap)
}

func jpegRoundTrip(t *testing.T, img image.Image) image.Image {
	data, err := EncodeJPEG(img, 90)
	if err != nil {
		t.Fatal(err)
	}
	out, err := jpeg.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestResizeOddShapesAndTypes: tiny, thin, offset and unusual images of
// every type give the requested size without panicking.
func TestResizeOddShapesAndTypes(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	kinds := []func(image.Rectangle) image.Image{
		func(r image.Rectangle) image.Image { return image.NewYCbCr(r, image.YCbCrSubsampleRatio420) },
		func(r image.Rectangle) image.Image { return image.NewYCbCr(r, image.YCbCrSubsampleRatio411) },
		func(r image.Rectangle) image.Image { return image.NewGray(r) },
		func(r image.Rectangle) image.Image { return image.NewRGBA(r) },
		func(r image.Rectangle) image.Image { return image.NewNRGBA(r) },
		func(r image.Rectangle) image.Image {
			return image.NewPaletted(r, color.Palette{color.Black, color.White})
		},
		func(r image.Rectangle) image.Image { return image.NewCMYK(r) },
		func(r image.Rectangle) image.Image { return image.NewGray16(r) },
	}
	for i := 0; i < 400; i++ {
		w, h := 1+rng.IntN(40), 1+rng.IntN(40)
		if i%4 == 0 {
			w, h = 1, 1+rng.IntN(300)
		}
		x0, y0 := rng.IntN(5), rng.IntN(5)
		r := image.Rect(x0, y0, x0+w, y0+h)
		img := kinds[i%len(kinds)](r)
		if d, ok := img.(draw.Image); ok {
			draw.Draw(d, r, SyntheticImage(uint64(i), w+2, h+2), image.Point{}, draw.Src)
		}
		if i%3 == 0 { // a sub-image at an odd offset
			if s, ok := img.(interface {
				SubImage(image.Rectangle) image.Image
			}); ok && w > 2 && h > 2 {
				img = s.SubImage(image.Rect(x0+1, y0+1, x0+w, y0+h))
			}
		}
		c := resizeCases[i%len(resizeCases)]
		size := 1 + rng.IntN(70)
		got, err := Resize(img, ResizeOptions{Mode: c.mode, Size: size, Interpolator: []string{"bilinear", "catmull_rom"}[i%2]})
		if err != nil {
			t.Fatal(err)
		}
		ref, _ := ResizeXDraw(img, ResizeOptions{Mode: c.mode, Size: size})
		if got.Bounds().Size() != ref.Bounds().Size() {
			t.Errorf("%T %v %s %d: %v, x/image/draw gives %v", img, img.Bounds(), c.mode, size, got.Bounds(), ref.Bounds())
		}
	}
}
