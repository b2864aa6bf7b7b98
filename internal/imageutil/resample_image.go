package imageutil

import (
	"image"
	"image/draw"
)

// How the plane resampler sees images: a YCbCr image is three planes, Y
// at full resolution and Cb, Cr at the resolution of its subsampling; Gray
// is one plane; RGBA one plane of four interleaved channels. Any other
// image (NRGBA and paletted PNGs, GIFs, CMYK JPEGs, 16-bit PNGs) is first
// converted to RGBA.

// planar returns img itself when the resampler reads its type directly,
// else the sr part of it converted to RGBA (same coordinates).
func planar(img image.Image, sr image.Rectangle) image.Image {
	switch m := img.(type) {
	case *image.YCbCr:
		if _, _, ok := chromaRatio(m.SubsampleRatio); ok && m.Rect.Min.X >= 0 && m.Rect.Min.Y >= 0 {
			return m
		}
	case *image.Gray, *image.RGBA:
		return m
	}
	rgba := image.NewRGBA(sr)
	draw.Draw(rgba, sr, img, sr.Min, draw.Src)
	return rgba
}

// chroma420 says whether a resized copy of src may keep 4:2:0 chroma: the
// JPEG encoder writes 4:2:0 anyway, and resampling a quarter of the chroma
// samples is cheaper. Other subsamplings become 4:4:4.
func chroma420(src image.Image) bool {
	m, ok := src.(*image.YCbCr)
	return ok && m.SubsampleRatio == image.YCbCrSubsampleRatio420
}

// newLike allocates a w×h destination of the kind src resamples into.
func newLike(src image.Image, w, h int, subsample420 bool) image.Image {
	r := image.Rect(0, 0, w, h)
	switch src.(type) {
	case *image.YCbCr:
		if subsample420 {
			return image.NewYCbCr(r, image.YCbCrSubsampleRatio420)
		}
		return image.NewYCbCr(r, image.YCbCrSubsampleRatio444)
	case *image.Gray:
		return image.NewGray(r)
	}
	return image.NewRGBA(r)
}

// fillWhite paints dst white (JPEG's white is Y 255, Cb = Cr = 128).
func fillWhite(dst image.Image) {
	fill := func(p []uint8, v uint8) {
		for i := range p {
			p[i] = v
		}
	}
	switch m := dst.(type) {
	case *image.YCbCr:
		fill(m.Y, 255)
		fill(m.Cb, 128)
		fill(m.Cr, 128)
	case *image.Gray:
		fill(m.Pix, 255)
	case *image.RGBA:
		fill(m.Pix, 255)
	}
}

// chromaRatio is the chroma subsampling of a YCbCr ratio, horizontally and
// vertically.
func chromaRatio(r image.YCbCrSubsampleRatio) (rx, ry int, ok bool) {
	switch r {
	case image.YCbCrSubsampleRatio444:
		return 1, 1, true
	case image.YCbCrSubsampleRatio422:
		return 2, 1, true
	case image.YCbCrSubsampleRatio420:
		return 2, 2, true
	case image.YCbCrSubsampleRatio440:
		return 1, 2, true
	case image.YCbCrSubsampleRatio411:
		return 4, 1, true
	case image.YCbCrSubsampleRatio410:
		return 4, 2, true
	}
	return 0, 0, false
}

// planeGeom places a plane in its image's coordinates: sample i of the
// plane covers image pixels [(origin+i)·sub, (origin+i+1)·sub) on an axis.
type planeGeom struct {
	plane
	subX, subY       int
	originX, originY int
	w, h             int // samples
}

// planesOf lists src's or dst's planes (which must come from planar or
// newLike).
func planesOf(img image.Image) []planeGeom {
	switch m := img.(type) {
	case *image.YCbCr:
		rx, ry, _ := chromaRatio(m.SubsampleRatio)
		r := m.Rect
		y := planeGeom{plane{m.Y, m.YStride, 1}, 1, 1, r.Min.X, r.Min.Y, r.Dx(), r.Dy()}
		cx0, cy0 := r.Min.X/rx, r.Min.Y/ry
		cw, ch := (r.Max.X+rx-1)/rx-cx0, (r.Max.Y+ry-1)/ry-cy0
		cb := planeGeom{plane{m.Cb, m.CStride, 1}, rx, ry, cx0, cy0, cw, ch}
		cr := cb
		cr.pix = m.Cr
		return []planeGeom{y, cb, cr}
	case *image.Gray:
		return []planeGeom{{plane{m.Pix, m.Stride, 1}, 1, 1, m.Rect.Min.X, m.Rect.Min.Y, m.Rect.Dx(), m.Rect.Dy()}}
	case *image.RGBA:
		return []planeGeom{{plane{m.Pix, m.Stride, 4}, 1, 1, m.Rect.Min.X, m.Rect.Min.Y, m.Rect.Dx(), m.Rect.Dy()}}
	}
	return nil
}

// resampleInto scales the sr part of src onto the dr part of dst, plane by
// plane. src and dst are of the same kind (planar and newLike).
func resampleInto(dst image.Image, dr image.Rectangle, src image.Image, sr image.Rectangle, k *kernel) {
	dps, sps := planesOf(dst), planesOf(src)
	for i := range dps {
		d, s := dps[i], sps[i]
		hw, x0 := axisMapping(k, sr.Min.X, sr.Max.X, dr.Min.X, dr.Max.X, s.subX, s.originX, s.w, d.subX, d.originX)
		vw, y0 := axisMapping(k, sr.Min.Y, sr.Max.Y, dr.Min.Y, dr.Max.Y, s.subY, s.originY, s.h, d.subY, d.originY)
		out := d.plane
		out.pix = out.pix[y0*out.stride+x0*out.c:]
		resamplePlane(out, s.plane, len(hw.start), len(vw.start), hw, vw)
	}
}

// axisMapping computes the weights of one plane on one axis: the image
// pixels [sMin, sMax) of the source become [dMin, dMax) of the
// destination. A destination sample j (of subsampling dSub) is centred at
// image coordinate (j+0.5)·dSub; that point maps back linearly into the
// source and, divided by sSub, into source samples. It returns the weights
// and the plane index of the first destination sample written.
func axisMapping(k *kernel, sMin, sMax, dMin, dMax, sSub, sOrigin, sLen, dSub, dOrigin int) (axisWeights, int) {
	first := dMin / dSub
	end := (dMax + dSub - 1) / dSub
	ratio := float64(sMax-sMin) / float64(dMax-dMin) // source pixels per destination pixel
	scale := float64(dSub) * ratio / float64(sSub)
	a := (float64(sMin)+(float64(first*dSub-dMin))*ratio)/float64(sSub) - float64(sOrigin)
	lo := max(0, sMin/sSub-sOrigin)
	hi := min(sLen, (sMax+sSub-1)/sSub-sOrigin)
	return makeWeights(*k, end-first, a, scale, lo, hi), first - dOrigin
}
