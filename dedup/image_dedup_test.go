package dedup

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/corpusflow/corpusflow/flow"
	"github.com/corpusflow/corpusflow/internal/imageutil"
)

func imageRecord(t *testing.T, id string, img []byte, caption string) *flow.Record {
	return &flow.Record{ID: id, Text: caption, Fields: map[string]any{FieldImage: img, "image_path": id + ".jpg"}}
}

// runImageStages runs image_hash (optional) and image_dedup over recs.
func runImageStages(t *testing.T, cfg ImageDedupConfig, withHasher bool, workers int, recs []*flow.Record) (kept []*flow.Record, rej []flow.Rejection, stats *flow.RunStats, outDir string) {
	t.Helper()
	outDir = t.TempDir()
	env := &flow.Env{Counters: &flow.Counters{}, OutputDir: outDir, PipelineName: "image-test"}
	dd, err := NewImageDedup(cfg, env)
	if err != nil {
		t.Fatal(err)
	}
	var stages []flow.NamedStage
	if withHasher {
		stages = append(stages, flow.NamedStage{Name: "image_hash", Use: "image_hash", Stage: &ImageHasher{cfg: ImageHashConfig{Hash: cfg.Hash, MaxPixels: cfg.MaxPixels}, counters: &flow.Counters{}}})
	}
	stages = append(stages, flow.NamedStage{Name: "image_dedup", Use: "image_dedup", Stage: dd, Counters: env.Counters})
	sink, rejects := &collectSink{}, &collectRejects{}
	stats, err = flow.Run(context.Background(), flow.Plan{
		Sources: []flow.NamedSource{{Name: "test", Source: recordsSource(recs)}},
		Stages:  stages, Sinks: []flow.NamedSink{{Name: "mem", Sink: sink}},
		Rejects: rejects, Workers: workers, BatchRecords: 3,
	})
	if err != nil {
		t.Fatal(err)
	}
	return sink.got, rejects.got, stats, outDir
}

func TestImageDedupStage(t *testing.T) {
	// Test set: three real photos in a folder.
	testDir := t.TempDir()
	for _, n := range []string{"chelsea.jpg", "coffee.jpg", "rocket.jpg"} {
		_, data := loadPhoto(t, n)
		if err := os.WriteFile(filepath.Join(testDir, n), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	os.WriteFile(filepath.Join(testDir, "broken.jpg"), []byte("not a jpeg"), 0o644)

	cat, _ := loadPhoto(t, "chelsea.jpg")
	astro, astroBytes := loadPhoto(t, "astronaut.jpg")
	catSmall, _ := imageutil.EncodeJPEG(resizeBy(cat, 0.6), 50)
	catMirror, _ := imageutil.EncodeJPEG(mirrorOf(cat), 85)
	astroDup, _ := imageutil.EncodeJPEG(brighten(astro, 1.1), 70)
	unrelated, _ := imageutil.EncodeJPEG(imageutil.SyntheticImage(5, 200, 150), 85)
	recs := []*flow.Record{
		imageRecord(t, "astro", astroBytes, "an astronaut"),
		imageRecord(t, "cat-small", catSmall, "a cat"),
		imageRecord(t, "astro-bright", astroDup, "the astronaut again"),
		imageRecord(t, "cat-mirror", catMirror, "a mirrored cat"),
		imageRecord(t, "unrelated", unrelated, "shapes"),
		imageRecord(t, "bomb", imageutil.BombPNG(60000, 60000), "a bomb"),
		imageRecord(t, "truncated", mustRead(t, filepath.Join(imagesDir(), "truncated.jpg")), "cut short"),
		{ID: "no-image", Text: "caption only", Fields: map[string]any{}},
	}
	cfg := DefaultImageDedupConfig
	cfg.TestSets = []ImageTestSetSpec{{Name: "held_out", Type: "images", Path: testDir}}

	// With image_hash before it, image_dedup never sees the records without
	// a usable image (image_hash rejects them), so its totals differ; each
	// setting must give the same report whatever the worker count.
	firstJSON := map[bool][]byte{}
	for _, workers := range []int{1, 2} {
		for _, withHasher := range []bool{true, false} {
			kept, rej, stats, out := runImageStages(t, cfg, withHasher, workers, recs)
			reasons := map[string]string{}
			for _, r := range rej {
				reasons[r.Record.ID] = r.Reason
			}
			want := map[string]string{
				"cat-small": ImageRejectTestSetLeak, "cat-mirror": ImageRejectTestSetLeak,
				"astro-bright": ImageRejectDuplicate, "bomb": ImageRejectTooLarge,
				"truncated": ImageRejectUndecodable, "no-image": ImageRejectNoImage,
			}
			for id, reason := range want {
				if reasons[id] != reason {
					t.Errorf("workers %d hasher %v: %s rejected as %q, want %q", workers, withHasher, id, reasons[id], reason)
				}
			}
			if len(kept) != 2 || kept[0].ID != "astro" || kept[1].ID != "unrelated" {
				t.Errorf("kept %v", ids(kept))
			}
			for _, r := range rej {
				if r.Record.ID == "astro-bright" && r.Record.MetaString("dup_of") != "astro" {
					t.Errorf("astro-bright dup_of %v", r.Record.Meta["dup_of"])
				}
			}
			last := stats.Stages[len(stats.Stages)-1]
			if last.Rejected[ImageRejectTestSetLeak] != 2 || last.Rejected[ImageRejectDuplicate] != 1 {
				t.Errorf("counts: %v", last.Rejected)
			}
			js, err := os.ReadFile(filepath.Join(out, "audit", "report.json"))
			if err != nil {
				t.Fatal(err)
			}
			if firstJSON[withHasher] == nil {
				firstJSON[withHasher] = js
				checkImageReport(t, js, out)
			} else if string(js) != string(firstJSON[withHasher]) {
				t.Errorf("workers %d hasher %v: report differs from the run with 1 worker", workers, withHasher)
			}
		}
	}
}

func checkImageReport(t *testing.T, js []byte, out string) {
	var rep LeakReport
	if err := json.Unmarshal(js, &rep); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(js), `"test_sets"`) || strings.Contains(string(js), `"parameters"`) {
		t.Error("an image-only report carries the text sections")
	}
	if len(rep.ImageTestSets) != 1 {
		t.Fatalf("image test sets: %d", len(rep.ImageTestSets))
	}
	s := rep.ImageTestSets[0]
	if s.Images != 3 || len(s.Unreadable) != 1 || s.ContaminatedImages != 1 || len(s.CleanIDs) != 2 {
		t.Errorf("set: images %d unreadable %v contaminated %d clean %v", s.Images, s.Unreadable, s.ContaminatedImages, s.CleanIDs)
	}
	it := s.Contaminated[0]
	if it.TestID != "chelsea.jpg" || it.MatchCount != 2 || len(it.Matches) != 2 || !it.Matches[1].Mirrored || it.Matches[0].Mirrored {
		t.Errorf("item %+v", it)
	}
	for _, uri := range []string{it.Thumbnail, it.Matches[0].Thumbnail, it.Matches[1].Thumbnail} {
		if !strings.HasPrefix(uri, "data:image/jpeg;base64,") || len(uri) > 8000 {
			t.Errorf("thumbnail %.40s… (%d bytes)", uri, len(uri))
		}
	}
	html, _ := os.ReadFile(filepath.Join(out, "audit", "report.html"))
	// Both thumbnails are in the page as images, not filtered by html/template.
	if n := strings.Count(string(html), `src="data:image/jpeg;base64,`); n != 4 {
		t.Errorf("report.html shows %d inline thumbnails, want 4 (test image twice, two training images)", n)
	}
	if strings.Contains(string(html), "ZgotmplZ") {
		t.Error("html/template filtered a thumbnail")
	}
	md, _ := os.ReadFile(filepath.Join(out, "audit", "report.md"))
	if !strings.Contains(string(md), "`chelsea.jpg` (best distance") || !strings.Contains(string(md), "mirrored") {
		t.Errorf("report.md:\n%s", md)
	}
}

func mustRead(t *testing.T, p string) []byte {
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestImageDedupConfigValidate(t *testing.T) {
	bad := []func(c *ImageDedupConfig){
		func(c *ImageDedupConfig) { c.Hash = "ahash" },
		func(c *ImageDedupConfig) { c.MaxDistance = 40 },
		func(c *ImageDedupConfig) { c.Action = "cut" },
		func(c *ImageDedupConfig) { c.TestSets = []ImageTestSetSpec{{Name: "a", Type: "squad", Path: "x"}} },
		func(c *ImageDedupConfig) { c.WithinCorpus = false },
		func(c *ImageDedupConfig) { c.CropDistance = c.MaxDistance + 1 },
		func(c *ImageDedupConfig) { c.CropDistance = -1 },
	}
	for i, f := range bad {
		c := DefaultImageDedupConfig
		f(&c)
		if err := c.Validate(); err == nil {
			t.Errorf("case %d accepted", i)
		}
	}
	c := DefaultImageDedupConfig
	c.TestSets = []ImageTestSetSpec{{Name: "empty", Type: "images", Path: t.TempDir()}}
	if _, err := NewImageDedup(c, &flow.Env{}); err == nil || !strings.Contains(err.Error(), "holds no") {
		t.Errorf("empty folder: %v", err)
	}
}
