package filter

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/corpusflow/corpusflow/flow"
	"github.com/corpusflow/corpusflow/internal/pystr"
)

// Word tokens for the Gopher and FineWeb rules. datatrove splits words with
// NLTK's word_tokenize for English (and spaCy's segmenters for others); a
// regexp-free approximation is used here, documented so its counts can be
// checked by hand:
//
//   - text is split at Python whitespace;
//   - punctuation and symbols at the start or end of a chunk are tokens of
//     their own, one per character ("(word)," is "(", "word", ")", ","), as
//     word_tokenize splits them; punctuation inside a chunk stays ("U.S.",
//     "e-mail", "3.5", "don't");
//   - with Chinese rules every CJK character is a word of its own (BERT's
//     rule, and what the c4 stage uses; see cjkWords for why not a
//     segmenter).
//
// Tokens are substrings of the text: splitting allocates only the slice.

// isSymbolRune is datatrove's PUNCTUATION_SET approximated by Unicode
// classes: punctuation, symbols and control characters.
func isSymbolRune(r rune) bool {
	if r < utf8.RuneSelf {
		return r < 0x20 || r == 0x7f || ('!' <= r && r <= '/') || (':' <= r && r <= '@') ||
			('[' <= r && r <= '`') || ('{' <= r && r <= '~')
	}
	return unicode.IsPunct(r) || unicode.IsSymbol(r) || unicode.IsControl(r)
}

// splitWords appends the word tokens of text to dst.
func splitWords(text string, chinese bool, dst []string) []string {
	eachWord(text, chinese, func(w string) { dst = append(dst, w) })
	return dst
}

// eachWord calls yield with every word token of text, in order, without
// allocating.
func eachWord(text string, chinese bool, yield func(string)) {
	for i := 0; i < len(text); {
		r, n := utf8.DecodeRuneInString(text[i:])
		if pystr.IsSpace(r) {
			i += n
			continue
		}
		// One whitespace-separated chunk.
		j := i
		for j < len(text) {
			c := text[j]
			if c < utf8.RuneSelf {
				if pystr.IsASCIISpace(c) {
					break
				}
				j++
				continue
			}
			r, m := utf8.DecodeRuneInString(text[j:])
			if pystr.IsSpace(r) {
				break
			}
			j += m
		}
		eachChunkWord(text[i:j], chinese, yield)
		i = j
	}
}

func eachChunkWord(chunk string, chinese bool, yield func(string)) {
	// Leading symbols.
	for len(chunk) > 0 {
		r, n := utf8.DecodeRuneInString(chunk)
		if !isSymbolRune(r) {
			break
		}
		yield(chunk[:n])
		chunk = chunk[n:]
	}
	// Trailing symbols, yielded after the core.
	end := len(chunk)
	for end > 0 {
		r, n := utf8.DecodeLastRuneInString(chunk[:end])
		if !isSymbolRune(r) {
			break
		}
		end -= n
	}
	core, tail := chunk[:end], chunk[end:]
	if core != "" {
		if chinese {
			eachCJKWord(core, yield)
		} else {
			yield(core)
		}
	}
	for len(tail) > 0 {
		_, n := utf8.DecodeRuneInString(tail)
		yield(tail[:n])
		tail = tail[n:]
	}
}

// eachCJKWord makes every CJK character (and CJK punctuation) a token and
// keeps runs of other characters together.
func eachCJKWord(s string, yield func(string)) {
	start := -1
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if isCJK(r) || (r >= 0x3000 && r <= 0x303f) || (r >= 0xff00 && r <= 0xffef && isSymbolRune(r)) {
			if start >= 0 {
				yield(s[start:i])
				start = -1
			}
			yield(s[i : i+n])
		} else if start < 0 {
			start = i
		}
		i += n
	}
	if start >= 0 {
		yield(s[start:])
	}
}

// textLanguage picks English or Chinese rules for a record: "en" and "zh"
// force them, "auto" follows the record's lang label.
func textLanguage(setting string, r *flow.Record) (chinese bool) {
	switch setting {
	case "zh":
		return true
	case "en":
		return false
	}
	return isChineseTag(r.Meta[LangMetaKey]) || isChineseTag(r.Meta["language"])
}

// runeLen is Python's len(str).
func runeLen(s string) int { return utf8.RuneCountInString(s) }

// hasLetter is any(c.isalpha() for c in s).
func hasLetter(s string) bool {
	for _, r := range s {
		if unicode.IsLetter(r) {
			return true
		}
	}
	return false
}

// isSymbolWord is true when every character is punctuation or a symbol.
func isSymbolWord(s string) bool {
	for _, r := range s {
		if !isSymbolRune(r) {
			return false
		}
	}
	return true
}

// countNonOverlapping is Python's str.count.
func countNonOverlapping(s, sub string) int { return strings.Count(s, sub) }
