package ingest

import (
	"archive/tar"
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/corpusflow/corpusflow/flow"
)

// Img2DatasetConfig configures the img2dataset source: an img2dataset
// output folder, in either of its layouts — output_format "files"
// (00000/000000012.jpg beside 000000012.txt and .json) or "webdataset"
// (00000.tar shards). The .parquet and _stats.json files beside them are
// ignored.
type Img2DatasetConfig struct {
	Path         string `yaml:"path" required:"true" path:"input" help:"the img2dataset output folder"`
	CaptionField string `yaml:"caption_field" help:"field of key.json holding the caption when there is no key.txt"`
	MaxImageMB   int    `yaml:"max_image_mb" help:"larger images are skipped and counted as image_too_big"`
}

func init() {
	flow.RegisterSource("img2dataset", "an img2dataset output folder (files or webdataset layout) as image–text records", Img2DatasetConfig{CaptionField: "caption", MaxImageMB: 20},
		func(c *Img2DatasetConfig, env *flow.Env) (flow.Source, error) {
			if c.MaxImageMB < 1 {
				return nil, &flow.FieldError{Field: "max_image_mb", Err: errors.New("must be at least 1")}
			}
			base := ""
			if env != nil {
				base = env.BaseDir
			}
			return &Img2DatasetSource{cfg: WebDatasetConfig{CaptionField: c.CaptionField, MaxImageMB: c.MaxImageMB}, dir: resolveInput(c.Path, base)}, nil
		})
}

// Img2DatasetSource reads an img2dataset output folder.
type Img2DatasetSource struct {
	cfg WebDatasetConfig
	dir string
}

// Parts: one per tar shard and one per folder of loose files, in name order.
func (s *Img2DatasetSource) Parts() ([]flow.Part, error) {
	st, err := os.Stat(s.dir)
	if err != nil {
		return nil, err
	}
	if !st.IsDir() {
		return nil, errors.New(s.dir + " is not a folder")
	}
	type entry struct {
		rel  string
		part flow.Part
	}
	var entries []entry
	folders := map[string][]string{}
	err = filepath.WalkDir(s.dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if strings.HasPrefix(d.Name(), ".") && p != s.dir {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			return nil
		}
		rel, _ := filepath.Rel(s.dir, p)
		rel = filepath.ToSlash(rel)
		info, err := d.Info()
		if err != nil {
			return err
		}
		switch name := strings.ToLower(d.Name()); {
		case strings.HasSuffix(name, ".tar"):
			entries = append(entries, entry{rel, &tarPart{cfg: &s.cfg, file: inputFile{Path: p, Rel: rel, Size: info.Size()}}})
		default:
			_, ext := splitKey(d.Name())
			if webImageExts[ext] || ext == "txt" || ext == "json" {
				dir := filepath.Dir(p)
				folders[dir] = append(folders[dir], d.Name())
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for dir, names := range folders {
		rel, _ := filepath.Rel(s.dir, dir)
		sort.Strings(names)
		entries = append(entries, entry{filepath.ToSlash(rel) + "/", &filesPart{cfg: &s.cfg, dir: dir, rel: filepath.ToSlash(rel), names: names}})
	}
	if len(entries) == 0 {
		return nil, errors.New(s.dir + " holds no img2dataset output (.tar shards or key.jpg/key.txt files)")
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].rel < entries[j].rel })
	parts := make([]flow.Part, len(entries))
	for i, e := range entries {
		parts[i] = e.part
	}
	return parts, nil
}

// filesPart is one folder of the "files" layout; it feeds its files, grouped
// by key, through the same sample logic as a tar shard.
type filesPart struct {
	cfg   *WebDatasetConfig
	dir   string
	rel   string
	names []string // sorted
}

func (p *filesPart) Name() string { return p.dir }
func (p *filesPart) Size() int64  { return -1 }

func (p *filesPart) Read(ctx context.Context, emit func(*flow.Record) error, report *flow.SourceReport) error {
	pr, pw := ioPipe()
	done := make(chan error, 1)
	go func() {
		tw := tar.NewWriter(pw)
		var err error
		for _, name := range p.names {
			var data []byte
			data, err = os.ReadFile(filepath.Join(p.dir, name))
			if err != nil {
				report.Problem(problemImageMissing, filepath.Join(p.dir, name), err)
				err = nil
				continue
			}
			if err = tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(data)), Typeflag: tar.TypeReg}); err != nil {
				break
			}
			if _, err = tw.Write(data); err != nil {
				break
			}
		}
		if err == nil {
			err = tw.Close()
		}
		pw.CloseWithError(err)
		done <- err
	}()
	err := readSamples(ctx, tar.NewReader(pr), p.dir, p.rel, p.cfg, emit, report)
	pr.Close()
	<-done
	return err
}

// ioPipe is io.Pipe, named here so the files layout reads as "a tar stream
// made of the folder's files".
func ioPipe() (*io.PipeReader, *io.PipeWriter) { return io.Pipe() }
