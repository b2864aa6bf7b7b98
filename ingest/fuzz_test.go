package ingest

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"unicode/utf8"

	"github.com/corpusflow/corpusflow/flow"
)

// checkFuzzRecord holds what every record from any input must satisfy.
func checkFuzzRecord(t *testing.T, r *flow.Record) {
	if r.ID == "" {
		t.Fatalf("record without an id")
	}
	if !utf8.ValidString(r.Text) || !utf8.ValidString(r.ID) || !utf8.ValidString(r.URL) || !utf8.ValidString(r.Timestamp) {
		t.Fatalf("record %q: invalid UTF-8", r.ID)
	}
	if _, err := json.Marshal(r.Meta); err != nil {
		t.Fatalf("record %q: metadata does not encode: %v", r.ID, err)
	}
}

// FuzzWARC feeds arbitrary bytes (plain, or gzip/zstd as the bytes say) to
// the WARC reader with every record type on. Nothing may panic, hang or
// produce a record that breaks the promises flow.Record makes. HTML is kept
// as is (extractor none): the extractor is third-party code behind a
// recover, and our own parsing (HTTP, chunked and content encodings,
// charsets) still runs on every response.
func FuzzWARC(f *testing.F) {
	files, _ := filepath.Glob(testdata("warc", "*"))
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil || len(b) > 64<<10 {
			continue
		}
		f.Add(b)
	}
	// A plain record, and the same with damage typical of the real files.
	rec := []byte("WARC/1.0\r\nWARC-Type: response\r\nWARC-Record-ID: <urn:x>\r\nWARC-Date: 2024-01-01T00:00:00Z\r\n" +
		"WARC-Target-URI: http://a.test/\r\nContent-Type: application/http; msgtype=response\r\nContent-Length: 114\r\n\r\n" +
		"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=latin1\r\nTransfer-Encoding: chunked\r\n\r\n" +
		"a\r\n<p>caf\xe9 </p\r\n3\r\n>ok\r\n0\r\n\r\n" + "\r\n\r\n")
	f.Add(rec)
	f.Add(bytes.Replace(rec, []byte("114"), []byte("11"), 1))
	f.Add(append(append([]byte(nil), rec...), rec[:60]...))
	f.Add(gzipBytes(f, rec))

	cfg := DefaultWARCConfig()
	cfg.RecordTypes = []string{recordConversion, recordResponse, recordResource}
	cfg.Extractor = extractNone
	cfg.MaxRecordMB = 1
	src, err := NewWARCSource(cfg, nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		in, err := openReader(bytes.NewReader(data), func(string, error) {})
		if err != nil {
			t.Fatal(err)
		}
		part := &warcPart{src: src, file: inputFile{Path: "fuzz.warc", Rel: "fuzz.warc"}}
		report := flow.NewSourceReport("fuzz", nil)
		err = part.read(context.Background(), in, func(r *flow.Record) error { checkFuzzRecord(t, r); return nil }, report)
		if err != nil {
			t.Fatalf("reading bytes cannot fail, got %v", err)
		}
	})
}

// FuzzJSONL feeds arbitrary bytes to the JSONL reader, with nested field
// paths and every other field copied into metadata.
func FuzzJSONL(f *testing.F) {
	for _, name := range []string{"dolma-cc_en_head-0091.jsonl", "dolma-cc_en_head-0174.jsonl"} {
		b, err := os.ReadFile(testdata("text", name))
		if err != nil {
			f.Fatal(err)
		}
		line, _, _ := bytes.Cut(b, []byte("\n"))
		f.Add(line)
		f.Add(gzipBytes(f, line))
	}
	f.Add([]byte(`{"text":"a","id":1e400,"timestamp":-1e20,"m":{"x":[1,{"y":null}]}}` + "\n" + `{"text":"\ud800\u0000"}`))
	f.Add([]byte("{\"text\":\"\xff\"}\n\n[1]\n{\"text\":1}\nnot json\n"))
	f.Add(zstdBytes(f, []byte(`{"text":"z"}`)))

	cfg := DefaultJSONLConfig()
	cfg.URLField = "metadata.url"
	cfg.MetaFields = []string{"*", "metadata.language", "m.x"}
	cfg.MaxLineMB = 1
	f.Fuzz(func(t *testing.T, data []byte) {
		in, err := openReader(bytes.NewReader(data), func(string, error) {})
		if err != nil {
			t.Fatal(err)
		}
		part := &jsonlPart{cfg: &cfg, file: inputFile{Path: "fuzz.jsonl", Rel: "fuzz.jsonl"}}
		report := flow.NewSourceReport("fuzz", nil)
		err = part.read(context.Background(), in, func(r *flow.Record) error { checkFuzzRecord(t, r); return nil }, report)
		if err != nil {
			t.Fatalf("reading bytes cannot fail, got %v", err)
		}
	})
}
