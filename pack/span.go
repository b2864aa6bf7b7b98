package pack

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/corpusflow/corpusflow/tokenize"
)

// spanPacker makes T5 span-corruption examples (Raffel et al. 2020, the
// "span_corruption" objective of t5.data.preprocessors): a chunk of
// tokensLength tokens gets noise_density of its tokens marked as noise in
// spans of mean length mean_span_length; inputs keep the other tokens with
// one sentinel in place of each noise span, targets list each sentinel
// followed by the tokens it replaced; both end with EOS. tokensLength is
// chosen, as T5's random_spans_helper does, so that inputs are exactly
// seq_len tokens long.
//
// Chunks are cut from the documents joined with EOS (doc_boundary cross) or
// from each document alone (strict, where the last chunk of a document is
// shorter and its inputs are padded).
type spanPacker struct {
	inputsLength  int
	tokensLength  int
	targetsLength int
	density       float64
	meanSpan      float64
	cross         bool
	eos, pad      int32
	sentinels     []int32
	rng           *rand.Rand

	buf    []int32
	bufDoc string
	noise  []bool
	perm   []int
}

func newSpanPacker(c *Config, eos, pad int32, rng *rand.Rand) (*spanPacker, error) {
	p := &spanPacker{inputsLength: c.SeqLen, density: c.NoiseDensity, meanSpan: c.MeanSpanLength,
		cross: c.DocBoundary != BoundaryStrict, eos: eos, pad: pad, rng: rng}
	// random_spans_helper: the longest chunk whose inputs still fit.
	p.tokensLength = c.SeqLen - 1
	for {
		in, _ := p.lengthsFor(p.tokensLength + 1)
		if in > c.SeqLen {
			break
		}
		p.tokensLength++
	}
	in, targets := p.lengthsFor(p.tokensLength)
	if in != c.SeqLen || p.tokensLength < 2 {
		return nil, fmt.Errorf("seq_len %d: no chunk length gives inputs of exactly that length with noise_density %g and mean_span_length %g", c.SeqLen, c.NoiseDensity, c.MeanSpanLength)
	}
	p.targetsLength = targets
	return p, nil
}

// lengthsFor is T5's _tokens_length_to_inputs_length_targets_length.
func (p *spanPacker) lengthsFor(tokens int) (inputs, targets int) {
	noise := int(math.Round(float64(tokens) * p.density))
	spans := int(math.Round(float64(noise) / p.meanSpan))
	return tokens - noise + spans + 1, noise + spans + 1
}

// maxSpans is the most noise spans a chunk can have: the sentinels needed.
func (p *spanPacker) maxSpans() int {
	noise := int(math.Round(float64(p.tokensLength) * p.density))
	return max(1, int(math.Round(float64(noise)/p.meanSpan)))
}

// findSentinels returns n sentinel ids: T5's <extra_id_0>, <extra_id_1>, ...
// when the vocabulary has them, else BERT's [unused0], [unused1], ... (the
// ids BERT reserves for exactly this kind of use).
func findSentinels(tok tokenize.Tokenizer, n int) ([]int32, error) {
	for _, pattern := range []string{"<extra_id_%d>", "[unused%d]"} {
		var ids []int32
		for k := 0; k < n+1 && len(ids) < n; k++ {
			// BERT-base-chinese numbers its unused tokens from 1.
			if id, ok := tok.TokenID(fmt.Sprintf(pattern, k)); ok {
				ids = append(ids, id)
			}
		}
		if len(ids) == n {
			return ids, nil
		}
	}
	return nil, fmt.Errorf("span_corruption needs %d sentinel tokens (<extra_id_N> or [unusedN]); the vocabulary has fewer: lower seq_len or use a vocabulary with sentinels", n)
}

func (p *spanPacker) add(docID string, tokens []int32, emit func(*example)) {
	if p.cross && len(p.buf) > 0 {
		p.buf = append(p.buf, p.eos)
		if len(p.buf) == p.tokensLength {
			p.emitBuf(emit)
		}
	}
	for len(tokens) > 0 {
		if len(p.buf) == 0 {
			p.bufDoc = docID
		}
		n := min(p.tokensLength-len(p.buf), len(tokens))
		p.buf = append(p.buf, tokens[:n]...)
		tokens = tokens[n:]
		if len(p.buf) == p.tokensLength {
			p.emitBuf(emit)
		}
	}
	if !p.cross && len(p.buf) > 0 {
		p.emitBuf(emit)
	}
}

func (p *spanPacker) flush(emit func(*example)) {
	if len(p.buf) > 0 {
		p.emitBuf(emit)
	}
}

func (p *spanPacker) emitBuf(emit func(*example)) {
	noise := p.noiseMask(len(p.buf))
	inputs := make([]int32, 0, p.inputsLength)
	targets := make([]int32, 0, p.targetsLength)
	span := 0
	for i, id := range p.buf {
		if !noise[i] {
			inputs = append(inputs, id)
			continue
		}
		if i == 0 || !noise[i-1] {
			inputs = append(inputs, p.sentinels[span])
			targets = append(targets, p.sentinels[span])
			span++
		}
		targets = append(targets, id)
	}
	inputs = append(inputs, p.eos)
	targets = append(targets, p.eos)
	emit(&example{docID: p.bufDoc, inputIDs: inputs, targets: targets})
	p.buf = p.buf[:0]
}

// noiseMask is T5's random_spans_noise_mask: noise and non-noise tokens are
// each split into the same number of non-empty spans at random, then
// interleaved, non-noise first.
func (p *spanPacker) noiseMask(length int) []bool {
	mask := p.noise[:0]
	for range length {
		mask = append(mask, false)
	}
	p.noise = mask
	if length < 2 {
		return mask // a single token stays: nothing left to predict it from
	}
	noise := int(math.Round(float64(length) * p.density))
	noise = min(max(noise, 1), length-1)
	spans := max(int(math.Round(float64(noise)/p.meanSpan)), 1)
	spans = min(spans, noise, length-noise)
	noiseLens := p.segment(noise, spans)
	keepLens := p.segment(length-noise, spans)
	pos := 0
	for s := 0; s < spans; s++ {
		pos += keepLens[s]
		for k := 0; k < noiseLens[s]; k++ {
			mask[pos] = true
			pos++
		}
	}
	return mask
}

// segment splits n items into k non-empty runs at random cut points.
func (p *spanPacker) segment(n, k int) []int {
	// Choose k-1 distinct cuts among the n-1 gaps.
	p.perm = p.perm[:0]
	for i := 1; i < n; i++ {
		p.perm = append(p.perm, i)
	}
	p.rng.Shuffle(len(p.perm), func(i, j int) { p.perm[i], p.perm[j] = p.perm[j], p.perm[i] })
	cuts := make([]bool, n)
	for _, c := range p.perm[:k-1] {
		cuts[c] = true
	}
	lens := make([]int, 0, k)
	run := 0
	for i := 0; i < n; i++ {
		if cuts[i] {
			lens = append(lens, run)
			run = 0
		}
		run++
	}
	return append(lens, run)
}
