package filter

import (
	"errors"
	"fmt"

	"github.com/corpusflow/corpusflow/flow"
	"github.com/corpusflow/corpusflow/internal/imageutil"
)

// The image_decode stage checks and normalises the image of an image–text
// record (Record.Fields["image"], encoded bytes), as img2dataset's resizer
// does after downloading:
//
//  1. the header is read first (image.DecodeConfig) and an image declaring
//     more than max_pixels pixels is rejected before a byte of pixel data is
//     decoded: a 50-byte PNG can declare 10^10 pixels (decompression bomb);
//  2. the image is decoded (JPEG, PNG, GIF first frame, WebP); corrupt or
//     truncated files are rejected and counted;
//  3. it is resized with one of img2dataset's modes and re-encoded as JPEG.
//
// Fields written: "width" and "height" (of the bytes now in "image"),
// "original_width" and "original_height" (as decoded; the image_text rules
// use these, as img2dataset filters on the original size), "image_format"
// (of the bytes now in "image"). The sizes are copied into Meta too, so a
// JSONL sink shows them.

// Rejection reasons of image_decode.
const (
	ImageRejectNoImage     = "no_image"
	ImageRejectTooLarge    = "image_too_large"
	ImageRejectCorrupt     = "image_corrupt"
	ImageRejectUnsupported = "image_format_unsupported"
	ImageRejectEmpty       = "image_empty"
)

// Image record fields (see the ingest package for the full list).
const (
	fieldImage          = "image"
	fieldWidth          = "width"
	fieldHeight         = "height"
	fieldOriginalWidth  = "original_width"
	fieldOriginalHeight = "original_height"
	fieldImageFormat    = "image_format"
)

// ImageDecodeConfig is image_decode's YAML configuration. The defaults are
// img2dataset's (border, 256 px, quality 95) except max_pixels, which
// img2dataset leaves to PIL (89,478,485 pixels, PIL's own bomb limit).
type ImageDecodeConfig struct {
	MaxPixels          int64  `yaml:"max_pixels" help:"reject images whose header declares more pixels, before decoding them"`
	ResizeMode         string `yaml:"resize_mode" choices:"no,keep_ratio,keep_ratio_largest,center_crop,border" help:"img2dataset's modes: keep_ratio scales the smaller side to image_size, keep_ratio_largest the larger, center_crop scales then cuts the centre square, border scales the larger side and pads with white"`
	ImageSize          int    `yaml:"image_size" help:"target side in pixels"`
	ResizeOnlyIfBigger bool   `yaml:"resize_only_if_bigger" help:"leave images alone that are already small enough"`
	Interpolator       string `yaml:"interpolator" choices:"approx_bilinear,bilinear,catmull_rom" help:"resampling kernel; bilinear and catmull_rom average every source pixel when shrinking, approx_bilinear is faster and aliases"`
	Quality            int    `yaml:"quality" help:"JPEG quality of the re-encoded image (1-100)"`
	Reencode           bool   `yaml:"reencode" help:"re-encode as JPEG even when the image is not resized (false keeps the original bytes then)"`
}

// DefaultImageDecodeConfig is image_decode's defaults.
func DefaultImageDecodeConfig() ImageDecodeConfig {
	return ImageDecodeConfig{
		MaxPixels: 89478485, ResizeMode: imageutil.ResizeBorder, ImageSize: 256,
		Interpolator: "bilinear", Quality: 95, Reencode: true,
	}
}

// Validate checks the limits.
func (c *ImageDecodeConfig) Validate() error {
	fe := func(field, format string, args ...any) error {
		return &flow.FieldError{Field: field, Err: fmt.Errorf(format, args...)}
	}
	switch {
	case c.MaxPixels < 1:
		return fe("max_pixels", "must be positive")
	case c.ResizeMode != imageutil.ResizeNone && (c.ImageSize < 1 || c.ImageSize > 16384):
		return fe("image_size", "must be in [1, 16384], got %d", c.ImageSize)
	case c.Quality < 1 || c.Quality > 100:
		return fe("quality", "must be in [1, 100], got %d", c.Quality)
	}
	if _, err := imageutil.Resize(imageutil.SyntheticImage(0, 2, 2), imageutil.ResizeOptions{Mode: c.ResizeMode, Size: max(1, c.ImageSize), Interpolator: c.Interpolator}); err != nil {
		return fe("resize_mode", "%v", err)
	}
	return nil
}

func init() {
	flow.RegisterStage("image_decode",
		"decode each record's image safely (pixel cap checked from the header first: decompression bombs), reject corrupt ones, resize as img2dataset (center_crop, keep_ratio, border) and re-encode as JPEG",
		DefaultImageDecodeConfig(),
		func(c *ImageDecodeConfig, env *flow.Env) (flow.Stage, error) { return NewImageDecode(*c, env) })
}

// ImageDecode is the image_decode stage; it is stateless and runs on every
// worker.
type ImageDecode struct {
	cfg      ImageDecodeConfig
	resize   imageutil.ResizeOptions
	counters *flow.Counters
}

// NewImageDecode builds the stage.
func NewImageDecode(cfg ImageDecodeConfig, env *flow.Env) (*ImageDecode, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	counters := &flow.Counters{}
	if env != nil && env.Counters != nil {
		counters = env.Counters
	}
	return &ImageDecode{
		cfg:      cfg,
		resize:   imageutil.ResizeOptions{Mode: cfg.ResizeMode, Size: cfg.ImageSize, OnlyIfBigger: cfg.ResizeOnlyIfBigger, Interpolator: cfg.Interpolator},
		counters: counters,
	}, nil
}

// Process decodes, checks, resizes and re-encodes r's image.
func (s *ImageDecode) Process(r *flow.Record) string {
	data, _ := r.Fields[fieldImage].([]byte)
	if len(data) == 0 {
		return ImageRejectNoImage
	}
	s.counters.Add("bytes_in", int64(len(data)))
	img, info, err := imageutil.Decode(data, s.cfg.MaxPixels)
	switch {
	case errors.Is(err, imageutil.ErrTooLarge):
		s.counters.Add("rejected_pixels_declared", info.Pixels())
		return ImageRejectTooLarge
	case errors.Is(err, imageutil.ErrUnknownFormat):
		return ImageRejectUnsupported
	case errors.Is(err, imageutil.ErrEmpty):
		return ImageRejectEmpty
	case err != nil:
		return ImageRejectCorrupt
	}
	s.counters.Add("format_"+info.Format, 1)
	r.Fields[fieldOriginalWidth], r.Fields[fieldOriginalHeight] = info.Width, info.Height
	out, err := imageutil.Resize(img, s.resize)
	if err != nil {
		return ImageRejectCorrupt // the configuration was validated; only a broken image gets here
	}
	if out != img || s.cfg.Reencode {
		enc, err := imageutil.EncodeJPEG(out, s.cfg.Quality)
		if err != nil {
			return ImageRejectCorrupt
		}
		r.Fields[fieldImage] = enc
		r.Fields[fieldImageFormat] = "jpeg"
	} else {
		r.Fields[fieldImageFormat] = info.Format
	}
	b := out.Bounds()
	r.Fields[fieldWidth], r.Fields[fieldHeight] = b.Dx(), b.Dy()
	s.counters.Add("bytes_out", int64(len(r.Fields[fieldImage].([]byte))))
	r.SetMeta(fieldWidth, b.Dx())
	r.SetMeta(fieldHeight, b.Dy())
	r.SetMeta(fieldOriginalWidth, info.Width)
	r.SetMeta(fieldOriginalHeight, info.Height)
	return ""
}
