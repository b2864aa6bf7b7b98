package ingest

import (
	"bytes"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/html"
)

// parseBody parses an HTML fragment as a page body.
func parseBody(t testing.TB, body string) *html.Node {
	t.Helper()
	doc, err := html.Parse(strings.NewReader("<html><body>" + body + "</body></html>"))
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

func TestRenderText(t *testing.T) {
	tests := []struct {
		name, html, want string
	}{
		{"paragraphs are lines", "<p>One.</p><p>Two.</p>", "One.\nTwo."},
		{"source newlines in a paragraph are spaces", "<p>a\n  b\tc\r\nd</p>", "a b c d"},
		{"br breaks the line", "<p>a<br>b<br/>\n c</p>", "a\nb\nc"},
		{"hr breaks the line", "<p>a</p><hr><p>b</p>", "a\nb"},
		{"heading on its own line", "<h1>Title</h1><p>Body text.</p><h3>Sub <em>title</em></h3>", "Title\nBody text.\nSub title"},
		{"div, blockquote and loose text", "<div>a</div><blockquote>b</blockquote>tail", "a\nb\ntail"},
		{"inline elements stay on the line", "<p>foo <b>bar</b> <i>baz</i>, <a href=x>link</a> <span>s</span>.</p>", "foo bar baz, link s."},
		{"list items", "<ul><li>first</li><li>second <b>bold</b></li></ul>", "- first\n- second bold"},
		{"ordered list and definition list", "<ol><li>one</li></ol><dl><dt>Term</dt><dd>Definition.</dd></dl>", "- one\n- Term\n- Definition."},
		{"paragraph in an item stays on the marker's line", "<ul><li><p>para</p><p>more</p></li></ul>", "- para\nmore"},
		{"br in an item", "<ul><li><b>Paper</b><br>Authors<br>Venue</li></ul>", "- Paper\nAuthors\nVenue"},
		{"nested list", "<ul><li>a<ul><li>b</li></ul></li><li><ul><li>c</li></ul></li></ul>", "- a\n- b\n- c"},
		{"empty item dropped", "<ul><li> </li><li>x</li><li><p> </p></li></ul>", "- x"},
		{"table rows", "<table><tr><td>1</td><td>2</td></tr><tr><td>3</td><td>4</td></tr></table>", "| 1 | 2 |\n| 3 | 4 |"},
		{"header row separator", "<table><tr><th>A</th><th>B</th></tr><tr><td>1</td><td>2</td></tr></table>", "| A | B |\n|---|---|\n| 1 | 2 |"},
		{"blocks in a cell stay on the row", "<table><tr><td><p>two</p><p>three<br>four</p></td><td><ul><li>a</li><li>b</li></ul></td></tr></table>", "| two three four | a b |"},
		{"empty cell keeps its column", "<table><tr><td>a</td><td></td><td>c</td></tr></table>", "| a | | c |"},
		{"table in an item", "<ul><li><table><tr><td>x</td></tr></table></li></ul>", "| x |"},
		{"pre keeps its lines", "<pre>line 1\n    indented\n\nafter blank\r\nlast</pre>", "line 1\nindented\nafter blank\nlast"},
		{"code block keeps its lines", "<code>x = 1\ny = 2\n</code>", "x = 1\ny = 2"},
		{"inline code stays inline", "<p>use <code>fmt</code> here</p>", "use fmt here"},
		{"q stays inline", "<p>He said <q>hi</q> to me.</p>", "He said hi to me."},
		{"sub and sup join", "<p>H<sub>2</sub>O and x<sup>2</sup>, note<sup>[1]</sup> here</p>", "H2O and x2, note[1] here"},
		{"skipped elements", "<p>x<script>var a</script><style>.b{}</style><noscript>n</noscript>y</p><img src=a.png alt=pic>", "xy"},
		{"control and format characters removed", "<p>a\u00adb\u200bc\x07d\ue000e\ufefff</p>", "abcdef"},
		{"unicode spaces collapse", "<p>a\u00a0\u00a0b\u3000c\u2028d</p>", "a b c d"},
		{"comments are not word breaks", "<p>foo<!-- x -->bar</p>", "foobar"},
		// go-trafilatura trims text around inline elements in lists, cells
		// and quotes: the words come back apart, CJK stays together.
		{"trimmed boundary after comma", "<ul><li><i>Dustin Wright,</i><strong>David Wadden</strong>, Kyle Lo</li></ul>", "- Dustin Wright, David Wadden, Kyle Lo"},
		{"trimmed boundary between words", "<blockquote>a<b>b</b>c</blockquote>", "a b c"},
		{"trimmed boundary before parenthesis", "<ul><li><b>Raymond Fok</b>(University of Washington)</li></ul>", "- Raymond Fok (University of Washington)"},
		{"paragraphs keep their own spacing", "<p>un<b>believ</b>able <a href=x>link</a>s, <i>Wright,</i><b>Wadden</b></p>", "unbelievable links, Wright,Wadden"},
		{"trimmed boundary in a heading", "<h2><b>Chapter</b>One</h2>", "Chapter One"},
		{"trimmed boundary in a cell", "<table><tr><td><b>Total</b>42</td></tr></table>", "| Total 42 |"},
		{"no space before punctuation", "<p><b>Note</b>: x. <i>Nature</i>.</p>", "Note: x. Nature."},
		{"no space after an opening quote", "<p>\"<b>q</b>\" and (<i>x</i>)</p>", "\"q\" and (x)"},
		{"no space in Chinese", "<ul><li><b>中文</b>文本，<i>测试</i>abc</li></ul>", "- 中文文本，测试abc"},
		{"no space in Japanese and Thai", "<p><b>日本</b>語 <b>ภาษา</b>ไทย</p>", "日本語 ภาษาไทย"},
	}
	for _, tt := range tests {
		if got := renderText(parseBody(t, tt.html)); got != tt.want {
			t.Errorf("%s:\n got %q\nwant %q", tt.name, got, tt.want)
		}
	}
}

// TestRenderTextTagNames builds the tree the way go-trafilatura does: nodes
// made from a tag name alone (no DataAtom) and nodes renamed by Data (a
// <div> that became <p>, a <pre> that became <code>), plus the adjacent
// text nodes that stripping an element leaves.
func TestRenderTextTagNames(t *testing.T) {
	el := func(tag string, atomOf string, kids ...*html.Node) *html.Node {
		n := &html.Node{Type: html.ElementNode, Data: tag}
		if atomOf != "" { // a renamed node keeps its old atom
			n.DataAtom = parseBody(t, "<"+atomOf+">").LastChild.LastChild.FirstChild.DataAtom
		}
		for _, k := range kids {
			n.AppendChild(k)
		}
		return n
	}
	text := func(s string) *html.Node { return &html.Node{Type: html.TextNode, Data: s} }
	body := el("body", "",
		el("p", "div", text("Re"), text("named"), text(" div.")),
		el("ul", "", el("li", "", text("item")), el("li", "", el("b", "", text("bold")), text("tail"))),
		el("code", "pre", text("a\nb")),
		el("table", "", el("tr", "", el("th", "", text("h")), el("td", "", text("d")))),
	)
	want := "Renamed div.\n- item\n- bold tail\na\nb\n| h | d |\n|---|---|"
	if got := renderText(body); got != want {
		t.Errorf("got %q\nwant %q", got, want)
	}
}

// TestHTMLToTextKeepsLines runs the extractor the warc source uses on a
// page with structure: the text keeps a line per block.
func TestHTMLToTextKeepsLines(t *testing.T) {
	para := "This paragraph is long enough for the extractor to keep it as main content of the page, %d."
	var page strings.Builder
	page.WriteString("<html><head><title>t</title></head><body><nav><a href=/>Home</a> <a href=/x>About</a></nav><article><h1>A heading</h1>")
	for i := 1; i <= 3; i++ {
		page.WriteString("<p>" + strings.Replace(para, "%d", string(rune('0'+i)), 1) + "</p>")
	}
	page.WriteString("<ul><li>First point of the list.</li><li>Second point of the list.</li></ul></article></body></html>")
	text, err := newHTMLToText(extractTrafilatura, "precision", false).text([]byte(page.String()), "https://example.com/a")
	if err != nil {
		t.Fatal(err)
	}
	want := "A heading\n" +
		"This paragraph is long enough for the extractor to keep it as main content of the page, 1.\n" +
		"This paragraph is long enough for the extractor to keep it as main content of the page, 2.\n" +
		"This paragraph is long enough for the extractor to keep it as main content of the page, 3.\n" +
		"- First point of the list.\n- Second point of the list."
	if text != want {
		t.Errorf("got\n%s\nwant\n%s", text, want)
	}
}

// squeezeText removes what the renderer adds or drops around the words
// (whitespace, list and table marks, control and format characters), so
// two renderings of one content tree can be compared.
func squeezeText(s string) string {
	return strings.Map(func(c rune) rune {
		if unicode.IsSpace(c) || c == '|' || c == '-' || unicode.In(c, unicode.Cc, unicode.Cf, unicode.Co) {
			return -1
		}
		return c
	}, s)
}

// isSubsequence reports whether every rune of a appears in b in order.
func isSubsequence(a, b string) bool {
	for _, c := range a {
		i := strings.IndexRune(b, c)
		if i < 0 {
			return false
		}
		b = b[i+utf8.RuneLen(c):]
	}
	return true
}

// treeText is every text node under n, in order.
func treeText(n *html.Node) string {
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return b.String()
}

// TestRenderTextRealPages checks the renderer on every HTML page of the two
// real WARC samples: it writes all the text of the content tree, in order,
// adding nothing but line structure and the list and table marks; the
// lines are sanitized; most pages get several lines. Then it spot-checks
// lines of known pages.
func TestRenderTextRealPages(t *testing.T) {
	h := newHTMLToText(extractTrafilatura, "precision", false)
	byURL := map[string]string{}
	multiLine := 0
	for _, file := range []string{"resiliparse-cc-2020-34-warcfile.warc.gz", "dolma-sample-0000.warc.gz"} {
		src := warcSource(t, testdata("warc", file))
		src.html = newHTMLToText(extractNone, "", false) // decoded HTML
		pages, _ := readAllParts(t, src)
		for _, p := range pages {
			res, err := h.extract([]byte(p.Text), p.URL)
			if err != nil {
				continue // no main text: the source skips the page
			}
			got := renderText(res.ContentNode)
			byURL[p.URL] = got
			if want, have := squeezeText(treeText(res.ContentNode)), squeezeText(got); have != want {
				t.Errorf("%s: rendered text is not the content tree's text with line breaks:\n%s\n---\n%s", p.URL, want, have)
			}
			for i, line := range strings.Split(got, "\n") {
				if line == "" || strings.TrimSpace(line) != line || strings.Contains(line, "  ") {
					t.Errorf("%s line %d not sanitized: %q", p.URL, i+1, line)
				}
			}
			if strings.Contains(got, "\n") {
				multiLine++
			}
			// The warc source's own path gives the same text.
			if viaSource, err := h.text([]byte(p.Text), p.URL); err != nil || viaSource != got {
				t.Errorf("%s: htmlToText.text differs from rendering the content tree (%v)", p.URL, err)
			}
		}
	}
	if len(byURL) != 36 || multiLine < 30 {
		t.Errorf("%d pages with text, %d of them with several lines; want 36 (14 + 22) and most", len(byURL), multiLine)
	}
	hasLines := func(url string, lines ...string) {
		t.Helper()
		text, ok := byURL[url]
		if !ok {
			t.Errorf("no text for %s", url)
			return
		}
		if !strings.Contains("\n"+text+"\n", "\n"+strings.Join(lines, "\n")+"\n") {
			t.Errorf("%s lacks the lines %q in\n%s", url, lines, text)
		}
	}
	// A publication list: one item per paper, authors and venue on the
	// <br>-separated lines below, the trimmed spaces between names restored.
	hasLines("https://dwadden.github.io/",
		"- Generating Scientific Claims for Zero-Shot Scientific Fact Checking",
		"Dustin Wright, David Wadden, Kyle Lo, Bailey Kuehl, Arman Cohan, Isabelle Augenstein, Lucy Lu Wang",
		"ACL, 2022",
		"Article")
	// A data table with a header row.
	hasLines("http://06.live-radsport.ch/fahrerstatistik_801/Anthony_Ravard.html",
		"Bisherige Teams", "| von | bis | Liga | Team | Stagiaire |", "|---|---|---|---|---|")
	// A Chinese page in paragraphs (C4 judges each line).
	hasLines("http://044545.com/topic/20200207/015849.html",
		"第001期：四三各配七六码，三四组合中头彩，送：声色十中金。",
		"第002期：盼望.而却步贵人，黄金难把欲海填，送:下旨大围剿。")
	// A windows-1251 page: heading lines and paragraphs.
	hasLines("http://01spb.ru/company/", "О компании", "Стратегия пожарной безопасности")
}

func FuzzRenderText(f *testing.F) {
	for _, s := range []string{
		"<p>a<br>b</p><ul><li>x<ul><li>y</li></ul></li></ul>",
		"<table><tr><th>a</th><td><p>b</p><table><tr><td>c</td></tr></table></td></tr></table>",
		"<pre>a\n b</pre><code>x\ny</code><p>H<sub>2</sub>O</p>",
		"<li><li><p></p></li><tr><td>",
		"<p>\xff\xfe bad \u200b<b>b</b>c</p>",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		doc, err := html.Parse(bytes.NewReader([]byte(s)))
		if err != nil {
			return
		}
		got := renderText(doc)
		if got == "" {
			return
		}
		for _, line := range strings.Split(got, "\n") {
			if line == "" || strings.TrimSpace(line) != line || strings.Contains(line, "  ") {
				t.Fatalf("line not sanitized: %q in %q", line, got)
			}
		}
		if !utf8.ValidString(got) && utf8.ValidString(s) {
			t.Fatalf("invalid UTF-8 out of valid input: %q", got)
		}
	})
}
