package imageutil

import "math"

// A separable resampler on 8-bit planes with fixed-point weights: the
// same kernels as golang.org/x/image/draw's BiLinear and CatmullRom (the
// support widens with the shrink factor, so every source pixel is averaged
// in), without what makes x/image/draw slow on decoded photos: it converts
// every source pixel of a YCbCr image to 16-bit RGBA in float64 and keeps an
// intermediate of dstWidth×srcHeight×4 float64 (5 MB for a 640×480 photo
// shrunk to 256 px). Here each plane of a YCbCr image (Y at full
// resolution, Cb and Cr at their subsampled resolution) is resampled on its
// own, in integers, and only the few source rows a destination row needs
// are kept: n rows of dstWidth int32.

// weightBits is the precision of the fixed-point weights: they sum to
// 1<<weightBits per output sample.
const weightBits = 14

// midBits is the precision the horizontal pass keeps for the vertical one
// (7 bits below the 8-bit sample), so rounding happens once, at the end.
const midBits = 7

type kernel struct {
	support float64
	at      func(t float64) float64 // t ≥ 0, t < support
}

var (
	bilinearKernel   = kernel{1, func(t float64) float64 { return 1 - t }}
	catmullRomKernel = kernel{2, func(t float64) float64 {
		if t < 1 {
			return (1.5*t-2.5)*t*t + 1
		}
		return ((-0.5*t+2.5)*t-4)*t + 2
	}}
)

// axisWeights maps the output samples of one axis to source samples: output
// j is Σ_k w[j*n+k] · src[start[j]+k].
type axisWeights struct {
	n     int
	start []int32
	w     []int32
}

// makeWeights computes the weights of dn output samples whose centres lie
// at a + (j+0.5)·scale in source coordinates (source sample i is centred at
// i+0.5), reading only source samples in [lo, hi).
func makeWeights(k kernel, dn int, a, scale float64, lo, hi int) axisWeights {
	width := k.support
	argScale := 1.0
	if scale > 1 { // shrinking: widen the kernel so no source sample is skipped
		width *= scale
		argScale = 1 / scale
	}
	// Taps per output sample: source sample i is under the kernel when
	// |c - (i+0.5)| < width, an open interval of length 2·width, which holds
	// at most ⌈2·width⌉ integers; and never more than the source has.
	n := max(1, min(hi-lo, int(math.Ceil(2*width))))
	aw := axisWeights{n: n, start: make([]int32, dn), w: make([]int32, dn*n)}
	ws := make([]float64, n)
	for j := 0; j < dn; j++ {
		c := a + (float64(j)+0.5)*scale
		first := max(lo, int(math.Floor(c-0.5-width))+1)
		last := min(hi-1, first+n-1, int(math.Ceil(c-0.5+width))-1)
		ws = ws[:0]
		total := 0.0
		for i := first; i <= last; i++ {
			t := math.Abs(c-(float64(i)+0.5)) * argScale
			w := 0.0
			if t < k.support {
				w = k.at(t)
			}
			ws = append(ws, w)
			total += w
		}
		if total == 0 { // no sample under the kernel: take the nearest one
			first = min(hi-1, max(lo, int(math.Floor(c))))
			ws, total = append(ws[:0], 1), 1
		}
		// Every output sample reads n source samples: spans near the end
		// start earlier, padded with zero weights in front.
		start := min(first, hi-n)
		aw.start[j] = int32(start)
		row := aw.w[j*n : (j+1)*n]
		off := first - start
		sum, big := int32(0), off
		for i, w := range ws {
			q := int32(math.Round(w / total * (1 << weightBits)))
			row[off+i] = q
			sum += q
			if q > row[big] {
				big = off + i
			}
		}
		row[big] += 1<<weightBits - sum // rounding must not change brightness
	}
	return aw
}

// plane is one channel (c = 1) or interleaved channels (c = 4, RGBA) of
// 8-bit samples: sample (x, y), channel ch is pix[y*stride+x*c+ch].
type plane struct {
	pix    []uint8
	stride int
	c      int
}

// resamplePlane writes dst's (dw×dh samples) from src through the
// horizontal weights hw (dw outputs) and vertical weights vw (dh outputs).
func resamplePlane(dst, src plane, dw, dh int, hw, vw axisWeights) {
	c := src.c
	rowLen := dw * c
	n := vw.n
	ring := make([]int32, n*rowLen) // source row r lives in slot r % n
	acc := make([]int32, rowLen)
	next := -1 << 31 // first source row not yet in the ring
	for j := 0; j < dh; j++ {
		s := int(vw.start[j])
		for r := max(next, s); r < s+n; r++ {
			horizontal(ring[(r%n)*rowLen:(r%n+1)*rowLen], src.pix[r*src.stride:], hw, c)
		}
		next = max(next, s+n)
		w := vw.w[j*n : (j+1)*n]
		first := ring[(s%n)*rowLen : (s%n+1)*rowLen]
		for x, v := range first {
			acc[x] = w[0] * v
		}
		for k := 1; k < n; k++ {
			wk := w[k]
			if wk == 0 {
				continue
			}
			slot := (s + k) % n
			row := ring[slot*rowLen : (slot+1)*rowLen]
			for x, v := range row {
				acc[x] += wk * v
			}
		}
		out := dst.pix[j*dst.stride : j*dst.stride+rowLen]
		const shift = weightBits + midBits
		for x, v := range acc {
			out[x] = clamp8((v + 1<<(shift-1)) >> shift)
		}
		if c == 4 { // premultiplied alpha: no colour above its alpha
			for x := 0; x+3 < len(out); x += 4 {
				a := out[x+3]
				out[x], out[x+1], out[x+2] = min(out[x], a), min(out[x+1], a), min(out[x+2], a)
			}
		}
	}
}

// horizontal resamples one source row into out (dw·c values at midBits).
func horizontal(out []int32, src []uint8, hw axisWeights, c int) {
	n := hw.n
	const round, shift = 1 << (weightBits - midBits - 1), weightBits - midBits
	if c == 1 {
		switch n { // the common tap counts, unrolled: a 1.25–2× shrink reads 3 or 4
		case 3:
			for j := range out {
				s := int(hw.start[j])
				w := hw.w[j*3 : j*3+3 : j*3+3]
				px := src[s : s+3 : s+3]
				out[j] = (w[0]*int32(px[0]) + w[1]*int32(px[1]) + w[2]*int32(px[2]) + round) >> shift
			}
			return
		case 4:
			for j := range out {
				s := int(hw.start[j])
				w := hw.w[j*4 : j*4+4 : j*4+4]
				px := src[s : s+4 : s+4]
				out[j] = (w[0]*int32(px[0]) + w[1]*int32(px[1]) + w[2]*int32(px[2]) + w[3]*int32(px[3]) + round) >> shift
			}
			return
		}
		for j := range out {
			s := int(hw.start[j])
			w := hw.w[j*n : (j+1)*n]
			px := src[s : s+n]
			px = px[:len(w)]
			var sum int32
			for k, wk := range w {
				sum += wk * int32(px[k])
			}
			out[j] = (sum + round) >> shift
		}
		return
	}
	for j := 0; j*4 < len(out); j++ {
		s := int(hw.start[j]) * 4
		w := hw.w[j*n : (j+1)*n]
		px := src[s : s+4*n]
		var r, g, b, a int32
		for k, wk := range w {
			p := px[4*k : 4*k+4 : 4*k+4]
			r += wk * int32(p[0])
			g += wk * int32(p[1])
			b += wk * int32(p[2])
			a += wk * int32(p[3])
		}
		o := out[4*j : 4*j+4 : 4*j+4]
		o[0], o[1], o[2], o[3] = (r+round)>>shift, (g+round)>>shift, (b+round)>>shift, (a+round)>>shift
	}
}

func clamp8(v int32) uint8 {
	if v < 0 {
		return 0
	}
	if v > 255 {
		return 255
	}
	return uint8(v)
}
