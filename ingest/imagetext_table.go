package ingest

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/valyala/fastjson"

	"github.com/corpusflow/corpusflow/flow"
)

// ImageTextTableConfig configures the image_text source: a table of
// (image path or URL, caption) rows, as img2dataset reads them.
type ImageTextTableConfig struct {
	Path          string `yaml:"path" required:"true" path:"input" help:"TSV, CSV or JSONL file, directory or glob (plain, gzip or zstd)"`
	Format        string `yaml:"format" choices:"auto,tsv,csv,jsonl" help:"auto: from the file name (.tsv, .csv, .jsonl/.json)"`
	Header        bool   `yaml:"header" help:"tsv/csv: the first row names the columns (otherwise columns are 0-based indices)"`
	CaptionColumn string `yaml:"caption_column" help:"column (name or index) or JSON field holding the caption"`
	ImageColumn   string `yaml:"image_column" help:"column or JSON field holding the image: a URL, or a path relative to image_dir"`
	IDColumn      string `yaml:"id_column" help:"column or JSON field holding the id (default file:line)"`
	ImageDir      string `yaml:"image_dir" path:"input" help:"folder that relative image paths are under (default: the table's folder)"`
	MaxLineMB     int    `yaml:"max_line_mb" help:"longer rows are skipped"`
	FetchConfig   `yaml:"fetch" help:"downloading image URLs: download, download_concurrency, download_timeout_s, max_image_mb, download_retries, respect_x_robots_tag, allow_private, user_agent"`
}

// DefaultImageTextTableConfig: img2dataset's column names.
func DefaultImageTextTableConfig() ImageTextTableConfig {
	return ImageTextTableConfig{Format: "auto", Header: true, CaptionColumn: "caption", ImageColumn: "url", MaxLineMB: 1, FetchConfig: DefaultFetchConfig()}
}

// Validate checks the columns.
func (c *ImageTextTableConfig) Validate() error {
	if c.CaptionColumn == "" {
		return &flow.FieldError{Field: "caption_column", Err: errNoCaptionColumn}
	}
	if c.ImageColumn == "" {
		return &flow.FieldError{Field: "image_column", Err: errors.New("name the image column")}
	}
	if c.MaxLineMB < 1 {
		return &flow.FieldError{Field: "max_line_mb", Err: errors.New("must be at least 1")}
	}
	if c.Format == "tsv" || c.Format == "csv" {
		if !c.Header {
			for field, col := range map[string]string{"caption_column": c.CaptionColumn, "image_column": c.ImageColumn, "id_column": c.IDColumn} {
				if _, err := strconv.Atoi(col); col != "" && err != nil {
					return &flow.FieldError{Field: field, Err: fmt.Errorf("%q is a name, but header is false: give a 0-based index", col)}
				}
			}
		}
	}
	return validateImageFetch(&c.FetchConfig)
}

func init() {
	flow.RegisterSource("image_text", "image–text pairs from TSV/CSV/JSONL tables (image path or URL + caption), optionally downloading the images", DefaultImageTextTableConfig(),
		func(c *ImageTextTableConfig, env *flow.Env) (flow.Source, error) {
			return NewImageTextTableSource(*c, env)
		})
}

// ImageTextTableSource reads image–text tables.
type ImageTextTableSource struct {
	cfg    ImageTextTableConfig
	path   string
	loader *pairLoader
}

// NewImageTextTableSource builds the source.
func NewImageTextTableSource(cfg ImageTextTableConfig, env *flow.Env) (*ImageTextTableSource, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	base := ""
	if env != nil {
		base = env.BaseDir
	}
	cfg.ImageDir = resolveInput(cfg.ImageDir, base)
	return &ImageTextTableSource{cfg: cfg, path: resolveInput(cfg.Path, base), loader: newPairLoader(cfg.FetchConfig)}, nil
}

// Parts lists one part per table file.
func (s *ImageTextTableSource) Parts() ([]flow.Part, error) {
	files, err := expandInput(s.path, []string{".tsv", ".tsv.gz", ".tsv.zst", ".csv", ".csv.gz", ".csv.zst", ".jsonl", ".jsonl.gz", ".jsonl.zst", ".json"})
	if err != nil {
		return nil, err
	}
	parts := make([]flow.Part, len(files))
	for i, f := range files {
		parts[i] = &tablePart{src: s, file: f}
	}
	return parts, nil
}

type tablePart struct {
	src  *ImageTextTableSource
	file inputFile
}

func (p *tablePart) Name() string { return p.file.Path }
func (p *tablePart) Size() int64  { return p.file.Size }

func (p *tablePart) format() string {
	if f := p.src.cfg.Format; f != "auto" && f != "" {
		return f
	}
	name := strings.ToLower(p.file.Path)
	for _, z := range []string{".gz", ".zst"} {
		name = strings.TrimSuffix(name, z)
	}
	switch {
	case strings.HasSuffix(name, ".tsv"):
		return "tsv"
	case strings.HasSuffix(name, ".csv"):
		return "csv"
	}
	return "jsonl"
}

// Read lists the rows and loads their images.
func (p *tablePart) Read(ctx context.Context, emit func(*flow.Record) error, report *flow.SourceReport) error {
	in, err := openInput(p.file.Path, func(kind string, err error) { report.Problem(kind, p.file.Path, err) })
	if err != nil {
		return err
	}
	defer in.Close()
	imageDir := p.src.cfg.ImageDir
	if imageDir == "" {
		imageDir = filepath.Dir(p.file.Path)
	}
	var next func() (pairItem, bool, error)
	if p.format() == "jsonl" {
		next = p.jsonlRows(in.R, imageDir, report)
	} else {
		next, err = p.delimitedRows(in.R, imageDir, report)
		if err != nil {
			return err
		}
	}
	return emitPairs(ctx, p.src.loader, next, emit, report)
}

func (p *tablePart) item(row int, caption, image, id string, report *flow.SourceReport, imageDir string) (pairItem, bool) {
	where := fmt.Sprintf("%s line %d", p.file.Path, row)
	if strings.TrimSpace(caption) == "" {
		report.Problem(problemMissingCap, where, nil)
		return pairItem{}, false
	}
	file, rel, url := imageRef(image, imageDir)
	if file == "" && url == "" {
		report.Problem(problemNoImageColumn, where, nil)
		return pairItem{}, false
	}
	if id == "" {
		id = p.file.Rel + ":" + strconv.Itoa(row)
	}
	return pairItem{id: id, caption: captionText(caption, where, report), imageFile: file, imageRel: rel, imageURL: url, where: where}, true
}

// delimitedRows reads TSV (split at tabs, no quoting, as CC3M's files are)
// or CSV (RFC 4180 quoting).
func (p *tablePart) delimitedRows(r io.Reader, imageDir string, report *flow.SourceReport) (func() (pairItem, bool, error), error) {
	cfg := &p.src.cfg
	var readRow func() ([]string, error)
	if p.format() == "csv" {
		cr := csv.NewReader(r)
		cr.FieldsPerRecord, cr.LazyQuotes, cr.ReuseRecord = -1, true, false
		readRow = cr.Read
	} else {
		s := newStream(r, nil)
		maxLine := cfg.MaxLineMB << 20
		readRow = func() ([]string, error) {
			for {
				line, tooLong, err := s.readLine(maxLine)
				if err != nil {
					if _, gap := asGap(err); gap {
						continue
					}
					return nil, err
				}
				if tooLong {
					report.Problem("line_too_long", p.file.Path, nil)
					continue
				}
				return strings.Split(string(trimEOL(line)), "\t"), nil
			}
		}
	}
	row := 0
	colIndex := map[string]int{}
	column := func(name string) (int, error) {
		if name == "" {
			return -1, nil
		}
		if i, ok := colIndex[name]; ok {
			return i, nil
		}
		if i, err := strconv.Atoi(name); err == nil && i >= 0 {
			return i, nil
		}
		return -1, fmt.Errorf("%s: no column %q in the header", p.file.Path, name)
	}
	if cfg.Header {
		head, err := readRow()
		if err != nil {
			return nil, fmt.Errorf("%s: reading the header: %w", p.file.Path, err)
		}
		row++
		for i, h := range head {
			colIndex[strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))] = i
		}
	}
	capCol, err := column(cfg.CaptionColumn)
	if err != nil {
		return nil, err
	}
	imgCol, err := column(cfg.ImageColumn)
	if err != nil {
		return nil, err
	}
	idCol, err := column(cfg.IDColumn)
	if err != nil {
		return nil, err
	}
	at := func(rec []string, i int) string {
		if i < 0 || i >= len(rec) {
			return ""
		}
		return rec[i]
	}
	return func() (pairItem, bool, error) {
		for {
			rec, err := readRow()
			row++
			if err == io.EOF {
				return pairItem{}, false, nil
			}
			if err != nil {
				var pe *csv.ParseError
				if errors.As(err, &pe) {
					report.Problem("bad_row", fmt.Sprintf("%s line %d", p.file.Path, row), err)
					continue
				}
				return pairItem{}, false, err
			}
			if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
				continue
			}
			if it, ok := p.item(row, at(rec, capCol), at(rec, imgCol), at(rec, idCol), report, imageDir); ok {
				return it, true, nil
			}
		}
	}, nil
}

func (p *tablePart) jsonlRows(r io.Reader, imageDir string, report *flow.SourceReport) func() (pairItem, bool, error) {
	cfg := &p.src.cfg
	s := newStream(r, nil)
	var parser fastjson.Parser
	row := 0
	return func() (pairItem, bool, error) {
		for {
			line, tooLong, err := s.readLine(cfg.MaxLineMB << 20)
			row++
			if err != nil {
				if _, gap := asGap(err); gap {
					continue
				}
				if errors.Is(err, io.EOF) {
					return pairItem{}, false, nil
				}
				return pairItem{}, false, err
			}
			where := fmt.Sprintf("%s line %d", p.file.Path, row)
			if tooLong {
				report.Problem("line_too_long", where, nil)
				continue
			}
			line = trimEOL(line)
			if isBlankJSON(line) {
				continue
			}
			v, err := parser.ParseBytes(line)
			if err != nil || v.Type() != fastjson.TypeObject {
				report.Problem("bad_json", where, err)
				continue
			}
			capV := lookupField(v, cfg.CaptionColumn)
			caption := ""
			if capV != nil && capV.Type() == fastjson.TypeString {
				b, _ := capV.StringBytes()
				caption = string(b)
			}
			id := ""
			if cfg.IDColumn != "" {
				id = scalarString(lookupField(v, cfg.IDColumn))
			}
			if it, ok := p.item(row, caption, scalarString(lookupField(v, cfg.ImageColumn)), id, report, imageDir); ok {
				return it, true, nil
			}
		}
	}
}
