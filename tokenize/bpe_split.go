package tokenize

import "unicode/utf8"

// gpt2PieceEnd returns where the pre-tokenization piece that starts at s[i]
// ends. It is GPT-2's pattern
//
//	's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
//
// written out by hand: a regexp engine (and Go's has no lookahead) costs more
// than the whole BPE on cached words. The classes \p{L}, \p{N} and \s are
// the reference's (charFlags), not Go's.
func gpt2PieceEnd(s string, i int) int {
	if s[i] == '\'' && i+1 < len(s) {
		switch s[i+1] {
		case 's', 't', 'm', 'd':
			return i + 2
		case 'r', 'v':
			if i+2 < len(s) && s[i+2] == 'e' {
				return i + 3
			}
		case 'l':
			if i+2 < len(s) && s[i+2] == 'l' {
				return i + 3
			}
		}
	}
	j := i
	if s[i] == ' ' {
		j = i + 1
	}
	if j < len(s) {
		c, size := charClassAt(s, j)
		switch {
		case c&fLetter != 0:
			return runEnd(s, j+size, fLetter)
		case c&fNumber != 0:
			return runEnd(s, j+size, fNumber)
		case c&fSpace == 0:
			return otherRunEnd(s, j+size)
		}
	}
	// s[i] is whitespace (a lone space before whitespace or the end lands
	// here too). \s+(?!\S): the run, minus its last character when
	// non-whitespace follows (that character will lead the next piece); \s+
	// when the run is that single character.
	end, last := i, i
	for end < len(s) {
		c, size := charClassAt(s, end)
		if c&fSpace == 0 {
			break
		}
		last = end
		end += size
	}
	if end < len(s) && last > i {
		return last
	}
	return end
}

// charClassAt returns the flags of the character at s[i] and its size.
func charClassAt(s string, i int) (charFlags, int) {
	if b := s[i]; b < utf8.RuneSelf {
		return asciiFlags[b], 1
	}
	r, size := utf8.DecodeRuneInString(s[i:])
	return flagsOf(r), size
}

// runEnd extends a run of characters that have flag.
func runEnd(s string, i int, flag charFlags) int {
	for i < len(s) {
		c, size := charClassAt(s, i)
		if c&flag == 0 {
			break
		}
		i += size
	}
	return i
}

// otherRunEnd extends a run of [^\s\p{L}\p{N}].
func otherRunEnd(s string, i int) int {
	for i < len(s) {
		c, size := charClassAt(s, i)
		if c&(fLetter|fNumber|fSpace) != 0 {
			break
		}
		i += size
	}
	return i
}

// asciiFlags caches flagsOf for ASCII.
var asciiFlags [utf8.RuneSelf]charFlags

func initASCIIFlags() {
	for b := range asciiFlags {
		asciiFlags[b] = flagsOf(rune(b))
	}
}
