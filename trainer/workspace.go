package trainer

// workspace holds the activations a forward pass keeps for backward, and the
// gradient scratch buffers, sized for one batch shape and reused across
// steps so a training run allocates them once.
type workspace[T Float] struct {
	n, b, s int

	embSum, embXhat, embRstd []T
	hidden                   [][]T // hidden[l] is the input of layer l; hidden[L] the output
	layers                   []layerActs[T]

	// gradient scratch, shared by all layers
	dHidden, dHidden2, dTmp, dCtx []T
	dQKV, dInter                  []T

	// masked-LM head, sized by the number of masked tokens (grown on demand)
	gathered, headPre, headAct, headXhat, headRstd, headOut, logits []T
	dGathered, dHeadA, dHeadB                                       []T

	// NSP head
	cls, pooled, nspLogits, dPooled, dCLS []T
}

type layerActs[T Float] struct {
	qkv, probs, ctx, attnSum, ln1Xhat, ln1Rstd, h1 []T
	interPre, interAct, outSum, ln2Xhat, ln2Rstd   []T
}

func (w *workspace[T]) ensure(cfg ModelConfig, b, s int) {
	n := b * s
	if w.n == n && w.b == b && w.s == s {
		return
	}
	H, F, A := cfg.HiddenSize, cfg.IntermediateSize, cfg.NumHeads
	*w = workspace[T]{n: n, b: b, s: s}
	w.embSum, w.embXhat, w.embRstd = make([]T, n*H), make([]T, n*H), make([]T, n)
	w.hidden = make([][]T, cfg.NumLayers+1)
	for i := range w.hidden {
		w.hidden[i] = make([]T, n*H)
	}
	w.layers = make([]layerActs[T], cfg.NumLayers)
	for i := range w.layers {
		w.layers[i] = layerActs[T]{
			qkv: make([]T, n*3*H), probs: make([]T, b*A*s*s), ctx: make([]T, n*H),
			attnSum: make([]T, n*H), ln1Xhat: make([]T, n*H), ln1Rstd: make([]T, n), h1: make([]T, n*H),
			interPre: make([]T, n*F), interAct: make([]T, n*F),
			outSum: make([]T, n*H), ln2Xhat: make([]T, n*H), ln2Rstd: make([]T, n),
		}
	}
	w.dHidden, w.dHidden2, w.dTmp, w.dCtx = make([]T, n*H), make([]T, n*H), make([]T, n*H), make([]T, n*H)
	w.dQKV, w.dInter = make([]T, n*3*H), make([]T, n*F)
	w.cls, w.pooled, w.dPooled, w.dCLS = make([]T, b*H), make([]T, b*H), make([]T, b*H), make([]T, b*H)
	w.nspLogits = make([]T, b*2)
}

// ensureHead sizes the masked-LM head buffers for m masked tokens.
func (w *workspace[T]) ensureHead(cfg ModelConfig, m int) {
	H, V := cfg.HiddenSize, cfg.VocabSize
	if cap(w.logits) < m*V {
		c := m + m/4 + 1
		w.gathered, w.headPre, w.headAct = make([]T, c*H), make([]T, c*H), make([]T, c*H)
		w.headXhat, w.headRstd, w.headOut = make([]T, c*H), make([]T, c), make([]T, c*H)
		w.dGathered, w.dHeadA, w.dHeadB = make([]T, c*H), make([]T, c*H), make([]T, c*H)
		w.logits = make([]T, c*V)
	}
	w.gathered, w.headPre, w.headAct = w.gathered[:m*H], w.headPre[:m*H], w.headAct[:m*H]
	w.headXhat, w.headRstd, w.headOut = w.headXhat[:m*H], w.headRstd[:m], w.headOut[:m*H]
	w.dGathered, w.dHeadA, w.dHeadB = w.dGathered[:m*H], w.dHeadA[:m*H], w.dHeadB[:m*H]
	w.logits = w.logits[:m*V]
}
