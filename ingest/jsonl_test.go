package ingest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/corpusflow/corpusflow/flow"
)

func jsonlSource(t testing.TB, path string, edit func(*JSONLConfig)) *JSONLSource {
	t.Helper()
	cfg := DefaultJSONLConfig()
	cfg.Path = path
	if edit != nil {
		edit(&cfg)
	}
	src, err := NewJSONLSource(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	return src
}

func writeFile(t testing.TB, dir, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// dolmaFields reads dolma's layout: url and crawl date in metadata.
func dolmaFields(c *JSONLConfig) {
	c.URLField = "metadata.url"
	c.TimestampField = "created"
	c.MetaFields = []string{"metadata.language", "source"}
}

func TestJSONLDolmaFiles(t *testing.T) {
	recs, report := readAllParts(t, jsonlSource(t, testdata("text", "dolma-cc_en_head-0091.jsonl"), dolmaFields))
	if len(recs) != 10 || len(problems(report)) != 0 {
		t.Fatalf("%d records (want 10, the file's line count), problems %v", len(recs), problems(report))
	}
	r := recs[0]
	if r.ID != "http://100kinvesting.com/2016/11/28/first-teleconference-calls-invoice-factoring/" ||
		r.URL != "http://100kinvesting.com/2016/11/28/first-teleconference-calls-invoice-factoring/" ||
		r.Timestamp != "2020-03-29T09:04:10Z" || r.Source != "dolma-cc_en_head-0091.jsonl" {
		t.Errorf("first record: id=%q url=%q ts=%q source=%q", r.ID, r.URL, r.Timestamp, r.Source)
	}
	if r.MetaString("metadata.language") != "en" || r.MetaString("source") != "common-crawl" {
		t.Errorf("meta %v", r.Meta)
	}
	// The text must be exactly what encoding/json reads from the line.
	line, _, _ := bytes.Cut(mustRead(t, testdata("text", "dolma-cc_en_head-0091.jsonl")), []byte("\n"))
	var doc struct{ Text string }
	if err := json.Unmarshal(line, &doc); err != nil {
		t.Fatal(err)
	}
	if r.Text != doc.Text || len(r.Text) == 0 {
		t.Errorf("text differs from encoding/json's reading")
	}
}

func mustRead(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The same lines, plain, gzip and zstd, under names that lie about the
// format: the content decides.
func TestJSONLCompressionByMagic(t *testing.T) {
	plain := mustRead(t, testdata("text", "dolma-cc_en_head-0174.jsonl"))
	dir := t.TempDir()
	writeFile(t, dir, "a.jsonl", plain)
	writeFile(t, dir, "b.jsonl.gz", gzipBytes(t, plain))
	writeFile(t, dir, "c.jsonl.zst", zstdBytes(t, plain))
	writeFile(t, dir, "d.jsonl", gzipBytes(t, plain))     // gzip without the extension
	writeFile(t, dir, "e.jsonl.gz", zstdBytes(t, plain))  // zstd named .gz
	writeFile(t, dir, "f.jsonl.zst", plain)               // plain named .zst
	writeFile(t, dir, "notes.txt", []byte("not jsonl\n")) // not picked from a directory
	recs, report := readAllParts(t, jsonlSource(t, dir, dolmaFields))
	if len(recs) != 60 || len(problems(report)) != 0 {
		t.Fatalf("%d records (want 6 files × 10), problems %v", len(recs), problems(report))
	}
	for i := 10; i < 60; i++ {
		if recs[i].Text != recs[i%10].Text || recs[i].ID != recs[i%10].ID {
			t.Fatalf("record %d (%s) differs from the plain file's", i, recs[i].Source)
		}
	}
	if recs[10].Source != "b.jsonl.gz" || recs[59].Source != "f.jsonl.zst" {
		t.Errorf("sources %s, %s", recs[10].Source, recs[59].Source)
	}
}

func TestJSONLBadLines(t *testing.T) {
	long := `{"text":"` + strings.Repeat("x", 9<<20) + `"}`
	lines := []string{
		`{"text":"first","id":"a"}`,
		`not json at all`,
		`{"text":"unterminated`,
		`["an","array"]`,
		`{"id":"no text"}`,
		`{"text":42}`,
		``,
		`   `,
		long,
		"{\"text\":\"bad \xff\xfe bytes\"}",
		`{"text":"after the long line","id":7,"url":"http://x.test/","timestamp":1700000000}`,
		`{"text":"numeric ms","timestamp":1700000000123}`,
		`{"text":"no id"}`,
		`{"text":"crlf line"}` + "\r",
	}
	path := writeFile(t, t.TempDir(), "bad.jsonl", []byte(strings.Join(lines, "\n")))
	recs, report := readAllParts(t, jsonlSource(t, path, nil))
	wantProblems := map[string]int64{"bad_json": 3, "missing_text": 2, "line_too_long": 1, "invalid_utf8": 1}
	if got := problems(report); !reflect.DeepEqual(got, wantProblems) {
		t.Errorf("problems %v, want %v", got, wantProblems)
	}
	type rec struct{ ID, Text, URL, Timestamp string }
	var got []rec
	for _, r := range recs {
		got = append(got, rec{r.ID, r.Text, r.URL, r.Timestamp})
	}
	want := []rec{
		{"a", "first", "", ""},
		{"bad.jsonl:10", "bad \uFFFD bytes", "", ""}, // a run of bad bytes becomes one U+FFFD
		{"7", "after the long line", "http://x.test/", "2023-11-14T22:13:20Z"},
		{"bad.jsonl:12", "numeric ms", "", "2023-11-14T22:13:20.123Z"},
		{"bad.jsonl:13", "no id", "", ""},
		{"bad.jsonl:14", "crlf line", "", ""},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("records:\n%v\nwant\n%v", got, want)
	}
}

func TestJSONLMetaFields(t *testing.T) {
	line := `{"text":"t","id":"i","score":0.25,"big":12345678901234567890,"tags":["a",1,true,null],"nested":{"k":"v","n":{"deep":1}},"dotted.key":"lit"}`
	path := writeFile(t, t.TempDir(), "m.jsonl", []byte(line+"\n"))
	tests := []struct {
		fields []string
		want   map[string]any
	}{
		{nil, nil},
		{[]string{"score", "nested.n.deep", "missing", "dotted.key"}, map[string]any{
			"score": json.Number("0.25"), "nested.n.deep": json.Number("1"), "dotted.key": "lit"}},
		{[]string{"*"}, map[string]any{
			"score": json.Number("0.25"), "big": json.Number("12345678901234567890"),
			"tags":       []any{"a", json.Number("1"), true, nil},
			"nested":     map[string]any{"k": "v", "n": map[string]any{"deep": json.Number("1")}},
			"dotted.key": "lit"}},
	}
	for _, tt := range tests {
		recs, _ := readAllParts(t, jsonlSource(t, path, func(c *JSONLConfig) { c.MetaFields = tt.fields }))
		if !reflect.DeepEqual(recs[0].Meta, tt.want) {
			t.Errorf("meta_fields %v: got %#v, want %#v", tt.fields, recs[0].Meta, tt.want)
		}
		// Whatever is kept must encode back to JSON (the sinks do this).
		if _, err := json.Marshal(recs[0].Meta); err != nil {
			t.Errorf("meta_fields %v: %v", tt.fields, err)
		}
	}
}

func TestJSONLDamagedGzip(t *testing.T) {
	var chunks [][]byte
	for m := 0; m < 5; m++ {
		var b bytes.Buffer
		for i := 0; i < 20; i++ {
			fmt.Fprintf(&b, `{"text":"member %d line %d"}`+"\n", m, i)
		}
		chunks = append(chunks, b.Bytes())
	}
	file, starts := gzipMembersOf(t, chunks)
	damaged := append([]byte(nil), file...)
	damaged[starts[2]+30] ^= 0x55 // inside member 2's compressed data
	path := writeFile(t, t.TempDir(), "d.jsonl.gz", damaged)
	recs, report := readAllParts(t, jsonlSource(t, path, nil))
	perMember := map[int]int{}
	for _, r := range recs {
		var m, i int
		fmt.Sscanf(r.Text, "member %d line %d", &m, &i)
		perMember[m]++
	}
	for _, m := range []int{0, 1, 3, 4} {
		if perMember[m] != 20 {
			t.Errorf("member %d: %d lines, want all 20", m, perMember[m])
		}
	}
	if p := problems(report); p["corrupt_gzip"] != 1 {
		t.Errorf("problems %v", p)
	}
	// Truncated: the lines before the cut come through.
	path = writeFile(t, t.TempDir(), "t.jsonl.gz", file[:starts[3]+15])
	recs, report = readAllParts(t, jsonlSource(t, path, nil))
	if len(recs) < 60 || problems(report)["truncated_gzip"] != 1 {
		t.Errorf("truncated: %d records, problems %v", len(recs), problems(report))
	}
	// Truncated zstd: counted, not fatal.
	path = writeFile(t, t.TempDir(), "t.jsonl.zst", halve(zstdBytes(t, bytes.Join(chunks, nil))))
	_, report = readAllParts(t, jsonlSource(t, path, nil))
	if p := problems(report); p["truncated_zstd"]+p["corrupt_zstd"] != 1 {
		t.Errorf("truncated zstd: problems %v", p)
	}
}

func TestJSONLEmptyFile(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "a.jsonl", nil)
	writeFile(t, dir, "b.jsonl", []byte(`{"text":"x"}`))
	recs, report := readAllParts(t, jsonlSource(t, dir, nil))
	if len(recs) != 1 || problems(report)["empty_file"] != 1 {
		t.Errorf("%d records, problems %v", len(recs), problems(report))
	}
}

func TestJSONLConfigValidate(t *testing.T) {
	tests := []struct {
		edit  func(*JSONLConfig)
		field string
	}{
		{func(*JSONLConfig) {}, ""},
		{func(c *JSONLConfig) { c.TextField = "" }, "text_field"},
		{func(c *JSONLConfig) { c.MetaFields = []string{"a", ""} }, "meta_fields.1"},
		{func(c *JSONLConfig) { c.MaxLineMB = 0 }, "max_line_mb"},
	}
	for i, tt := range tests {
		c := DefaultJSONLConfig()
		tt.edit(&c)
		err := c.Validate()
		var fe *flow.FieldError
		if (tt.field == "") != (err == nil) || (err != nil && (!errors.As(err, &fe) || fe.Field != tt.field)) {
			t.Errorf("case %d: got %v, want error on %q", i, err, tt.field)
		}
	}
}

func halve(b []byte) []byte { return b[:len(b)/2] }
