package tokenize

import (
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// wordPieceEncoder runs normalizer, pre-tokenizer and WordPiece in a single
// pass over the text. It lives on the caller's stack: the current word is
// built in wordBuf (a word longer than MaxInputCharsPerWord is [UNK] anyway,
// so its bytes need not be kept), and nothing is allocated per token.
type wordPieceEncoder struct {
	w     *WordPiece
	dst   []int32
	word  []byte
	chars int // characters in the current word, counted even when not stored
	// pending holds non-starter characters (canonical combining class ≠ 0)
	// that strip_accents keeps, until the next starter: NFD puts each run of
	// them in combining-class order, and only then are they lowercased and
	// added to the word.
	pending []rune
	// onWord, when set, receives each word instead of WordPiece (vocabulary
	// training counts words with exactly the normalizer used to encode).
	onWord     func(word []byte)
	wordBuf    [512]byte
	pendingBuf [8]rune
}

// segment encodes text that contains no added token.
func (e *wordPieceEncoder) segment(s string) {
	ascii := &e.w.ascii
	for i := 0; i < len(s); {
		b := s[i]
		if b < utf8.RuneSelf {
			i++
			if len(e.pending) > 0 {
				e.flushPending()
			}
			switch ascii[b] {
			case asciiKeep:
				e.appendByte(b)
			case asciiUpper:
				e.appendByte(b + ('a' - 'A'))
			case asciiSplit:
				e.flushWord()
			case asciiPunct:
				e.flushWord()
				e.appendByte(b)
				e.flushWord()
			}
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		e.nonASCII(r)
	}
	e.flushPending()
	e.flushWord()
}

// nonASCII takes one character through clean_text and handle_chinese_chars.
func (e *wordPieceEncoder) nonASCII(r rune) {
	f := flagsOf(r)
	opts := &e.w.opts
	if opts.CleanText {
		if f&fDrop != 0 {
			return
		}
		if f&fCleanSpace != 0 {
			e.flushPending()
			e.flushWord()
			return
		}
	}
	if opts.TokenizeChinese && f&fChinese != 0 {
		// The reference puts spaces around it: a word of its own.
		e.flushPending()
		e.flushWord()
		e.strip(r, f)
		e.flushPending()
		e.flushWord()
		return
	}
	e.strip(r, f)
}

// strip takes one character through strip_accents: NFD, then nonspacing
// marks dropped.
func (e *wordPieceEncoder) strip(r rune, f charFlags) {
	if !e.w.opts.StripAccents {
		e.lower(r, f)
		return
	}
	switch {
	case f&fMark != 0:
		// Dropped; a mark of combining class 0 still ends a reordering run.
		if len(e.pending) > 0 && combiningClass(r) == 0 {
			e.flushPending()
		}
	case f&fDecomp == 0:
		e.kept(r, f)
	default:
		if o, ok := stripOverride[r]; ok {
			for _, d := range o {
				e.kept(d, flagsOf(d))
			}
			return
		}
		var buf [utf8.UTFMax]byte
		n := utf8.EncodeRune(buf[:], r)
		if isHangulSyllable(r) {
			e.hangul(r)
			return
		}
		dec := norm.NFD.Properties(buf[:n]).Decomposition()
		for len(dec) > 0 {
			d, size := utf8.DecodeRune(dec)
			dec = dec[size:]
			fd := flagsOf(d)
			if fd&fMark != 0 {
				if len(e.pending) > 0 && combiningClass(d) == 0 {
					e.flushPending()
				}
				continue
			}
			e.kept(d, fd)
		}
	}
}

// kept is a character that survives strip_accents: starters go on at once,
// non-starters wait in pending for canonical ordering.
func (e *wordPieceEncoder) kept(r rune, f charFlags) {
	if r >= utf8.RuneSelf && combiningClass(r) != 0 {
		e.pending = append(e.pending, r)
		return
	}
	if len(e.pending) > 0 {
		e.flushPending()
	}
	e.lower(r, f)
}

// flushPending sorts the waiting non-starters by combining class (stably,
// as canonical ordering does) and passes them on.
func (e *wordPieceEncoder) flushPending() {
	p := e.pending
	if len(p) == 0 {
		return
	}
	for i := 1; i < len(p); i++ {
		for j := i; j > 0 && combiningClass(p[j-1]) > combiningClass(p[j]); j-- {
			p[j-1], p[j] = p[j], p[j-1]
		}
	}
	e.pending = p[:0]
	for _, r := range p {
		e.lower(r, flagsOf(r))
	}
}

// lower takes one character through lowercase.
func (e *wordPieceEncoder) lower(r rune, f charFlags) {
	if e.w.opts.Lowercase && f&fLower != 0 {
		for _, l := range lowerMap[r] {
			e.preTokenize(l, flagsOf(l))
		}
		return
	}
	e.preTokenize(r, f)
}

// preTokenize places one normalized character: whitespace ends the word,
// punctuation is a word of its own, anything else extends the word.
func (e *wordPieceEncoder) preTokenize(r rune, f charFlags) {
	switch {
	case f&fBertSpace != 0:
		e.flushWord()
	case f&fBertPunct != 0:
		e.flushWord()
		e.appendRune(r)
		e.flushWord()
	default:
		e.appendRune(r)
	}
}

func (e *wordPieceEncoder) appendByte(b byte) {
	e.chars++
	if e.chars <= e.w.opts.MaxInputCharsPerWord {
		e.word = append(e.word, b)
	}
}

func (e *wordPieceEncoder) appendRune(r rune) {
	e.chars++
	if e.chars <= e.w.opts.MaxInputCharsPerWord {
		e.word = utf8.AppendRune(e.word, r)
	}
}

// flushWord turns the current word into WordPiece ids: the longest
// vocabulary token that starts it, then the longest "##" token that starts
// the rest, and so on; a word that cannot be covered, or that is longer than
// MaxInputCharsPerWord characters, is one [UNK].
func (e *wordPieceEncoder) flushWord() {
	if e.chars == 0 {
		return
	}
	w := e.w
	if e.onWord != nil {
		if e.chars <= w.opts.MaxInputCharsPerWord { // longer words are [UNK] whatever the vocabulary
			e.onWord(e.word)
		}
	} else if e.chars > w.opts.MaxInputCharsPerWord {
		e.dst = append(e.dst, w.unk)
	} else {
		// Most words are whole tokens: one hash lookup (no allocation for a
		// map index by string(bytes)) beats walking the trie byte by byte.
		if id, ok := w.ids[string(e.word)]; ok {
			e.dst = append(e.dst, id)
			e.word = e.word[:0]
			e.chars = 0
			return
		}
		mark := len(e.dst)
		node := int32(trieRoot)
		for start := 0; start < len(e.word); {
			id, n := -int32(1), 0
			if node >= 0 {
				id, n = w.trie.longestPrefix(node, e.word[start:])
			}
			if id < 0 {
				e.dst = append(e.dst[:mark], w.unk)
				break
			}
			e.dst = append(e.dst, id)
			start += n
			node = w.cont
		}
	}
	e.word = e.word[:0]
	e.chars = 0
}

// combiningClass is the canonical combining class of r (0 for starters).
func combiningClass(r rune) uint8 {
	if r < 0x300 {
		return 0
	}
	var buf [utf8.UTFMax]byte
	n := utf8.EncodeRune(buf[:], r)
	return norm.NFD.Properties(buf[:n]).CCC()
}

// Hangul syllables decompose by arithmetic, not by table.
const (
	hangulBase  = 0xAC00
	hangulCount = 11172
	jamoLBase   = 0x1100
	jamoVBase   = 0x1161
	jamoTBase   = 0x11A7
	jamoTCount  = 28
	jamoNCount  = 588
)

func isHangulSyllable(r rune) bool { return r >= hangulBase && r < hangulBase+hangulCount }

func (e *wordPieceEncoder) hangul(r rune) {
	s := r - hangulBase
	l := jamoLBase + s/jamoNCount
	v := jamoVBase + (s%jamoNCount)/jamoTCount
	e.kept(l, flagsOf(l))
	e.kept(v, flagsOf(v))
	if t := s % jamoTCount; t != 0 {
		e.kept(jamoTBase+t, flagsOf(jamoTBase+t))
	}
}
