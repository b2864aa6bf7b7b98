package tokenize

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// addedToken is a token matched in the raw text before normalization, as the
// reference's AddedVocabulary does for special tokens ("[SEP]" in the text is
// the [SEP] token, not "[", "sep", "]").
type addedToken struct {
	content string
	id      int32
	special bool
	// Options of the reference's AddedToken.
	singleWord, lstrip, rstrip bool
}

// addedTokens finds added tokens in text, leftmost-longest first, like the
// reference's Aho-Corasick matcher.
type addedTokens struct {
	tokens []addedToken
	// byFirst[b] lists the tokens that start with byte b.
	byFirst [256][]int
	any     bool
	// firsts are the distinct first bytes; with one (BERT's '[', GPT-2's
	// '<') the scan is a memchr.
	firsts []byte
}

func newAddedTokens(tokens []addedToken) *addedTokens {
	a := &addedTokens{tokens: tokens}
	for i, t := range tokens {
		if t.content == "" {
			continue
		}
		if len(a.byFirst[t.content[0]]) == 0 {
			a.firsts = append(a.firsts, t.content[0])
		}
		a.byFirst[t.content[0]] = append(a.byFirst[t.content[0]], i)
		a.any = true
	}
	return a
}

// next finds the first added token in text[from:] and returns the span it
// takes (with lstrip/rstrip whitespace) and its id; start is -1 when there
// is none. prev is where the previous match ended: lstrip never reaches
// before it.
func (a *addedTokens) next(text string, from, prev int) (start, end int, id int32) {
	if a == nil || !a.any {
		return -1, -1, -1
	}
	for i := from; i < len(text); i++ {
		if len(a.firsts) == 1 {
			j := strings.IndexByte(text[i:], a.firsts[0])
			if j < 0 {
				break
			}
			i += j
		}
		cands := a.byFirst[text[i]]
		if len(cands) == 0 {
			continue
		}
		best := -1
		for _, c := range cands {
			t := &a.tokens[c]
			if strings.HasPrefix(text[i:], t.content) && (best < 0 || len(t.content) > len(a.tokens[best].content)) {
				best = c
			}
		}
		if best < 0 {
			continue
		}
		t := &a.tokens[best]
		s, e := i, i+len(t.content)
		if t.singleWord && (endsWithWordChar(text[:s]) || startsWithWordChar(text[e:])) {
			// The reference skips this match and goes on after it.
			i = e - 1
			continue
		}
		if t.lstrip {
			s = max(prev, len(strings.TrimRightFunc(text[:s], unicode.IsSpace)))
		}
		if t.rstrip {
			e = len(text) - len(strings.TrimLeftFunc(text[e:], unicode.IsSpace))
		}
		return s, e, t.id
	}
	return -1, -1, -1
}

func endsWithWordChar(s string) bool {
	r, n := utf8.DecodeLastRuneInString(s)
	return n > 0 && isAlphanumeric(r)
}

func startsWithWordChar(s string) bool {
	r, n := utf8.DecodeRuneInString(s)
	return n > 0 && isAlphanumeric(r)
}

func isAlphanumeric(r rune) bool { return unicode.IsLetter(r) || unicode.IsNumber(r) }

// lookup returns the id of an added token by its content.
func (a *addedTokens) lookup(content string) (int32, bool) {
	if a == nil {
		return -1, false
	}
	for _, t := range a.tokens {
		if t.content == content {
			return t.id, true
		}
	}
	return -1, false
}
