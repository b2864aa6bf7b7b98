package dedup

import (
	"fmt"
	"math/rand"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"

	"github.com/corpusflow/corpusflow/internal/samples"
)

// normalizeReference is the key's definition on the whole text at once:
// NFKC, full case folding, whitespace runs collapsed to one space and
// trimmed, then the options. normalize must give exactly this.
func normalizeReference(text string, opts TextKeyOptions) string {
	folded := cases.Fold().String(norm.NFKC.String(text))
	var b []byte
	space := false
	for _, r := range folded {
		switch {
		case unicode.IsSpace(r):
			space = len(b) > 0
			continue
		case opts.StripPunctuation && unicode.IsPunct(r):
			continue
		case opts.DigitsToZero && unicode.IsDigit(r):
			r = '0'
		}
		if space {
			b = append(b, ' ')
			space = false
		}
		b = utf8.AppendRune(b, r)
	}
	return string(b)
}

var keyOptionSets = []TextKeyOptions{{}, {StripPunctuation: true}, {DigitsToZero: true}, {StripPunctuation: true, DigitsToZero: true}}

func checkNormalize(t testing.TB, text string) {
	for _, opts := range keyOptionSets {
		k := newTextKeyer(opts)
		if got, want := string(k.normalize(text)), normalizeReference(text, opts); got != want {
			t.Fatalf("normalize(%q) with %+v:\n got %q\nwant %q", text, opts, got, want)
		}
	}
}

// Characters where splitting the text into ASCII and non-ASCII runs could
// go wrong: combining marks after ASCII letters, compatibility forms that
// decompose to ASCII, folds that grow (ß) or leave ASCII (K, the Kelvin sign,
// folds to k), Hangul jamo that compose, non-ASCII spaces and digits, and
// invalid UTF-8.
var trickyPieces = []string{
	"e\u0301", "E\u0301\u0323", "\u0301", "\u0345", "A\u030a", "ﬁ", "Ａ", "①", "㎏", "ß", "ẞ",
	"\u212a", "\u2126", "ΣΑΣ", "ς", "İ", "ı", "\u1100\u1161\u11a8", "\u00a0", "\u3000", "\u2028",
	"٣", "٫", "、", "。", "«", "—", "\xff", "\xe2\x82", "a", "Z", " ", "\t", "\n", "9", ".", ",", "x",
}

func TestNormalizeEqualsReference(t *testing.T) {
	for _, name := range []string{samples.WikiText2Test, samples.ZhWiki, samples.DolmaCC0091} {
		lines, err := samples.Lines(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range lines {
			checkNormalize(t, l)
		}
	}
	rng := rand.New(rand.NewSource(1))
	for i := 0; i < 20000; i++ {
		var b strings.Builder
		for j := rng.Intn(12); j >= 0; j-- {
			b.WriteString(trickyPieces[rng.Intn(len(trickyPieces))])
		}
		checkNormalize(t, b.String())
	}
	for _, p := range trickyPieces {
		for _, q := range trickyPieces {
			checkNormalize(t, p+q)
			checkNormalize(t, fmt.Sprintf(" %s %s ", p, q))
		}
	}
}

func FuzzNormalize(f *testing.F) {
	for _, p := range trickyPieces {
		f.Add(p + "b" + p)
	}
	f.Fuzz(func(t *testing.T, text string) { checkNormalize(t, text) })
}
