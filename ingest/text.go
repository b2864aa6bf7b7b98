package ingest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"unicode/utf8"

	"github.com/corpusflow/corpusflow/flow"
)

// How the text source cuts files into documents.
const (
	splitFile      = "file"       // the whole file is one document
	splitBlankLine = "blank_line" // blocks separated by blank lines
	splitLine      = "line"       // every non-blank line
)

// textExtensions are the files a directory input contributes.
var textExtensions = []string{".txt", ".txt.gz", ".txt.zst", ".text", ".md"}

const defaultMaxDocumentMB = 64

// TextConfig configures the text source.
type TextConfig struct {
	Path          string `yaml:"path" required:"true" path:"input" help:"text file, directory (files ending .txt, .txt.gz, .txt.zst, .md) or glob (** for any depth); plain, gzip or zstd, recognised by content"`
	Split         string `yaml:"split" choices:"file,blank_line,line" help:"one document per file, per blank-line-separated block, or per line"`
	MaxDocumentMB int    `yaml:"max_document_mb" help:"longer documents (or lines) are skipped and counted as document_too_long"`
}

// DefaultTextConfig is the text source's configuration before YAML applies.
func DefaultTextConfig() TextConfig {
	return TextConfig{Split: splitFile, MaxDocumentMB: defaultMaxDocumentMB}
}

// Validate checks the split mode and limit.
func (c *TextConfig) Validate() error {
	switch c.Split {
	case splitFile, splitBlankLine, splitLine:
	default:
		return &flow.FieldError{Field: "split", Err: fmt.Errorf("%q is not one of file, blank_line, line", c.Split)}
	}
	if c.MaxDocumentMB <= 0 {
		return &flow.FieldError{Field: "max_document_mb", Err: errors.New("must be at least 1")}
	}
	return nil
}

func init() {
	flow.RegisterSource("text", "plain text files (plain, .gz, .zst): one document per file, blank-line-separated block or line", DefaultTextConfig(),
		func(c *TextConfig, env *flow.Env) (flow.Source, error) { return NewTextSource(*c, env) })
}

// TextSource reads plain text files.
type TextSource struct {
	cfg  TextConfig
	path string
}

// NewTextSource builds the text source; relative paths resolve against
// env.BaseDir.
func NewTextSource(cfg TextConfig, env *flow.Env) (*TextSource, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	base := ""
	if env != nil {
		base = env.BaseDir
	}
	return &TextSource{cfg: cfg, path: resolveInput(cfg.Path, base)}, nil
}

// Parts lists one part per file.
func (s *TextSource) Parts() ([]flow.Part, error) {
	files, err := expandInput(s.path, textExtensions)
	if err != nil {
		return nil, err
	}
	parts := make([]flow.Part, len(files))
	for i, f := range files {
		parts[i] = &textPart{cfg: &s.cfg, file: f}
	}
	return parts, nil
}

type textPart struct {
	cfg  *TextConfig
	file inputFile
}

func (p *textPart) Name() string { return p.file.Path }
func (p *textPart) Size() int64  { return p.file.Size }

// Read emits the file's documents. Ids are the file's relative name
// (split: file) or file:line of the document's first line. Line ends are
// normalised to "\n" in the line-based modes.
func (p *textPart) Read(ctx context.Context, emit func(*flow.Record) error, report *flow.SourceReport) error {
	in, err := openInput(p.file.Path, func(kind string, err error) { report.Problem(kind, p.file.Path, err) })
	if err != nil {
		return err
	}
	defer in.Close()
	s := newStream(in.R, report.AddBytes)
	d := textDocs{part: p, report: report, emit: emit, max: p.cfg.MaxDocumentMB << 20}
	if p.cfg.Split == splitFile {
		err = d.wholeFile(s)
	} else {
		err = d.lines(ctx, s)
	}
	if err == nil && s.total == 0 {
		report.Problem("empty_file", p.file.Path, errors.New("no text"))
	}
	return err
}

type textDocs struct {
	part   *textPart
	report *flow.SourceReport
	emit   func(*flow.Record) error
	max    int

	doc       []byte
	docLine   int  // line the document being gathered starts on
	tooLong   bool // the document being gathered went over max
	lineCount int
}

func (d *textDocs) wholeFile(s *stream) error {
	var doc []byte
	for {
		var err error
		doc, err = s.readN(doc, int64(d.max+1-len(doc)))
		if len(doc) > d.max {
			d.report.Problem("document_too_long", d.part.file.Path, fmt.Errorf("over %d MiB; skipped", d.part.cfg.MaxDocumentMB))
			_, err = s.discard(1 << 62)
			if err != nil && !errors.Is(err, io.EOF) {
				if _, isGap := asGap(err); !isGap {
					return err
				}
			}
			return nil
		}
		if err == nil {
			continue
		}
		if _, isGap := asGap(err); isGap {
			// A file with a hole is not the document it claims to be.
			d.report.Problem("truncated_document", d.part.file.Path, err)
			return nil
		}
		if !errors.Is(err, io.EOF) {
			return err
		}
		break
	}
	if len(doc) == 0 {
		return nil
	}
	return d.emit(d.record(doc, d.part.file.Rel))
}

func (d *textDocs) lines(ctx context.Context, s *stream) error {
	for {
		line, tooLong, err := s.readLine(d.max)
		if err != nil {
			if _, isGap := asGap(err); isGap {
				// Damaged compression: the document in progress, or the line
				// cut by the gap, is incomplete. Drop it and go on.
				if len(d.doc) > 0 || d.tooLong || s.cut > 0 {
					if len(d.doc) == 0 && !d.tooLong {
						d.docLine = d.lineCount + 1
					}
					d.report.Problem("truncated_document", d.where(), err)
				}
				d.doc, d.tooLong = d.doc[:0], false
				continue
			}
			if errors.Is(err, io.EOF) {
				return d.flush()
			}
			return err
		}
		d.lineCount++
		if d.lineCount%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		blank := !tooLong && len(bytes.TrimSpace(line)) == 0
		if d.part.cfg.Split == splitLine {
			d.docLine = d.lineCount
			if tooLong {
				d.report.Problem("document_too_long", d.where(), fmt.Errorf("line over %d MiB skipped", d.part.cfg.MaxDocumentMB))
				continue
			}
			if !blank {
				d.doc = append(d.doc[:0], trimEOL(line)...)
				if err := d.flush(); err != nil {
					return err
				}
			}
			continue
		}
		if blank {
			if err := d.flush(); err != nil {
				return err
			}
			continue
		}
		if len(d.doc) == 0 && !d.tooLong {
			d.docLine = d.lineCount
		}
		if tooLong || len(d.doc)+len(line) > d.max {
			d.tooLong, d.doc = true, d.doc[:0]
			continue
		}
		if !d.tooLong {
			d.doc = append(d.doc, trimEOL(line)...)
			d.doc = append(d.doc, '\n')
		}
	}
}

// flush emits the document gathered so far, or counts why not.
func (d *textDocs) flush() error {
	defer func() { d.doc, d.tooLong = d.doc[:0], false }()
	switch {
	case d.tooLong:
		d.report.Problem("document_too_long", d.where(), fmt.Errorf("over %d MiB; skipped", d.part.cfg.MaxDocumentMB))
		return nil
	case len(d.doc) == 0:
		return nil
	}
	doc := bytes.TrimRight(d.doc, "\n")
	return d.emit(d.record(doc, d.part.file.Rel+":"+strconv.Itoa(d.docLine)))
}

func (d *textDocs) where() string {
	return fmt.Sprintf("%s line %d", d.part.file.Path, d.docLine)
}

func (d *textDocs) record(doc []byte, id string) *flow.Record {
	r := &flow.Record{ID: id, Source: d.part.file.Rel}
	if utf8.Valid(doc) {
		r.Text = string(doc)
	} else {
		d.report.Problem("invalid_utf8", fmt.Sprintf("%s (%s)", d.part.file.Path, id), errors.New("repaired with U+FFFD"))
		r.Text = string(bytes.ToValidUTF8(doc, []byte("\uFFFD")))
	}
	return r
}
