package ingest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/valyala/fastjson"

	"github.com/corpusflow/corpusflow/flow"
)

// jsonlExtensions are the files a directory input contributes.
var jsonlExtensions = []string{".jsonl", ".jsonl.gz", ".jsonl.zst", ".json", ".json.gz", ".json.zst", ".ndjson", ".ndjson.gz", ".ndjson.zst"}

// defaultMaxLineMB is the longest JSON line read; longer ones are counted
// as line_too_long and skipped, the rest of the file still read.
const defaultMaxLineMB = 8

// allOtherFields, as a meta_fields entry, keeps every top-level field not
// read into text, id, url or timestamp.
const allOtherFields = "*"

// JSONLConfig configures the jsonl source.
type JSONLConfig struct {
	Path           string   `yaml:"path" required:"true" path:"input" help:"JSON-lines file, directory (files ending .jsonl, .jsonl.gz, .jsonl.zst, .json, .ndjson, ...) or glob (** for any depth); plain, gzip or zstd, recognised by content"`
	TextField      string   `yaml:"text_field" help:"field holding the document text; a dotted path reaches into nested objects (\"doc.body\")"`
	IDField        string   `yaml:"id_field" help:"field holding the document id; when absent the id is file:line"`
	URLField       string   `yaml:"url_field" help:"field holding the document URL (dolma: metadata.url)"`
	TimestampField string   `yaml:"timestamp_field" help:"field holding the crawl or creation time; strings are kept as written, numbers read as Unix seconds"`
	MetaFields     []string `yaml:"meta_fields" help:"fields (dotted paths) copied into the record's metadata under the same name; \"*\" copies every other top-level field"`
	MaxLineMB      int      `yaml:"max_line_mb" help:"longer lines are skipped and counted as line_too_long"`
}

// DefaultJSONLConfig is the jsonl source's configuration before YAML
// applies: C4's field names.
func DefaultJSONLConfig() JSONLConfig {
	return JSONLConfig{TextField: "text", IDField: "id", URLField: "url", TimestampField: "timestamp", MaxLineMB: defaultMaxLineMB}
}

// Validate checks the field names and limits.
func (c *JSONLConfig) Validate() error {
	if c.TextField == "" {
		return &flow.FieldError{Field: "text_field", Err: errors.New("must name a field")}
	}
	for i, f := range c.MetaFields {
		if f == "" {
			return &flow.FieldError{Field: fmt.Sprintf("meta_fields.%d", i), Err: errors.New("empty field name")}
		}
	}
	if c.MaxLineMB <= 0 {
		return &flow.FieldError{Field: "max_line_mb", Err: errors.New("must be at least 1")}
	}
	return nil
}

func init() {
	flow.RegisterSource("jsonl", "JSON lines (plain, .gz, .zst): one document per line, with configurable text/id/url/timestamp fields", DefaultJSONLConfig(),
		func(c *JSONLConfig, env *flow.Env) (flow.Source, error) { return NewJSONLSource(*c, env) })
}

// JSONLSource reads JSON-lines files.
type JSONLSource struct {
	cfg  JSONLConfig
	path string
}

// NewJSONLSource builds the jsonl source; relative paths resolve against
// env.BaseDir.
func NewJSONLSource(cfg JSONLConfig, env *flow.Env) (*JSONLSource, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	base := ""
	if env != nil {
		base = env.BaseDir
	}
	return &JSONLSource{cfg: cfg, path: resolveInput(cfg.Path, base)}, nil
}

// Parts lists one part per file.
func (s *JSONLSource) Parts() ([]flow.Part, error) {
	files, err := expandInput(s.path, jsonlExtensions)
	if err != nil {
		return nil, err
	}
	parts := make([]flow.Part, len(files))
	for i, f := range files {
		parts[i] = &jsonlPart{cfg: &s.cfg, file: f}
	}
	return parts, nil
}

type jsonlPart struct {
	cfg  *JSONLConfig
	file inputFile
}

func (p *jsonlPart) Name() string { return p.file.Path }
func (p *jsonlPart) Size() int64  { return p.file.Size }

// Read emits one record per JSON line. Line numbers count the lines read;
// after a damaged gzip member they count from where reading resumed.
func (p *jsonlPart) Read(ctx context.Context, emit func(*flow.Record) error, report *flow.SourceReport) error {
	in, err := openInput(p.file.Path, func(kind string, err error) { report.Problem(kind, p.file.Path, err) })
	if err != nil {
		return err
	}
	defer in.Close()
	return p.read(ctx, in, emit, report)
}

func (p *jsonlPart) read(ctx context.Context, in *openedInput, emit func(*flow.Record) error, report *flow.SourceReport) error {
	s := newStream(in.R, report.AddBytes)
	lr := jsonlLines{cfg: p.cfg, rel: p.file.Rel, path: p.file.Path, report: report}
	maxLine := p.cfg.MaxLineMB << 20
	for lineNo := 1; ; lineNo++ {
		if lineNo%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		line, tooLong, err := s.readLine(maxLine)
		if err != nil {
			if _, isGap := asGap(err); isGap {
				lineNo-- // the cut line is counted by the gap; numbering resumes after it
				continue
			}
			if errors.Is(err, io.EOF) {
				break
			}
			return err
		}
		if tooLong {
			report.Problem("line_too_long", p.where(lineNo), fmt.Errorf("line over %d MiB skipped", p.cfg.MaxLineMB))
			continue
		}
		r := lr.record(line, lineNo)
		if r == nil {
			continue
		}
		if err := emit(r); err != nil {
			return err
		}
	}
	if s.total == 0 {
		report.Problem("empty_file", p.file.Path, errors.New("no lines"))
	}
	return nil
}

func (p *jsonlPart) where(line int) string { return fmt.Sprintf("%s line %d", p.file.Path, line) }

// jsonlLines turns lines into records; it holds the parser it reuses.
type jsonlLines struct {
	cfg    *JSONLConfig
	rel    string
	path   string
	report *flow.SourceReport
	parser fastjson.Parser
}

func (l *jsonlLines) record(line []byte, lineNo int) *flow.Record {
	line = trimEOL(line)
	if isBlankJSON(line) {
		return nil // blank lines (a trailing newline) are not documents
	}
	where := fmt.Sprintf("%s line %d", l.path, lineNo)
	v, err := l.parser.ParseBytes(line)
	if err != nil {
		l.report.Problem("bad_json", where, err)
		return nil
	}
	if v.Type() != fastjson.TypeObject {
		l.report.Problem("bad_json", where, fmt.Errorf("a line must hold a JSON object, not %s", v.Type()))
		return nil
	}
	tv := lookupField(v, l.cfg.TextField)
	if tv == nil || tv.Type() != fastjson.TypeString {
		kind := "missing"
		if tv != nil {
			kind = tv.Type().String()
		}
		l.report.Problem("missing_text", where, fmt.Errorf("text field %q is %s, not a string", l.cfg.TextField, kind))
		return nil
	}
	raw, _ := tv.StringBytes()
	r := &flow.Record{Source: l.rel}
	if utf8.Valid(raw) {
		r.Text = string(raw)
	} else {
		l.report.Problem("invalid_utf8", where, errors.New("repaired with U+FFFD"))
		r.Text = strings.ToValidUTF8(string(raw), "\uFFFD")
	}
	if l.cfg.IDField != "" {
		r.ID = scalarString(lookupField(v, l.cfg.IDField))
	}
	if r.ID == "" {
		r.ID = l.rel + ":" + strconv.Itoa(lineNo)
	}
	if l.cfg.URLField != "" {
		r.URL = scalarString(lookupField(v, l.cfg.URLField))
	}
	if l.cfg.TimestampField != "" {
		r.Timestamp = timestampString(lookupField(v, l.cfg.TimestampField))
	}
	l.copyMeta(v, r)
	return r
}

func (l *jsonlLines) copyMeta(v *fastjson.Value, r *flow.Record) {
	for _, f := range l.cfg.MetaFields {
		if f != allOtherFields {
			if fv := lookupField(v, f); fv != nil {
				r.SetMeta(f, jsonValue(fv))
			}
			continue
		}
		consumed := map[string]bool{l.cfg.TextField: true, l.cfg.IDField: true, l.cfg.URLField: true, l.cfg.TimestampField: true}
		obj, _ := v.Object()
		obj.Visit(func(key []byte, fv *fastjson.Value) {
			k := string(key)
			if consumed[k] {
				return
			}
			if _, set := r.Meta[k]; !set {
				r.SetMeta(k, jsonValue(fv))
			}
		})
	}
}

// lookupField finds a field by name, or by a dotted path into nested
// objects when no field has the literal name ("metadata.url").
func lookupField(v *fastjson.Value, name string) *fastjson.Value {
	if fv := v.Get(name); fv != nil || !strings.Contains(name, ".") {
		return fv
	}
	return v.Get(strings.Split(name, ".")...)
}

// scalarString renders a string or number field as text ("" otherwise).
func scalarString(v *fastjson.Value) string {
	if v == nil {
		return ""
	}
	switch v.Type() {
	case fastjson.TypeString:
		b, _ := v.StringBytes()
		return strings.ToValidUTF8(string(b), "\uFFFD")
	case fastjson.TypeNumber:
		return strings.ToValidUTF8(v.String(), "\uFFFD")
	}
	return ""
}

// timestampString keeps a string timestamp as written and renders a number
// as Unix seconds (milliseconds when it is too large to be seconds) in
// RFC 3339, UTC.
func timestampString(v *fastjson.Value) string {
	if v == nil {
		return ""
	}
	if v.Type() != fastjson.TypeNumber {
		return scalarString(v)
	}
	if n, err := v.Int64(); err == nil {
		if n > 1e11 || n < -1e11 { // year 5138 in seconds: must be milliseconds
			return time.UnixMilli(n).UTC().Format(time.RFC3339Nano)
		}
		return time.Unix(n, 0).UTC().Format(time.RFC3339Nano)
	}
	f, err := v.Float64()
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || math.Abs(f) > 1e15 {
		return v.String()
	}
	if math.Abs(f) > 1e11 {
		f /= 1000
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(math.Round(frac*1e6))*1e3).UTC().Format(time.RFC3339Nano)
}

// jsonValue converts a JSON value into what encoding/json would decode it
// to, except that numbers stay json.Number so they are written back exactly
// as read.
func jsonValue(v *fastjson.Value) any {
	switch v.Type() {
	case fastjson.TypeObject:
		obj, _ := v.Object()
		m := make(map[string]any, obj.Len())
		obj.Visit(func(key []byte, fv *fastjson.Value) {
			k := strings.ToValidUTF8(string(key), "\uFFFD")
			if _, dup := m[k]; !dup {
				m[k] = jsonValue(fv)
			}
		})
		return m
	case fastjson.TypeArray:
		arr, _ := v.Array()
		out := make([]any, len(arr))
		for i, e := range arr {
			out[i] = jsonValue(e)
		}
		return out
	case fastjson.TypeString:
		b, _ := v.StringBytes()
		return strings.ToValidUTF8(string(b), "\uFFFD")
	case fastjson.TypeNumber:
		// The parser is lenient about numbers (it takes "1e", "Inf");
		// only a valid JSON number may become a json.Number, or writing the
		// record back out would fail.
		if s := v.String(); json.Valid([]byte(s)) {
			return json.Number(s)
		}
		return v.String()
	case fastjson.TypeTrue:
		return true
	case fastjson.TypeFalse:
		return false
	}
	return nil
}

func isBlankJSON(line []byte) bool {
	for _, c := range line {
		if c != ' ' && c != '\t' && c != '\r' && c != '\n' {
			return false
		}
	}
	return true
}
