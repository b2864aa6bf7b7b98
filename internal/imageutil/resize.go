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
// nothing changes.
func Resize(img image.Image, opts ResizeOptions) (image.Image, error) {
	if opts.Mode == ResizeNone || opts.Mode == "" {
		return img, nil
	}
	if opts.Size <= 0 {
		return nil, fmt.Errorf("resize size %d must be positive", opts.Size)
	}
	interp := interpolators[opts.Interpolator]
	if opts.Interpolator == "" {
		interp = xdraw.BiLinear
	}
	if interp == nil {
		return nil, fmt.Errorf("unknown interpolator %q (choices: %s)", opts.Interpolator, Interpolators)
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
		return scale(img, b, nw, nh, interp), nil
	case ResizeKeepRatioLargest:
		if opts.OnlyIfBigger && large <= opts.Size {
			return img, nil
		}
		nw, nh := scaled(w, h, large, opts.Size)
		return scale(img, b, nw, nh, interp), nil
	case ResizeCenterCrop:
		if opts.OnlyIfBigger && small <= opts.Size {
			return img, nil
		}
		// Crop the centre square of the source first, then scale it: the
		// same pixels as scaling then cropping, at a fraction of the work.
		x0 := b.Min.X + (w-small)/2
		y0 := b.Min.Y + (h-small)/2
		return scale(img, image.Rect(x0, y0, x0+small, y0+small), opts.Size, opts.Size, interp), nil
	case ResizeBorder:
		if opts.OnlyIfBigger && large <= opts.Size {
			return img, nil
		}
		nw, nh := scaled(w, h, large, opts.Size)
		dst := image.NewRGBA(image.Rect(0, 0, opts.Size, opts.Size))
		draw.Draw(dst, dst.Bounds(), image.NewUniform(color.White), image.Point{}, draw.Src)
		x0, y0 := (opts.Size-nw)/2, (opts.Size-nh)/2
		interp.Scale(dst, image.Rect(x0, y0, x0+nw, y0+nh), img, b, xdraw.Src, nil)
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

func scale(img image.Image, sr image.Rectangle, w, h int, interp xdraw.Interpolator) image.Image {
	var dst draw.Image
	if _, gray := img.(*image.Gray); gray {
		dst = image.NewGray(image.Rect(0, 0, w, h))
	} else {
		dst = image.NewRGBA(image.Rect(0, 0, w, h))
	}
	interp.Scale(dst, dst.Bounds(), img, sr, xdraw.Src, nil)
	return dst
}
