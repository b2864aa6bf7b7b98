package ingest

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"

	"github.com/corpusflow/corpusflow/flow"
)

func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }

// WebDatasetConfig configures the webdataset source: tar shards whose
// members are grouped by key, "key.jpg" (or .jpeg, .png, .webp, .gif) with
// "key.txt" and/or "key.json", as img2dataset writes them.
type WebDatasetConfig struct {
	Path         string `yaml:"path" required:"true" path:"input" help:"tar shard, directory of shards (.tar, .tar.gz) or glob"`
	CaptionField string `yaml:"caption_field" help:"field of key.json holding the caption when there is no key.txt"`
	MaxImageMB   int    `yaml:"max_image_mb" help:"larger members are skipped and counted as image_too_big"`
}

// DefaultWebDatasetConfig is img2dataset's layout.
func DefaultWebDatasetConfig() WebDatasetConfig {
	return WebDatasetConfig{CaptionField: "caption", MaxImageMB: 20}
}

func init() {
	flow.RegisterSource("webdataset", "WebDataset tar shards: key.jpg|png|webp + key.txt|json grouped into image–text records", DefaultWebDatasetConfig(),
		func(c *WebDatasetConfig, env *flow.Env) (flow.Source, error) { return NewWebDatasetSource(*c, env) })
}

// WebDatasetSource reads tar shards.
type WebDatasetSource struct {
	cfg  WebDatasetConfig
	path string
}

// NewWebDatasetSource builds the source.
func NewWebDatasetSource(cfg WebDatasetConfig, env *flow.Env) (*WebDatasetSource, error) {
	if cfg.MaxImageMB < 1 {
		return nil, &flow.FieldError{Field: "max_image_mb", Err: errors.New("must be at least 1")}
	}
	base := ""
	if env != nil {
		base = env.BaseDir
	}
	return &WebDatasetSource{cfg: cfg, path: resolveInput(cfg.Path, base)}, nil
}

// Parts lists one part per shard.
func (s *WebDatasetSource) Parts() ([]flow.Part, error) {
	files, err := expandInput(s.path, []string{".tar", ".tar.gz", ".tgz", ".tar.zst"})
	if err != nil {
		return nil, err
	}
	parts := make([]flow.Part, len(files))
	for i, f := range files {
		parts[i] = &tarPart{cfg: &s.cfg, file: f}
	}
	return parts, nil
}

type tarPart struct {
	cfg  *WebDatasetConfig
	file inputFile
}

func (p *tarPart) Name() string { return p.file.Path }
func (p *tarPart) Size() int64  { return p.file.Size }

var webImageExts = map[string]bool{"jpg": true, "jpeg": true, "png": true, "webp": true, "gif": true}

// sample is the members of one key.
type sample struct {
	key        string
	image      []byte
	imageName  string
	txt, jsonB []byte
	hasTxt     bool
}

// splitKey cuts a member name at the first dot of its base name, the
// WebDataset convention ("dir/000123.jpg" → "dir/000123", "jpg").
func splitKey(name string) (key, ext string) {
	dir, base := path.Split(name)
	k, e, ok := strings.Cut(base, ".")
	if !ok {
		return name, ""
	}
	return dir + k, strings.ToLower(e)
}

// Read emits one record per key, in shard order.
func (p *tarPart) Read(ctx context.Context, emit func(*flow.Record) error, report *flow.SourceReport) error {
	in, err := openInput(p.file.Path, func(kind string, err error) { report.Problem(kind, p.file.Path, err) })
	if err != nil {
		return err
	}
	defer in.Close()
	return readSamples(ctx, tar.NewReader(in.R), p.file.Path, p.file.Rel, p.cfg, emit, report)
}

func readSamples(ctx context.Context, tr *tar.Reader, where, rel string, cfg *WebDatasetConfig, emit func(*flow.Record) error, report *flow.SourceReport) error {
	maxBytes := int64(cfg.MaxImageMB) << 20
	var cur *sample
	flush := func() error {
		if cur == nil {
			return nil
		}
		s := cur
		cur = nil
		return emitSample(s, where, rel, cfg, emit, report)
	}
	for n := 0; ; n++ {
		if n%256 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			report.Problem("corrupt_tar", where, err)
			break
		}
		if h.Typeflag != tar.TypeReg && h.Typeflag != tar.TypeRegA {
			continue
		}
		key, ext := splitKey(h.Name)
		if strings.HasPrefix(path.Base(h.Name), ".") || ext == "" {
			continue
		}
		if cur != nil && cur.key != key {
			if err := flush(); err != nil {
				return err
			}
		}
		if cur == nil {
			cur = &sample{key: key}
		}
		if h.Size > maxBytes {
			report.Problem(problemImageTooBig, where+" "+h.Name, fmt.Errorf("%d bytes", h.Size))
			continue
		}
		data, err := io.ReadAll(io.LimitReader(tr, maxBytes+1))
		if err != nil {
			report.Problem("corrupt_tar", where+" "+h.Name, err)
			break
		}
		report.AddBytes(int64(len(data)))
		switch {
		case webImageExts[ext]:
			cur.image, cur.imageName = data, h.Name
		case ext == "txt":
			cur.txt, cur.hasTxt = data, true
		case ext == "json":
			cur.jsonB = data
		}
	}
	return flush()
}

func emitSample(s *sample, where, rel string, cfg *WebDatasetConfig, emit func(*flow.Record) error, report *flow.SourceReport) error {
	at := where + " " + s.key
	if s.image == nil {
		report.Problem(problemNoImageColumn, at, errors.New("no .jpg, .png, .webp or .gif member"))
		return nil
	}
	var meta map[string]any
	if s.jsonB != nil {
		d := json.NewDecoder(bytes.NewReader(s.jsonB))
		d.UseNumber()
		if err := d.Decode(&meta); err != nil {
			report.Problem("bad_json", at+".json", err)
			meta = nil
		}
	}
	caption := ""
	if s.hasTxt {
		caption = strings.TrimRight(string(s.txt), "\r\n")
	} else if c, ok := meta[cfg.CaptionField].(string); ok {
		caption = c
	}
	if strings.TrimSpace(caption) == "" {
		report.Problem(problemMissingCap, at, nil)
		return nil
	}
	r := &flow.Record{ID: rel + ":" + s.key, Text: captionText(caption, at, report),
		Fields: map[string]any{FieldImage: s.image, FieldImagePath: s.imageName}}
	if u, ok := meta["url"].(string); ok && u != "" {
		r.URL = u
		r.Fields[FieldImageURL] = u
	}
	for _, k := range []string{"key", "status", "error_message", "width", "height", "original_width", "original_height", "exif", "sha256"} {
		if v, ok := meta[k]; ok && v != nil {
			r.SetMeta("wds_"+k, v)
		}
	}
	return emit(r)
}
