package ingest

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"strings"
	"testing"

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
