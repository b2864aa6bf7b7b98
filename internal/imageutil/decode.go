package imageutil

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	_ "image/gif"  // registers GIF with image.Decode
	_ "image/jpeg" // registers JPEG
	_ "image/png"  // registers PNG

	_ "golang.org/x/image/webp" // registers WebP
)

// Why a decode failed; stages turn these into rejection reasons.
var (
	// ErrUnknownFormat: the bytes start like no supported format.
	ErrUnknownFormat = errors.New("not a JPEG, PNG, GIF or WebP image")
	// ErrTooLarge: the header declares more pixels than allowed. Nothing
	// was decoded, so a decompression bomb costs a header read.
	ErrTooLarge = errors.New("image declares more pixels than allowed")
	// ErrCorrupt: the header or the pixel data is damaged or cut short.
	ErrCorrupt = errors.New("corrupt or truncated image")
	// ErrEmpty: a width or height of zero.
	ErrEmpty = errors.New("image has no pixels")
)

// Info is what an image's header says.
type Info struct {
	Width, Height int
	Format        string // "jpeg", "png", "gif", "webp"
}

// Pixels is Width×Height, without overflow for any int dimensions.
func (i Info) Pixels() int64 { return int64(i.Width) * int64(i.Height) }

// Probe reads only the header: the format and the declared size.
func Probe(data []byte) (Info, error) {
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		if errors.Is(err, image.ErrFormat) {
			return Info{}, ErrUnknownFormat
		}
		return Info{}, fmt.Errorf("%w: header: %v", ErrCorrupt, err)
	}
	info := Info{Width: cfg.Width, Height: cfg.Height, Format: format}
	if info.Width <= 0 || info.Height <= 0 {
		return info, ErrEmpty
	}
	return info, nil
}

// Decode decodes data after checking that its header declares at most
// maxPixels pixels (0: no limit). The decoders of the standard library
// allocate the whole frame from the header's size before reading any pixel
// data, which is why the check must come first.
func Decode(data []byte, maxPixels int64) (image.Image, Info, error) {
	info, err := Probe(data)
	if err != nil {
		return nil, info, err
	}
	if maxPixels > 0 && info.Pixels() > maxPixels {
		return nil, info, fmt.Errorf("%w: %d×%d is over %d pixels", ErrTooLarge, info.Width, info.Height, maxPixels)
	}
	img, _, err := decodeSafely(data)
	if err != nil {
		return nil, info, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	if b := img.Bounds(); b.Dx() != info.Width || b.Dy() != info.Height {
		return nil, info, fmt.Errorf("%w: header says %d×%d, pixels are %d×%d", ErrCorrupt, info.Width, info.Height, b.Dx(), b.Dy())
	}
	return img, info, nil
}

// decodeSafely turns a decoder panic on hostile input into an error: a
// record must never take the run down.
func decodeSafely(data []byte) (img image.Image, format string, err error) {
	defer func() {
		if p := recover(); p != nil {
			img, format, err = nil, "", fmt.Errorf("decoder panicked: %v", p)
		}
	}()
	return image.Decode(bytes.NewReader(data))
}
