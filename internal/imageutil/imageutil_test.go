package imageutil

import (
	"bytes"
	"errors"
	"image"
	"image/gif"
	"os"
	"path/filepath"
	"testing"
)

func readTestImage(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "testdata", "images", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestDecodeBundledImages(t *testing.T) {
	cases := []struct {
		file   string
		format string
		w, h   int
	}{
		{"astronaut.jpg", "jpeg", 320, 320},
		{"chelsea.jpg", "jpeg", 320, 213},
		{"camera.png", "png", 320, 320},
		{"coins.png", "png", 320, 253},
		{"heldout/chelsea-160.webp", "webp", 160, 107},
	}
	for _, c := range cases {
		img, info, err := Decode(readTestImage(t, c.file), 1<<20)
		if err != nil {
			t.Fatalf("%s: %v", c.file, err)
		}
		if info.Format != c.format || info.Width != c.w || info.Height != c.h || img.Bounds().Dx() != c.w {
			t.Errorf("%s: got %+v, want %s %d×%d", c.file, info, c.format, c.w, c.h)
		}
	}
}

func TestDecodeGIF(t *testing.T) {
	var b bytes.Buffer
	if err := gif.Encode(&b, SyntheticImage(1, 30, 20), nil); err != nil {
		t.Fatal(err)
	}
	_, info, err := Decode(b.Bytes(), 0)
	if err != nil || info.Format != "gif" || info.Width != 30 || info.Height != 20 {
		t.Fatalf("gif: %+v %v", info, err)
	}
}

func TestDecodeRejectsBadImages(t *testing.T) {
	cases := []struct {
		name string
		data []byte
		want error
	}{
		{"truncated JPEG from scikit-image", readTestImage(t, "truncated.jpg"), ErrCorrupt},
		{"bomb PNG declaring 100000×100000", BombPNG(100000, 100000), ErrTooLarge},
		{"bomb PNG at the limit plus one row", BombPNG(1000, 1001), ErrTooLarge},
		{"text", []byte("hello, not an image"), ErrUnknownFormat},
		{"empty", nil, ErrUnknownFormat},
		{"JPEG cut in its header", readTestImage(t, "chelsea.jpg")[:60], ErrCorrupt},
		{"PNG cut in its pixels", readTestImage(t, "camera.png")[:4000], ErrCorrupt},
		{"zero-width PNG", BombPNG(0, 10), ErrCorrupt},
	}
	for _, c := range cases {
		_, _, err := Decode(c.data, 1000*1000)
		if !errors.Is(err, c.want) {
			t.Errorf("%s: got %v, want %v", c.name, err, c.want)
		}
	}
	// The bomb's header is read, nothing more: its declared size is known.
	info, err := Probe(BombPNG(100000, 100000))
	if err != nil || info.Pixels() != 1e10 {
		t.Errorf("probe of the bomb: %+v %v", info, err)
	}
}

func TestResizeModes(t *testing.T) {
	src := SyntheticImage(7, 400, 200)
	cases := []struct {
		mode         string
		onlyIfBigger bool
		size         int
		w, h         int
	}{
		{ResizeNone, false, 100, 400, 200},
		{ResizeKeepRatio, false, 100, 200, 100},
		{ResizeKeepRatioLargest, false, 100, 100, 50},
		{ResizeCenterCrop, false, 100, 100, 100},
		{ResizeBorder, false, 100, 100, 100},
		{ResizeKeepRatio, true, 300, 400, 200}, // smaller side 200 ≤ 300: left alone
		{ResizeKeepRatio, false, 300, 600, 300},
	}
	for _, c := range cases {
		out, err := Resize(src, ResizeOptions{Mode: c.mode, Size: c.size, OnlyIfBigger: c.onlyIfBigger})
		if err != nil {
			t.Fatalf("%s: %v", c.mode, err)
		}
		if b := out.Bounds(); b.Dx() != c.w || b.Dy() != c.h {
			t.Errorf("%s %d (only if bigger %v): got %v, want %d×%d", c.mode, c.size, c.onlyIfBigger, b, c.w, c.h)
		}
	}
	// border pads the short side with white.
	out, _ := Resize(src, ResizeOptions{Mode: ResizeBorder, Size: 100})
	if r, g, b, _ := out.At(50, 2).RGBA(); r>>8 != 255 || g>>8 != 255 || b>>8 != 255 {
		t.Errorf("border: top row should be white, got %d %d %d", r>>8, g>>8, b>>8)
	}
	if _, err := Resize(src, ResizeOptions{Mode: "stretch", Size: 10}); err == nil {
		t.Error("unknown mode accepted")
	}
}

func TestEncodeDeterministicAndThumbnail(t *testing.T) {
	img := SyntheticImage(3, 120, 90)
	a, _ := EncodeJPEG(img, 80)
	b, _ := EncodeJPEG(img, 80)
	if !bytes.Equal(a, b) {
		t.Fatal("same pixels gave different JPEG bytes")
	}
	uri, err := ThumbnailDataURI(img, 48)
	if err != nil || !bytes.HasPrefix([]byte(uri), []byte("data:image/jpeg;base64,")) || len(uri) > 4000 {
		t.Fatalf("thumbnail: %d bytes, %v", len(uri), err)
	}
}

func TestLumaGridUniformAndGradient(t *testing.T) {
	g := LumaGrid(SyntheticImage(1, 4, 4), 8, 8) // smaller than the grid
	if len(g) != 64 {
		t.Fatalf("len %d", len(g))
	}
	gray := image.NewGray(image.Rect(0, 0, 64, 32))
	for y := 0; y < 32; y++ {
		for x := 0; x < 64; x++ {
			gray.Pix[y*64+x] = uint8(x * 4)
		}
	}
	grid := LumaGrid(gray, 4, 2)
	// Each cell averages 16 columns: x*4 over x in [16c, 16c+16) = 64c + 30.
	for c := 0; c < 4; c++ {
		if want := float64(64*c + 30); grid[c] != want || grid[4+c] != want {
			t.Errorf("cell %d: %v, want %v", c, grid[c], want)
		}
	}
}

func FuzzDecode(f *testing.F) {
	f.Add(BombPNG(5000, 5000))
	for _, n := range []string{"truncated.jpg", "heldout/chelsea-160.webp"} {
		f.Add(readTestImage(f, n))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		img, info, err := Decode(data, 1<<20)
		if err == nil {
			if img.Bounds().Dx() != info.Width || info.Pixels() > 1<<20 {
				t.Fatalf("decoded %v, info %+v", img.Bounds(), info)
			}
			LumaGrid(img, 32, 32)
			// Whatever the decoder returned, the resampler must take it.
			modes := []string{ResizeKeepRatio, ResizeCenterCrop, ResizeBorder, ResizeKeepRatioLargest}
			out, err := Resize(img, ResizeOptions{Mode: modes[len(data)%len(modes)], Size: 17, Interpolator: "catmull_rom"})
			if err != nil || out.Bounds().Empty() {
				t.Fatalf("resize of %T %v: %v %v", img, img.Bounds(), out, err)
			}
		}
	})
}
