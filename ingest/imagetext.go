package ingest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"github.com/corpusflow/corpusflow/flow"
)

// Image–text records (sources image_text, coco_captions, webdataset,
// img2dataset). The caption is Record.Text, so lang, badwords and the other
// text filters apply to captions unchanged. The image travels in
// Record.Fields:
//
//	"image"       []byte  the encoded image (JPEG, PNG, GIF, WebP) as read or
//	                      downloaded; absent when there is no image (a URL
//	                      not downloaded, a missing file: counted)
//	"image_path"  string  the image file, relative to the image folder or
//	                      tar member name (local images)
//	"image_url"   string  the image URL (also Record.URL), when there is one
//
// image_decode (filter) adds "width", "height" (of the bytes in "image"),
// "original_width", "original_height" and "image_format"; image_hash
// (dedup) adds "image_hash", "image_hash_mirror" and "image_hash_algo".
const (
	FieldImage     = "image"
	FieldImagePath = "image_path"
	FieldImageURL  = "image_url"
)

// Problems of image–text sources (besides the download problems).
const (
	problemImageMissing  = "image_missing"
	problemImageTooBig   = "image_too_big"
	problemMissingCap    = "missing_caption"
	problemNoImageColumn = "missing_image"
)

// pairItem is one image–text pair as a source lists it, before its image
// is read or downloaded.
type pairItem struct {
	id, caption string
	imageFile   string // absolute path of a local image
	imageRel    string // its name as the data set gives it
	imageURL    string
	image       []byte // already in hand (tar members)
	meta        map[string]any
	where       string // file and line/entry, for messages
}

// pairLoader reads or downloads the image of each pair.
type pairLoader struct {
	fetch    *fetcher // nil: no downloading
	maxBytes int64
	workers  int
}

func newPairLoader(fc FetchConfig) *pairLoader {
	l := &pairLoader{maxBytes: int64(fc.MaxImageMB) << 20, workers: 4}
	if fc.Download {
		l.fetch = newFetcher(fc)
		l.workers = fc.Concurrency
	}
	return l
}

type loadedPair struct {
	rec     *flow.Record
	problem string
	where   string
	err     error
}

// load turns a pair into a record; a problem with the image is reported
// and the pair skipped, except a URL that is not to be downloaded, which
// keeps its caption and URL without image bytes.
func (l *pairLoader) load(ctx context.Context, it pairItem) loadedPair {
	r := &flow.Record{ID: it.id, Text: it.caption, Fields: map[string]any{}}
	for k, v := range it.meta {
		r.SetMeta(k, v)
	}
	if it.imageURL != "" {
		r.URL = it.imageURL
		r.Fields[FieldImageURL] = it.imageURL
	}
	switch {
	case it.image != nil:
		r.Fields[FieldImage] = it.image
		r.Fields[FieldImagePath] = it.imageRel
	case it.imageFile != "":
		r.Fields[FieldImagePath] = it.imageRel
		data, problem, err := readCapped(it.imageFile, l.maxBytes)
		if err != nil {
			return loadedPair{problem: problem, where: it.where, err: err}
		}
		r.Fields[FieldImage] = data
	case it.imageURL != "" && l.fetch != nil:
		res := l.fetch.fetch(ctx, it.imageURL)
		if res.problem != "" {
			return loadedPair{problem: res.problem, where: it.where + " " + it.imageURL, err: res.err}
		}
		r.Fields[FieldImage] = res.data
	}
	return loadedPair{rec: r}
}

func readCapped(path string, max int64) ([]byte, string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, problemImageMissing, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, problemImageMissing, err
	}
	if int64(len(data)) > max {
		return nil, problemImageTooBig, fmt.Errorf("over %d MiB", max>>20)
	}
	return data, "", nil
}

// emitPairs loads the pairs next yields on the loader's workers and emits
// the records in the order the pairs were listed, so output does not
// depend on download timing.
func emitPairs(ctx context.Context, l *pairLoader, next func() (pairItem, bool, error), emit func(*flow.Record) error, report *flow.SourceReport) error {
	return orderedMap(ctx, l.workers, next,
		func(it pairItem) loadedPair { return l.load(ctx, it) },
		func(lp loadedPair) error {
			if lp.rec == nil {
				report.Problem(lp.problem, lp.where, lp.err)
				return nil
			}
			if data, ok := lp.rec.Fields[FieldImage].([]byte); ok {
				report.AddBytes(int64(len(data)))
			}
			report.AddBytes(int64(len(lp.rec.Text)))
			return emit(lp.rec)
		})
}

// imageRef sorts a table's image value into a URL or a local file.
func imageRef(value, imageDir string) (file, rel, url string) {
	value = strings.TrimSpace(value)
	if strings.HasPrefix(value, "http://") || strings.HasPrefix(value, "https://") {
		return "", "", value
	}
	if value == "" {
		return "", "", ""
	}
	p := value
	if !filepath.IsAbs(p) {
		p = filepath.Join(imageDir, filepath.FromSlash(value))
	}
	return p, value, ""
}

// validateImageFetch is shared by the image sources' Validate methods.
func validateImageFetch(fc *FetchConfig) error {
	if err := fc.validate(); err != nil {
		return &flow.FieldError{Field: "download", Err: err}
	}
	return nil
}

// captionText repairs invalid UTF-8 in a caption, counting it.
func captionText(s, where string, report *flow.SourceReport) string {
	if utf8.ValidString(s) {
		return s
	}
	report.Problem("invalid_utf8", where, errors.New("repaired with U+FFFD"))
	return strings.ToValidUTF8(s, "\uFFFD")
}

var errNoCaptionColumn = errors.New("name the caption column")
