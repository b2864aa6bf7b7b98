package punkt

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// NLTK is Python: whitespace, stripping, lower-casing and \w follow Python's
// str methods and re, not Go's, where the two differ. (filter/text.go has
// the same helpers for the filters' own rules.)

// asciiSpace marks the ASCII bytes that Python's str.isspace() accepts:
// \t \n \v \f \r, the four information separators \x1c-\x1f, and space.
var asciiSpace = [128]bool{'\t': true, '\n': true, '\v': true, '\f': true, '\r': true,
	0x1c: true, 0x1d: true, 0x1e: true, 0x1f: true, ' ': true}

// isPySpace reports whether Python's str.isspace() is true for r.
func isPySpace(r rune) bool {
	if r < utf8.RuneSelf {
		return asciiSpace[r]
	}
	// unicode.IsSpace covers U+0085, U+00A0 and the Z categories, which is
	// Python's set above ASCII.
	return unicode.IsSpace(r)
}

// pyLStrip is Python's s.lstrip().
func pyLStrip(s string) string {
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
		if !isPySpace(r) {
			return s
		}
		s = s[n:]
	}
	return s
}

// pyRStrip is Python's s.rstrip().
func pyRStrip(s string) string {
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
		if !isPySpace(r) {
			return s
		}
		s = s[:len(s)-n]
	}
	return s
}

// pyLower lower-cases s as Python's str.lower() does for the characters
// that matter here: Go's unicode.ToLower per rune, except that U+0130 (İ)
// becomes "i̇" (two code points) as in Python's full case mapping. Python's
// final-sigma rule is not reproduced (σ is used everywhere).
func pyLower(s string) string {
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

// isPyWordChar reports whether r matches Python's \w in a str pattern:
// letters, numbers (str.isalnum) and the underscore.
func isPyWordChar(r rune) bool {
	if r < utf8.RuneSelf {
		return r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z'
	}
	return unicode.IsLetter(r) || unicode.IsNumber(r)
}
