package ingest

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/net/html/charset"
	"golang.org/x/text/encoding/simplifiedchinese"
)

// TestCharsetMojibakeServedByThePage pins down the Chinese page of the
// CC-MAIN-2020-34 sample whose text starts with "关于婢虫床28鏄?笉鏄??瑙勭殑":
// that garble was thought to be a charset detection error, but the page
// declares <meta charset="utf-8"> (the Content-Type has no charset), its
// bytes are valid UTF-8, and the garbled keyword is in those bytes as
// served (in the body as UTF-8, in <title> as &#x...; references). It is
// the spam site's own mojibake: "澳洲28是不是正规的" once read as GBK, with
// the bytes GBK could not map replaced by "?" (so nothing can repair it).
// Decoding the page as GBK instead would garble the real text around it.
func TestCharsetMojibakeServedByThePage(t *testing.T) {
	const (
		url     = "http://003338.cn/l41/481397.html"
		garbled = "婢虫床28鏄?笉鏄??瑙勭殑"
		genuine = "另有13名警察本周早些时候在抗议活动中受伤"
	)
	file := testdata("warc", "resiliparse-cc-2020-34-warcfile.warc.gz")

	// The served bytes hold the garble, in UTF-8 and as character references.
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f) // multistream: every record's member
	if err != nil {
		t.Fatal(err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(raw, []byte("关于"+garbled+"最新相关内容")) {
		t.Errorf("the payload lacks the garbled keyword in UTF-8")
	}
	if !bytes.Contains(raw, []byte("<title>&#x5a62;&#x866b;&#x5e8a;&#x0032;&#x0038;&#x93c4;&#x003f;")) {
		t.Errorf("the payload lacks the garbled keyword as character references in <title>")
	}

	// The page is decoded as what it declares, with nothing replaced.
	src := warcSource(t, file)
	src.html = newHTMLToText(extractNone, "", false)
	pages, _ := readAllParts(t, src)
	var page string
	for _, p := range pages {
		if p.URL == url {
			page = p.Text
			if cs := p.Meta[MetaCharset]; cs != "utf-8" {
				t.Errorf("charset %v, want utf-8 (<meta charset=\"utf-8\">)", cs)
			}
		}
	}
	if page == "" {
		t.Fatalf("no page for %s", url)
	}
	if strings.ContainsRune(page, '\uFFFD') {
		t.Errorf("decoded page has U+FFFD: the bytes are valid UTF-8")
	}

	// Its text has the genuine Chinese and the served garble, unchanged.
	text, err := newHTMLToText(extractTrafilatura, "precision", false).text([]byte(page), url)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text, genuine) || !strings.Contains(text, "关于"+garbled+"最新相关内容") {
		t.Errorf("text lacks the page's own sentences:\n%s", text)
	}

	// The garble is UTF-8 read as GBK: GBK-encoding it gives back UTF-8
	// bytes of "澳洲", with "?" where bytes were lost.
	asGBK, err := simplifiedchinese.GBK.NewEncoder().String(garbled)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(asGBK, "澳洲28") || !strings.Contains(asGBK, "?") {
		t.Errorf("GBK bytes of the garble are %q, want UTF-8 \"澳洲28...\" with lost bytes", asGBK)
	}
	// And reading the page as GBK (a "fix") would break its real text.
	wrong, err := simplifiedchinese.GBK.NewDecoder().String(page)
	if err == nil && strings.Contains(wrong, genuine) {
		t.Errorf("the page reads the same as GBK: the test no longer tells the encodings apart")
	}
}

// TestDetectUndeclaredCharset takes the real pages of the CC-MAIN-2020-34
// sample back to the bytes they were served in (re-encoding the decoded
// page with its declared charset), removes every charset declaration, and
// decodes them with a Content-Type that names none: the GBK pages are
// recognised (as gb18030, GBK's superset) and come out as they did
// declared; the windows-1252 page stays windows-1252; UTF-8 pages stay
// UTF-8. Declared pages are never detected.
func TestDetectUndeclaredCharset(t *testing.T) {
	src := warcSource(t, testdata("warc", "resiliparse-cc-2020-34-warcfile.warc.gz"))
	src.html = newHTMLToText(extractNone, "", false)
	pages, _ := readAllParts(t, src)
	declaration := regexp.MustCompile(`(?i)<meta[^>]*charset[^>]*>`)
	want := map[string]string{ // charset declared -> charset detected without it
		"gbk": "gb18030", "windows-1252": "windows-1252", "utf-8": "utf-8",
	}
	checked := map[string]int{}
	for _, p := range pages {
		declared := p.Meta[MetaCharset].(string)
		if _, ok := want[declared]; !ok {
			continue // windows-1251: see TestDetectUndeclaredCyrillic
		}
		enc, _ := charset.Lookup(declared)
		served, err := enc.NewEncoder().String(p.Text)
		if err != nil {
			t.Fatalf("%s: re-encoding as %s: %v", p.URL, declared, err)
		}
		undeclared := declaration.ReplaceAllString(served, "")
		if declaresCharset([]byte(undeclared)) {
			t.Fatalf("%s still declares a charset", p.URL)
		}
		d := decodeHTML([]byte(undeclared), "text/html")
		if d.Charset != want[declared] {
			t.Errorf("%s: undeclared %s page detected as %s, want %s", p.URL, declared, d.Charset, want[declared])
			continue
		}
		if wantText := declaration.ReplaceAllString(p.Text, ""); string(d.HTML) != wantText {
			t.Errorf("%s: decoded without its declaration, the page differs from the declared decoding", p.URL)
		}
		checked[declared]++

		// A declaration wins over detection, also a wrong one, in the
		// header or in a <meta>.
		if declared == "gbk" {
			for _, page := range []struct{ body, contentType string }{
				{undeclared, "text/html; charset=iso-8859-1"},
				{`<meta charset="iso-8859-1">` + undeclared, "text/html"},
			} {
				if d := decodeHTML([]byte(page.body), page.contentType); d.Charset != "windows-1252" {
					t.Errorf("%s: a declared charset was overridden by detection (%s)", p.URL, d.Charset)
				}
			}
		}
	}
	if checked["gbk"] != 6 || checked["windows-1252"] != 2 || checked["utf-8"] < 6 {
		t.Errorf("pages checked by declared charset: %v; want 6 gbk, 2 windows-1252, 6+ utf-8", checked)
	}
}

// TestDetectUndeclaredCyrillic records the detector's limit: the Russian
// windows-1251 page, undeclared, scores too low for any guess (ICU's
// single-byte recognisers rank it ISO-8859-1), so it gets the WHATWG
// default windows-1252 as before detection existed: Cyrillic pages need
// their declaration.
func TestDetectUndeclaredCyrillic(t *testing.T) {
	src := warcSource(t, testdata("warc", "resiliparse-cc-2020-34-warcfile.warc.gz"))
	src.html = newHTMLToText(extractNone, "", false)
	pages, _ := readAllParts(t, src)
	for _, p := range pages {
		if p.URL != "http://01spb.ru/company/" {
			continue
		}
		enc, _ := charset.Lookup("windows-1251")
		served, err := enc.NewEncoder().String(p.Text)
		if err != nil {
			t.Fatal(err)
		}
		undeclared := regexp.MustCompile(`(?i)<meta[^>]*charset[^>]*>`).ReplaceAllString(served, "")
		if _, name, ok := detectCharset([]byte(undeclared)); ok {
			t.Errorf("the detector now names %s for the windows-1251 page: revisit detectMinConfidence and this test", name)
		}
		if d := decodeHTML([]byte(undeclared), "text/html"); d.Charset != "windows-1252" {
			t.Errorf("charset %s, want the windows-1252 default", d.Charset)
		}
		return
	}
	t.Fatal("no 01spb.ru page")
}

// FuzzDecodeHTML: any bytes under any Content-Type decode to valid UTF-8
// without a panic, detection included.
func FuzzDecodeHTML(f *testing.F) {
	f.Add([]byte("<p>caf\xe9</p>"), "text/html")
	f.Add([]byte("<meta charset=gbk><p>\xc4\xe3\xba\xc3</p>"), "")
	f.Add([]byte(strings.Repeat("\xc4\xe3\xba\xc3\xca\xc0\xbd\xe7", 40)), "text/html")
	f.Add([]byte("\xff\xfe<\x00p\x00>\x00"), "text/html; charset=utf-8")
	f.Fuzz(func(t *testing.T, body []byte, contentType string) {
		d := decodeHTML(body, contentType)
		if !utf8.Valid(d.HTML) {
			t.Fatalf("charset %s gave invalid UTF-8", d.Charset)
		}
		if d.Charset == "" {
			t.Fatal("no charset named")
		}
	})
}
