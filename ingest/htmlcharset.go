package ingest

import (
	"bytes"
	"strings"

	"github.com/saintfish/chardet"
	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/htmlindex"
)

// Charset detection for pages that declare no charset at all (no byte
// order mark, no charset in the Content-Type, no <meta> in the first
// kilobyte) and are not UTF-8. The WHATWG default for them is windows-1252,
// which turns an undeclared GBK, Big5, Shift_JIS or EUC-KR page into
// mojibake; ICU's statistical detector (the Go port) recognises those
// multi-byte encodings with high confidence.
const (
	// detectSampleBytes bounds the detector's work on a large page; the
	// first 64 KiB say as much about the encoding as the rest.
	detectSampleBytes = 64 << 10
	// detectMinConfidence is the detector's score (0-100) its guess must
	// reach to replace windows-1252. On the WARC samples' pages with their
	// declarations removed, GBK scores 83-100; its guesses for Latin and
	// Cyrillic pages (ISO-8859-1, -9, windows-1254 ...) score under 35 and
	// are often wrong, so those stay windows-1252, as before.
	detectMinConfidence = 50
)

// declaresCharset reports whether the first kilobyte (where the WHATWG
// prescan looks) mentions a charset, as a <meta charset> or a <meta
// http-equiv> content does. A page that does is decoded as it says, never
// by detection. (The word elsewhere, in a script or comment, only means
// the page keeps the windows-1252 default.)
func declaresCharset(body []byte) bool {
	head := body[:min(len(body), 1024)]
	return bytes.Contains(bytes.ToLower(head), []byte("charset"))
}

// detectCharset guesses the encoding of an undeclared page that is not
// UTF-8. ok is false when the guess is weak or names no encoding HTML
// knows (or the "replacement" encoding HTML uses for ISO-2022-KR/CN).
func detectCharset(body []byte) (enc encoding.Encoding, name string, ok bool) {
	best, err := chardet.NewHtmlDetector().DetectBest(body[:min(len(body), detectSampleBytes)])
	if err != nil || best.Confidence < detectMinConfidence {
		return nil, "", false
	}
	label := strings.ToLower(best.Charset)
	if label == "gb-18030" { // ICU's name; the WHATWG label is gb18030
		label = "gb18030"
	}
	enc, err = htmlindex.Get(label)
	if err != nil || enc == encoding.Replacement {
		return nil, "", false
	}
	name, err = htmlindex.Name(enc)
	if err != nil {
		return nil, "", false
	}
	return enc, name, true
}
