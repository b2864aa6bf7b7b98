package imageutil

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"image"
	"image/jpeg"

	xdraw "golang.org/x/image/draw"
)

// EncodeJPEG encodes img at the given quality (1–100). Go's encoder is
// deterministic: the same pixels give the same bytes.
func EncodeJPEG(img image.Image, quality int) ([]byte, error) {
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: quality}); err != nil {
		return nil, fmt.Errorf("jpeg encode: %w", err)
	}
	return b.Bytes(), nil
}

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
