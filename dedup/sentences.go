package dedup

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// sentenceStarts is span_dedup's sentence splitter: it returns the byte
// offset where each sentence of text begins; sentence i is
// text[starts[i]:starts[i+1]] (the last one runs to the end), so the pieces
// cover the text exactly and removing some leaves the rest byte for byte. A
// sentence ends after . ! ? (and closing quotes or brackets) followed by
// whitespace, after 。！？ (Chinese needs no space), or at a line break.
//
// This is deliberately simple, and it is NOT how the c4 and line_dedup
// stages count sentences: they use NLTK's Punkt (internal/punkt), which
// knows abbreviations and initials ("Mr. Smith", "J. S. Bach" are one
// sentence there, two and three here) and does not end a sentence at a line
// break. span_dedup needs offsets, which the Punkt counter does not give,
// and the same rule on both sides of a comparison is what matters for
// finding repeated spans; its min_sentences counts with this splitter too,
// so it judges the spans it removed by the same sentences.
func sentenceStarts(text string) []int {
	var starts []int
	begin := -1 // start of the current sentence, -1 before its first non-space
	for i := 0; i < len(text); {
		r, size := utf8.DecodeRuneInString(text[i:])
		if begin < 0 && !unicode.IsSpace(r) {
			begin = i
			starts = append(starts, i)
		}
		i += size
		if begin < 0 {
			continue
		}
		switch r {
		case '\n':
			begin = -1
		case '。', '！', '？':
			i = skipClosers(text, i)
			begin = -1
		case '.', '!', '?':
			j := skipClosers(text, i)
			if j == len(text) || isSpaceAt(text, j) {
				i = j
				begin = -1
			}
		}
	}
	if len(starts) > 0 {
		starts[0] = 0 // leading whitespace belongs to the first sentence
	}
	return starts
}

func skipClosers(text string, i int) int {
	for i < len(text) {
		r, size := utf8.DecodeRuneInString(text[i:])
		if !strings.ContainsRune(`"')]}’”」』）`, r) {
			break
		}
		i += size
	}
	return i
}

func isSpaceAt(text string, i int) bool {
	r, _ := utf8.DecodeRuneInString(text[i:])
	return unicode.IsSpace(r)
}

// countSentences counts span_dedup's sentences of text that contain a
// letter.
func countSentences(text string) int {
	starts := sentenceStarts(text)
	n := 0
	for i, s := range starts {
		end := len(text)
		if i+1 < len(starts) {
			end = starts[i+1]
		}
		if strings.IndexFunc(text[s:end], unicode.IsLetter) >= 0 {
			n++
		}
	}
	return n
}
