package trainer

import (
	"fmt"
	"math/rand/v2"
)

// MaskingConfig is the masked-LM objective (Devlin et al.; RoBERTa's dynamic
// masking): Prob of the maskable tokens are chosen; of those, MaskFrac become
// [MASK], RandomFrac a random token and the rest stay as they are.
type MaskingConfig struct {
	Prob       float64 `json:"prob"`
	MaskFrac   float64 `json:"mask_frac"`
	RandomFrac float64 `json:"random_frac"`
	// WholeWord chooses whole words: a piece and its "##" continuations are
	// masked together.
	WholeWord bool   `json:"whole_word"`
	Seed      uint64 `json:"seed"`
}

// DefaultMasking is 15 % with 80/10/10.
func DefaultMasking() MaskingConfig {
	return MaskingConfig{Prob: 0.15, MaskFrac: 0.8, RandomFrac: 0.1}
}

// Validate names the first bad field.
func (c MaskingConfig) Validate() error {
	if c.Prob <= 0 || c.Prob > 1 || c.MaskFrac < 0 || c.RandomFrac < 0 || c.MaskFrac+c.RandomFrac > 1 {
		return fmt.Errorf("masking: prob %g must be in (0,1], mask_frac %g and random_frac %g non-negative with a sum at most 1", c.Prob, c.MaskFrac, c.RandomFrac)
	}
	return nil
}

// Masker applies the objective to one example at a time. The choice for an
// example depends only on the seed and the example's identity (epoch, shard,
// row): a resumed run masks exactly what an uninterrupted one would, and
// every epoch sees a fresh masking (dynamic masking).
type Masker struct {
	cfg   MaskingConfig
	vocab *Vocab
}

// NewMasker checks cfg against the vocabulary.
func NewMasker(cfg MaskingConfig, vocab *Vocab) (*Masker, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	for id := 0; id < vocab.Size; id++ {
		if !vocab.Special[id] {
			return &Masker{cfg: cfg, vocab: vocab}, nil
		}
	}
	return nil, fmt.Errorf("masking: the vocabulary of %d tokens has only special tokens", vocab.Size)
}

// ExampleKey identifies an example in the stream.
type ExampleKey struct {
	Epoch, Shard, Row int
}

// Mask writes the masked copy of ids into out (len(ids)) and returns the
// positions (indices into ids, increasing) that carry labels, with their
// original ids. Special tokens and ids the vocabulary does not know are never
// chosen. It returns an error for an id outside the vocabulary.
func (m *Masker) Mask(ids []int32, key ExampleKey, out []int32, pos, labels []int32) ([]int32, []int32, error) {
	v := m.vocab
	copy(out, ids)
	// Words: runs of maskable pieces, a word start followed by its "##"
	// continuations (each piece is its own word without WholeWord).
	type span struct{ start, end int }
	var words []span
	candidates := 0
	for i, id := range ids {
		if id < 0 || int(id) >= v.Size {
			return pos, labels, fmt.Errorf("token %d: id %d outside the vocabulary of %d", i, id, v.Size)
		}
		if v.Special[id] {
			continue
		}
		candidates++
		if m.cfg.WholeWord && v.Continuation[id] && len(words) > 0 && words[len(words)-1].end == i {
			words[len(words)-1].end = i + 1
			continue
		}
		words = append(words, span{i, i + 1})
	}
	if candidates == 0 {
		return pos, labels, nil
	}
	rng := rand.New(rand.NewPCG(m.cfg.Seed^0x6d61736b, uint64(key.Epoch)<<48^uint64(key.Shard)<<24^uint64(key.Row)))
	target := max(1, int(float64(candidates)*m.cfg.Prob+0.5))
	rng.Shuffle(len(words), func(i, j int) { words[i], words[j] = words[j], words[i] })
	chosen := make([]bool, len(ids))
	count := 0
	for _, w := range words {
		if count >= target {
			break
		}
		// Like BERT's create_pretraining_data: skip a word that would
		// overshoot the budget, unless nothing is chosen yet.
		if count > 0 && count+(w.end-w.start) > target {
			continue
		}
		for i := w.start; i < w.end; i++ {
			chosen[i] = true
		}
		count += w.end - w.start
	}
	for i, c := range chosen {
		if !c {
			continue
		}
		pos = append(pos, int32(i))
		labels = append(labels, ids[i])
		r := rng.Float64()
		switch {
		case r < m.cfg.MaskFrac:
			out[i] = v.MASK
		case r < m.cfg.MaskFrac+m.cfg.RandomFrac:
			out[i] = m.randomToken(rng)
		}
	}
	return pos, labels, nil
}

// randomToken draws a non-special token uniformly.
func (m *Masker) randomToken(rng *rand.Rand) int32 {
	for {
		id := int32(rng.IntN(m.vocab.Size))
		if !m.vocab.Special[id] {
			return id
		}
	}
}
