package filter

import (
	"bufio"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"os"
	"strings"
	"testing"
)

// TestC4MatchesTFDSReference runs the c4 stage over 97 real pages (Common
// Crawl WET and CCNet pages, WikiText-2 articles, Chinese Wikipedia
// articles) and compares each result with TFDS's clean_page run in Python
// (scripts/tfds_clean_page.py, NLTK Punkt with the English model): the same
// pages must be dropped for the same reason, and kept pages must be
// byte-identical (compared by SHA-256).
func TestC4MatchesTFDSReference(t *testing.T) {
	c4, err := NewC4(DefaultC4Config(), nil)
	if err != nil {
		t.Fatal(err)
	}
	pages := c4ReferencePages(t)
	f, err := os.Open("testdata/c4_tfds_reference.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	i, kept := 0, 0
	for ; sc.Scan(); i++ {
		var ref struct {
			ID          string
			InputSHA256 string `json:"input_sha256"`
			SHA256      string
			Reason      string
			Lines       int
		}
		if err := json.Unmarshal(sc.Bytes(), &ref); err != nil {
			t.Fatal(err)
		}
		if i >= len(pages) {
			t.Fatalf("reference has more pages than the %d built here", len(pages))
		}
		p := pages[i]
		if sha(p.text) != ref.InputSHA256 {
			t.Fatalf("page %d (%s) is not the page the reference was made from", i, p.id)
		}
		got, reason := c4.Clean(p.text, false)
		switch {
		case reason != ref.Reason:
			t.Errorf("%s: reason %q, TFDS %q", p.id, reason, ref.Reason)
		case reason == "" && sha(got) != ref.SHA256:
			t.Errorf("%s: kept text differs from TFDS's (%d lines here, %d there)", p.id, strings.Count(got, "\n")+1, ref.Lines)
		case reason == "":
			kept++
		}
	}
	if i != len(pages) || i < 90 {
		t.Fatalf("compared %d pages of %d", i, len(pages))
	}
	t.Logf("%d pages, %d kept, all identical to TFDS", i, kept)
}

func sha(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// c4ReferencePages builds the pages as scripts/c4_reference_pages.py does.
func c4ReferencePages(t testing.TB) []goldenPage {
	pages := readWETPages(t, "../testdata/warc/whirlwind.warc.wet.gz")
	for _, f := range []string{"dolma-cc_en_head-0091.jsonl", "dolma-cc_en_head-0174.jsonl"} {
		pages = append(pages, readJSONLPages(t, "../testdata/text/"+f, "metadata.url")...)
	}
	gz, err := os.Open("../testdata/corpus/wikitext-2-test.txt.gz")
	if err != nil {
		t.Fatal(err)
	}
	defer gz.Close()
	zr, err := gzip.NewReader(gz)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	var cur *goldenPage
	for _, line := range strings.Split(string(raw), "\n") {
		if len(line) >= 7 && strings.HasPrefix(line, " = ") && line[3] != '=' && strings.HasSuffix(line, " = ") {
			if cur != nil {
				pages = append(pages, *cur)
			}
			cur = &goldenPage{id: "wikitext:" + line[3:len(line)-3]}
		} else if cur != nil {
			cur.text += line + "\n"
		}
	}
	if cur != nil {
		pages = append(pages, *cur)
	}
	return append(pages, chineseGoldenPages(t)...)
}
