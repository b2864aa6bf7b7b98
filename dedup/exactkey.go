package dedup

import (
	"net/url"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/cespare/xxhash/v2"
	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

// TextKeyOptions choose how much two texts may differ and still be "the same".
type TextKeyOptions struct {
	StripPunctuation bool // drop Unicode punctuation (P*)
	DigitsToZero     bool // every decimal digit becomes 0
}

// textKeyer hashes normalized text: Unicode NFKC, full case folding,
// whitespace runs collapsed to one space and trimmed, then the options. It
// keeps its buffers, so it is for one goroutine.
type textKeyer struct {
	opts TextKeyOptions
	fold cases.Caser
	buf  []byte
}

func newTextKeyer(opts TextKeyOptions) *textKeyer {
	return &textKeyer{opts: opts, fold: cases.Fold()}
}

// normalize returns the normalized form of text (valid until the next call).
func (k *textKeyer) normalize(text string) []byte {
	folded := k.fold.String(norm.NFKC.String(text))
	k.buf = k.buf[:0]
	space := false
	for _, r := range folded {
		switch {
		case unicode.IsSpace(r):
			space = len(k.buf) > 0
			continue
		case k.opts.StripPunctuation && unicode.IsPunct(r):
			continue
		case k.opts.DigitsToZero && unicode.IsDigit(r):
			r = '0'
		}
		if space {
			k.buf = append(k.buf, ' ')
			space = false
		}
		k.buf = utf8.AppendRune(k.buf, r)
	}
	return k.buf
}

// key is the xxhash64 of the normalized text.
func (k *textKeyer) key(text string) uint64 { return xxhash.Sum64(k.normalize(text)) }

// URL rules of exact_dedup's url key.
const (
	URLRuleC4     = "c4"     // C4's own rule, byte for byte (the default)
	URLRuleParams = "params" // drop only the tracking parameters, lowercase the host
)

// C4's normalize_url (TFDS c4_utils.py), which C4 deduplicated pages by:
// the two substitutions are unanchored and case-sensitive, and the second
// cuts everything from a "?utm_", "?ref" or "?feed" to the end, including
// other parameters after it ("?ref=x&id=3" goes whole, "?id=3&ref=x" stays).
var (
	c4URLScheme = regexp.MustCompile(`https?://(www\.)?`)
	c4URLQuery  = regexp.MustCompile(`\?(utm_|ref|feed).*`)
)

// NormalizeURL returns the form under which two URLs count as the same page
// by C4's rule: every "http://", "https://", "http://www." and
// "https://www." removed, everything from the first "?utm_", "?ref" or
// "?feed" on removed, trailing "/" removed; nothing else changes (case,
// ports, fragments and other parameters stay). ok is false when raw is not
// a URL with a host, so records without a real URL are kept rather than
// all counted as one page (C4 had only the absolute URLs of WARC headers).
func NormalizeURL(raw string) (string, bool) {
	raw = strings.TrimSpace(raw)
	if u, err := url.Parse(raw); err != nil || u.Host == "" {
		return "", false
	}
	s := c4URLScheme.ReplaceAllString(raw, "")
	s = c4URLQuery.ReplaceAllString(s, "")
	return strings.TrimRight(s, "/"), true
}

// droppedQuery reports query parameters that only track where a visitor came
// from and do not change the page.
func droppedQuery(name string) bool {
	name = strings.ToLower(name)
	return strings.HasPrefix(name, "utm_") || name == "ref" || name == "feed"
}

// NormalizeURLParams is the url_rule "params": no scheme, lowercase host
// without "www." and default port, the tracking parameters (utm_*, ref,
// feed: names compared without case) and the fragment removed while other
// parameters stay, no trailing "/". ok is false when raw is not a URL with
// a host.
func NormalizeURLParams(raw string) (string, bool) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.Host == "" {
		return "", false
	}
	host := strings.TrimPrefix(strings.ToLower(u.Host), "www.")
	host = strings.TrimSuffix(host, ":80")
	host = strings.TrimSuffix(host, ":443")
	var b strings.Builder
	b.WriteString(host)
	b.WriteString(strings.TrimRight(u.EscapedPath(), "/"))
	if u.RawQuery != "" {
		var kept []string
		for _, part := range strings.Split(u.RawQuery, "&") {
			name, _, _ := strings.Cut(part, "=")
			if part == "" || droppedQuery(name) {
				continue
			}
			kept = append(kept, part)
		}
		if len(kept) > 0 {
			b.WriteByte('?')
			b.WriteString(strings.Join(kept, "&"))
		}
	}
	return b.String(), true
}
