package punkt

import (
	"unicode/utf8"

	"github.com/corpusflow/corpusflow/internal/pystr"
)

// ChineseBreaks counts the sentence ends Punkt does not see in Chinese
// text: a run of 。！？ (with any closing quotes or brackets after it)
// followed by more text. Punkt's English model knows only . ? !, so a
// Chinese paragraph is one sentence to it; the c4 stage adds this count for
// Chinese pages (per kept line) and line_dedup for every document (the
// whole text: a 。 ending a line before more lines counts there, as each
// line is at least one Punkt sentence in the c4 stage's per-line count).
func ChineseBreaks(text string) int {
	breaks := 0
	for i := 0; i < len(text); {
		if text[i] < utf8.RuneSelf {
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(text[i:])
		i += n
		if !isChineseSentenceEnd(r) {
			continue
		}
		for i < len(text) {
			r, n := utf8.DecodeRuneInString(text[i:])
			if !isChineseSentenceEnd(r) && !isClosingPunct(r) {
				break
			}
			i += n
		}
		if pystr.LStrip(text[i:]) != "" {
			breaks++
		}
	}
	return breaks
}

func isChineseSentenceEnd(r rune) bool { return r == '。' || r == '！' || r == '？' }

func isClosingPunct(r rune) bool {
	switch r {
	case '”', '」', '』', '）', ')', '"', '\'':
		return true
	}
	return false
}
