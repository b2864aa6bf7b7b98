package dedup

import (
	"strings"
	"unicode/utf8"
)

// Span is a byte range [Start, End) of a text.
type Span struct {
	Start int `json:"start"`
	End   int `json:"end"`
}

// overlapSpans marks where two token sequences share n-grams: the byte
// spans of a's tokens covered by an n-gram that b also has, and the same for
// b. Adjacent covered tokens merge into one span.
func overlapSpans(a, b []leakToken, n int) (spansA, spansB []Span) {
	if n < 1 {
		n = 1
	}
	gramsOf := func(t []leakToken) map[uint64]bool {
		m := make(map[uint64]bool, len(t))
		if len(t) < n {
			if len(t) > 0 {
				m[gramHash(t)] = true
			}
			return m
		}
		for i := 0; i+n <= len(t); i++ {
			m[gramHash(t[i:i+n])] = true
		}
		return m
	}
	return coveredSpans(a, gramsOf(b), n), coveredSpans(b, gramsOf(a), n)
}

func coveredSpans(t []leakToken, other map[uint64]bool, n int) []Span {
	covered := make([]bool, len(t))
	if len(t) < n {
		if len(t) > 0 && other[gramHash(t)] {
			for i := range covered {
				covered[i] = true
			}
		}
	} else {
		for i := 0; i+n <= len(t); i++ {
			if other[gramHash(t[i:i+n])] {
				for j := i; j < i+n; j++ {
					covered[j] = true
				}
			}
		}
	}
	var spans []Span
	for i := 0; i < len(t); i++ {
		if !covered[i] {
			continue
		}
		j := i
		for j+1 < len(t) && covered[j+1] {
			j++
		}
		spans = append(spans, Span{int(t[i].start), int(t[j].end)})
		i = j
	}
	return spans
}

// excerpt cuts text around spans with context bytes on each side (snapped
// to rune boundaries, at most limit bytes of highlighted region) and shifts
// the spans into the excerpt.
func excerpt(text string, spans []Span, context, limit int) (string, []Span, int) {
	if len(spans) == 0 {
		end := min(len(text), limit)
		for end < len(text) && !utf8.RuneStart(text[end]) {
			end++
		}
		return text[:end], nil, 0
	}
	start := max(0, spans[0].Start-context)
	for start > 0 && !utf8.RuneStart(text[start]) {
		start--
	}
	// Begin at a word boundary rather than mid-word.
	if start > 0 {
		if i := strings.IndexAny(text[start:spans[0].Start], " \n\t"); i >= 0 {
			start += i + 1
		}
	}
	var kept []Span
	for _, s := range spans {
		if s.Start-start > limit {
			break
		}
		kept = append(kept, s)
	}
	end := min(len(text), kept[len(kept)-1].End+context)
	for end < len(text) && !utf8.RuneStart(text[end]) {
		end++
	}
	out := make([]Span, len(kept))
	for i, s := range kept {
		out[i] = Span{s.Start - start, s.End - start}
	}
	return text[start:end], out, start
}

// cutSpans removes each span widened by window runes on both sides, GPT-3's
// way of cutting a test item out of a training document. It returns the
// pieces that remain and are at least minPiece runes long; tooDirty is true
// when more than maxPieces spans were cut (the document should go).
func cutSpans(text string, spans []Span, window, maxPieces, minPiece int) (pieces []string, tooDirty bool) {
	if len(spans) > maxPieces {
		return nil, true
	}
	widen := func(pos, runes, dir int) int {
		for ; runes > 0; runes-- {
			if dir < 0 {
				if pos <= 0 {
					return 0
				}
				_, size := utf8.DecodeLastRuneInString(text[:pos])
				pos -= size
			} else {
				if pos >= len(text) {
					return len(text)
				}
				_, size := utf8.DecodeRuneInString(text[pos:])
				pos += size
			}
		}
		return pos
	}
	last := 0
	keep := func(s string) {
		if utf8.RuneCountInString(s) >= minPiece {
			pieces = append(pieces, s)
		}
	}
	for _, s := range spans {
		from, to := widen(s.Start, window, -1), widen(s.End, window, +1)
		if from > last {
			keep(text[last:from])
		}
		last = max(last, to)
	}
	if last < len(text) {
		keep(text[last:])
	}
	return pieces, false
}

// mergeSpans sorts and merges overlapping spans.
func mergeSpans(spans []Span) []Span {
	if len(spans) == 0 {
		return nil
	}
	s := append([]Span(nil), spans...)
	for i := 1; i < len(s); i++ { // insertion sort: few spans
		for j := i; j > 0 && s[j].Start < s[j-1].Start; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
	out := []Span{s[0]}
	for _, x := range s[1:] {
		if x.Start <= out[len(out)-1].End {
			out[len(out)-1].End = max(out[len(out)-1].End, x.End)
			continue
		}
		out = append(out, x)
	}
	return out
}
