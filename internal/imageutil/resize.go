package imageutil

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"

	xdraw "golang.org/x/image/draw"
)

// Resize modes, named and defined as img2dataset defines them.
const (
	// ResizeNone keeps the image as it is.
	ResizeNone = "no"
	// ResizeKeepRatio scales the smaller side to the target size.
	ResizeKeepRatio = "keep_ratio"
	// ResizeKeepRatioLargest scales the larger side to the target size.
	ResizeKeepRatioLargest = "keep_ratio_largest"
	// ResizeCenterCrop scales the smaller side to the target size and cuts
	// the centre square.
	ResizeCenterCrop = "center_crop"
	// ResizeBorder scales the larger side to the target size and pads the
	// rest of the square with white, as img2dataset's cv2 border does.
	ResizeBorder = "border"
)

// ResizeModes lists the modes, for configuration choices.
const ResizeModes = "no,keep_ratio,keep_ratio_largest,center_crop,border"

// Interpolators by name. bilinear and catmull_rom are proper kernels that
// widen with the scale factor, so shrinking averages every source pixel
// (like cv2's INTER_AREA, which img2dataset uses to shrink); approx_bilinear
// samples four pixels only: faster, and it aliases when shrinking a lot.
var interpolators = map[string]xdraw.Interpolator{
	"approx_bilinear": xdraw.ApproxBiLinear,
	"bilinear":        xdraw.BiLinear,
	"catmull_rom":     xdraw.CatmullRom,
}

// kernels are the interpolators the plane resampler implements (the same
// kernel functions and support as x/image/draw's).
var kernels = map[string]*kernel{
	"bilinear":    &bilinearKernel,
	"catmull_rom": &catmullRomKernel,
}

// Interpolators lists the interpolator names, for configuration choices.
const Interpolators = "approx_bilinear,bilinear,catmull_rom"

// ResizeOptions says how to resize.
type ResizeOptions struct {
	Mode string
	Size int // target side in pixels
	// OnlyIfBigger leaves images alone whose relevant side is already at
	// most Size (img2dataset resize_only_if_bigger).
	OnlyIfBigger bool
	Interpolator string // default bilinear
}

// Resize returns img resized as opts says; the result is img itself when
// nothing changes. bilinear and catmull_rom go through this package's
// plane resampler (resample.go): a YCbCr source (every decoded JPEG) gives a
// YCbCr result without a colour conversion, a Gray source a Gray result and
// anything else an RGBA result. approx_bilinear goes through x/image/draw.
func Resize(img image.Image, opts ResizeOptions) (image.Image, error) {
	return resize(img, opts, false)
}

// ResizeXDraw is Resize done entirely with golang.org/x/image/draw, as this
// package did before it had its own resampler: the reference the fast path
// is tested against and the baseline of the benchmarks. Its result is RGBA
// (Gray for a Gray source).
func ResizeXDraw(img image.Image, opts ResizeOptions) (image.Image, error) {
	return resize(img, opts, true)
}

func resize(img image.Image, opts ResizeOptions, useXDraw bool) (image.Image, error) {
	if opts.Mode == ResizeNone || opts.Mode == "" {
		return img, nil
	}
	if opts.Size <= 0 {
		return nil, fmt.Errorf("resize size %d must be positive", opts.Size)
	}
	name := opts.Interpolator
	if name == "" {
		name = "bilinear"
	}
	interp := interpolators[name]
	if interp == nil {
		return nil, fmt.Errorf("unknown interpolator %q (choices: %s)", opts.Interpolator, Interpolators)
	}
	k := kernels[name]
	if useXDraw {
		k = nil
	}
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	small, large := min(w, h), max(w, h)
	switch opts.Mode {
	case ResizeKeepRatio:
		if opts.OnlyIfBigger && small <= opts.Size {
			return img, nil
		}
		nw, nh := scaled(w, h, small, opts.Size)
		return scale(img, b, nw, nh, interp, k), nil
	case ResizeKeepRatioLargest:
		if opts.OnlyIfBigger && large <= opts.Size {
			return img, nil
		}
		nw, nh := scaled(w, h, large, opts.Size)
		return scale(img, b, nw, nh, interp, k), nil
	case ResizeCenterCrop:
		if opts.OnlyIfBigger && small <= opts.Size {
			return img, nil
		}
		// Crop the centre square of the source first, then scale it: the
		// same pixels as scaling then cropping, at a fraction of the work.
		x0 := b.Min.X + (w-small)/2
		y0 := b.Min.Y + (h-small)/2
		return scale(img, image.Rect(x0, y0, x0+small, y0+small), opts.Size, opts.Size, interp, k), nil
	case ResizeBorder:
		if opts.OnlyIfBigger && large <= opts.Size {
			return img, nil
		}
		nw, nh := scaled(w, h, large, opts.Size)
		x0, y0 := (opts.Size-nw)/2, (opts.Size-nh)/2
		inner := image.Rect(x0, y0, x0+nw, y0+nh)
		if k != nil {
			src := planar(img, b)
			// 4:4:4 chroma: the picture's edge need not fall on a chroma
			// sample boundary of a subsampled destination.
			dst := newLike(src, opts.Size, opts.Size, false)
			fillWhite(dst)
			resampleInto(dst, inner, src, b, k)
			return dst, nil
		}
		dst := image.NewRGBA(image.Rect(0, 0, opts.Size, opts.Size))
		draw.Draw(dst, dst.Bounds(), image.NewUniform(color.White), image.Point{}, draw.Src)
		interp.Scale(dst, inner, img, b, xdraw.Src, nil)
		return dst, nil
	}
	return nil, fmt.Errorf("unknown resize mode %q (choices: %s)", opts.Mode, ResizeModes)
}

// scaled returns (w, h) scaled so that the side of length ref becomes size,
// rounding the other side and keeping it at least 1 pixel.
func scaled(w, h, ref, size int) (int, int) {
	nw := max(1, int((int64(w)*int64(size)+int64(ref)/2)/int64(ref)))
	nh := max(1, int((int64(h)*int64(size)+int64(ref)/2)/int64(ref)))
	if w == ref {
		nw = size
	}
	if h == ref {
		nh = size
	}
	return nw, nh
}

// scale resizes the sr part of img to w×h: with the plane resampler when k
// is set, else with x/image/draw.
func scale(img image.Image, sr image.Rectangle, w, h int, interp xdraw.Interpolator, k *kernel) image.Image {
	if k != nil {
		src := planar(img, sr)
		dst := newLike(src, w, h, chroma420(src))
		resampleInto(dst, dst.Bounds(), src, sr, k)
		return dst
	}
	var dst draw.Image
	if _, gray := img.(*image.Gray); gray {
		dst = image.NewGray(image.Rect(0, 0, w, h))
	} else {
		dst = image.NewRGBA(image.Rect(0, 0, w, h))
	}
	interp.Scale(dst, dst.Bounds(), img, sr, xdraw.Src, nil)
	return dst
}
