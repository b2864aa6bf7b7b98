package trainer

import "math"

// Forward runs the model on b and returns its losses without touching
// gradients (held-out evaluation).
func (m *Model[T]) Forward(b *Batch) (Result, error) {
	return m.run(b, 0, false)
}

// ForwardBackward runs the model on b and adds gradScale·∂loss/∂θ to every
// parameter's gradient (gradScale is 1/accumulation steps).
func (m *Model[T]) ForwardBackward(b *Batch, gradScale float64) (Result, error) {
	return m.run(b, gradScale, true)
}

func (m *Model[T]) run(b *Batch, gradScale float64, backward bool) (Result, error) {
	top, err := m.encode(b)
	if err != nil {
		return Result{}, err
	}
	var res Result
	if backward {
		clear(m.ws.dHidden)
	}
	// The heads add their ∂loss/∂top to ws.dHidden.
	m.mlmHead(b, top, gradScale, backward, &res)
	if m.Config.NSP && b.NSPLabels != nil {
		m.nspHead(b, top, gradScale, backward, &res)
	}
	if !backward {
		return res, nil
	}
	m.backpropEncoder(b)
	return res, nil
}

// mlmHead scores only the masked positions: the loss ignores every other
// position, so computing their logits (as BertForMaskedLM does) would change
// nothing but the cost, which the vocabulary-sized decoder dominates.
func (m *Model[T]) mlmHead(b *Batch, top []T, gradScale float64, backward bool, res *Result) {
	cfg, w := m.Config, &m.ws
	H, V := cfg.HiddenSize, cfg.VocabSize
	M := len(b.MaskedPos)
	res.MLMCount = M
	if M == 0 {
		return
	}
	w.ensureHead(cfg, M)
	for i, p := range b.MaskedPos {
		copy(w.gathered[i*H:(i+1)*H], top[int(p)*H:int(p+1)*H])
	}
	linearForward(w.gathered, M, H, m.headW.W, m.headB.W, H, w.headPre)
	geluForward(w.headPre, w.headAct)
	layerNormForward(w.headAct, M, H, m.headLNg.W, m.headLNb.W, w.headOut, w.headXhat, w.headRstd)
	linearForward(w.headOut, M, H, m.wordEmb.W, m.decBias.W, V, w.logits)
	sum, correct := softmaxCrossEntropy(w.logits, M, V, b.MaskedLabels, gradScale/float64(M))
	res.MLMLoss, res.MLMCorrect = sum/float64(M), correct
	if !backward {
		return
	}
	// w.logits now holds ∂loss/∂logits.
	linearBackward(w.headOut, M, H, m.wordEmb.W, V, w.logits, w.dHeadA, false, m.wordEmb.G, m.decBias.G)
	layerNormBackward(w.dHeadA, M, H, m.headLNg.W, w.headXhat, w.headRstd, w.dHeadB, m.headLNg.G, m.headLNb.G)
	geluBackward(w.headPre, w.dHeadB, w.dHeadB)
	linearBackward(w.gathered, M, H, m.headW.W, H, w.dHeadB, w.dGathered, false, m.headW.G, m.headB.G)
	for i, p := range b.MaskedPos {
		d := w.dHidden[int(p)*H : int(p+1)*H]
		g := w.dGathered[i*H : (i+1)*H]
		for j := range d {
			d[j] += g[j]
		}
	}
}

// nspHead is BERT's pooler (tanh of a dense layer over [CLS]) and the
// two-way next-sentence classifier.
func (m *Model[T]) nspHead(b *Batch, top []T, gradScale float64, backward bool, res *Result) {
	w := &m.ws
	H, S, B := m.Config.HiddenSize, b.S, b.B
	for i := 0; i < B; i++ {
		copy(w.cls[i*H:(i+1)*H], top[i*S*H:i*S*H+H])
	}
	linearForward(w.cls, B, H, m.poolW.W, m.poolB.W, H, w.pooled)
	tanhForward(w.pooled, w.pooled)
	linearForward(w.pooled, B, H, m.nspW.W, m.nspB.W, 2, w.nspLogits)
	sum, correct := softmaxCrossEntropy(w.nspLogits, B, 2, b.NSPLabels, gradScale/float64(B))
	res.NSPLoss, res.NSPCorrect, res.NSPCount = sum/float64(B), correct, B
	if !backward {
		return
	}
	linearBackward(w.pooled, B, H, m.nspW.W, 2, w.nspLogits, w.dPooled, false, m.nspW.G, m.nspB.G)
	tanhBackward(w.pooled, w.dPooled, w.dPooled)
	linearBackward(w.cls, B, H, m.poolW.W, H, w.dPooled, w.dCLS, false, m.poolW.G, m.poolB.G)
	for i := 0; i < B; i++ {
		d := w.dHidden[i*S*H : i*S*H+H]
		for j := range d {
			d[j] += w.dCLS[i*H+j]
		}
	}
}

func addInPlace[T Float](dst, src []T) {
	for i := range dst {
		dst[i] += src[i]
	}
}

// Perplexity is exp(mean loss).
func Perplexity(meanLoss float64) float64 { return math.Exp(meanLoss) }
