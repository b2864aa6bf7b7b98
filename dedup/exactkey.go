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
	opts  TextKeyOptions
	fold  cases.Caser
	buf   []byte
	space bool // whitespace seen since the last character kept
}

func newTextKeyer(opts TextKeyOptions) *textKeyer {
	return &textKeyer{opts: opts, fold: cases.Fold()}
}

// normalize returns the normalized form of text (valid until the next call).
//
// ASCII needs neither NFKC (it is its own normal form) nor more folding than
// A–Z to a–z, so runs of it are done byte by byte, and only the rest goes
// through NFKC and case folding: most English web text is ASCII, and this
// is ~3.4x faster on it (BenchmarkExactKey). Splitting there gives the same result as
// normalizing the whole text, because an ASCII character never combines with
// the character before it; it can with the one after (e + U+0301 is é), so
// an ASCII character followed by a non-ASCII one goes with the non-ASCII run.
// normalizeReference in the tests is the whole-text definition.
func (k *textKeyer) normalize(text string) []byte {
	k.buf = k.buf[:0]
	k.space = false
	if !utf8.ValidString(text) {
		// Records are valid UTF-8 (sources repair them). x/text reads an
		// invalid byte differently depending on what follows it, so a split
		// could change the result (FuzzNormalize found one): whole text.
		k.appendRunes(k.fold.String(norm.NFKC.String(text)))
		return k.buf
	}
	for len(text) > 0 {
		n := asciiRun(text)
		if n == len(text) || n >= minASCIIRun {
			k.appendASCII(text[:n])
			text = text[n:]
			continue
		}
		// A non-ASCII run, with the short ASCII runs in it (spaces and
		// digits in Chinese text: a run of their own would cost more in
		// calls than it saves) and the ASCII character before it.
		m := n
		for m < len(text) {
			if text[m] >= utf8.RuneSelf || (m+1 < len(text) && text[m+1] >= utf8.RuneSelf) {
				m++
				continue
			}
			r := asciiRun(text[m:])
			if r >= minASCIIRun || m+r == len(text) {
				break
			}
			m += r
		}
		k.appendRunes(k.fold.String(norm.NFKC.String(text[:m])))
		text = text[m:]
	}
	return k.buf
}

// minASCIIRun is the shortest ASCII run done byte by byte inside other text.
const minASCIIRun = 16

// asciiRun is the length of the ASCII prefix of s that no non-ASCII
// character follows directly.
func asciiRun(s string) int {
	n := 0
	for n < len(s) && s[n] < utf8.RuneSelf && (n+1 == len(s) || s[n+1] < utf8.RuneSelf) {
		n++
	}
	return n
}

// appendASCII adds ASCII text, as appendRunes would.
func (k *textKeyer) appendASCII(s string) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case keyASCIISpace[c]:
			k.space = len(k.buf) > 0
			continue
		case k.opts.StripPunctuation && keyASCIIPunct[c]:
			continue
		case k.opts.DigitsToZero && '0' <= c && c <= '9':
			c = '0'
		case 'A' <= c && c <= 'Z':
			c += 'a' - 'A'
		}
		if k.space {
			k.buf = append(k.buf, ' ')
			k.space = false
		}
		k.buf = append(k.buf, c)
	}
}

// appendRunes adds normalized, folded text: whitespace runs become one space
// (none at the start; one at the end only if more text follows), then the
// options.
func (k *textKeyer) appendRunes(folded string) {
	for _, r := range folded {
		switch {
		case unicode.IsSpace(r):
			k.space = len(k.buf) > 0
			continue
		case k.opts.StripPunctuation && unicode.IsPunct(r):
			continue
		case k.opts.DigitsToZero && unicode.IsDigit(r):
			r = '0'
		}
		if k.space {
			k.buf = append(k.buf, ' ')
			k.space = false
		}
		k.buf = utf8.AppendRune(k.buf, r)
	}
}

// keyASCIISpace and keyASCIIPunct are unicode.IsSpace and unicode.IsPunct on
// ASCII.
var keyASCIISpace, keyASCIIPunct = func() (space, punct [utf8.RuneSelf]bool) {
	for c := rune(0); c < utf8.RuneSelf; c++ {
		space[c], punct[c] = unicode.IsSpace(c), unicode.IsPunct(c)
	}
	return
}()

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
