package trainer

import "fmt"

// Model is a BERT encoder with the masked-LM head (decoder tied to the word
// embeddings) and, when configured, the pooler and next-sentence head. T is
// float32 for training and float64 for gradient checks.
type Model[T Float] struct {
	Config ModelConfig
	params paramSet[T]

	wordEmb, posEmb, typeEmb, embLNg, embLNb *Param[T]
	layers                                   []encoderLayer[T]
	headW, headB, headLNg, headLNb, decBias  *Param[T]
	poolW, poolB, nspW, nspB                 *Param[T]

	ws workspace[T]
}

// encoderLayer holds one transformer block. The query, key and value weights
// are three named parameters that are views of one [3H, H] matrix (qkvW), so
// the forward pass does one multiply instead of three.
type encoderLayer[T Float] struct {
	qkvW, qkvB, qkvGW, qkvGB []T
	attnOutW, attnOutB       *Param[T]
	ln1g, ln1b               *Param[T]
	interW, interB           *Param[T]
	outW, outB               *Param[T]
	ln2g, ln2b               *Param[T]
}

// NewModel builds a model with BERT's initialisation from seed.
func NewModel[T Float](cfg ModelConfig, seed uint64) (*Model[T], error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	m := &Model[T]{Config: cfg}
	s := &m.params
	H, F, V := cfg.HiddenSize, cfg.IntermediateSize, cfg.VocabSize
	m.wordEmb = s.add("bert.embeddings.word_embeddings.weight", kindWeight, V, H)
	m.posEmb = s.add("bert.embeddings.position_embeddings.weight", kindWeight, cfg.MaxPositions, H)
	m.typeEmb = s.add("bert.embeddings.token_type_embeddings.weight", kindWeight, cfg.TypeVocabSize, H)
	m.embLNg = s.add("bert.embeddings.LayerNorm.weight", kindLNWeight, H)
	m.embLNb = s.add("bert.embeddings.LayerNorm.bias", kindLNBias, H)
	for l := 0; l < cfg.NumLayers; l++ {
		var L encoderLayer[T]
		L.qkvW, L.qkvGW = make([]T, 3*H*H), make([]T, 3*H*H)
		L.qkvB, L.qkvGB = make([]T, 3*H), make([]T, 3*H)
		for i, part := range []string{"query", "key", "value"} {
			s.addOver(layerName(l, "attention.self."+part+".weight"), kindWeight, L.qkvW[i*H*H:(i+1)*H*H], L.qkvGW[i*H*H:(i+1)*H*H], H, H)
			s.addOver(layerName(l, "attention.self."+part+".bias"), kindBias, L.qkvB[i*H:(i+1)*H], L.qkvGB[i*H:(i+1)*H], H)
		}
		L.attnOutW = s.add(layerName(l, "attention.output.dense.weight"), kindWeight, H, H)
		L.attnOutB = s.add(layerName(l, "attention.output.dense.bias"), kindBias, H)
		L.ln1g = s.add(layerName(l, "attention.output.LayerNorm.weight"), kindLNWeight, H)
		L.ln1b = s.add(layerName(l, "attention.output.LayerNorm.bias"), kindLNBias, H)
		L.interW = s.add(layerName(l, "intermediate.dense.weight"), kindWeight, F, H)
		L.interB = s.add(layerName(l, "intermediate.dense.bias"), kindBias, F)
		L.outW = s.add(layerName(l, "output.dense.weight"), kindWeight, H, F)
		L.outB = s.add(layerName(l, "output.dense.bias"), kindBias, H)
		L.ln2g = s.add(layerName(l, "output.LayerNorm.weight"), kindLNWeight, H)
		L.ln2b = s.add(layerName(l, "output.LayerNorm.bias"), kindLNBias, H)
		m.layers = append(m.layers, L)
	}
	if cfg.NSP {
		m.poolW = s.add("bert.pooler.dense.weight", kindWeight, H, H)
		m.poolB = s.add("bert.pooler.dense.bias", kindBias, H)
	}
	m.headW = s.add("cls.predictions.transform.dense.weight", kindWeight, H, H)
	m.headB = s.add("cls.predictions.transform.dense.bias", kindBias, H)
	m.headLNg = s.add("cls.predictions.transform.LayerNorm.weight", kindLNWeight, H)
	m.headLNb = s.add("cls.predictions.transform.LayerNorm.bias", kindLNBias, H)
	m.decBias = s.add("cls.predictions.bias", kindBias, V)
	if cfg.NSP {
		m.nspW = s.add("cls.seq_relationship.weight", kindWeight, 2, H)
		m.nspB = s.add("cls.seq_relationship.bias", kindBias, 2)
	}
	s.initWeights(seed, m.wordEmb, cfg.PadTokenID)
	return m, nil
}

// Params lists the parameters in state-dict order.
func (m *Model[T]) Params() []*Param[T] { return m.params.list }

// NumParams counts the trainable values.
func (m *Model[T]) NumParams() int {
	n := 0
	for _, p := range m.params.list {
		n += p.Size()
	}
	return n
}

// ZeroGrad clears every gradient.
func (m *Model[T]) ZeroGrad() {
	for _, p := range m.params.list {
		clear(p.G)
	}
}

// Batch is one training batch after masking. Sequences are B rows of S
// tokens laid out row-major.
type Batch struct {
	B, S       int
	InputIDs   []int32 // B·S ids after masking
	TokenTypes []int32 // B·S segment ids, or nil for all zero
	Valid      []bool  // B·S; false for [PAD] (the attention mask)
	// MaskedPos are flat indices into InputIDs that carry an MLM label, in
	// increasing order; MaskedLabels are the original ids there.
	MaskedPos    []int32
	MaskedLabels []int32
	// NSPLabels has one 0/1 label per sequence (0 = B follows A), or nil.
	NSPLabels []int32
}

// Tokens counts the non-padding tokens.
func (b *Batch) Tokens() int {
	n := 0
	for _, v := range b.Valid {
		if v {
			n++
		}
	}
	return n
}

func (b *Batch) check(cfg ModelConfig) error {
	n := b.B * b.S
	switch {
	case b.B < 1 || b.S < 1:
		return fmt.Errorf("batch: empty shape %d×%d", b.B, b.S)
	case b.S > cfg.MaxPositions:
		return fmt.Errorf("batch: sequence length %d exceeds max_position_embeddings %d", b.S, cfg.MaxPositions)
	case len(b.InputIDs) != n || len(b.Valid) != n || (b.TokenTypes != nil && len(b.TokenTypes) != n):
		return fmt.Errorf("batch: %d ids, %d mask, %d types for shape %d×%d", len(b.InputIDs), len(b.Valid), len(b.TokenTypes), b.B, b.S)
	case len(b.MaskedPos) != len(b.MaskedLabels):
		return fmt.Errorf("batch: %d masked positions but %d labels", len(b.MaskedPos), len(b.MaskedLabels))
	case b.NSPLabels != nil && len(b.NSPLabels) != b.B:
		return fmt.Errorf("batch: %d NSP labels for %d sequences", len(b.NSPLabels), b.B)
	}
	for i, id := range b.InputIDs {
		if id < 0 || int(id) >= cfg.VocabSize {
			return fmt.Errorf("batch: token %d has id %d outside the vocabulary of %d", i, id, cfg.VocabSize)
		}
		if b.TokenTypes != nil && (b.TokenTypes[i] < 0 || int(b.TokenTypes[i]) >= cfg.TypeVocabSize) {
			return fmt.Errorf("batch: token %d has segment %d, type_vocab_size is %d", i, b.TokenTypes[i], cfg.TypeVocabSize)
		}
	}
	for i, p := range b.MaskedPos {
		if p < 0 || int(p) >= n || b.MaskedLabels[i] < 0 || int(b.MaskedLabels[i]) >= cfg.VocabSize {
			return fmt.Errorf("batch: masked position %d (%d, label %d) out of range", i, p, b.MaskedLabels[i])
		}
	}
	for _, l := range b.NSPLabels {
		if l != 0 && l != 1 {
			return fmt.Errorf("batch: NSP label %d is neither 0 nor 1", l)
		}
	}
	return nil
}

// Result is what one forward pass measured.
type Result struct {
	MLMLoss    float64 // mean over masked tokens
	MLMCorrect int
	MLMCount   int
	NSPLoss    float64 // mean over sequences, 0 without NSP
	NSPCorrect int
	NSPCount   int
}

// Loss is the objective: MLM loss plus NSP loss, as BertForPreTraining sums.
func (r Result) Loss() float64 { return r.MLMLoss + r.NSPLoss }
