package ingest

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/corpusflow/corpusflow/flow"
)

func textSource(t testing.TB, path, split string) *TextSource {
	t.Helper()
	cfg := DefaultTextConfig()
	cfg.Path, cfg.Split = path, split
	src, err := NewTextSource(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	return src
}

func TestTextSplits(t *testing.T) {
	content := "first para\r\nline two\n\n\n  \nsecond para\n\nthird\n"
	path := writeFile(t, t.TempDir(), "doc.txt", []byte(content))
	type doc struct{ ID, Text string }
	tests := []struct {
		split string
		want  []doc
	}{
		{splitFile, []doc{{"doc.txt", content}}},
		{splitBlankLine, []doc{{"doc.txt:1", "first para\nline two"}, {"doc.txt:6", "second para"}, {"doc.txt:8", "third"}}},
		{splitLine, []doc{{"doc.txt:1", "first para"}, {"doc.txt:2", "line two"}, {"doc.txt:6", "second para"}, {"doc.txt:8", "third"}}},
	}
	for _, tt := range tests {
		recs, report := readAllParts(t, textSource(t, path, tt.split))
		var got []doc
		for _, r := range recs {
			got = append(got, doc{r.ID, r.Text})
		}
		if !reflect.DeepEqual(got, tt.want) || len(problems(report)) != 0 {
			t.Errorf("split %s: got %q, want %q; problems %v", tt.split, got, tt.want, problems(report))
		}
	}
}

// The Chinese Wikipedia excerpt has 3 articles in 331 lines; its
// paragraphs are separated by blank lines: 141 blocks and 161 non-blank
// lines, counted with
// awk 'BEGIN{RS=""} END{print NR}' and grep -c '[^[:space:]]'.
func TestTextRealFiles(t *testing.T) {
	zh := testdata("text", "zhwiki-AA-wiki_00-head.txt")
	blocks, _ := readAllParts(t, textSource(t, zh, splitBlankLine))
	lines, _ := readAllParts(t, textSource(t, zh, splitLine))
	if len(blocks) != 141 || len(lines) != 161 {
		t.Errorf("zhwiki: %d blocks (want 141), %d lines (want 161)", len(blocks), len(lines))
	}
	if !strings.HasPrefix(blocks[1].Text, "数学是利用符号语言研究數量") {
		t.Errorf("second block: %q", blocks[1].Text[:30])
	}
	// Several files at once, gzip and zstd as well, by glob.
	dir := t.TempDir()
	en := mustRead(t, testdata("text", "wikitext-2-test-head.txt"))
	writeFile(t, dir, "a/en.txt", en)
	writeFile(t, dir, "b/en.txt.gz", gzipBytes(t, en))
	writeFile(t, dir, "c/en.txt.zst", zstdBytes(t, en))
	recs, report := readAllParts(t, textSource(t, dir+"/**/*.txt*", splitFile))
	if len(recs) != 3 || len(problems(report)) != 0 {
		t.Fatalf("%d documents, problems %v", len(recs), problems(report))
	}
	for _, r := range recs {
		if r.Text != string(en) {
			t.Errorf("%s: text differs", r.ID)
		}
	}
	if recs[0].ID != "a/en.txt" || recs[2].ID != "c/en.txt.zst" {
		t.Errorf("ids %s %s", recs[0].ID, recs[2].ID)
	}
}

func TestTextProblems(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "empty.txt", nil)
	writeFile(t, dir, "latin1.txt", []byte("caf\xe9\n"))
	writeFile(t, dir, "big.txt", []byte(strings.Repeat("word ", 300_000))) // 1.5 MB, over a 1 MiB limit
	cfg := DefaultTextConfig()
	cfg.Path, cfg.MaxDocumentMB = dir, 1
	src, err := NewTextSource(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	recs, report := readAllParts(t, src)
	want := map[string]int64{"empty_file": 1, "invalid_utf8": 1, "document_too_long": 1}
	if got := problems(report); !reflect.DeepEqual(got, want) {
		t.Errorf("problems %v, want %v", got, want)
	}
	if len(recs) != 1 || recs[0].Text != "caf\uFFFD\n" {
		t.Errorf("records %v", recs)
	}
	// A block over the limit is skipped; the next block still comes.
	big := strings.Repeat("x", 2<<20)
	path := writeFile(t, t.TempDir(), "blocks.txt", []byte("a\n\n"+big+"\n\nb\n"))
	cfg.Path, cfg.Split = path, splitBlankLine
	src, _ = NewTextSource(cfg, nil)
	recs, report = readAllParts(t, src)
	if len(recs) != 2 || recs[0].Text != "a" || recs[1].Text != "b" || problems(report)["document_too_long"] != 1 {
		t.Errorf("blocks: %d records, problems %v", len(recs), problems(report))
	}
}

func TestTextConfigValidate(t *testing.T) {
	c := DefaultTextConfig()
	c.Split = "paragraph"
	var fe *flow.FieldError
	if err := c.Validate(); !errors.As(err, &fe) || fe.Field != "split" {
		t.Errorf("got %v", err)
	}
}
