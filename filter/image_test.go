package filter

import (
	"bufio"
	"bytes"
	"context"
	"image/gif"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/corpusflow/corpusflow/flow"
	"github.com/corpusflow/corpusflow/internal/imageutil"
)

func photo(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "testdata", "images", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func imageRec(id string, data []byte) *flow.Record {
	return &flow.Record{ID: id, Text: "a caption of some words", Fields: map[string]any{fieldImage: data}}
}

func TestImageDecodeTable(t *testing.T) {
	var gifBytes bytes.Buffer
	if err := gif.Encode(&gifBytes, imageutil.SyntheticImage(2, 90, 60), nil); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name       string
		data       []byte
		cfg        func(*ImageDecodeConfig)
		reject     string
		w, h       int // after resizing
		origW      int
		origFormat string
	}{
		{name: "jpeg border 256", data: photo(t, "chelsea.jpg"), w: 256, h: 256, origW: 320},
		{name: "png keep_ratio", data: photo(t, "coins.png"), cfg: func(c *ImageDecodeConfig) { c.ResizeMode = "keep_ratio"; c.ImageSize = 100 }, w: 126, h: 100, origW: 320},
		{name: "webp center_crop", data: photo(t, "heldout/chelsea-160.webp"), cfg: func(c *ImageDecodeConfig) { c.ResizeMode = "center_crop"; c.ImageSize = 64 }, w: 64, h: 64, origW: 160},
		{name: "gif no resize keeps bytes", data: gifBytes.Bytes(), cfg: func(c *ImageDecodeConfig) { c.ResizeMode = "no"; c.Reencode = false }, w: 90, h: 60, origW: 90, origFormat: "gif"},
		{name: "truncated jpeg", data: photo(t, "truncated.jpg"), reject: ImageRejectCorrupt},
		{name: "decompression bomb", data: imageutil.BombPNG(50000, 50000), reject: ImageRejectTooLarge},
		{name: "over a small cap", data: photo(t, "astronaut.jpg"), cfg: func(c *ImageDecodeConfig) { c.MaxPixels = 320*320 - 1 }, reject: ImageRejectTooLarge},
		{name: "not an image", data: []byte("<html>404</html>"), reject: ImageRejectUnsupported},
		{name: "no image", data: nil, reject: ImageRejectNoImage},
	}
	for _, c := range cases {
		cfg := DefaultImageDecodeConfig()
		if c.cfg != nil {
			c.cfg(&cfg)
		}
		st, err := NewImageDecode(cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		r := imageRec(c.name, c.data)
		got := st.Process(r)
		if got != c.reject {
			t.Errorf("%s: reason %q, want %q", c.name, got, c.reject)
			continue
		}
		if c.reject != "" {
			continue
		}
		out := r.Fields[fieldImage].([]byte)
		info, err := imageutil.Probe(out)
		if err != nil || info.Width != c.w || info.Height != c.h || r.Fields[fieldWidth] != c.w || r.Fields[fieldHeight] != c.h {
			t.Errorf("%s: output %+v %v, fields %v×%v, want %d×%d", c.name, info, err, r.Fields[fieldWidth], r.Fields[fieldHeight], c.w, c.h)
		}
		if r.Fields[fieldOriginalWidth] != c.origW {
			t.Errorf("%s: original width %v, want %d", c.name, r.Fields[fieldOriginalWidth], c.origW)
		}
		wantFormat := "jpeg"
		if c.origFormat != "" {
			wantFormat = c.origFormat
			if !bytes.Equal(out, c.data) {
				t.Errorf("%s: bytes changed although reencode is off and nothing was resized", c.name)
			}
		}
		if r.Fields[fieldImageFormat] != wantFormat || info.Format != wantFormat {
			t.Errorf("%s: format field %v, bytes %s, want %s", c.name, r.Fields[fieldImageFormat], info.Format, wantFormat)
		}
	}
}

type recordsSource []*flow.Record

func (s recordsSource) Parts() ([]flow.Part, error) { return []flow.Part{s}, nil }
func (s recordsSource) Name() string                { return "records" }
func (s recordsSource) Size() int64                 { return -1 }
func (s recordsSource) Read(ctx context.Context, emit func(*flow.Record) error, _ *flow.SourceReport) error {
	for _, r := range s {
		if err := emit(r); err != nil {
			return err
		}
	}
	return nil
}

type countSink struct{ ids []string }

func (c *countSink) Write(r *flow.Record) error { c.ids = append(c.ids, r.ID); return nil }
func (c *countSink) Close() error               { return nil }

// The "done when": a decompression bomb and a truncated image are
// rejected with counted reasons, in a run, next to images that pass.
func TestImageDecodeBombAndTruncatedCountedInRun(t *testing.T) {
	counters := &flow.Counters{}
	st, err := NewImageDecode(DefaultImageDecodeConfig(), &flow.Env{Counters: counters})
	if err != nil {
		t.Fatal(err)
	}
	recs := []*flow.Record{
		imageRec("cat", photo(t, "chelsea.jpg")),
		imageRec("bomb", imageutil.BombPNG(100000, 100000)),
		imageRec("truncated", photo(t, "truncated.jpg")),
		imageRec("camera", photo(t, "camera.png")),
	}
	sink := &countSink{}
	stats, err := flow.Run(context.Background(), flow.Plan{
		Sources: []flow.NamedSource{{Name: "t", Source: recordsSource(recs)}},
		Stages:  []flow.NamedStage{{Name: "image_decode", Use: "image_decode", Stage: st, Counters: counters}},
		Sinks:   []flow.NamedSink{{Name: "s", Sink: sink}}, Workers: 2,
	})
	if err != nil {
		t.Fatal(err)
	}
	s := stats.Stages[0]
	if s.In != 4 || s.Kept != 2 || s.Rejected[ImageRejectTooLarge] != 1 || s.Rejected[ImageRejectCorrupt] != 1 {
		t.Errorf("in %d kept %d rejected %v", s.In, s.Kept, s.Rejected)
	}
	if s.Counts["rejected_pixels_declared"] != 1e10 || s.Counts["format_jpeg"] != 1 || s.Counts["format_png"] != 1 {
		t.Errorf("counts %v", s.Counts)
	}
	if strings.Join(sink.ids, ",") != "cat,camera" {
		t.Errorf("kept %v", sink.ids)
	}
}

func sized(caption string, w, h int) *flow.Record {
	return &flow.Record{ID: caption, Text: caption, Fields: map[string]any{fieldOriginalWidth: w, fieldOriginalHeight: h, fieldWidth: 256, fieldHeight: 256}}
}

func TestImageTextPresets(t *testing.T) {
	cases := []struct {
		preset string
		rec    *flow.Record
		want   string
	}{
		{"align", sized("a dog runs on the beach", 640, 480), ""},
		{"align", sized("a dog runs on the beach", 640, 200), ImageTextRejectTooSmall},    // shorter side must be > 200
		{"align", sized("a dog runs on the beach", 603, 201), ImageTextRejectAspect},      // 3.0 is not < 3
		{"align", sized("a dog runs on the beach", 602, 201), ""},                         // 2.995
		{"align", sized("two words", 640, 480), ImageTextRejectFewWords},                  // 3–20 unigrams
		{"align", sized(strings.Repeat("word ", 21), 640, 480), ImageTextRejectManyWords}, // 21
		{"align", sized(strings.Repeat("word ", 20), 640, 480), ""},
		{"cc3m", sized("x", 401, 401), ""},
		{"cc3m", sized("x", 400, 800), ImageTextRejectTooSmall},
		{"cc3m", sized("x", 401, 803), ImageTextRejectAspect}, // 2.002 > 2
		{"cc3m", sized("x", 401, 802), ""},                    // exactly 2
		{"datacomp_basic", sized("a red car", 200, 600), ""},  // ≥ 200, aspect 3
		{"datacomp_basic", sized("a red car", 199, 300), ImageTextRejectTooSmall},
		{"datacomp_basic", sized("a red car", 200, 601), ImageTextRejectAspect},
		{"datacomp_basic", sized("red car", 300, 300), ImageTextRejectFewWords}, // needs > 2 words
		{"datacomp_basic", sized("a b c", 300, 300), ImageTextRejectFewChars},   // needs > 5 characters
		// Chinese captions: every CJK character is a word.
		{"align", sized("一只猫", 640, 480), ""},
		{"align", sized("猫咪", 640, 480), ImageTextRejectFewWords},
		{"align", sized("一位身穿橙色飞行服的宇航员站在美国国旗前的照片", 640, 480), ImageTextRejectManyWords}, // 23 characters
		{"datacomp_basic", sized("一只小猫", 300, 300), ImageTextRejectFewChars},            // 4 characters
		{"datacomp_basic", &flow.Record{ID: "nosize", Text: "a red car here"}, ImageTextRejectNoSize},
	}
	for _, c := range cases {
		st, err := NewImageText(ImageTextConfig{Preset: c.preset, Language: "auto"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := st.Process(c.rec); got != c.want {
			t.Errorf("%s %q %v×%v: got %q, want %q", c.preset, c.rec.Text, c.rec.Fields[fieldOriginalWidth], c.rec.Fields[fieldOriginalHeight], got, c.want)
		}
	}
}

// Alt-text frequency on the real Conceptual Captions sample: every caption
// seen more than N times is rejected from its (N+1)-th image on, with the
// exact count checked against a direct count.
func TestImageTextAltTextFrequency(t *testing.T) {
	f, err := os.Open(filepath.Join("..", "testdata", "captions", "cc3m-val-first500.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var captions []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		caption, _, _ := strings.Cut(sc.Text(), "\t")
		captions = append(captions, caption)
	}
	// Boilerplate alt-text on 14 images, and one that appears exactly 3 times.
	for i := 0; i < 14; i++ {
		captions = append(captions, "Image may contain: text")
	}
	captions = append(captions, "stock photo", "Stock  Photo ", "STOCK PHOTO")
	st, err := NewImageText(ImageTextConfig{Preset: "none", MaxAltTextRepeats: 2, Language: "auto"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := st.(flow.Sequential); !ok {
		t.Fatal("alt-text counting must run in order")
	}
	counts := map[string]int{}
	wantRejected, rejected := 0, 0
	for i, c := range captions {
		key := normaliseAltText(c)
		counts[key]++
		if counts[key] > 2 {
			wantRejected++
		}
		reason := st.Process(&flow.Record{ID: string(rune(i)), Text: c})
		if reason == ImageTextRejectRepeatedAT {
			rejected++
		} else if reason != "" {
			t.Fatalf("%q: unexpected %q", c, reason)
		}
	}
	// 12 of the 14 boilerplate captions and the third "stock photo".
	if rejected != wantRejected || rejected < 13 {
		t.Errorf("rejected %d, want %d (at least 13)", rejected, wantRejected)
	}
}

func TestImageTextConfigErrors(t *testing.T) {
	bad := []ImageTextConfig{
		{Preset: "laion", Language: "auto"},
		{Preset: "align", MinWords: 2, Language: "auto"},
		{Preset: "none", MinWords: 5, MaxWords: 3, Language: "auto"},
		{Preset: "none", MaxAspectRatio: 0.5, Language: "auto"},
		{Preset: "none", Language: "fr"},
	}
	for _, c := range bad {
		if err := c.Validate(); err == nil {
			t.Errorf("%+v accepted", c)
		}
	}
	if err := (&ImageDecodeConfig{MaxPixels: 10, ResizeMode: "stretch", ImageSize: 10, Quality: 90}).Validate(); err == nil {
		t.Error("unknown resize mode accepted")
	}
}
