// Package pystr gives Python's str semantics where they differ from Go's.
//
// The reference implementations corpusflow reproduces (TFDS's C4 rules,
// datatrove's filters, NLTK's Punkt) are Python. To give the same answers,
// whitespace, stripping, lower-casing and \w follow Python's str methods and
// re module, not Go's strings and unicode packages:
//
//   - str.isspace()/strip() treat \x1c-\x1f as whitespace (Go's
//     unicode.IsSpace does not);
//   - str.lower() maps U+0130 (İ) to two code points;
//   - \w in a str pattern is str.isalnum() plus the underscore.
package pystr

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// asciiSpace marks the ASCII bytes that Python's str.isspace() accepts:
// \t \n \v \f \r, the four information separators \x1c-\x1f, and space.
var asciiSpace = [128]bool{'\t': true, '\n': true, '\v': true, '\f': true, '\r': true,
	0x1c: true, 0x1d: true, 0x1e: true, 0x1f: true, ' ': true}

// IsSpace reports whether Python's str.isspace() is true for r.
func IsSpace(r rune) bool {
	if r < utf8.RuneSelf {
		return asciiSpace[r]
	}
	// unicode.IsSpace covers U+0085, U+00A0 and the Z categories, which is
	// Python's set above ASCII.
	return unicode.IsSpace(r)
}

// Strip is Python's s.strip().
func Strip(s string) string { return RStrip(LStrip(s)) }

// LStrip is Python's s.lstrip().
func LStrip(s string) string {
	for len(s) > 0 {
		c := s[0]
		if c < utf8.RuneSelf {
			if !asciiSpace[c] {
				return s
			}
			s = s[1:]
			continue
		}
		r, n := utf8.DecodeRuneInString(s)
		if !IsSpace(r) {
			return s
		}
		s = s[n:]
	}
	return s
}

// RStrip is Python's s.rstrip().
func RStrip(s string) string {
	for len(s) > 0 {
		c := s[len(s)-1]
		if c < utf8.RuneSelf {
			if !asciiSpace[c] {
				return s
			}
			s = s[:len(s)-1]
			continue
		}
		r, n := utf8.DecodeLastRuneInString(s)
		if !IsSpace(r) {
			return s
		}
		s = s[:len(s)-n]
	}
	return s
}

// Lower lower-cases s as Python's str.lower() does for the characters that
// matter to corpusflow's rules: Go's unicode.ToLower per rune, except that
// U+0130 (İ) becomes "i̇" (two code points) as in Python's full case mapping.
// Python's final-sigma rule is not reproduced (σ is used everywhere).
func Lower(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		return strings.ToLower(s)
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		if r == 'İ' {
			b.WriteString("i\u0307")
			continue
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

// IsWordChar reports whether r matches Python's \w in a str pattern:
// letters, numbers (str.isalnum) and the underscore.
func IsWordChar(r rune) bool {
	if r < utf8.RuneSelf {
		return r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z'
	}
	return unicode.IsLetter(r) || unicode.IsNumber(r)
}

// IsASCIISpace reports whether the byte c, below utf8.RuneSelf, is Python
// whitespace: the fast path of loops that step over ASCII bytes.
func IsASCIISpace(c byte) bool { return c < utf8.RuneSelf && asciiSpace[c] }
