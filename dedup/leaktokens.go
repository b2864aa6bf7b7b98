package dedup

import (
	"unicode"
	"unicode/utf8"

	"github.com/cespare/xxhash/v2"
	"golang.org/x/text/unicode/norm"
)

// leakToken is one word (or one CJK character) of a text, as the leakage
// index compares it: lowercased, without diacritics. start and end are byte
// offsets into the original text, so a match can be highlighted there.
type leakToken struct {
	hash       uint64
	start, end int32
}

// leakTokenizer splits text for leakage detection. Unlike the datatrove
// simplifier it treats punctuation as a separator ("well-known" and
// "well @-@ known" both give "well known"), so copies with changed
// punctuation or spacing still match; only apostrophes are dropped inside a
// word ("don't" = "dont"). Each CJK character is a token, so Chinese is
// compared by characters as GPT-3 style n-grams require.
type leakTokenizer struct {
	word   []byte
	decomp []byte
	toks   []leakToken
}

func (t *leakTokenizer) tokenize(text string) []leakToken {
	t.toks = t.toks[:0]
	t.word = t.word[:0]
	wordStart := -1
	flush := func(end int) {
		if wordStart >= 0 {
			if len(t.word) > 0 {
				t.toks = append(t.toks, leakToken{hash: xxhash.Sum64(t.word), start: int32(wordStart), end: int32(end)})
			}
			t.word = t.word[:0]
			wordStart = -1
		}
	}
	for i := 0; i < len(text); {
		c := text[i]
		if c < utf8.RuneSelf {
			switch {
			case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
				if wordStart < 0 {
					wordStart = i
				}
				t.word = append(t.word, c)
			case c >= 'A' && c <= 'Z':
				if wordStart < 0 {
					wordStart = i
				}
				t.word = append(t.word, c+'a'-'A')
			case c == '\'' && wordStart >= 0:
				// joined: "don't" = "dont"
			default:
				flush(i)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(text[i:])
		switch {
		case isCJK(r):
			flush(i)
			t.word = utf8.AppendRune(t.word, r)
			wordStart = i
			flush(i + size)
		case r == '’' && wordStart >= 0:
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			if wordStart < 0 {
				wordStart = i
			}
			t.appendFolded(r)
		case unicode.Is(unicode.Mn, r) && wordStart >= 0:
			// a combining accent: dropped, the word goes on
		default:
			flush(i)
		}
		i += size
	}
	flush(len(text))
	return t.toks
}

// appendFolded appends r lowercased and without diacritics.
func (t *leakTokenizer) appendFolded(r rune) {
	r = unicode.ToLower(r)
	var one [utf8.UTFMax]byte
	n := utf8.EncodeRune(one[:], r)
	t.decomp = norm.NFD.Append(t.decomp[:0], one[:n]...)
	for j := 0; j < len(t.decomp); {
		d, size := utf8.DecodeRune(t.decomp[j:])
		j += size
		if !unicode.Is(unicode.Mn, d) {
			t.word = utf8.AppendRune(t.word, d)
		}
	}
}

// gramHash combines n token hashes into one well-mixed 64-bit hash.
func gramHash(toks []leakToken) uint64 {
	h := uint64(len(toks)) * 0x9e3779b97f4a7c15
	for _, tk := range toks {
		h = (h ^ tk.hash) * 0xbf58476d1ce4e5b9
		h ^= h >> 29
	}
	return h ^ h>>32
}

// The leakage index keys n-grams by a chain over their token hashes that
// only mixes in the length at the end, so the key of a position's shortest
// gram is a step on the way to its longer ones: matching continues one
// chain through all gram lengths. (gramHash, which starts from the length,
// stays for highlighting.)
const gramSeed = 0x8f1bbcdcca62c1d6

// gramStep adds one token hash to a gram chain.
func gramStep(h, tok uint64) uint64 {
	h = (h ^ tok) * 0xbf58476d1ce4e5b9
	return h ^ h>>29
}

// gramKey finishes a chain of n tokens into the gram's key.
func gramKey(h uint64, n int) uint64 {
	h = (h ^ uint64(n)*0x9e3779b97f4a7c15) * 0x94d049bb133111eb
	return h ^ h>>32
}

// prefixRoll is a polynomial hash of token hashes, Σ t_k·B^(n−1−k) mod
// 2^64, which a sliding window updates with two multiplies: the leakage
// index filters gram positions by it. Token hashes are uniform 64-bit
// values, so it is as good as any hash for a filter.
func prefixRoll(toks []leakToken) uint64 {
	var h uint64
	for _, t := range toks {
		h = h*prefixRollBase + t.hash
	}
	return h
}

const prefixRollBase = 0x9e3779b97f4a7c15

// shingle2 hashes two consecutive tokens for the MinHash probe.
func shingle2(a, b uint64) uint64 {
	h := (a*0x9e3779b97f4a7c15 ^ b) * 0xbf58476d1ce4e5b9
	return h ^ h>>31
}
