package dedup

import (
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// datatrovePunctuation is the exact character set datatrove's simplify_text
// deletes (datatrove/utils/text.py PUNCTUATION): a list of ASCII and CJK
// punctuation plus the C0/C1 control characters that are not whitespace.
// Keeping the very same set is what makes our shingles equal theirs; note
// that it deletes rather than splits, so "don't" becomes "dont".
const datatrovePunctuation = "!/—”:％１〈&(、━\\【#%「」，】；+^]~“《„';’{|∶´[=-`*．（–？！：$～«〉,><》)?）。…@_.\"}►»"

var datatrovePunct = func() map[rune]bool {
	m := map[rune]bool{}
	for _, r := range datatrovePunctuation {
		m[r] = true
	}
	for _, span := range [][2]rune{{0, 9}, {11, 13}, {14, 32}, {127, 160}} {
		for r := span[0]; r < span[1]; r++ {
			m[r] = true
		}
	}
	return m
}()

// asciiPunct is datatrovePunct for the ASCII range, as a table, because the
// map lookup would dominate the cost of simplifying English text.
var asciiPunct = func() (t [128]bool) {
	for r := rune(0); r < 128; r++ {
		t[r] = datatrovePunct[r]
	}
	return t
}()

// isPythonSpace is what Python's `\s` and str.split() treat as whitespace;
// it is unicode.IsSpace plus the four ASCII information separators.
func isPythonSpace(r rune) bool {
	return unicode.IsSpace(r) || (r >= 0x1c && r <= 0x1f)
}

// isCJK reports runes of scripts written without spaces between words. Each
// such character is a token of its own, so a Chinese page becomes a sequence
// of characters instead of one giant "word".
func isCJK(r rune) bool {
	if r < 0x2e80 {
		return false
	}
	return unicode.Is(unicode.Han, r) || unicode.Is(unicode.Hiragana, r) ||
		unicode.Is(unicode.Katakana, r) || r == 0x3005 || r == 0x3007
}

// simplifier turns text into datatrove's simplified form in one pass, with
// no allocation once its buffers have grown:
//
//	lowercase → whitespace runs to one space → delete datatrovePunctuation →
//	Unicode NFD and drop combining marks (Mn) → each run of digits to "0"
//
// and splits it into tokens: whitespace-separated words, with every CJK
// character a token of its own. Tokens are written to buf separated by one
// space, so the bytes of tokens i..j are buf[start[i]:end[j]] and equal
// " ".join(tokens[i..j]): a shingle is hashed without building a string.
type simplifier struct {
	buf   []byte
	start []int32
	end   []int32

	inToken   bool
	lastDigit bool
	decomp    []byte
	single    [utf8.UTFMax]byte
}

func (s *simplifier) reset() {
	s.buf = s.buf[:0]
	s.start = s.start[:0]
	s.end = s.end[:0]
	s.inToken = false
	s.lastDigit = false
}

// simplify fills s with the tokens of text.
func (s *simplifier) simplify(text string) {
	s.reset()
	for i := 0; i < len(text); {
		c := text[i]
		if c < utf8.RuneSelf {
			i++
			switch {
			case c == ' ' || (c >= '\t' && c <= '\r') || (c >= 0x1c && c <= 0x1f):
				s.boundary()
			case asciiPunct[c]:
				// deleted: the letters on both sides join
			case c >= '0' && c <= '9':
				s.emitDigit()
			default:
				if c >= 'A' && c <= 'Z' {
					c += 'a' - 'A'
				}
				s.open()
				s.buf = append(s.buf, c)
				s.lastDigit = false
			}
			continue
		}
		r, size := utf8.DecodeRuneInString(text[i:])
		i += size
		s.rune(unicode.ToLower(r))
	}
	s.boundary()
}

// rune handles one lowercased non-ASCII rune.
func (s *simplifier) rune(r rune) {
	switch {
	case isPythonSpace(r):
		s.boundary()
		return
	case datatrovePunct[r]:
		return
	}
	n := utf8.EncodeRune(s.single[:], r)
	s.decomp = norm.NFD.Append(s.decomp[:0], s.single[:n]...)
	for j := 0; j < len(s.decomp); {
		d, size := utf8.DecodeRune(s.decomp[j:])
		j += size
		switch {
		case unicode.Is(unicode.Mn, d):
		case unicode.IsDigit(d):
			s.emitDigit()
		case isCJK(d):
			s.boundary()
			s.open()
			s.buf = utf8.AppendRune(s.buf, d)
			s.boundary()
		default:
			s.open()
			s.buf = utf8.AppendRune(s.buf, d)
			s.lastDigit = false
		}
	}
}

func (s *simplifier) emitDigit() {
	if s.inToken && s.lastDigit {
		return
	}
	s.open()
	s.buf = append(s.buf, '0')
	s.lastDigit = true
}

func (s *simplifier) open() {
	if s.inToken {
		return
	}
	if len(s.buf) > 0 {
		s.buf = append(s.buf, ' ')
	}
	s.start = append(s.start, int32(len(s.buf)))
	s.inToken = true
}

func (s *simplifier) boundary() {
	if !s.inToken {
		return
	}
	s.end = append(s.end, int32(len(s.buf)))
	s.inToken = false
	s.lastDigit = false
}

// tokens is the number of tokens found.
func (s *simplifier) tokens() int { return len(s.end) }

// span is the bytes of tokens i..j inclusive, joined by single spaces.
func (s *simplifier) span(i, j int) []byte { return s.buf[s.start[i]:s.end[j]] }
