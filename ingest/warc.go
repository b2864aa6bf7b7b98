package ingest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"
	"unsafe"

	"github.com/corpusflow/corpusflow/flow"
)

// WARC record types the warc source can turn into documents.
const (
	recordConversion = "conversion" // Common Crawl WET: extracted text
	recordResponse   = "response"   // HTTP response: HTML to extract
	recordResource   = "resource"   // a stored file (HTML or plain text)
)

// Meta keys the warc source sets.
const (
	MetaWARCType     = "warc_type"     // conversion, response or resource
	MetaWARCLanguage = "warc_language" // WARC-Identified-Content-Language ("eng", "spa,eng")
	MetaContentType  = "content_type"  // media type of the page (response, resource)
	MetaCharset      = "charset"       // charset the page was decoded from (HTML)
)

// warcExtensions are the files a directory input contributes.
var warcExtensions = []string{".warc", ".warc.gz", ".warc.zst", ".wet", ".wet.gz", ".wet.zst"}

// WARCConfig configures the warc source.
type WARCConfig struct {
	Path        string   `yaml:"path" required:"true" path:"input" help:"WARC or WET file, directory (files ending .warc, .warc.gz, .wet.gz, ...) or glob (** for any depth); plain, gzip (multi-member) or zstd, recognised by content"`
	RecordTypes []string `yaml:"record_types" help:"record types that become documents: conversion (WET text, as is), response (HTTP responses with HTML, main text extracted), resource"`
	Extractor   string   `yaml:"extractor" choices:"trafilatura,none" help:"how HTML becomes text: trafilatura keeps the main text as FineWeb does; none keeps the HTML (decoded to UTF-8)"`
	Favor       string   `yaml:"favor" choices:"precision,balanced,recall" help:"trafilatura's trade-off; FineWeb uses precision"`
	Fallback    bool     `yaml:"fallback" help:"let trafilatura try its readability and dom-distiller fallbacks on pages it finds hard (slower, a little more text)"`
	Workers     int      `yaml:"extract_workers" help:"HTML pages extracted at once per file; 0 = the pipeline's workers"`
	MaxRecordMB int      `yaml:"max_record_mb" help:"records with a larger content block are skipped and counted as record_too_large"`
}

// DefaultWARCConfig is the warc source's configuration before YAML applies.
func DefaultWARCConfig() WARCConfig {
	return WARCConfig{
		RecordTypes: []string{recordConversion, recordResponse},
		Extractor:   extractTrafilatura,
		Favor:       "precision",
		MaxRecordMB: defaultMaxRecordBytes >> 20,
	}
}

// Validate checks the record types and limits.
func (c *WARCConfig) Validate() error {
	if len(c.RecordTypes) == 0 {
		return &flow.FieldError{Field: "record_types", Err: errors.New("name at least one of conversion, response, resource")}
	}
	for i, t := range c.RecordTypes {
		switch t {
		case recordConversion, recordResponse, recordResource:
		default:
			return &flow.FieldError{Field: fmt.Sprintf("record_types.%d", i), Err: fmt.Errorf("%q is not one of conversion, response, resource", t)}
		}
	}
	if c.MaxRecordMB <= 0 {
		return &flow.FieldError{Field: "max_record_mb", Err: errors.New("must be at least 1")}
	}
	if c.Workers < 0 {
		return &flow.FieldError{Field: "extract_workers", Err: errors.New("must be 0 (all) or more")}
	}
	return nil
}

func init() {
	flow.RegisterSource("warc", "WARC/WET files (WARC 1.0/1.1, 0.17/0.18; plain, gzip, zstd): WET text, or the main text of HTML responses", DefaultWARCConfig(),
		func(c *WARCConfig, env *flow.Env) (flow.Source, error) { return NewWARCSource(*c, env) })
}

// WARCSource reads WARC and WET files.
type WARCSource struct {
	cfg     WARCConfig
	path    string
	workers int
	html    *htmlToText
	types   map[string]bool
}

// NewWARCSource builds the warc source; relative paths resolve against
// env.BaseDir.
func NewWARCSource(cfg WARCConfig, env *flow.Env) (*WARCSource, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	workers := cfg.Workers
	if workers == 0 && env != nil {
		workers = env.Workers
	}
	base := ""
	if env != nil {
		base = env.BaseDir
	}
	s := &WARCSource{cfg: cfg, path: resolveInput(cfg.Path, base), workers: max(workers, 1), types: map[string]bool{}}
	for _, t := range cfg.RecordTypes {
		s.types[t] = true
	}
	s.html = newHTMLToText(cfg.Extractor, cfg.Favor, cfg.Fallback)
	return s, nil
}

// Parts lists one part per file.
func (s *WARCSource) Parts() ([]flow.Part, error) {
	files, err := expandInput(s.path, warcExtensions)
	if err != nil {
		return nil, err
	}
	parts := make([]flow.Part, len(files))
	for i, f := range files {
		parts[i] = &warcPart{src: s, file: f}
	}
	return parts, nil
}

type warcPart struct {
	src  *WARCSource
	file inputFile
}

func (p *warcPart) Name() string { return p.file.Path }
func (p *warcPart) Size() int64  { return p.file.Size }

// Read streams the file's wanted records. Records needing HTML extraction
// are converted by several goroutines and emitted in file order.
func (p *warcPart) Read(ctx context.Context, emit func(*flow.Record) error, report *flow.SourceReport) error {
	in, err := openInput(p.file.Path, func(kind string, err error) { report.Problem(kind, p.file.Path, err) })
	if err != nil {
		return err
	}
	defer in.Close()
	return p.read(ctx, in, emit, report)
}

func (p *warcPart) read(ctx context.Context, in *openedInput, emit func(*flow.Record) error, report *flow.SourceReport) error {
	s := newStream(in.R, report.AddBytes)
	sc := newWARCScanner(s, p.file.Path, int64(p.src.cfg.MaxRecordMB)<<20, p.wants, report.Problem)

	next := func() (*warcRecord, bool, error) {
		if err := ctx.Err(); err != nil {
			return nil, false, err
		}
		rec, err := sc.Next()
		if err == io.EOF {
			return nil, false, nil
		}
		return rec, err == nil, err
	}
	convert := func(rec *warcRecord) *flow.Record { return p.toRecord(rec, report) }
	out := func(r *flow.Record) error {
		if r == nil {
			return nil
		}
		return emit(r)
	}
	workers := 1
	if p.src.cfg.Extractor == extractTrafilatura && (p.src.types[recordResponse] || p.src.types[recordResource]) {
		workers = p.src.workers
	}
	// Only HTML extraction is worth another goroutine; WET text and
	// skipped records are converted as they are read.
	weigh := func(rec *warcRecord) (bool, int) {
		t := strings.ToLower(rec.Header.Get("WARC-Type"))
		return t != recordResponse && t != recordResource, len(rec.Block)
	}
	err := orderedMapWeighed(ctx, workers, next, convert, weigh, out)
	if s.total == 0 && err == nil {
		report.Problem("empty_file", p.file.Path, errors.New("no WARC records"))
	}
	return err
}

func (p *warcPart) wants(h *warcHeader) bool {
	return p.src.types[strings.ToLower(h.Get("WARC-Type"))]
}

// toRecord turns a WARC record into a document, or counts why not.
func (p *warcPart) toRecord(rec *warcRecord, report *flow.SourceReport) *flow.Record {
	h := &rec.Header
	problem := recordProblems{report: report, file: p.file.Path, index: rec.Index, id: h.Get("WARC-Record-ID")}.add
	r := &flow.Record{
		ID:     h.Get("WARC-Record-ID"),
		URL:    strings.TrimSuffix(strings.TrimPrefix(h.Get("WARC-Target-URI"), "<"), ">"), // wget writes <uri>
		Source: p.file.Rel,
	}
	if r.ID == "" {
		problem("missing_record_id", errors.New("no WARC-Record-ID; the id is file:record number"))
		r.ID = fmt.Sprintf("%s:%d", p.file.Rel, rec.Index)
	}
	r.Timestamp = warcDate(h.Get("WARC-Date"), problem)
	warcType := strings.ToLower(h.Get("WARC-Type"))
	r.SetMeta(MetaWARCType, warcType)
	if lang := h.Get("WARC-Identified-Content-Language"); lang != "" {
		r.SetMeta(MetaWARCLanguage, lang)
	}

	switch warcType {
	case recordConversion:
		r.Text = validText(rec.Block, problem)
		return r
	case recordResponse:
		return p.responseText(r, rec, problem)
	default: // resource
		return p.resourceText(r, rec, problem)
	}
}

func (p *warcPart) responseText(r *flow.Record, rec *warcRecord, problem func(kind string, err error)) *flow.Record {
	ct := mediaType(rec.Header.Get("Content-Type"))
	if ct != "" && ct != "application/http" {
		// dns: records and the like are responses too, but not HTTP.
		problem("skipped_not_http", fmt.Errorf("record Content-Type %q", ct))
		return nil
	}
	resp, err := parseHTTPResponse(rec.Block)
	if err != nil {
		problem("bad_http_response", err)
		return nil
	}
	if resp.Status < 200 || resp.Status > 299 {
		problem("skipped_http_status", fmt.Errorf("HTTP status %d", resp.Status))
		return nil
	}
	body, bodyProblem, err := decodeBody(resp, int64(p.src.cfg.MaxRecordMB)<<20)
	if err != nil {
		problem("bad_http_body", err)
		return nil
	}
	if bodyProblem != "" {
		problem(bodyProblem, errors.New("kept the part of the body that decoded"))
	}
	declared := resp.Header.Get("Content-Type")
	// Common Crawl's own detection beats what servers declare.
	mt := mediaType(rec.Header.Get("WARC-Identified-Payload-Type"))
	if mt == "" {
		mt = mediaType(declared)
	}
	if mt == "" {
		mt = mediaType(http.DetectContentType(body))
	}
	if !isHTMLType(mt) {
		problem("skipped_not_html", fmt.Errorf("payload is %s", mt))
		return nil
	}
	return p.htmlRecord(r, body, declared, mt, problem)
}

func (p *warcPart) resourceText(r *flow.Record, rec *warcRecord, problem func(kind string, err error)) *flow.Record {
	declared := rec.Header.Get("Content-Type")
	mt := mediaType(declared)
	switch {
	case isHTMLType(mt):
		return p.htmlRecord(r, rec.Block, declared, mt, problem)
	case mt == "text/plain":
		d := decodeHTML(rec.Block, declared) // same charset rules, no markup involved
		if d.InvalidUTF8 {
			problem("invalid_utf8", errors.New("repaired with U+FFFD"))
		}
		r.Text = string(d.HTML)
		r.SetMeta(MetaContentType, mt)
		return r
	}
	problem("skipped_not_text", fmt.Errorf("resource is %q", mt))
	return nil
}

func (p *warcPart) htmlRecord(r *flow.Record, body []byte, contentType, mt string, problem func(kind string, err error)) *flow.Record {
	page := decodeHTML(body, contentType)
	if page.InvalidUTF8 {
		problem("invalid_utf8", errors.New("repaired with U+FFFD"))
	}
	text, err := p.src.html.text(page.HTML, r.URL)
	if err != nil {
		if errors.Is(err, errNoMainText) {
			problem("skipped_no_text", err)
		} else {
			problem("extract_failed", err)
		}
		return nil
	}
	r.Text = text
	r.SetMeta(MetaContentType, mt)
	r.SetMeta(MetaCharset, page.Charset)
	return r
}

// recordProblems reports problems with one record, naming it as
// "FILE record N (ID)"; the name is only built when there is a problem.
type recordProblems struct {
	report *flow.SourceReport
	file   string
	index  int
	id     string
}

func (rp recordProblems) add(kind string, err error) {
	if strings.HasPrefix(kind, "skipped_") {
		// Not a fault in the input: a record this pipeline does not want.
		rp.report.Skip(kind)
		return
	}
	rp.report.Problem(kind, fmt.Sprintf("%s record %d (%s)", rp.file, rp.index, rp.id), err)
}

// warcDate normalises WARC-Date to RFC 3339 in UTC ("2024-05-18T01:58:10Z"),
// the form C4 and FineWeb write. A date that does not parse is kept as
// written and counted.
func warcDate(v string, problem func(kind string, err error)) string {
	if v == "" {
		problem("bad_date", errors.New("no WARC-Date"))
		return ""
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05Z0700", "20060102150405"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t.UTC().Format(time.RFC3339Nano)
		}
	}
	problem("bad_date", fmt.Errorf("WARC-Date %q is not an ISO 8601 date", v))
	return v
}

// validText returns b as a string, repairing invalid UTF-8 with U+FFFD and
// counting it.
//
// b must be a record's own block: the scanner allocates each wanted block
// afresh and never writes to it once read, so the string can share its
// bytes instead of copying them — a WET file's text is most of what it
// allocates, and the copy cost about a tenth of the ingest throughput.
func validText(b []byte, problem func(kind string, err error)) string {
	if utf8.Valid(b) {
		if len(b) == 0 {
			return ""
		}
		return unsafe.String(&b[0], len(b))
	}
	problem("invalid_utf8", errors.New("repaired with U+FFFD"))
	return strings.ToValidUTF8(string(b), "\uFFFD")
}
