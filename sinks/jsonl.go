package sinks

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/corpusflow/corpusflow/flow"
)

// JSONLConfig configures the JSONL sink.
type JSONLConfig struct {
	Path     string `yaml:"path" help:"output file; .jsonl, .jsonl.gz or .jsonl.zst" required:"true" path:"output"`
	Metadata bool   `yaml:"metadata" help:"write each record's metadata (language, scores, dup_of, ...) under \"metadata\""`
	Tokens   bool   `yaml:"tokens" help:"write token ids under \"input_ids\" when a tokenize stage ran"`
}

// Validate checks the file extension.
func (c *JSONLConfig) Validate() error {
	if !hasJSONLExt(c.Path) {
		return &flow.FieldError{Field: "path", Err: fmt.Errorf("%q must end in .jsonl, .jsonl.gz or .jsonl.zst", c.Path)}
	}
	return nil
}

func hasJSONLExt(p string) bool {
	for _, ext := range []string{".jsonl", ".jsonl.gz", ".jsonl.zst"} {
		if strings.HasSuffix(p, ext) {
			return true
		}
	}
	return false
}

func init() {
	flow.RegisterSink("jsonl", "kept records as JSON lines with C4's fields (text, url, timestamp) plus id", JSONLConfig{Metadata: true},
		func(c *JSONLConfig, env *flow.Env) (flow.Sink, error) { return NewJSONL(c.Path, c.Metadata, c.Tokens) })
}

// JSONL writes one JSON object per kept record.
type JSONL struct {
	w        *compressedWriter
	metadata bool
	tokens   bool
	line     []byte
}

// jsonlRecord fixes the field order of every line: C4's three fields first.
type jsonlRecord struct {
	Text      string         `json:"text"`
	URL       string         `json:"url,omitempty"`
	Timestamp string         `json:"timestamp,omitempty"`
	ID        string         `json:"id"`
	Metadata  map[string]any `json:"metadata,omitempty"`
	InputIDs  []int32        `json:"input_ids,omitempty"`
}

// NewJSONL creates a JSONL sink writing path atomically.
func NewJSONL(path string, metadata, tokens bool) (*JSONL, error) {
	w, err := createCompressed(path)
	if err != nil {
		return nil, err
	}
	return &JSONL{w: w, metadata: metadata, tokens: tokens}, nil
}

// Write appends r as one line.
func (s *JSONL) Write(r *flow.Record) error {
	rec := jsonlRecord{Text: r.Text, URL: r.URL, Timestamp: r.Timestamp, ID: r.ID}
	if s.metadata {
		rec.Metadata = r.Meta
	}
	if s.tokens {
		rec.InputIDs = r.Tokens
	}
	return s.writeLine(rec)
}

func (s *JSONL) writeLine(v any) error {
	b, err := marshalLine(s.line[:0], v)
	if err != nil {
		return err
	}
	s.line = b
	_, err = s.w.Write(b)
	return err
}

// Close completes the file.
func (s *JSONL) Close() error { return s.w.Close() }

// marshalLine encodes v as JSON plus a newline, without HTML escaping (text
// with "<" stays readable and byte-for-byte what the stage produced).
func marshalLine(dst []byte, v any) ([]byte, error) {
	buf := &appendBuffer{b: dst}
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return buf.b, nil
}

type appendBuffer struct{ b []byte }

func (a *appendBuffer) Write(p []byte) (int, error) {
	a.b = append(a.b, p...)
	return len(p), nil
}
