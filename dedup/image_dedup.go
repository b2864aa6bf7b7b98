package dedup

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sort"

	"github.com/corpusflow/corpusflow/flow"
	"github.com/corpusflow/corpusflow/internal/imageutil"
)

// Record fields the image stages read and write (the ingest package
// documents the rest of an image–text record).
const (
	// FieldImage holds the encoded image bytes ([]byte).
	FieldImage = "image"
	// FieldImageHash and FieldImageHashMirror hold the perceptual hash of
	// the image and of its mirror image (uint64); FieldImageHashAlgo says
	// which algorithm made them ("phash" or "dhash").
	FieldImageHash       = "image_hash"
	FieldImageHashMirror = "image_hash_mirror"
	FieldImageHashAlgo   = "image_hash_algo"
)

// Rejection reasons of the image stages.
const (
	ImageRejectNoImage      = "no_image"
	ImageRejectUndecodable  = "image_undecodable"
	ImageRejectTooLarge     = "image_too_large"
	ImageRejectDuplicate    = "near_duplicate_image"
	ImageRejectTestSetLeak  = "test_image_leak"
	defaultImageMaxDistance = 10
	// defaultImageCropDistance: at 8 bits a test image's 14 crops add less
	// chance-match risk than its whole-image hash at 10 (for random hashes,
	// 14 × 2.4e-10 against 8.2e-9), and recall on crops stays (BENCHMARKS.md).
	defaultImageCropDistance = 8
	defaultImageMaxPixels    = 89478485 // PIL's MAX_IMAGE_PIXELS
)

// ImageHashConfig configures image_hash.
type ImageHashConfig struct {
	Hash      string `yaml:"hash" choices:"phash,dhash" help:"perceptual hash: phash (64-bit DCT) or dhash (64-bit gradient)"`
	MaxPixels int64  `yaml:"max_pixels" help:"images declaring more pixels are rejected before decoding (decompression bombs)"`
}

// ImageDedupConfig configures image_dedup.
type ImageDedupConfig struct {
	Hash         string             `yaml:"hash" choices:"phash,dhash" help:"perceptual hash: phash (64-bit DCT) or dhash (64-bit gradient); an image_hash stage before this one with the same hash saves the work"`
	MaxDistance  int                `yaml:"max_distance" help:"images whose hashes differ in at most this many of 64 bits are near-duplicates"`
	Mirror       bool               `yaml:"mirror" help:"also match mirror images (a flipped copy defeats a plain perceptual hash)"`
	WithinCorpus bool               `yaml:"within_corpus" help:"drop near-duplicates of earlier images of the corpus (first seen wins)"`
	TestSets     []ImageTestSetSpec `yaml:"test_sets" help:"folders of downstream test images the corpus must not contain (BiT)"`
	Action       string             `yaml:"action" choices:"drop,flag" help:"what to do with a record whose image matches a test image: drop it, or flag it (metadata leak_of) and keep it"`
	MaxPixels    int64              `yaml:"max_pixels" help:"images declaring more pixels are rejected before decoding (decompression bombs)"`
	Report       string             `yaml:"report" path:"output" help:"directory of the leakage audit report with the image matches (report.json, report.md, report.html with thumbnails); a pipeline that also has decontaminate gives one of the two another directory"`
	MaxExamples  int                `yaml:"max_examples_per_item" help:"corpus images shown per matched test image (all are counted)"`
	Thumbnail    int                `yaml:"thumbnail_px" help:"side of the inline thumbnails in the report, in pixels"`
	TestCrops    bool               `yaml:"test_crops" help:"also index each test image's 90 % and 80 % centre crops and its 95/90/85 % corner crops, so that copies cut down by 5-20 % are found (a whole-image hash does not survive a 10 % crop)"`
	CropDistance int                `yaml:"crop_max_distance" help:"largest distance at which a crop of a test image matches; below max_distance because 14 crops per test image are 14 more chances of a chance match"`
}

// DefaultImageDedupConfig holds image_dedup's defaults.
var DefaultImageDedupConfig = ImageDedupConfig{
	Hash: HashPHash, MaxDistance: defaultImageMaxDistance, Mirror: true, WithinCorpus: true,
	Action: "drop", MaxPixels: defaultImageMaxPixels, Report: "audit", MaxExamples: 10, Thumbnail: 96,
	TestCrops: true, CropDistance: defaultImageCropDistance,
}

// Validate checks the configuration.
func (c *ImageDedupConfig) Validate() error {
	fe := func(field, format string, args ...any) error {
		return &flow.FieldError{Field: field, Err: fmt.Errorf(format, args...)}
	}
	switch {
	case c.Hash != HashPHash && c.Hash != HashDHash:
		return fe("hash", "must be phash or dhash, got %q", c.Hash)
	case c.MaxDistance < 0 || c.MaxDistance > 32:
		return fe("max_distance", "must be in [0, 32] of 64 bits, got %d", c.MaxDistance)
	case c.CropDistance < 0 || c.CropDistance > c.MaxDistance:
		return fe("crop_max_distance", "must be in [0, max_distance = %d], got %d", c.MaxDistance, c.CropDistance)
	case c.Action != "drop" && c.Action != "flag":
		return fe("action", "must be drop or flag, got %q", c.Action)
	case c.MaxPixels < 1:
		return fe("max_pixels", "must be positive")
	case c.MaxExamples < 1:
		return fe("max_examples_per_item", "must be at least 1")
	case c.Thumbnail < 16 || c.Thumbnail > 512:
		return fe("thumbnail_px", "must be in [16, 512], got %d", c.Thumbnail)
	case !c.WithinCorpus && len(c.TestSets) == 0:
		return fe("test_sets", "with within_corpus: false there is nothing to do; give test sets or enable within_corpus")
	}
	names := map[string]bool{}
	for i, ts := range c.TestSets {
		p := fmt.Sprintf("test_sets.%d.", i)
		switch {
		case ts.Name == "":
			return fe(p+"name", "is required")
		case names[ts.Name]:
			return fe(p+"name", "%q is used twice", ts.Name)
		case ts.Type != "images":
			return fe(p+"type", "must be images (a folder of image files), got %q", ts.Type)
		case ts.Path == "":
			return fe(p+"path", "is required")
		}
		names[ts.Name] = true
	}
	return nil
}

func init() {
	flow.RegisterStage("image_hash",
		"compute a 64-bit perceptual hash (pHash or dHash) of each record's image and of its mirror, in parallel, for image_dedup",
		ImageHashConfig{Hash: HashPHash, MaxPixels: defaultImageMaxPixels},
		func(c *ImageHashConfig, env *flow.Env) (flow.Stage, error) {
			if c.MaxPixels < 1 {
				return nil, &flow.FieldError{Field: "max_pixels", Err: errors.New("must be positive")}
			}
			return &ImageHasher{cfg: *c, counters: countersOf(env)}, nil
		})
	flow.RegisterStage("image_dedup",
		"drop near-duplicate images (perceptual hash within max_distance, first seen wins) and images of downstream test sets (BiT), with an audit report showing thumbnails",
		DefaultImageDedupConfig,
		func(c *ImageDedupConfig, env *flow.Env) (flow.Stage, error) { return NewImageDedup(*c, env) })
}

func countersOf(env *flow.Env) *flow.Counters {
	if env != nil && env.Counters != nil {
		return env.Counters
	}
	return &flow.Counters{}
}

// ImageHasher is the image_hash stage: stateless, so the engine runs it on
// every worker; image_dedup, which must run in order on one goroutine, then
// only looks hashes up.
type ImageHasher struct {
	cfg      ImageHashConfig
	counters *flow.Counters
}

// Process hashes r's image into its fields.
func (s *ImageHasher) Process(r *flow.Record) string {
	h, reason := hashRecord(r, s.cfg.Hash, s.cfg.MaxPixels)
	if reason != "" {
		return reason
	}
	setHashFields(r, s.cfg.Hash, h)
	s.counters.Add("hashed", 1)
	return ""
}

func setHashFields(r *flow.Record, algo string, h ImageHash) {
	r.Fields[FieldImageHash] = h.Hash
	r.Fields[FieldImageHashMirror] = h.Mirror
	r.Fields[FieldImageHashAlgo] = algo
	r.SetMeta("image_"+algo, fmt.Sprintf("%016x", h.Hash))
}

// hashRecord decodes and hashes r's image.
func hashRecord(r *flow.Record, algo string, maxPixels int64) (ImageHash, string) {
	data, _ := r.Fields[FieldImage].([]byte)
	if len(data) == 0 {
		return ImageHash{}, ImageRejectNoImage
	}
	img, _, err := imageutil.Decode(data, maxPixels)
	switch {
	case errors.Is(err, imageutil.ErrTooLarge):
		return ImageHash{}, ImageRejectTooLarge
	case err != nil:
		return ImageHash{}, ImageRejectUndecodable
	}
	return hashImage(algo, img), ""
}

// recordHash returns the hash image_hash left in r's fields, or computes it.
func recordHash(r *flow.Record, algo string, maxPixels int64, counters *flow.Counters) (ImageHash, string) {
	if r.Fields[FieldImageHashAlgo] == algo {
		h, ok1 := r.Fields[FieldImageHash].(uint64)
		m, ok2 := r.Fields[FieldImageHashMirror].(uint64)
		if ok1 && ok2 {
			return ImageHash{Hash: h, Mirror: m}, ""
		}
	}
	h, reason := hashRecord(r, algo, maxPixels)
	if reason == "" {
		counters.Add("hashed_inline", 1)
		setHashFields(r, algo, h)
	}
	return h, reason
}

// ImageDedup is the image_dedup stage. It is sequential: "first seen wins"
// needs input order, and the report then lists matches in input order.
type ImageDedup struct {
	cfg       ImageDedupConfig
	env       flow.Env
	counters  *flow.Counters
	reportDir string
	tests     *imageTestIndex

	corpus    hashIndex
	corpusIDs []string // by corpus index: the record id that was kept

	totals  ImageTotals
	matches [][]ImageMatch // per test image, earliest first
	counts  []int          // per test image: all matching records
	best    []int          // per test image: smallest distance seen (-1: none)
}

// NewImageDedup loads and hashes the test folders.
func NewImageDedup(cfg ImageDedupConfig, env *flow.Env) (*ImageDedup, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	var e flow.Env
	if env != nil {
		e = *env
	}
	specs := append([]ImageTestSetSpec(nil), cfg.TestSets...)
	for i := range specs {
		if !filepath.IsAbs(specs[i].Path) && e.BaseDir != "" {
			specs[i].Path = filepath.Join(e.BaseDir, specs[i].Path)
		}
	}
	ix, err := loadImageTestSets(specs, cfg.Hash, cfg.MaxPixels, cfg.TestCrops)
	if err != nil {
		return nil, &flow.FieldError{Field: "test_sets", Err: err}
	}
	dir := cfg.Report
	if !filepath.IsAbs(dir) {
		dir = filepath.Join(e.OutputDir, dir)
	}
	n := len(ix.images)
	d := &ImageDedup{
		cfg: cfg, env: e, counters: countersOf(env), reportDir: dir, tests: ix,
		matches: make([][]ImageMatch, n), counts: make([]int, n), best: make([]int, n),
	}
	for i := range d.best {
		d.best[i] = -1
	}
	return d, nil
}

// Sequential: first seen wins.
func (d *ImageDedup) Sequential() {}

// Process checks r's image against the test images, then against the
// images kept so far.
func (d *ImageDedup) Process(r *flow.Record) string {
	d.totals.Records++
	h, reason := recordHash(r, d.cfg.Hash, d.cfg.MaxPixels, d.counters)
	if reason != "" {
		d.totals.Unhashable++
		return reason
	}
	d.totals.Hashed++
	if len(d.tests.images) > 0 {
		if leaked := d.checkTestSets(r, h); leaked && d.cfg.Action == "drop" {
			d.totals.Dropped++
			return ImageRejectTestSetLeak
		}
	}
	if !d.cfg.WithinCorpus {
		return ""
	}
	first, dist := d.nearest(&d.corpus, h)
	if first >= 0 {
		d.totals.NearDuplicates++
		d.counters.Add("near_duplicates", 1)
		d.counters.Add(fmt.Sprintf("near_duplicate_distance_%02d", dist), 1)
		r.SetMeta("dup_of", d.corpusIDs[first])
		return ImageRejectDuplicate
	}
	d.corpus.Add(h.Hash, int32(len(d.corpusIDs)))
	d.corpusIDs = append(d.corpusIDs, r.ID)
	return ""
}

// nearest finds the earliest-added image within max distance of h or, with
// mirror on, of its mirror; -1 when there is none.
func (d *ImageDedup) nearest(t *hashIndex, h ImageHash) (id int, dist int) {
	id, dist = -1, 0
	visit := func(i int32, dd int) {
		if id < 0 || int(i) < id {
			id, dist = int(i), dd
		}
	}
	t.Search(h.Hash, d.cfg.MaxDistance, visit)
	if d.cfg.Mirror {
		t.Search(h.Mirror, d.cfg.MaxDistance, visit)
	}
	return id, dist
}

// checkTestSets records every test image r's image is near and marks r.
func (d *ImageDedup) checkTestSets(r *flow.Record, h ImageHash) bool {
	type hit struct {
		dist     int
		mirrored bool
	}
	hits := map[int32]hit{}
	visit := func(mirrored bool) func(int32, int) {
		return func(i int32, dist int) {
			if i&cropView != 0 { // a crop of the test image
				if dist > d.cfg.CropDistance {
					return
				}
				i &^= cropView
			}
			if old, ok := hits[i]; !ok || dist < old.dist {
				hits[i] = hit{dist: dist, mirrored: mirrored}
			}
		}
	}
	d.tests.index.Search(h.Hash, d.cfg.MaxDistance, visit(false))
	if d.cfg.Mirror {
		d.tests.index.Search(h.Mirror, d.cfg.MaxDistance, visit(true))
	}
	if len(hits) == 0 {
		return false
	}
	ids := make([]int, 0, len(hits))
	for i := range hits {
		ids = append(ids, int(i))
	}
	sort.Ints(ids)
	var leakOf []string
	thumb := ""
	for _, i := range ids {
		ti := d.tests.images[i]
		hh := hits[int32(i)]
		leakOf = append(leakOf, d.tests.sets[ti.set].Spec.Name+"/"+ti.id)
		d.counts[i]++
		if d.best[i] < 0 || hh.dist < d.best[i] {
			d.best[i] = hh.dist
		}
		if len(d.matches[i]) >= d.cfg.MaxExamples {
			continue
		}
		if thumb == "" {
			thumb = d.thumbnail(r.Fields[FieldImage].([]byte))
		}
		path, _ := r.Fields["image_path"].(string)
		url, _ := r.Fields["image_url"].(string)
		d.matches[i] = append(d.matches[i], ImageMatch{
			TrainID: r.ID, TrainURL: firstNonEmpty(url, r.URL), Source: r.Source, ImagePath: path,
			Caption: oneLine(r.Text, 300), Distance: hh.dist, Mirrored: hh.mirrored, Thumbnail: thumb,
		})
	}
	d.totals.Contaminated++
	d.counters.Add("test_set_matches", 1)
	r.SetMeta("leak_of", leakOf)
	return true
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// thumbnail makes the inline thumbnail of encoded image bytes ("" if they
// no longer decode, which cannot happen after hashing succeeded).
func (d *ImageDedup) thumbnail(data []byte) string {
	img, _, err := imageutil.Decode(data, d.cfg.MaxPixels)
	if err != nil {
		return ""
	}
	uri, err := imageutil.ThumbnailDataURI(img, d.cfg.Thumbnail)
	if err != nil {
		return ""
	}
	return uri
}

// Finish writes the audit report and records how much of the index the
// lookups touched.
func (d *ImageDedup) Finish(ctx context.Context) error {
	d.counters.Add("index_distance_computations", d.corpus.Compared+d.tests.index.Compared)
	d.counters.Add("index_size", int64(d.corpus.Len()))
	rep, err := d.Report()
	if err != nil {
		return err
	}
	return WriteReport(d.reportDir, rep)
}
