package dedup

import (
	"context"
	"fmt"
	"strings"
	"unicode"

	"github.com/cespare/xxhash/v2"
	"github.com/corpusflow/corpusflow/flow"
	"github.com/corpusflow/corpusflow/internal/punkt"
)

// LineConfig is the YAML configuration of line_dedup.
type LineConfig struct {
	MinSentences int `yaml:"min_sentences" help:"reject a document left with fewer sentences than this (C4 uses 3; 0: keep anything non-empty)"`
}

// SpanConfig is the YAML configuration of span_dedup.
type SpanConfig struct {
	Span         int `yaml:"span" help:"sentences per span (T5: 3)"`
	MinSentences int `yaml:"min_sentences" help:"reject a document left with fewer sentences than this (0: keep anything non-empty)"`
}

func init() {
	flow.RegisterStage("line_dedup",
		"C4's corpus-wide line dedup, streaming: a line (stripped, lowercased) seen before is removed from later documents",
		LineConfig{MinSentences: 3},
		func(c *LineConfig, env *flow.Env) (flow.Stage, error) {
			if c.MinSentences < 0 {
				return nil, &flow.FieldError{Field: "min_sentences", Err: fmt.Errorf("must not be negative")}
			}
			return NewLineDedup(*c, counters(env))
		})
	flow.RegisterStage("span_dedup",
		"T5's span dedup, streaming: any span of three sentences seen before is removed from later documents",
		SpanConfig{Span: 3},
		func(c *SpanConfig, env *flow.Env) (flow.Stage, error) {
			if c.Span < 1 {
				return nil, &flow.FieldError{Field: "span", Err: fmt.Errorf("must be at least 1, got %d", c.Span)}
			}
			if c.MinSentences < 0 {
				return nil, &flow.FieldError{Field: "min_sentences", Err: fmt.Errorf("must not be negative")}
			}
			return &SpanDedup{cfg: *c, seen: NewUint64Set(0), counters: counters(env)}, nil
		})
}

func counters(env *flow.Env) *flow.Counters {
	if env == nil || env.Counters == nil {
		return &flow.Counters{}
	}
	return env.Counters
}

// lineKey hashes a line stripped and lowercased, C4's comparison form.
func lineKey(line string, buf []byte) (uint64, []byte) {
	buf = buf[:0]
	for _, r := range strings.TrimSpace(line) {
		buf = appendLower(buf, r)
	}
	return xxhash.Sum64(buf), buf
}

func appendLower(buf []byte, r rune) []byte {
	if r < 0x80 {
		if r >= 'A' && r <= 'Z' {
			r += 'a' - 'A'
		}
		return append(buf, byte(r))
	}
	return append(buf, string(unicode.ToLower(r))...)
}

// LineDedup removes every line an earlier line of the corpus (in input
// order, this document included) already had. Blank lines are kept.
//
// A document that lost lines must still hold MinSentences sentences,
// counted as TFDS's C4 line dedup counted them (_remove_lines_from_text):
// NLTK's Punkt with the English model over the whole remaining text, the
// counter the c4 stage uses (internal/punkt). Punkt sees no sentence end in
// Chinese, so the 。！？ breaks the c4 stage adds for Chinese pages are
// added here too (for English text they are almost always 0).
type LineDedup struct {
	cfg      LineConfig
	seen     *Uint64Set
	counters *flow.Counters
	punkt    *punkt.Model
	scratch  *punkt.Scratch
	buf      []byte
	out      strings.Builder
}

// NewLineDedup builds the stage; counters may be nil.
func NewLineDedup(cfg LineConfig, counters *flow.Counters) (*LineDedup, error) {
	m, err := punkt.English()
	if err != nil {
		return nil, err
	}
	if counters == nil {
		counters = &flow.Counters{}
	}
	return &LineDedup{cfg: cfg, seen: NewUint64Set(0), counters: counters, punkt: m, scratch: punkt.NewScratch()}, nil
}

// sentences counts the sentences of a document as C4 does.
func (d *LineDedup) sentences(text string) int {
	return d.punkt.Count(d.scratch, text) + punkt.ChineseBreaks(text)
}

// Sequential: first seen wins.
func (d *LineDedup) Sequential() {}

// Process drops repeated lines; a document left with no text is rejected as
// "duplicate_lines", one left with too few sentences as
// "too_few_sentences_after_line_dedup".
func (d *LineDedup) Process(r *flow.Record) string {
	d.out.Reset()
	removed := 0
	text := r.Text
	for len(text) > 0 {
		line, rest, found := strings.Cut(text, "\n")
		text = rest
		var key uint64
		if strings.TrimSpace(line) != "" {
			key, d.buf = lineKey(line, d.buf)
			if !d.seen.Add(key) {
				removed++
				continue
			}
		}
		d.out.WriteString(line)
		if found {
			d.out.WriteByte('\n')
		}
	}
	if removed == 0 {
		return ""
	}
	d.counters.Add("lines_removed", int64(removed))
	kept := d.out.String()
	if strings.TrimSpace(kept) == "" {
		return "duplicate_lines"
	}
	if d.cfg.MinSentences > 0 && d.sentences(kept) < d.cfg.MinSentences {
		return "too_few_sentences_after_line_dedup"
	}
	r.Text = kept
	return ""
}

// Finish records the index size.
func (d *LineDedup) Finish(context.Context) error {
	d.counters.Add("index_bytes", int64(d.seen.Bytes()))
	return nil
}

// SpanDedup removes every span of Span consecutive sentences that an earlier
// span of the corpus already had ("we discarded all but one of any
// three-sentence span occurring more than once", T5 §2.2). Sentences are
// compared stripped and lowercased.
type SpanDedup struct {
	cfg      SpanConfig
	seen     *Uint64Set
	counters *flow.Counters
	buf      []byte
	keys     []uint64
	drop     []bool
	out      strings.Builder
}

// Sequential: first seen wins.
func (d *SpanDedup) Sequential() {}

// Process drops repeated spans; a document left empty is rejected as
// "duplicate_spans", one left with too few sentences as
// "too_few_sentences_after_span_dedup".
func (d *SpanDedup) Process(r *flow.Record) string {
	starts := sentenceStarts(r.Text)
	n := len(starts)
	if n < d.cfg.Span {
		return ""
	}
	end := func(i int) int {
		if i+1 < n {
			return starts[i+1]
		}
		return len(r.Text)
	}
	d.keys = d.keys[:0]
	for i := 0; i < n; i++ {
		var k uint64
		k, d.buf = lineKey(r.Text[starts[i]:end(i)], d.buf)
		d.keys = append(d.keys, k)
	}
	d.drop = append(d.drop[:0], make([]bool, n)...)
	removedSpans := 0
	for i := 0; i+d.cfg.Span <= n; i++ {
		h := xxhash.Sum64(keyBytes(d.keys[i : i+d.cfg.Span]))
		if !d.seen.Add(h) {
			removedSpans++
			for j := i; j < i+d.cfg.Span; j++ {
				d.drop[j] = true
			}
		}
	}
	if removedSpans == 0 {
		return ""
	}
	d.out.Reset()
	removed := 0
	for i := 0; i < n; i++ {
		if d.drop[i] {
			removed++
			continue
		}
		d.out.WriteString(r.Text[starts[i]:end(i)])
	}
	d.counters.Add("spans_removed", int64(removedSpans))
	d.counters.Add("sentences_removed", int64(removed))
	kept := d.out.String()
	if strings.TrimSpace(kept) == "" {
		return "duplicate_spans"
	}
	if d.cfg.MinSentences > 0 && countSentences(kept) < d.cfg.MinSentences {
		return "too_few_sentences_after_span_dedup"
	}
	r.Text = kept
	return ""
}

func keyBytes(keys []uint64) []byte {
	b := make([]byte, 0, 8*len(keys))
	for _, k := range keys {
		b = append(b, byte(k), byte(k>>8), byte(k>>16), byte(k>>24), byte(k>>32), byte(k>>40), byte(k>>48), byte(k>>56))
	}
	return b
}

// Finish records the index size.
func (d *SpanDedup) Finish(context.Context) error {
	d.counters.Add("index_bytes", int64(d.seen.Bytes()))
	return nil
}
