package ingest

import (
	"bytes"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"unicode/utf8"

	trafilatura "github.com/markusmobius/go-trafilatura"
	"golang.org/x/net/html"
	"golang.org/x/net/html/charset"
	"golang.org/x/text/encoding"
)

// Extractors: how an HTML page becomes a record's text.
const (
	// extractTrafilatura keeps the main text, as FineWeb does (with the Go
	// port of the same extractor).
	extractTrafilatura = "trafilatura"
	// extractNone keeps the page's HTML (decoded to UTF-8), for pipelines
	// that extract later or want markup.
	extractNone = "none"
)

// errNoMainText means the extractor found no main content worth keeping
// (navigation-only pages, error pages, empty bodies).
var errNoMainText = errors.New("no main text found")

// htmlToText turns HTML pages into text.
type htmlToText struct {
	extractor string
	options   trafilatura.Options
}

func newHTMLToText(extractor, favor string, fallback bool) *htmlToText {
	opts := trafilatura.Options{
		EnableFallback:  fallback,
		ExcludeComments: true,                 // FineWeb: include_comments=False
		Deduplicate:     true,                 // FineWeb: deduplicate=True
		HtmlDateMode:    trafilatura.Disabled, // the WARC-Date is the record's date
	}
	switch favor {
	case "recall":
		opts.Focus = trafilatura.FavorRecall
	case "balanced":
		opts.Focus = trafilatura.Balanced
	default:
		opts.Focus = trafilatura.FavorPrecision // FineWeb: favor_precision=True
	}
	return &htmlToText{extractor: extractor, options: opts}
}

// decodedHTML is a page decoded to valid UTF-8.
type decodedHTML struct {
	HTML        []byte
	Charset     string
	InvalidUTF8 bool // bytes that claimed to be UTF-8 were not; repaired
}

// decodeHTML converts a page to UTF-8. The charset comes from a byte order
// mark, the Content-Type's charset, or a <meta> declaration in the first
// 1024 bytes (the WHATWG order). Without any, a page that is valid UTF-8 is
// read as UTF-8 — also when its first kilobyte is ASCII, where the standard
// guess would be windows-1252 — and anything else by what a charset
// detector recognises with confidence (GBK, Big5, Shift_JIS ...; see
// detectCharset), else as windows-1252. A page that declares windows-1252
// (or latin-1) but is valid UTF-8 is read as UTF-8 too.
func decodeHTML(body []byte, contentType string) decodedHTML {
	enc, name, certain := charset.DetermineEncoding(body, contentType)
	if !certain && name == "windows-1252" {
		switch {
		case utf8.Valid(body):
			enc, name = encoding.Nop, "utf-8"
		case !declaresCharset(body):
			if e, n, ok := detectCharset(body); ok {
				enc, name = e, n
			}
		}
	}
	if name == "utf-8" {
		if utf8.Valid(body) {
			return decodedHTML{HTML: body, Charset: name}
		}
		return decodedHTML{HTML: bytes.ToValidUTF8(body, []byte("\uFFFD")), Charset: name, InvalidUTF8: true}
	}
	// Legacy decoders map undecodable bytes to U+FFFD themselves.
	out, err := enc.NewDecoder().Bytes(body)
	if err != nil {
		return decodedHTML{HTML: bytes.ToValidUTF8(body, []byte("\uFFFD")), Charset: "utf-8", InvalidUTF8: !utf8.Valid(body)}
	}
	if !utf8.Valid(out) {
		out = bytes.ToValidUTF8(out, []byte("\uFFFD"))
	}
	return decodedHTML{HTML: out, Charset: name}
}

// text extracts the main text of a decoded page. pageURL helps the
// extractor resolve the page's own links and site conventions.
func (h *htmlToText) text(page []byte, pageURL string) (text string, err error) {
	if h.extractor == extractNone {
		return string(page), nil
	}
	res, err := h.extract(page, pageURL)
	if err != nil {
		return "", err
	}
	// ContentText runs all the page's text into one line; the content tree
	// keeps the paragraphs, headings, list items and rows that line-based
	// filters (C4) judge one by one.
	if res.ContentNode != nil {
		text = renderText(res.ContentNode)
	} else {
		text = strings.TrimSpace(res.ContentText)
	}
	if text == "" {
		return "", errNoMainText
	}
	return text, nil
}

// extract runs trafilatura on a decoded page.
func (h *htmlToText) extract(page []byte, pageURL string) (res *trafilatura.ExtractResult, err error) {
	defer func() {
		// The extractor is a large third-party port; one odd page must not
		// take the whole ingest down.
		if p := recover(); p != nil {
			res, err = nil, fmt.Errorf("extractor panicked: %v", p)
		}
	}()
	doc, err := html.Parse(bytes.NewReader(page))
	if err != nil {
		return nil, fmt.Errorf("parse HTML: %w", err)
	}
	opts := h.options
	if pageURL != "" {
		if u, uerr := url.Parse(pageURL); uerr == nil && u.Scheme != "" && u.Host != "" {
			opts.OriginalURL = u
		}
	}
	res, err = trafilatura.ExtractDocument(doc, opts)
	if err != nil || res == nil {
		return nil, errNoMainText
	}
	return res, nil
}
