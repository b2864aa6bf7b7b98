package imageutil

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"image"
	"image/jpeg"
	"sync"

	xdraw "golang.org/x/image/draw"
)

// EncodeJPEG encodes img at the given quality (1–100). Go's encoder is
// deterministic: the same pixels give the same bytes. It reads *image.YCbCr
// (what Resize returns for JPEG sources), *image.Gray and *image.RGBA
// directly; a YCbCr image skips the colour conversion an RGBA one needs.
func EncodeJPEG(img image.Image, quality int) ([]byte, error) {
	w := encodeBuffers.Get().(*flushBuffer)
	defer func() {
		if w.Cap() <= maxPooledEncodeBuffer { // one huge image must not pin its buffer
			encodeBuffers.Put(w)
		}
	}()
	w.Reset()
	if err := jpeg.Encode(w, img, &jpeg.Options{Quality: quality}); err != nil {
		return nil, fmt.Errorf("jpeg encode: %w", err)
	}
	return bytes.Clone(w.Bytes()), nil
}

// flushBuffer is a bytes.Buffer with the Flush method image/jpeg looks
// for: without it the encoder wraps the writer in a new bufio.Writer on
// every call. The buffer is reused across calls (its bytes are copied out),
// so a steady stream of images does not regrow it each time.
type flushBuffer struct{ bytes.Buffer }

func (*flushBuffer) Flush() error { return nil }

const maxPooledEncodeBuffer = 4 << 20

var encodeBuffers = sync.Pool{New: func() any { return new(flushBuffer) }}

// ThumbnailDataURI scales img to fit in a side×side box (never enlarging)
// and returns it as a data: URI holding a small JPEG, for reports that must
// show an image without shipping files beside them.
func ThumbnailDataURI(img image.Image, side int) (string, error) {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	if large := max(w, h); large > side {
		w, h = scaled(w, h, large, side)
	}
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	xdraw.BiLinear.Scale(dst, dst.Bounds(), img, b, xdraw.Src, nil)
	data, err := EncodeJPEG(dst, 70)
	if err != nil {
		return "", err
	}
	return "data:image/jpeg;base64," + base64.StdEncoding.EncodeToString(data), nil
}
