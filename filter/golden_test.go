package filter

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/corpusflow/corpusflow/flow"
	"github.com/corpusflow/corpusflow/ingest"
)

// The golden files hold what the filters decide on real pages: every
// Common Crawl record in the bundled samples that carries text (the WET
// file, the CCNet-processed CC pages from Dolma, and the HTML pages of the
// CC-MAIN-2020-34 WARC sample, English, Chinese and others, extracted to
// text by the ingest package's warc source exactly as the pipelines read
// them) through the c4-en chain; Chinese Wikipedia articles and the same
// WARC pages through the c4-zh chain; plus the Gopher and FineWeb decisions
// on every page. `go test ./filter -run Golden -update` rewrites them;
// review the diff before committing.

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

type goldenPage struct {
	id, url, text string
}

func readJSONLPages(t testing.TB, path, urlField string) []goldenPage {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var pages []goldenPage
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<26)
	for sc.Scan() {
		var row map[string]any
		if err := json.Unmarshal(sc.Bytes(), &row); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		p := goldenPage{id: fmt.Sprint(row["id"]), text: fmt.Sprint(row["text"])}
		if urlField == "url" {
			p.url, _ = row["url"].(string)
		} else if meta, ok := row["metadata"].(map[string]any); ok {
			p.url, _ = meta["url"].(string)
		}
		pages = append(pages, p)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return pages
}

// readWETPages takes the conversion records of a WET file: the minimum of
// WARC parsing a test needs (the ingest package does it properly).
func readWETPages(t testing.TB, path string) []goldenPage {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	data, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	var pages []goldenPage
	for len(data) > 0 {
		head, rest, ok := bytes.Cut(data, []byte("\r\n\r\n"))
		if !ok {
			break
		}
		fields := map[string]string{}
		for _, line := range strings.Split(string(head), "\r\n") {
			if k, v, ok := strings.Cut(line, ":"); ok {
				fields[k] = strings.TrimSpace(v)
			}
		}
		n, err := strconv.Atoi(fields["Content-Length"])
		if err != nil || n > len(rest) {
			t.Fatalf("%s: bad record header %q", path, head)
		}
		if fields["WARC-Type"] == "conversion" {
			pages = append(pages, goldenPage{id: fields["WARC-Record-ID"], url: fields["WARC-Target-URI"], text: string(rest[:n])})
		}
		data = bytes.TrimLeft(rest[n:], "\r\n")
	}
	return pages
}

// ccWARCPages are the text pages of the CC-MAIN-2020-34 WARC sample that
// both c4 pipelines read, as the warc source with its defaults gives them
// (HTML responses through trafilatura; records without text are skipped).
func ccWARCPages(t testing.TB) []goldenPage {
	t.Helper()
	cfg := ingest.DefaultWARCConfig()
	cfg.Path = "../testdata/warc/resiliparse-cc-2020-34-warcfile.warc.gz"
	src, err := ingest.NewWARCSource(cfg, &flow.Env{Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	parts, err := src.Parts()
	if err != nil {
		t.Fatal(err)
	}
	report := flow.NewSourceReport("cc_warc_html", nil)
	var pages []goldenPage
	for _, p := range parts {
		err := p.Read(context.Background(), func(r *flow.Record) error {
			pages = append(pages, goldenPage{id: r.ID, url: r.URL, text: r.Text})
			return nil
		}, report)
		if err != nil {
			t.Fatalf("%s: %v", p.Name(), err)
		}
	}
	return pages
}

// goldenChain is a c4 → lang → badwords chain as the pipelines build it.
type goldenChain struct {
	c4       *C4
	c4Lines  *flow.Counters // c4's line counters, read after each page
	lang     *Lang
	badwords *BadWords
}

func newGoldenChain(t *testing.T, language, list string) goldenChain {
	t.Helper()
	c4cfg := DefaultC4Config()
	c4cfg.Language = language
	lines := &flow.Counters{}
	c4, err := NewC4(c4cfg, lines)
	if err != nil {
		t.Fatal(err)
	}
	langCfg := DefaultLangConfig()
	langCfg.Languages = []string{language}
	lang, err := NewLang(langCfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	bw, err := NewBadWords(BadWordsConfig{List: list, Language: language}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return goldenChain{c4, lines, lang, bw}
}

// run applies the chain to one page and describes the outcome.
func (g goldenChain) run(p goldenPage) string {
	var b strings.Builder
	fmt.Fprintf(&b, "### %s %s\n", p.id, p.url)
	r := &flow.Record{ID: p.id, URL: p.url, Text: p.text}
	verdict := func(stage, reason string) string {
		b.WriteString("result: rejected by " + stage + ": " + reason)
		if w, ok := r.Meta["badword"]; ok {
			fmt.Fprintf(&b, " (%q)", w)
		}
		b.WriteString("\n")
		return b.String()
	}
	before := g.c4Lines.Snapshot()
	reason := g.c4.Process(r)
	b.WriteString(c4LineSummary(before, g.c4Lines.Snapshot()))
	if reason != "" {
		return verdict("c4", reason)
	}
	reason = g.lang.Process(r)
	if code, ok := r.Meta[LangMetaKey]; ok {
		fmt.Fprintf(&b, "lang: %v %v\n", code, r.Meta[LangScoreMetaKey])
	}
	if reason != "" {
		return verdict("lang", reason)
	}
	if reason := g.badwords.Process(r); reason != "" {
		return verdict("badwords", reason)
	}
	b.WriteString("result: kept\n")
	b.WriteString(r.Text)
	b.WriteString("\n")
	return b.String()
}

// c4LineSummary says what c4 did with a page's lines (the counters it
// added between two snapshots), so a reader sees why a page went or how much
// of it stayed; "1 line" on an HTML page means its extracted text has no
// line breaks at all.
func c4LineSummary(before, after map[string]int64) string {
	var parts []string
	total := int64(0)
	for _, k := range []string{c4LinesKept, c4LinesNoEndMark, c4LinesTooFewWords, c4LinesTooLongWord, c4LinesJavascript, c4LinesPolicy} {
		if n := after[k] - before[k]; n > 0 {
			total += n
			parts = append(parts, fmt.Sprintf("%s %d", strings.TrimPrefix(k, "lines_"), n))
		}
	}
	unit := "lines"
	if total == 1 {
		unit = "line"
	}
	return fmt.Sprintf("c4: %d %s seen: %s\n", total, unit, strings.Join(parts, ", "))
}

func compareGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got != string(want) {
		gl, wl := strings.Split(got, "\n"), strings.Split(string(want), "\n")
		for i := 0; i < len(gl) || i < len(wl); i++ {
			var g, w string
			if i < len(gl) {
				g = gl[i]
			}
			if i < len(wl) {
				w = wl[i]
			}
			if g != w {
				t.Fatalf("%s differs at line %d:\n got: %q\nwant: %q\n(run with -update and review the diff)", path, i+1, g, w)
			}
		}
	}
}

func englishGoldenPages(t testing.TB) []goldenPage {
	pages := readWETPages(t, "../testdata/warc/whirlwind.warc.wet.gz")
	for _, f := range []string{"dolma-cc_en_head-0091.jsonl", "dolma-cc_en_head-0174.jsonl"} {
		pages = append(pages, readJSONLPages(t, "../testdata/text/"+f, "metadata.url")...)
	}
	return pages
}

func chineseGoldenPages(t testing.TB) []goldenPage {
	return readJSONLPages(t, "../testdata/zhwiki/zhwiki-AA-wiki_00-articles.jsonl", "url")
}

// ccWARCPageCount is the number of pages with text in the CC-MAIN-2020-34
// WARC sample (2 more responses have no extractable text and are skipped).
const ccWARCPageCount = 14

func TestGoldenC4English(t *testing.T) {
	chain := newGoldenChain(t, "en", "../testdata/badwords/en.c4-25e679f0")
	var out strings.Builder
	out.WriteString("# c4 → lang [en] 0.99 → badwords en.c4-25e679f0 over real Common Crawl pages:\n")
	out.WriteString("# the whirlwind WET record, 20 Dolma CC pages, then the 14 text pages of the CC-MAIN-2020-34 WARC sample\n")
	out.WriteString(warcLinesNote)
	pages := englishGoldenPages(t)
	if len(pages) != 21 {
		t.Fatalf("%d pages, want 21 (1 WET + 20 Dolma CC)", len(pages))
	}
	warc := ccWARCPages(t)
	if len(warc) != ccWARCPageCount {
		t.Fatalf("%d WARC pages, want %d", len(warc), ccWARCPageCount)
	}
	for _, p := range append(pages, warc...) {
		out.WriteString(chain.run(p))
	}
	compareGolden(t, "c4-en.txt", out.String())
}

// warcLinesNote says where the WARC pages' lines come from.
const warcLinesNote = `# The WARC pages' text is what the warc source extracts from their HTML: go-trafilatura's content tree written as lines the
# way trafilatura's txt output is (a line per paragraph, heading and <br>; "- " list items; "| a | b |" table rows), so c4
# judges each line.
`

// c4ZhGoldenHeader says what the Chinese golden shows and why six
// encyclopedia articles are rejected.
const c4ZhGoldenHeader = `# c4 (zh) → lang [zh] 0.99 → badwords zh over 14 Chinese Wikipedia articles, then the 14 text pages of the CC-MAIN-2020-34 WARC sample.
# badwords here is faithful mC4: for zh, ja and th every entry of the LDNOOBW list matches as a plain substring, with only TFDS's
# allowlist (性) removed. So ordinary words that contain an entry reject the page: 形成人文 (成人), 逼近 (逼), 涂爾幹 (幹, Durkheim),
# 孟德斯鳩 (鳩, Montesquieu), 娼妓 (妓), 性交關係 (性交): 6 of the 14 articles. pipelines/c4-zh.yaml ships an allow list for
# such entries (see its comments), which keeps them; TestC4ZhPipelineAllowList checks its effect.
`

func TestGoldenC4Chinese(t *testing.T) {
	chain := newGoldenChain(t, "zh", "../testdata/badwords/zh")
	var out strings.Builder
	out.WriteString(c4ZhGoldenHeader)
	out.WriteString(warcLinesNote)
	pages := chineseGoldenPages(t)
	if len(pages) < 8 {
		t.Fatalf("%d pages", len(pages))
	}
	warc := ccWARCPages(t)
	if len(warc) != ccWARCPageCount {
		t.Fatalf("%d WARC pages, want %d", len(warc), ccWARCPageCount)
	}
	for _, p := range append(pages, warc...) {
		out.WriteString(chain.run(p))
	}
	compareGolden(t, "c4-zh.txt", out.String())
}

// TestGoldenQuality records the Gopher and FineWeb decisions on every page,
// raw and after c4.
func TestGoldenQuality(t *testing.T) {
	gq, _ := NewGopherQuality(DefaultGopherQualityConfig())
	gr, _ := NewGopherRepetition(DefaultGopherRepetitionConfig())
	fw, _ := NewFineWebQuality(DefaultFineWebQualityConfig())
	c4, _ := NewC4(DefaultC4Config(), nil)
	decide := func(text string, chinese bool) string {
		or := func(s string) string {
			if s == "" {
				return "kept"
			}
			return s
		}
		return fmt.Sprintf("gopher_quality=%s gopher_repetition=%s fineweb_quality=%s",
			or(gq.Check(text, chinese)), or(gr.Check(text, chinese)), or(fw.Check(text, chinese)))
	}
	// The WARC pages are in several languages: each takes the Chinese rules
	// when lingua calls it Chinese, as language: auto does after lang.
	langCfg := DefaultLangConfig()
	langCfg.Languages = []string{"en", "zh"}
	lang, err := NewLang(langCfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	out.WriteString("# gopher_quality, gopher_repetition, fineweb_quality on each page as is, and on its c4-cleaned text:\n")
	out.WriteString("# English rules for the WET and Dolma CC pages, Chinese rules for zhwiki, and for the CC-MAIN-2020-34 WARC pages the rules of the language lingua detects (zh: Chinese)\n")
	type page struct {
		goldenPage
		chinese bool
	}
	var pages []page
	for _, p := range englishGoldenPages(t) {
		pages = append(pages, page{p, false})
	}
	for _, p := range chineseGoldenPages(t) {
		pages = append(pages, page{p, true})
	}
	for _, p := range ccWARCPages(t) {
		code, _ := lang.Detect(p.text)
		pages = append(pages, page{p, code == "zh"})
	}
	for _, p := range pages {
		rules := "en"
		if p.chinese {
			rules = "zh"
		}
		fmt.Fprintf(&out, "### %s %s (%s rules)\nraw: %s\n", p.id, p.url, rules, decide(p.text, p.chinese))
		if cleaned, reason := c4.Clean(p.text, p.chinese); reason == "" {
			fmt.Fprintf(&out, "c4:  %s\n", decide(cleaned, p.chinese))
		} else {
			fmt.Fprintf(&out, "c4:  rejected (%s)\n", reason)
		}
	}
	compareGolden(t, "quality.txt", out.String())
}
