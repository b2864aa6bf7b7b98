package pack

import (
	"math"
	"math/rand/v2"

	"github.com/corpusflow/corpusflow/tokenize"
)

// masker applies original BERT's static masking
// (create_masked_lm_predictions): of the tokens other than [CLS], [SEP] and
// padding ([UNK] included, as in BERT), mask_prob are
// chosen for prediction (at least one, at most max_predictions); each chosen
// token becomes [MASK] 80% of the time, a random token 10%, and stays 10%.
type masker struct {
	prob      float64
	maxPreds  int
	maskID    int32
	vocabSize int
	special   map[int32]bool // never drawn as a random replacement
	structure map[int32]bool // never predicted: [CLS], [SEP], padding, BOS/EOS
	rng       *rand.Rand

	candidates []int
}

func newMasker(c *Config, sp tokenize.SpecialTokens, vocabSize int, rng *rand.Rand) *masker {
	special, structure := map[int32]bool{}, map[int32]bool{}
	for _, id := range []int32{sp.CLS, sp.SEP, sp.PAD, sp.MASK, sp.UNK, sp.BOS, sp.EOS} {
		if id >= 0 {
			special[id] = true
		}
	}
	for _, id := range []int32{sp.CLS, sp.SEP, sp.PAD, sp.MASK, sp.BOS, sp.EOS} {
		if id >= 0 {
			structure[id] = true
		}
	}
	return &masker{prob: c.MaskProb, maxPreds: c.MaxPredictions, maskID: sp.MASK, vocabSize: vocabSize, special: special, structure: structure, rng: rng}
}

// mask changes ids in place and writes the original ids of the masked
// positions into labels (which the caller filled with IgnoreLabel). It
// returns how many tokens it chose.
func (m *masker) mask(ids, labels []int32) int {
	m.candidates = m.candidates[:0]
	for i, id := range ids {
		if !m.structure[id] {
			m.candidates = append(m.candidates, i)
		}
	}
	if len(m.candidates) == 0 {
		return 0
	}
	n := max(1, int(math.Round(float64(len(m.candidates))*m.prob)))
	if m.maxPreds > 0 {
		n = min(n, m.maxPreds)
	}
	m.rng.Shuffle(len(m.candidates), func(i, j int) { m.candidates[i], m.candidates[j] = m.candidates[j], m.candidates[i] })
	for _, pos := range m.candidates[:n] {
		labels[pos] = ids[pos]
		switch r := m.rng.Float64(); {
		case r < 0.8:
			ids[pos] = m.maskID
		case r < 0.9:
			// unchanged
		default:
			ids[pos] = m.randomToken()
		}
	}
	return n
}

// randomToken draws a vocabulary id that is not a special token.
func (m *masker) randomToken() int32 {
	for {
		id := int32(m.rng.IntN(m.vocabSize))
		if !m.special[id] {
			return id
		}
	}
}
