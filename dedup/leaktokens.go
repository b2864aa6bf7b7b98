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
		if wordStart < 0 && c < utf8.RuneSelf {
			if asciiWord[c] == asciiOther {
				i++ // a separator between words
				continue
			}
			// The common case, a word of ASCII letters and digits ended by
			// ASCII punctuation or space, is hashed in place (after
			// lowercasing, if it has capitals); anything else starting
			// here is left to the general loop.
			j, classes := i, uint8(0)
			for ; j < len(text); j++ {
				k := asciiWord[text[j]]
				if k == asciiOther {
					break
				}
				classes |= k
			}
			if j == len(text) || text[j] < utf8.RuneSelf && text[j] != '\'' {
				var h uint64
				if classes&asciiUpper != 0 {
					t.word = t.word[:0]
					for k := i; k < j; k++ {
						b := text[k]
						if asciiWord[b] == asciiUpper {
							b += 'a' - 'A'
						}
						t.word = append(t.word, b)
					}
					h = xxhash.Sum64(t.word)
					t.word = t.word[:0]
				} else {
					h = xxhash.Sum64String(text[i:j])
				}
				t.toks = append(t.toks, leakToken{hash: h, start: int32(i), end: int32(j)})
				i = j
				continue
			}
		}
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
		case r >= 0x4e00 && r <= 0x9fff || isCJK(r): // the common Han block first
			// A token of its own, whose bytes are the text's (a decoded
			// rune is valid UTF-8): hashed in place.
			flush(i)
			t.toks = append(t.toks, leakToken{hash: xxhash.Sum64String(text[i : i+size]), start: int32(i), end: int32(i + size)})
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

// asciiWord classes the bytes of ASCII words for the tokenizer's fast path.
const (
	asciiOther = 0
	asciiLower = 1 // a–z and 0–9
	asciiUpper = 2 // A–Z
)

var asciiWord = func() (t [256]uint8) {
	for c := 'a'; c <= 'z'; c++ {
		t[c] = asciiLower
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = asciiLower
	}
	for c := 'A'; c <= 'Z'; c++ {
		t[c] = asciiUpper
	}
	return t
}()

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
