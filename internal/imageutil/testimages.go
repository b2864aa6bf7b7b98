package imageutil

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/png"
	"math/rand/v2"
)

// Images made for tests and benchmarks in every package that handles
// pictures; nothing here runs in a pipeline.

// BombPNG returns a valid-looking PNG of a few dozen bytes whose header
// declares width×height pixels: the decompression bomb a decoder must refuse
// before allocating width×height×4 bytes.
func BombPNG(width, height uint32) []byte {
	var b bytes.Buffer
	if err := png.Encode(&b, image.NewGray(image.Rect(0, 0, 1, 1))); err != nil {
		panic(err) // encoding a 1×1 image in memory cannot fail
	}
	data := b.Bytes()
	// IHDR is the first chunk: 8-byte signature, 4-byte length, "IHDR",
	// then width and height, then the CRC over type and data.
	const ihdr = 8
	binary.BigEndian.PutUint32(data[ihdr+8:], width)
	binary.BigEndian.PutUint32(data[ihdr+12:], height)
	crc := crc32.ChecksumIEEE(data[ihdr+4 : ihdr+8+13])
	binary.BigEndian.PutUint32(data[ihdr+8+13:], crc)
	return data
}

// SyntheticImage draws a deterministic picture from seed: a smooth colour
// gradient with a few rectangles and discs, different enough from seed to
// seed that perceptual hashes of two seeds are far apart. Used as the
// "unrelated images" of dedup tests and as benchmark input.
func SyntheticImage(seed uint64, w, h int) *image.RGBA {
	rng := rand.New(rand.NewPCG(seed, 0x696d67))
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	c0 := [3]float64{rng.Float64() * 255, rng.Float64() * 255, rng.Float64() * 255}
	c1 := [3]float64{rng.Float64() * 255, rng.Float64() * 255, rng.Float64() * 255}
	angle := rng.Float64()
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			t := (angle*float64(x)/float64(w) + (1-angle)*float64(y)/float64(h))
			img.SetRGBA(x, y, color.RGBA{uint8(c0[0]*(1-t) + c1[0]*t), uint8(c0[1]*(1-t) + c1[1]*t), uint8(c0[2]*(1-t) + c1[2]*t), 255})
		}
	}
	for i := 0; i < 6; i++ {
		col := color.RGBA{uint8(rng.IntN(256)), uint8(rng.IntN(256)), uint8(rng.IntN(256)), 255}
		x0, y0 := rng.IntN(w), rng.IntN(h)
		rw, rh := 1+rng.IntN(w/2), 1+rng.IntN(h/2)
		disc := rng.IntN(2) == 0
		for y := y0; y < min(h, y0+rh); y++ {
			for x := x0; x < min(w, x0+rw); x++ {
				if disc {
					dx, dy := float64(x-x0-rw/2)/float64(rw/2+1), float64(y-y0-rh/2)/float64(rh/2+1)
					if dx*dx+dy*dy > 1 {
						continue
					}
				}
				img.SetRGBA(x, y, col)
			}
		}
	}
	return img
}
