package pystr

import "testing"

// The expected values are what CPython 3 returns for the same strings.
func TestStrip(t *testing.T) {
	for _, c := range []struct{ in, strip, lstrip, rstrip string }{
		{"", "", "", ""},
		{"  a b  ", "a b", "a b  ", "  a b"},
		{"\x1c\x1fword\x1e", "word", "word\x1e", "\x1c\x1fword"},
		{"\u00a0\u3000中文\u2028", "中文", "中文\u2028", "\u00a0\u3000中文"},
		{"\u0085x\u200b", "x\u200b", "x\u200b", "\u0085x\u200b"}, // U+200B is not whitespace in Python
		{"\v\f\r\n\t", "", "", ""},
	} {
		if got := Strip(c.in); got != c.strip {
			t.Errorf("Strip(%q) = %q, want %q", c.in, got, c.strip)
		}
		if got := LStrip(c.in); got != c.lstrip {
			t.Errorf("LStrip(%q) = %q, want %q", c.in, got, c.lstrip)
		}
		if got := RStrip(c.in); got != c.rstrip {
			t.Errorf("RStrip(%q) = %q, want %q", c.in, got, c.rstrip)
		}
	}
}

func TestLower(t *testing.T) {
	for in, want := range map[string]string{
		"ABC def":  "abc def",
		"İstanbul": "i\u0307stanbul",
		"ÀÉÎ Σ":    "àéî σ", // Python gives final sigma ς for a word-final Σ after a letter; not reproduced
		"中文":       "中文",
	} {
		if got := Lower(in); got != want {
			t.Errorf("Lower(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestIsWordChar(t *testing.T) {
	for r, want := range map[rune]bool{'a': true, 'Z': true, '0': true, '_': true, '-': false, ' ': false,
		'é': true, '中': true, '٣': true, '²': true, '。': false, '\u00a0': false} {
		if got := IsWordChar(r); got != want {
			t.Errorf("IsWordChar(%q) = %v, want %v", r, got, want)
		}
	}
}

func TestIsSpace(t *testing.T) {
	for r, want := range map[rune]bool{' ': true, '\x1c': true, '\x1f': true, '\x85': true, '\u00a0': true,
		'\u3000': true, '\u2028': true, '\u200b': false, 'a': false, '\x00': false} {
		if got := IsSpace(r); got != want {
			t.Errorf("IsSpace(%q) = %v, want %v", r, got, want)
		}
	}
}
