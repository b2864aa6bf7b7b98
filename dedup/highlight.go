package dedup

import (
	"sort"
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

// Why a cut drops the whole document instead.
const (
	cutTooManyPieces = "test_set_leak_too_dirty"    // left in more than cut_max_pieces pieces
	cutOnlyShort     = "test_set_leak_nothing_left" // every piece left is under cut_min_piece
)

// cutSpans is GPT-3's way of cutting test items out of a training document
// (Brown et al. 2020, appendix C; lm-evaluation-harness's janitor README):
// each matched span is widened by window runes on both sides, the widened
// spans are merged where they overlap or touch, and they are removed,
// splitting the document into pieces. The document is dropped (dropReason
// says why) when that leaves more than maxPieces pieces (0: no limit), or
// when every piece is shorter than minPiece runes; otherwise pieces are the
// pieces of at least minPiece runes, each byte for byte as in text.
//
// The pieces are counted after merging: a passage matched as twenty short
// spans (an edited copy matched by word pairs) is one cut, not twenty. The
// janitor's own code counts the matched n-grams before widening instead,
// which drops any page holding one test passage of more than 22 words.
func cutSpans(text string, spans []Span, window, maxPieces, minPiece int) (pieces []string, dropReason string) {
	var cuts []Span
	for _, s := range spans {
		w := Span{widenRunes(text, s.Start, window, -1), widenRunes(text, s.End, window, +1)}
		if n := len(cuts); n > 0 && w.Start <= cuts[n-1].End {
			cuts[n-1].End = max(cuts[n-1].End, w.End)
			continue
		}
		cuts = append(cuts, w)
	}
	var all []string
	last := 0
	for _, c := range cuts {
		if c.Start > last {
			all = append(all, text[last:c.Start])
		}
		last = max(last, c.End)
	}
	if last < len(text) {
		all = append(all, text[last:])
	}
	if maxPieces > 0 && len(all) > maxPieces {
		return nil, cutTooManyPieces
	}
	for _, p := range all {
		if utf8.RuneCountInString(p) >= minPiece {
			pieces = append(pieces, p)
		}
	}
	if len(pieces) == 0 {
		return nil, cutOnlyShort
	}
	return pieces, ""
}

// widenRunes moves pos by n runes backwards (dir < 0) or forwards,
// stopping at the ends of text.
func widenRunes(text string, pos, n, dir int) int {
	for ; n > 0; n-- {
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

// minCutRun is the fewest tokens a span matched by word pairs must cover
// to be cut: two pairs in a row. Between the words an edit replaced,
// runs are longer (9 words at 10 %), and short runs among them fall inside
// the margins of their neighbours anyway.
const minCutRun = 3

// longRuns keeps the spans that cover at least minTokens of t's tokens.
func longRuns(spans []Span, t []leakToken, minTokens int) []Span {
	var out []Span
	for _, s := range spans {
		first := sort.Search(len(t), func(i int) bool { return int(t[i].start) >= s.Start })
		last := sort.Search(len(t), func(i int) bool { return int(t[i].start) >= s.End })
		if last-first >= minTokens {
			out = append(out, s)
		}
	}
	return out
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
