package imageutil

import (
	"image"
	"image/color"
)

// LumaGrid averages img's luminance (ITU-R 601, 0–255) over a w×h grid of
// equal areas: every source pixel contributes to the cell it falls in, so
// shrinking does not alias (like PIL's box/antialias filters that
// perceptual-hash libraries use). The result is row-major, w*h values.
func LumaGrid(img image.Image, w, h int) []float64 {
	b := img.Bounds()
	sw, sh := b.Dx(), b.Dy()
	sum := make([]float64, w*h)
	count := make([]float64, w*h)
	// Cell of each source column, computed once.
	colCell := make([]int, sw)
	for x := range colCell {
		colCell[x] = x * w / sw
	}
	for y := 0; y < sh; y++ {
		row := (y * h / sh) * w
		switch m := img.(type) {
		case *image.YCbCr:
			// Y is the luminance already: no colour conversion per pixel.
			off := m.YOffset(b.Min.X, b.Min.Y+y)
			for x := 0; x < sw; x++ {
				c := row + colCell[x]
				sum[c] += float64(m.Y[off+x])
				count[c]++
			}
		case *image.Gray:
			off := m.PixOffset(b.Min.X, b.Min.Y+y)
			for x := 0; x < sw; x++ {
				c := row + colCell[x]
				sum[c] += float64(m.Pix[off+x])
				count[c]++
			}
		case *image.RGBA:
			off := m.PixOffset(b.Min.X, b.Min.Y+y)
			for x := 0; x < sw; x++ {
				p := m.Pix[off+4*x : off+4*x+3]
				c := row + colCell[x]
				sum[c] += luma(uint32(p[0]), uint32(p[1]), uint32(p[2]))
				count[c]++
			}
		default:
			for x := 0; x < sw; x++ {
				r, g, bl, _ := img.At(b.Min.X+x, b.Min.Y+y).RGBA()
				c := row + colCell[x]
				sum[c] += luma(r>>8, g>>8, bl>>8)
				count[c]++
			}
		}
	}
	for i := range sum {
		if count[i] > 0 {
			sum[i] /= count[i]
		}
	}
	// Images smaller than the grid leave cells empty: fill them from the
	// nearest source pixel so the hash still sees the whole picture.
	if sw < w || sh < h {
		for cy := 0; cy < h; cy++ {
			for cx := 0; cx < w; cx++ {
				if count[cy*w+cx] == 0 {
					gy := color.GrayModel.Convert(img.At(b.Min.X+cx*sw/w, b.Min.Y+cy*sh/h)).(color.Gray)
					sum[cy*w+cx] = float64(gy.Y)
				}
			}
		}
	}
	return sum
}

func luma(r, g, b uint32) float64 { return 0.299*float64(r) + 0.587*float64(g) + 0.114*float64(b) }
