package ingest

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/html"
)

// renderText writes the content tree an extractor kept (go-trafilatura's
// ContentNode) as plain text with the line structure Python trafilatura's
// txt output has (xml.py xmltotxt, then utils.sanitize), which is what
// FineWeb and datatrove feed their filters:
//
//   - every block (paragraph, heading, quote, list, table, div ...) and every
//     <br>/<hr> starts a new line, so C4's line rules see the page's lines;
//   - a list item is a line that starts with "- ";
//   - a table row is one line, "| cell | cell |", and a row of header cells
//     is followed by a "|---|---|" line; blocks inside a cell stay on the
//     row's line;
//   - <pre> (and code blocks) keep their line breaks;
//   - elsewhere whitespace collapses; each line is trimmed, runs of spaces
//     become one, empty lines go, and control and format characters
//     (categories Cc, Cf, Co) are removed, as sanitize does.
//
// It also puts back the spaces the extractor trims at inline element
// boundaries in list items, cells, headings and quotes ("<li><i>Wright,</i>
// <b>Wadden</b></li>" comes out of go-trafilatura as "Wright,Wadden"; see
// needsSpace). Paragraphs keep their source whitespace, so nothing is added
// there: "un<b>believ</b>able" stays one word, as in trafilatura.
//
// Known departures from trafilatura: <q> stays inline (trafilatura turns
// it into a quote line); inline <code> stays inline (trafilatura 1.x ends a
// line after it); images are not written (FineWeb does not include them).
func renderText(root *html.Node) string {
	r := &textRenderer{}
	r.node(root)
	return sanitizeLines(string(r.out))
}

type textRenderer struct {
	out  []byte
	last rune // last rune written, 0 at the start
	// marker: the output ends with a list item's "- " and nothing of the
	// item yet, so a block that opens now continues the marker's line, and
	// a sublist or row that opens now takes the line instead (an item whose
	// first content is a sublist gets no marker of its own).
	marker bool
	inCell int  // table cells being written: their blocks stay on one line
	inPre  int  // preformatted blocks being written: whitespace is kept
	glue   bool // the next text follows a sub/sup boundary: never add a space there
	// trimmed: elements being written whose text the extractor trimmed at
	// inline boundaries (items, cells, headings, quotes); only there may a
	// space be put back (see needsSpace).
	trimmed int
	// inText: the last node written was text. Adjacent text nodes are one
	// run of text (what an element the extractor stripped, such as <a> or
	// <span>, left behind), so no space is ever added between them.
	inText bool
}

// elementKind is how an element is written.
type elementKind uint8

const (
	inlineElement  elementKind = iota // b, i, em, strong, a, span, code, q, del ...
	skippedElement                    // holds no text a reader sees
	blockElement                      // starts and ends a line
	breakElement                      // br, hr: a line break
	itemElement                       // li, dt, dd: a "- " line
	rowElement                        // tr: a "| a | b |" line
	preElement                        // keeps its whitespace
	glueElement                       // sub, sup: its boundaries are not word breaks
)

// elementKinds maps tag names (not atoms: go-trafilatura builds and
// renames nodes by their Data alone, so DataAtom is unset or stale) to how
// they are written. Blocks are HTML's block-level elements and
// trafilatura's NEWLINE_ELEMS (p, head, list, quote, code, table).
var elementKinds = map[string]elementKind{
	"script": skippedElement, "style": skippedElement, "noscript": skippedElement,
	"template": skippedElement, "head": skippedElement, "title": skippedElement,
	"svg": skippedElement, "iframe": skippedElement, "object": skippedElement,
	"embed": skippedElement, "img": skippedElement, "select": skippedElement,
	"textarea": skippedElement, "button": skippedElement, "canvas": skippedElement,
	"audio": skippedElement, "video": skippedElement,

	"br": breakElement, "hr": breakElement,
	"li": itemElement, "dt": itemElement, "dd": itemElement,
	"tr":  rowElement,
	"pre": preElement, "listing": preElement, "xmp": preElement, "plaintext": preElement,
	"sub": glueElement, "sup": glueElement,

	"p": blockElement, "div": blockElement, "h1": blockElement, "h2": blockElement,
	"h3": blockElement, "h4": blockElement, "h5": blockElement, "h6": blockElement,
	"summary": blockElement, "blockquote": blockElement, "ul": blockElement,
	"ol": blockElement, "dl": blockElement, "menu": blockElement, "table": blockElement,
	"caption": blockElement, "address": blockElement, "article": blockElement,
	"aside": blockElement, "details": blockElement, "dialog": blockElement,
	"fieldset": blockElement, "figcaption": blockElement, "figure": blockElement,
	"footer": blockElement, "form": blockElement, "header": blockElement,
	"hgroup": blockElement, "main": blockElement, "nav": blockElement,
	"section": blockElement, "center": blockElement, "legend": blockElement,
	"body": blockElement, "html": blockElement,
	"td": blockElement, "th": blockElement, // cells outside a row
}

func (r *textRenderer) node(n *html.Node) {
	switch n.Type {
	case html.TextNode:
		r.text(n.Data)
		r.inText = true
		return
	case html.ElementNode:
	case html.DocumentNode:
		r.children(n)
		return
	default: // comments, doctypes: not a boundary between words
		return
	}
	kind := elementKinds[n.Data]
	if kind == skippedElement {
		return // gone, as if never there: "foo<script>…</script>bar" is one word
	}
	r.inText = false
	if kind == inlineElement && n.Data == "code" && hasNewline(n) {
		kind = preElement // a code block (go-trafilatura renames <pre> to <code>)
	}
	trims := trimsInlineText[n.Data]
	if trims {
		r.trimmed++
	}
	switch kind {
	case breakElement:
		r.lineBreak()
	case itemElement:
		r.item(n)
	case rowElement:
		r.row(n)
	case preElement:
		r.lineBreak()
		r.inPre++
		r.children(n)
		r.inPre--
		r.lineBreak()
	case glueElement:
		// H<sub>2</sub>O, footnote marks: the boundary is not a word break.
		r.glue = true
		r.children(n)
		r.glue = true
	case blockElement:
		r.lineBreak()
		r.children(n)
		r.lineBreak()
	default:
		r.children(n)
	}
	if trims {
		r.trimmed--
	}
	r.inText = false
}

// trimsInlineText: elements whose inline children go-trafilatura trims
// ("here <i>Wright,</i> <b>Wadden</b>" becomes "here"+"Wright,"+"Wadden"):
// list items and cells (processNestedElement, handleTable), headings
// (handleTitles) and quotes (handleQuotes). Paragraphs keep their
// whitespace, so "un<b>believ</b>able" there stays one word.
var trimsInlineText = map[string]bool{
	"li": true, "dt": true, "dd": true, "td": true, "th": true,
	"h1": true, "h2": true, "h3": true, "h4": true, "h5": true, "h6": true,
	"blockquote": true, "q": true,
}

func (r *textRenderer) children(n *html.Node) {
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		r.node(c)
	}
}

// lineBreak ends the current line; inside a table cell it is a space, so
// the row stays one line.
func (r *textRenderer) lineBreak() {
	switch {
	case r.inCell > 0:
		r.write(" ")
	case r.marker: // <li><p>text</p></li>: the text goes on the marker's line
	default:
		r.write("\n")
	}
}

// newLine starts a line of its own for an item or a row, dropping a list
// marker that got no content.
func (r *textRenderer) newLine(prefix string) {
	r.dropMarker()
	r.write("\n" + prefix)
}

func (r *textRenderer) dropMarker() {
	if r.marker {
		r.out = r.out[:len(r.out)-len(itemMarker)]
		r.last = '\n'
		r.marker = false
	}
}

const itemMarker = "- "

// item writes a list item as a line starting with "- ".
func (r *textRenderer) item(n *html.Node) {
	if r.inCell > 0 {
		r.write(" ")
		r.children(n)
		r.write(" ")
		return
	}
	r.newLine(itemMarker)
	r.marker = true
	r.children(n)
	r.dropMarker() // an empty item
	r.write("\n")
}

// row writes a table row as "| a | b |"; a row of header cells gets the
// separator line below it.
func (r *textRenderer) row(n *html.Node) {
	if r.inCell > 0 { // a table inside a cell: its cells are words on the row
		r.write(" ")
		r.children(n)
		r.write(" ")
		return
	}
	r.newLine("| ")
	cells, header := 0, false
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		isCell := c.Type == html.ElementNode && (c.Data == "td" || c.Data == "th")
		if isCell {
			if cells > 0 {
				r.write(" | ")
			}
			cells++
			header = header || c.Data == "th"
		}
		r.inCell++
		if isCell {
			r.trimmed++
			r.children(c)
			r.trimmed--
		} else {
			r.node(c)
		}
		r.inCell--
	}
	r.write(" |\n")
	if header {
		r.write("|" + strings.Repeat("---|", cells) + "\n")
	}
}

// text writes a text node: whitespace collapses outside preformatted
// blocks (newlines in the source are not line breaks).
func (r *textRenderer) text(s string) {
	if s == "" {
		return
	}
	if r.inPre > 0 && r.inCell == 0 {
		r.write(strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\r", "\n"))
		return
	}
	first, _ := utf8.DecodeRuneInString(s)
	if !r.glue && !r.inText && r.trimmed > 0 && needsSpace(r.last, first) {
		r.write(" ")
	}
	r.glue = false
	// Every whitespace rune (\n, \t, U+2028, U+3000 ...) becomes a space;
	// sanitizeLines collapses the runs.
	start := len(r.out)
	r.write(s)
	for i := start; i < len(r.out); {
		c := r.out[i]
		if c < utf8.RuneSelf {
			if c == '\n' || c == '\r' || c == '\t' || c == '\f' || c == '\v' {
				r.out[i] = ' '
			}
			i++
			continue
		}
		cr, size := utf8.DecodeRune(r.out[i:])
		if unicode.IsSpace(cr) {
			// Rewrite the rune's bytes as spaces (U+0085 and the rest are
			// 2–3 bytes); the runs collapse later.
			for j := i; j < i+size; j++ {
				r.out[j] = ' '
			}
		}
		i += size
	}
	if len(r.out) > start {
		r.last, _ = utf8.DecodeLastRune(r.out)
	}
}

// write appends s. Text gives a pending list marker its content;
// whitespace after a marker is dropped.
func (r *textRenderer) write(s string) {
	if s == "" {
		return
	}
	if r.marker {
		if strings.TrimSpace(s) == "" {
			return // the marker ends with its space; dropMarker cuts exactly it
		}
		r.marker = false
	}
	r.out = append(r.out, s...)
	r.last, _ = utf8.DecodeLastRuneInString(s)
}

// needsSpace says whether two pieces of text that meet at an element
// boundary with no whitespace between them were two words. go-trafilatura
// (like trafilatura) trims the text around inline elements in list items,
// table cells and quotes, so "Wright, <b>David</b> Wadden" arrives as
// "Wright,"+"David"+"Wadden". A word character (or a comma, period or other
// closing mark) followed by a word character is put apart again; scripts
// written without spaces (Chinese, Japanese, Thai ...) never are.
func needsSpace(prev, next rune) bool {
	if prev == 0 || !wordRune(next) && next != '(' && next != '“' {
		return false
	}
	if noSpaceScript(prev) || noSpaceScript(next) {
		return false
	}
	if wordRune(prev) {
		return true
	}
	switch prev {
	case ',', ';', ':', '.', '!', '?', ')', ']', '}', '”':
		return true
	}
	return false
}

func wordRune(c rune) bool { return unicode.IsLetter(c) || unicode.IsDigit(c) }

// noSpaceScript: scripts whose words are not separated by spaces, and CJK
// punctuation and full-width forms.
func noSpaceScript(c rune) bool {
	if c < 0x0E00 {
		return false
	}
	return unicode.In(c, unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Bopomofo,
		unicode.Thai, unicode.Lao, unicode.Khmer, unicode.Myanmar, unicode.Tibetan) ||
		(c >= 0x3000 && c <= 0x303F) || (c >= 0xFF00 && c <= 0xFFEF)
}

// hasNewline reports whether the text under n has a line break (to tell a
// code block from inline code).
func hasNewline(n *html.Node) bool {
	if n.Type == html.TextNode {
		return strings.ContainsAny(n.Data, "\n\r")
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if hasNewline(c) {
			return true
		}
	}
	return false
}

// sanitizeLines is trafilatura's sanitize: per line, remove control and
// format characters, collapse whitespace, trim; drop empty lines.
func sanitizeLines(s string) string {
	b := make([]byte, 0, len(s))
	for len(s) > 0 {
		line := s
		if i := strings.IndexByte(s, '\n'); i >= 0 {
			line, s = s[:i], s[i+1:]
		} else {
			s = ""
		}
		start := len(b)
		space := false
		for i := 0; i < len(line); {
			c := line[i]
			if c < utf8.RuneSelf { // ASCII: most of the text
				i++
				switch {
				case c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f':
					space = len(b) > start
				case c < 0x20 || c == 0x7f: // Cc
				default:
					if space {
						b = append(b, ' ')
						space = false
					}
					b = append(b, c)
				}
				continue
			}
			r, size := utf8.DecodeRuneInString(line[i:])
			i += size
			switch {
			case unicode.IsSpace(r):
				space = len(b) > start
				continue
			case r <= 0x9f, unicode.Is(unicode.Cf, r), r >= 0xE000 && unicode.Is(unicode.Co, r): // Cc, Cf, Co
				continue
			}
			if space {
				b = append(b, ' ')
				space = false
			}
			b = append(b, line[i-size:i]...)
		}
		if len(b) > start {
			b = append(b, '\n')
		}
	}
	if n := len(b); n > 0 {
		b = b[:n-1]
	}
	return string(b)
}
