package filter

import (
	"unicode/utf8"

	"github.com/corpusflow/corpusflow/internal/pystr"
)

// The reference implementations of these filters are Python. To give the same
// answers, line splitting, stripping, word splitting and lower-casing follow
// Python's str methods, not Go's strings package, wherever the two differ:
//
//   - str.splitlines() also breaks at \v \f \x1c \x1d \x1e \x85 U+2028 U+2029;
//   - str.split()/strip() treat \x1c-\x1f as whitespace (Go's unicode.IsSpace
//     does not);
//   - len(word) counts code points, not bytes.

// nextLine returns the first line of s as Python's str.splitlines() cuts it
// and the rest after the line break. ok is false when s is empty.
func nextLine(s string) (line, rest string, ok bool) {
	if s == "" {
		return "", "", false
	}
	for i := 0; i < len(s); i++ {
		if !mayBreakLine[s[i]] {
			continue
		}
		switch c := s[i]; {
		case c == '\r':
			if i+1 < len(s) && s[i+1] == '\n' {
				return s[:i], s[i+2:], true
			}
			return s[:i], s[i+1:], true
		case c == 0xc2: // U+0085 NEL is C2 85
			if i+1 < len(s) && s[i+1] == 0x85 {
				return s[:i], s[i+2:], true
			}
		case c == 0xe2: // U+2028, U+2029 are E2 80 A8, E2 80 A9
			if i+2 < len(s) && s[i+1] == 0x80 && (s[i+2] == 0xa8 || s[i+2] == 0xa9) {
				return s[:i], s[i+3:], true
			}
		default: // \n \v \f \x1c \x1d \x1e
			return s[:i], s[i+1:], true
		}
	}
	return s, "", true
}

// mayBreakLine marks the bytes that are, or begin, a Python line boundary.
var mayBreakLine = [256]bool{'\n': true, '\v': true, '\f': true, '\r': true, 0x1c: true, 0x1d: true, 0x1e: true, 0xc2: true, 0xe2: true}

// wordStats describes the whitespace-separated words of a line (Python's
// str.split()): how many there are and the length in code points of the
// longest one.
type wordStats struct {
	words, longest int
}

// whitespaceWords counts the words of s as str.split() separates them.
func whitespaceWords(s string) wordStats {
	var st wordStats
	start, longestBytes := -1, 0 // start of the current word, -1 between words
	endWord := func(i int) {
		// Only a word longer in bytes than the longest so far can be longer
		// in code points, so runes are counted rarely.
		if n := i - start; n > longestBytes {
			longestBytes = n
			if r := utf8.RuneCountInString(s[start:i]); r > st.longest {
				st.longest = r
			}
		}
		start = -1
	}
	for i := 0; i < len(s); {
		c := s[i]
		switch byteClass[c] {
		case classOther:
			if start < 0 {
				start = i
				st.words++
			}
			i++
			continue
		case classSpace:
			if start >= 0 {
				endWord(i)
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if pystr.IsSpace(r) {
			if start >= 0 {
				endWord(i)
			}
		} else if start < 0 {
			start = i
			st.words++
		}
		i += n
	}
	if start >= 0 {
		endWord(len(s))
	}
	return st
}

// Byte classes for scanning words: a byte that is whitespace, one that is
// part of a non-space character, or a lead byte of a character that may be
// Unicode whitespace (U+0085, U+00A0, U+1680, U+2000-U+205F, U+3000).
const (
	classOther = iota
	classSpace
	classMaybeSpace
)

var byteClass = func() (t [256]uint8) {
	for c := 0; c < utf8.RuneSelf; c++ {
		if pystr.IsASCIISpace(byte(c)) {
			t[c] = classSpace
		}
	}
	t[0xc2], t[0xe1], t[0xe2], t[0xe3] = classMaybeSpace, classMaybeSpace, classMaybeSpace, classMaybeSpace
	return
}()

// isCJK reports whether r is written without spaces between words: Han
// ideographs, kana, Hangul syllables and their punctuation-free relatives.
// It is the same set of blocks that BERT's tokenizer splits into single
// characters, plus kana and Hangul.
func isCJK(r rune) bool {
	switch {
	case r < 0x1100:
		return false
	case r >= 0x4e00 && r <= 0x9fff, // CJK Unified Ideographs
		r >= 0x3400 && r <= 0x4dbf,   // Extension A
		r >= 0x20000 && r <= 0x2a6df, // Extension B
		r >= 0x2a700 && r <= 0x2ebef, // Extensions C-F
		r >= 0x30000 && r <= 0x323af, // Extensions G-H
		r >= 0xf900 && r <= 0xfaff,   // Compatibility Ideographs
		r >= 0x2f800 && r <= 0x2fa1f, // Compatibility Supplement
		r >= 0x3040 && r <= 0x30ff,   // Hiragana, Katakana
		r >= 0x31f0 && r <= 0x31ff,   // Katakana phonetic extensions
		r >= 0xac00 && r <= 0xd7af:   // Hangul syllables
		return true
	}
	return false
}

// cjkWords counts words the way corpusflow counts them for languages written
// without spaces: every CJK character is one word and every other run of
// non-space characters is one word, as BERT's BasicTokenizer splits Chinese.
// A maintained segmenter (gse) was measured and rejected for this hot path:
// 4 s and 190 MB to load its dictionary and 1.3 MB/s segmentation, against a
// rule that runs at hundreds of MB/s; for "at least N words" and "no word
// longer than N" a character rule is what BERT-style models see anyway.
func cjkWords(s string) wordStats {
	var st wordStats
	runLen := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			i++
			if pystr.IsASCIISpace(c) {
				runLen = 0
				continue
			}
		} else {
			r, n := utf8.DecodeRuneInString(s[i:])
			i += n
			if isCJK(r) {
				st.words++
				runLen = 0
				if st.longest < 1 {
					st.longest = 1
				}
				continue
			}
			if pystr.IsSpace(r) {
				runLen = 0
				continue
			}
		}
		if runLen == 0 {
			st.words++
		}
		runLen++
		if runLen > st.longest {
			st.longest = runLen
		}
	}
	return st
}
