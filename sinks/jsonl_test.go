package sinks

import (
	"bufio"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"

	"github.com/corpusflow/corpusflow/flow"
)

func readLines(t *testing.T, path string) []map[string]any {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var r io.Reader = f
	switch {
	case strings.HasSuffix(path, ".gz"):
		gz, err := gzip.NewReader(f)
		if err != nil {
			t.Fatal(err)
		}
		r = gz
	case strings.HasSuffix(path, ".zst"):
		zr, err := zstd.NewReader(f)
		if err != nil {
			t.Fatal(err)
		}
		defer zr.Close()
		r = zr
	}
	var out []map[string]any
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		out = append(out, m)
	}
	return out
}

func TestJSONLRoundTripAndAtomicity(t *testing.T) {
	for _, ext := range []string{".jsonl", ".jsonl.gz", ".jsonl.zst"} {
		t.Run(ext, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "sub", "kept"+ext)
			s, err := NewJSONL(path, true, true)
			if err != nil {
				t.Fatal(err)
			}
			recs := []*flow.Record{
				{ID: "a", Text: "<b>x</b> & \"quotes\"\nnext line", URL: "http://e.x/a", Timestamp: "2024-05-01T00:00:00Z", Meta: map[string]any{"lang": "en", "score": 0.5}},
				{ID: "b", Text: "中文文本。", Tokens: []int32{101, 102}},
			}
			for _, r := range recs {
				if err := s.Write(r); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := os.Stat(path); !os.IsNotExist(err) {
				t.Fatalf("final file exists before Close: %v", err)
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			entries, _ := os.ReadDir(filepath.Dir(path))
			if len(entries) != 1 {
				t.Fatalf("temporary files left behind: %v", entries)
			}
			got := readLines(t, path)
			if len(got) != 2 || got[0]["text"] != recs[0].Text || got[0]["url"] != recs[0].URL ||
				got[0]["metadata"].(map[string]any)["lang"] != "en" || got[1]["text"] != "中文文本。" ||
				len(got[1]["input_ids"].([]any)) != 2 {
				t.Fatalf("round trip: %v", got)
			}
		})
	}
}

func TestJSONLDoesNotEscapeHTML(t *testing.T) {
	path := filepath.Join(t.TempDir(), "k.jsonl")
	s, _ := NewJSONL(path, false, false)
	s.Write(&flow.Record{ID: "a", Text: "<a>&"})
	s.Close()
	data, _ := os.ReadFile(path)
	if !strings.Contains(string(data), `"<a>&"`) {
		t.Fatalf("text escaped: %s", data)
	}
}

func TestRejectsFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rejects.jsonl.gz")
	s, err := NewRejects(path, true)
	if err != nil {
		t.Fatal(err)
	}
	s.WriteRejection(flow.Rejection{Record: &flow.Record{ID: "r1", Text: "lorem ipsum", Source: "f.wet.gz"}, Stage: "c4", Reason: "lorem_ipsum"})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	got := readLines(t, path)
	if len(got) != 1 || got[0]["stage"] != "c4" || got[0]["reason"] != "lorem_ipsum" || got[0]["text"] != "lorem ipsum" || got[0]["id"] != "r1" {
		t.Fatalf("%v", got)
	}
}

func TestJSONLConfigRejectsBadExtension(t *testing.T) {
	c := &JSONLConfig{Path: "out.json"}
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "path") {
		t.Fatalf("want a path error, got %v", err)
	}
}
