package ingest

import (
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/corpusflow/corpusflow/flow"
)

// scanFile splits a file into all its records (every type), counting
// problems by kind.
func scanFile(t testing.TB, path string) (types map[string]int, recs []*warcRecord, probs map[string]int) {
	t.Helper()
	probs = map[string]int{}
	count := func(kind, where string, err error) { probs[kind]++ }
	in, err := openInput(path, func(kind string, err error) { probs[kind]++ })
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	sc := newWARCScanner(newStream(in.R, nil), path, 0, func(*warcHeader) bool { return true }, count)
	types = map[string]int{}
	for {
		rec, err := sc.Next()
		if err == io.EOF {
			return types, recs, probs
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		types[rec.Header.Get("WARC-Type")]++
		recs = append(recs, rec)
	}
}

// The record counts come from the files themselves, counted independently
// with zcat | grep -c '^WARC/' and grep '^WARC-Type:' | sort | uniq -c
// (see testdata/warc/PROVENANCE.md).
func TestScanRealFiles(t *testing.T) {
	tests := []struct {
		file     string
		types    map[string]int
		problems map[string]int
	}{
		{"whirlwind.warc.wet.gz", map[string]int{"warcinfo": 1, "conversion": 1}, nil},
		{"whirlwind.warc.gz", map[string]int{"warcinfo": 1, "request": 1, "response": 1, "metadata": 1}, nil},
		{"whirlwind.warc.wat.gz", map[string]int{"warcinfo": 1, "metadata": 1}, nil},
		{"resiliparse-cc-2020-34-warcfile.warc.gz", map[string]int{"warcinfo": 1, "request": 17, "response": 16, "metadata": 16}, nil},
		// The gzip stream stops mid-member: the one record is cut.
		{"resiliparse-clipped-truncated.warc.gz", map[string]int{}, map[string]int{"truncated_gzip": 1, "truncated_record": 1}},
		{"jwarc-cc.warc.gz", map[string]int{"response": 1}, nil},
		{"jwarc-gzip_extra_sl.warc.gz", map[string]int{"warcinfo": 1}, nil},
		{"warcio-example.warc.gz", map[string]int{"warcinfo": 2, "response": 1, "request": 2, "revisit": 1}, nil},
		{"warcio-example-resource.warc.gz", map[string]int{"warcinfo": 2, "resource": 1}, nil},
		// Member boundaries fall inside records: nothing is wrong with that.
		{"warcio-example-wrong-chunks.warc.gz", map[string]int{"response": 1, "request": 1}, nil},
		{"warcio-example-bad-non-chunked.warc.gz", map[string]int{"warcinfo": 2, "response": 1, "request": 2, "revisit": 1}, nil},
		{"warcio-example-bad.warc.gz.bad", map[string]int{"warcinfo": 1, "response": 2, "request": 2, "revisit": 1}, nil},
		{"warcio-post-test.warc.gz", map[string]int{"request": 3, "response": 3}, nil},
		// The response's Content-Length is 2 bytes short; the record is
		// recovered from the real boundary.
		{"warcio-example-trunc.warc", map[string]int{"warcinfo": 2, "response": 1, "request": 1}, map[string]int{"wrong_content_length": 1}},
		{"warcio-example-iana.org-chunked.warc", map[string]int{"warcinfo": 1, "response": 1, "request": 1}, nil},
		{"dolma-sample-0000.warc.gz", map[string]int{"warcinfo": 1, "request": 22, "response": 22, "metadata": 1, "resource": 2}, nil},
		{"ukwa-IAH-20080430204825-00000-blackbook-truncated.warc.gz", map[string]int{"warcinfo": 1, "response": 8, "request": 7, "metadata": 7}, nil},
		{"ukwa-IAH-urls-wget.warc.gz", map[string]int{"warcinfo": 1, "request": 16, "response": 16, "resource": 3}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			types, _, probs := scanFile(t, testdata("warc", tt.file))
			if !reflect.DeepEqual(types, tt.types) {
				t.Errorf("record types %v, want %v", types, tt.types)
			}
			want := tt.problems
			if want == nil {
				want = map[string]int{}
			}
			if !reflect.DeepEqual(probs, want) {
				t.Errorf("problems %v, want %v", probs, want)
			}
		})
	}
}

func TestScanRecoversWrongContentLength(t *testing.T) {
	_, recs, _ := scanFile(t, testdata("warc", "warcio-example-trunc.warc"))
	resp := recs[2]
	if resp.Header.Get("WARC-Type") != "response" || resp.Header.Get("Content-Length") != "973" {
		t.Fatalf("record 3 is %s with Content-Length %s", resp.Header.Get("WARC-Type"), resp.Header.Get("Content-Length"))
	}
	// The block really is 975 bytes: 973 declared plus the 2 the header
	// forgot, up to the CRLF CRLF before the next record.
	if len(resp.Block) != 975 {
		t.Errorf("recovered block has %d bytes, want 975", len(resp.Block))
	}
	if next := recs[3]; next.Header.Get("WARC-Type") != "request" {
		t.Errorf("record after the damaged one is %q", next.Header.Get("WARC-Type"))
	}
}

// warcSource builds the warc source for one test file.
func warcSource(t testing.TB, path string, types ...string) *WARCSource {
	t.Helper()
	cfg := DefaultWARCConfig()
	cfg.Path = path
	if len(types) > 0 {
		cfg.RecordTypes = types
	}
	src, err := NewWARCSource(cfg, &flow.Env{Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	return src
}

// TestWARCSourceRealFiles checks what becomes a document. Expected counts
// follow from the files (grep of status lines and Content-Types): every
// wanted record is either a document or counted under a reason.
func TestWARCSourceRealFiles(t *testing.T) {
	tests := []struct {
		file     string
		docs     int
		problems map[string]int64
	}{
		{"whirlwind.warc.wet.gz", 1, nil},
		{"whirlwind.warc.gz", 1, nil},
		{"whirlwind.warc.wat.gz", 0, nil},
		// 16 responses, all 200 text/html; two pages are navigation only.
		{"resiliparse-cc-2020-34-warcfile.warc.gz", 14, map[string]int64{"skipped_no_text": 2}},
		{"resiliparse-clipped-truncated.warc.gz", 0, map[string]int64{"truncated_gzip": 1, "truncated_record": 1}},
		{"jwarc-cc.warc.gz", 1, nil},
		{"warcio-example-trunc.warc", 1, map[string]int64{"wrong_content_length": 1}},
		{"warcio-example-iana.org-chunked.warc", 1, nil},
		{"warcio-example-wrong-chunks.warc.gz", 1, nil},
		// 2 responses: a 200 and a 302.
		{"warcio-example-bad.warc.gz.bad", 1, map[string]int64{"skipped_http_status": 1}},
		// 3 responses, all JSON.
		{"warcio-post-test.warc.gz", 0, map[string]int64{"skipped_not_html": 3}},
		{"dolma-sample-0000.warc.gz", 22, nil},
		// 8 responses: 1 dns:, 5 images/plain/xml, 2 HTML of which one is
		// a bare frame page.
		{"ukwa-IAH-20080430204825-00000-blackbook-truncated.warc.gz", 1, map[string]int64{"skipped_not_http": 1, "skipped_not_html": 5, "skipped_no_text": 1}},
		// 16 responses: 2 301 + 7 302, then 5 non-HTML 200s and 2 pages.
		{"ukwa-IAH-urls-wget.warc.gz", 2, map[string]int64{"skipped_http_status": 9, "skipped_not_html": 5}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			recs, report := readAllParts(t, warcSource(t, testdata("warc", tt.file)))
			if len(recs) != tt.docs {
				t.Errorf("%d documents, want %d", len(recs), tt.docs)
			}
			want := tt.problems
			if want == nil {
				want = map[string]int64{}
			}
			if got := problems(report); !reflect.DeepEqual(got, want) {
				t.Errorf("problems %v, want %v", got, want)
			}
			for _, r := range recs {
				if !utf8.ValidString(r.Text) || strings.TrimSpace(r.Text) == "" {
					t.Errorf("record %s: empty or invalid text", r.ID)
				}
				if !strings.HasPrefix(r.ID, "<urn:uuid:") || r.Timestamp == "" || r.URL == "" {
					t.Errorf("record %+v lacks id, url or timestamp", r)
				}
			}
		})
	}
}

func TestWETRecordFields(t *testing.T) {
	recs, _ := readAllParts(t, warcSource(t, testdata("warc", "whirlwind.warc.wet.gz")))
	if len(recs) != 1 {
		t.Fatalf("%d records", len(recs))
	}
	r := recs[0]
	want := flow.Record{
		ID:        "<urn:uuid:ba729a40-ff84-4085-8d48-0a5b2ee0c42d>",
		URL:       "https://an.wikipedia.org/wiki/Escopete",
		Timestamp: "2024-05-18T01:58:10Z",
		Source:    "whirlwind.warc.wet.gz",
	}
	if r.ID != want.ID || r.URL != want.URL || r.Timestamp != want.Timestamp || r.Source != want.Source {
		t.Errorf("got id=%s url=%s ts=%s source=%s", r.ID, r.URL, r.Timestamp, r.Source)
	}
	if r.MetaString(MetaWARCLanguage) != "spa" || r.MetaString(MetaWARCType) != "conversion" {
		t.Errorf("meta %v", r.Meta)
	}
	// WET text is kept as is: 4456 bytes (its Content-Length).
	if len(r.Text) != 4456 || !strings.HasPrefix(r.Text, "Escopete - Biquipedia, a enciclopedia libre\nIr al contenido\n") {
		t.Errorf("text: %d bytes, starts %q", len(r.Text), r.Text[:min(60, len(r.Text))])
	}
}

func TestResponseExtraction(t *testing.T) {
	find := func(recs []*flow.Record, url string) *flow.Record {
		for _, r := range recs {
			if r.URL == url {
				return r
			}
		}
		t.Fatalf("no record for %s", url)
		return nil
	}
	cc, _ := readAllParts(t, warcSource(t, testdata("warc", "resiliparse-cc-2020-34-warcfile.warc.gz")))
	// Declared windows-1251 in the HTTP header: Cyrillic must come out right.
	ru := find(cc, "http://01spb.ru/company/")
	if ru.MetaString(MetaCharset) != "windows-1251" || !strings.Contains(ru.Text, "О компании") {
		t.Errorf("windows-1251 page: charset %q, text %q", ru.MetaString(MetaCharset), ru.Text[:min(80, len(ru.Text))])
	}
	// Declared gb2312 (read as its superset gbk).
	zh := find(cc, "http://037426.cn/")
	if zh.MetaString(MetaCharset) != "gbk" {
		t.Errorf("gb2312 page decoded as %q", zh.MetaString(MetaCharset))
	}
	// Chunked transfer encoding in a raw (not Common Crawl) WARC.
	iana, _ := readAllParts(t, warcSource(t, testdata("warc", "warcio-example-iana.org-chunked.warc")))
	if !strings.Contains(iana[0].Text, "Root Zone") || strings.Contains(iana[0].Text, "<div") {
		t.Errorf("chunked page text: %q", iana[0].Text[:min(200, len(iana[0].Text))])
	}
	// wget wraps WARC-Target-URI in <...>; the URL must not keep them.
	dolma, _ := readAllParts(t, warcSource(t, testdata("warc", "dolma-sample-0000.warc.gz")))
	if dolma[0].URL != "https://www.semanticscholar.org/research/research-team" {
		t.Errorf("url %q", dolma[0].URL)
	}
	// The 2008 WARC/0.17 file: its one article page comes through.
	old, _ := readAllParts(t, warcSource(t, testdata("warc", "ukwa-IAH-20080430204825-00000-blackbook-truncated.warc.gz")))
	if len(old) != 1 || old[0].URL != "http://www.archive.org/index.php" || old[0].Timestamp != "2008-04-30T20:48:26Z" {
		t.Errorf("WARC/0.17 records: %+v", old)
	}
}

func TestExtractorNoneKeepsHTML(t *testing.T) {
	src := warcSource(t, testdata("warc", "whirlwind.warc.gz"))
	src.html = newHTMLToText(extractNone, "", false)
	recs, _ := readAllParts(t, src)
	if len(recs) != 1 || !strings.Contains(recs[0].Text, "<html") {
		t.Fatalf("extractor none should keep the HTML")
	}
}

func TestResourceRecords(t *testing.T) {
	recs, report := readAllParts(t, warcSource(t, testdata("warc", "ukwa-IAH-urls-wget.warc.gz"), "resource"))
	// 3 wget resource records, all text/plain.
	if len(recs) != 3 || len(problems(report)) != 0 {
		t.Fatalf("%d records, problems %v", len(recs), problems(report))
	}
	if recs[0].MetaString(MetaWARCType) != "resource" || recs[0].MetaString(MetaContentType) != "text/plain" {
		t.Errorf("meta %v", recs[0].Meta)
	}
}

func TestWARCWorkersGiveSameOutput(t *testing.T) {
	render := func(recs []*flow.Record) string {
		var b strings.Builder
		for _, r := range recs {
			fmt.Fprintf(&b, "%s|%s|%s|%v|%s\n", r.ID, r.URL, r.Timestamp, r.Meta, r.Text)
		}
		return b.String()
	}
	var first string
	for _, workers := range []int{1, 2, 4} {
		cfg := DefaultWARCConfig()
		cfg.Path = testdata("warc", "*.warc.gz")
		cfg.Workers = workers
		src, err := NewWARCSource(cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		recs, stats := runSource(t, src, workers)
		if stats.Parts != 13 || len(recs) < 40 {
			t.Fatalf("workers %d: %d parts, %d records", workers, stats.Parts, len(recs))
		}
		if out := render(recs); first == "" {
			first = out
		} else if out != first {
			t.Fatalf("workers=%d output differs from workers=1", workers)
		}
	}
}

func TestWARCConfigValidate(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(*WARCConfig)
		field string
	}{
		{"defaults", func(*WARCConfig) {}, ""},
		{"no types", func(c *WARCConfig) { c.RecordTypes = nil }, "record_types"},
		{"unknown type", func(c *WARCConfig) { c.RecordTypes = []string{"response", "request"} }, "record_types.1"},
		{"zero size", func(c *WARCConfig) { c.MaxRecordMB = 0 }, "max_record_mb"},
		{"negative workers", func(c *WARCConfig) { c.Workers = -1 }, "extract_workers"},
	}
	for _, tt := range tests {
		c := DefaultWARCConfig()
		c.Path = "x"
		tt.edit(&c)
		err := c.Validate()
		var fe *flow.FieldError
		switch {
		case tt.field == "" && err != nil:
			t.Errorf("%s: %v", tt.name, err)
		case tt.field != "" && (!errors.As(err, &fe) || fe.Field != tt.field):
			t.Errorf("%s: got %v, want an error on %s", tt.name, err, tt.field)
		}
	}
}

func TestWARCDate(t *testing.T) {
	tests := []struct{ in, want, problem string }{
		{"2024-05-18T01:58:10Z", "2024-05-18T01:58:10Z", ""},
		{"2024-05-18T01:58:10.123456Z", "2024-05-18T01:58:10.123456Z", ""},
		{"2024-05-18T03:58:10+02:00", "2024-05-18T01:58:10Z", ""},
		{"20080430204825", "2008-04-30T20:48:25Z", ""}, // ARC-style 14 digits
		{"yesterday", "yesterday", "bad_date"},
		{"", "", "bad_date"},
	}
	for _, tt := range tests {
		report := flow.NewSourceReport("t", nil)
		problem := recordProblems{report: report, file: "x"}.add
		if got := warcDate(tt.in, problem); got != tt.want {
			t.Errorf("warcDate(%q) = %q, want %q", tt.in, got, tt.want)
		}
		kinds := report.ProblemKinds()
		if (tt.problem == "") != (len(kinds) == 0) || (tt.problem != "" && kinds[0] != tt.problem) {
			t.Errorf("warcDate(%q) problems %v, want %q", tt.in, kinds, tt.problem)
		}
	}
}
