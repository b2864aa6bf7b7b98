package ingest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strconv"

	"github.com/corpusflow/corpusflow/flow"
)

// COCOConfig configures the coco_captions source: one record per caption
// of a COCO caption file (captions_train2017.json and the like).
type COCOConfig struct {
	Path        string `yaml:"path" required:"true" path:"input" help:"COCO caption JSON (images + annotations), plain, gzip or zstd"`
	ImageDir    string `yaml:"image_dir" path:"input" help:"folder holding the images named by file_name (train2017/); without it, images come from coco_url when download is on"`
	MaxJSONMB   int    `yaml:"max_json_mb" help:"larger files are refused (the file is read whole; captions_train2017.json is 92 MB)"`
	FetchConfig `yaml:"fetch" help:"downloading image URLs: download, download_concurrency, download_timeout_s, max_image_mb, download_retries, respect_x_robots_tag, allow_private, user_agent"`
}

// DefaultCOCOConfig is the coco_captions defaults.
func DefaultCOCOConfig() COCOConfig {
	return COCOConfig{MaxJSONMB: 512, FetchConfig: DefaultFetchConfig()}
}

// Validate checks the limits.
func (c *COCOConfig) Validate() error {
	if c.MaxJSONMB < 1 {
		return &flow.FieldError{Field: "max_json_mb", Err: errors.New("must be at least 1")}
	}
	if c.ImageDir == "" && !c.Download {
		return &flow.FieldError{Field: "image_dir", Err: errors.New("give the image folder, or fetch: {download: true} to fetch coco_url")}
	}
	return validateImageFetch(&c.FetchConfig)
}

func init() {
	flow.RegisterSource("coco_captions", "COCO caption JSON: one image–text record per caption, images from image_dir (or downloaded from coco_url)", DefaultCOCOConfig(),
		func(c *COCOConfig, env *flow.Env) (flow.Source, error) { return NewCOCOSource(*c, env) })
}

// COCOSource reads COCO caption files.
type COCOSource struct {
	cfg    COCOConfig
	path   string
	loader *pairLoader
}

// NewCOCOSource builds the source.
func NewCOCOSource(cfg COCOConfig, env *flow.Env) (*COCOSource, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	base := ""
	if env != nil {
		base = env.BaseDir
	}
	cfg.ImageDir = resolveInput(cfg.ImageDir, base)
	return &COCOSource{cfg: cfg, path: resolveInput(cfg.Path, base), loader: newPairLoader(cfg.FetchConfig)}, nil
}

// Parts lists one part per file.
func (s *COCOSource) Parts() ([]flow.Part, error) {
	files, err := expandInput(s.path, []string{".json", ".json.gz", ".json.zst"})
	if err != nil {
		return nil, err
	}
	parts := make([]flow.Part, len(files))
	for i, f := range files {
		parts[i] = &cocoPart{src: s, file: f}
	}
	return parts, nil
}

type cocoPart struct {
	src  *COCOSource
	file inputFile
}

func (p *cocoPart) Name() string { return p.file.Path }
func (p *cocoPart) Size() int64  { return p.file.Size }

type cocoFile struct {
	Images []struct {
		ID       json.Number `json:"id"`
		FileName string      `json:"file_name"`
		COCOURL  string      `json:"coco_url"`
		Width    int         `json:"width"`
		Height   int         `json:"height"`
	} `json:"images"`
	Annotations []struct {
		ID      json.Number `json:"id"`
		ImageID json.Number `json:"image_id"`
		Caption string      `json:"caption"`
	} `json:"annotations"`
}

// Read emits one record per annotation, in file order.
func (p *cocoPart) Read(ctx context.Context, emit func(*flow.Record) error, report *flow.SourceReport) error {
	in, err := openInput(p.file.Path, func(kind string, err error) { report.Problem(kind, p.file.Path, err) })
	if err != nil {
		return err
	}
	defer in.Close()
	limit := int64(p.src.cfg.MaxJSONMB) << 20
	data, err := io.ReadAll(io.LimitReader(in.R, limit+1))
	if err != nil {
		return fmt.Errorf("%s: %w", p.file.Path, err)
	}
	if int64(len(data)) > limit {
		return fmt.Errorf("%s: larger than max_json_mb (%d MiB)", p.file.Path, p.src.cfg.MaxJSONMB)
	}
	parsed, err := parseCOCO(data)
	if err != nil {
		return fmt.Errorf("%s: %w", p.file.Path, err)
	}
	type imageInfo struct{ file, url string }
	images := make(map[string]imageInfo, len(parsed.Images))
	for _, im := range parsed.Images {
		images[im.ID.String()] = imageInfo{file: im.FileName, url: im.COCOURL}
	}
	i := 0
	next := func() (pairItem, bool, error) {
		for ; i < len(parsed.Annotations); i++ {
			a := parsed.Annotations[i]
			where := fmt.Sprintf("%s annotation %d (id %s)", p.file.Path, i, a.ID)
			im, ok := images[a.ImageID.String()]
			if !ok {
				report.Problem(problemNoImageColumn, where, fmt.Errorf("image_id %s is not in images", a.ImageID))
				continue
			}
			if a.Caption == "" {
				report.Problem(problemMissingCap, where, nil)
				continue
			}
			it := pairItem{
				id: p.file.Rel + ":" + a.ID.String(), caption: captionText(a.Caption, where, report), where: where,
				meta: map[string]any{"image_id": a.ImageID.String()},
			}
			if p.src.cfg.ImageDir != "" && im.file != "" {
				it.imageFile, it.imageRel = filepath.Join(p.src.cfg.ImageDir, filepath.FromSlash(im.file)), im.file
			} else {
				it.imageURL = im.url
			}
			i++
			return it, true, nil
		}
		return pairItem{}, false, nil
	}
	return emitPairs(ctx, p.src.loader, next, emit, report)
}

// parseCOCO decodes the caption file; ids are kept as written (numbers or
// strings).
func parseCOCO(data []byte) (*cocoFile, error) {
	var raw struct {
		Images      []json.RawMessage `json:"images"`
		Annotations []json.RawMessage `json:"annotations"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("not COCO caption JSON: %w", err)
	}
	if raw.Annotations == nil {
		return nil, errors.New(`not COCO caption JSON: no "annotations" list`)
	}
	var f cocoFile
	dec := func(m json.RawMessage, v any) error {
		d := json.NewDecoder(bytesReader(m))
		d.UseNumber()
		return d.Decode(v)
	}
	for i, m := range raw.Images {
		var im struct {
			ID       any    `json:"id"`
			FileName string `json:"file_name"`
			COCOURL  string `json:"coco_url"`
		}
		if err := dec(m, &im); err != nil {
			return nil, fmt.Errorf("images[%d]: %w", i, err)
		}
		f.Images = append(f.Images, struct {
			ID       json.Number `json:"id"`
			FileName string      `json:"file_name"`
			COCOURL  string      `json:"coco_url"`
			Width    int         `json:"width"`
			Height   int         `json:"height"`
		}{ID: anyID(im.ID), FileName: im.FileName, COCOURL: im.COCOURL})
	}
	for i, m := range raw.Annotations {
		var a struct {
			ID      any    `json:"id"`
			ImageID any    `json:"image_id"`
			Caption string `json:"caption"`
		}
		if err := dec(m, &a); err != nil {
			return nil, fmt.Errorf("annotations[%d]: %w", i, err)
		}
		id := anyID(a.ID)
		if id == "" {
			id = json.Number(strconv.Itoa(i))
		}
		f.Annotations = append(f.Annotations, struct {
			ID      json.Number `json:"id"`
			ImageID json.Number `json:"image_id"`
			Caption string      `json:"caption"`
		}{ID: id, ImageID: anyID(a.ImageID), Caption: a.Caption})
	}
	return &f, nil
}

func anyID(v any) json.Number {
	switch x := v.(type) {
	case json.Number:
		return x
	case string:
		return json.Number(x)
	}
	return ""
}
