package trainer

// The BERT encoder's forward and backward passes (embeddings and transformer
// blocks, no heads), shared by the masked-LM model (Model.run puts the MLM
// and NSP heads on top) and the contrastive model's text tower.

// encode runs embeddings and encoder on b and returns the top hidden states
// [B·S, H] (the workspace's, valid until the next call).
func (m *Model[T]) encode(b *Batch) ([]T, error) {
	if err := b.check(m.Config); err != nil {
		return nil, err
	}
	cfg := m.Config
	w := &m.ws
	w.ensure(cfg, b.B, b.S)
	H, F, N := cfg.HiddenSize, cfg.IntermediateSize, b.B*b.S
	sh := attentionShape{B: b.B, S: b.S, A: cfg.NumHeads, Dh: H / cfg.NumHeads}

	// Embeddings.
	embeddingForward(b.InputIDs, b.TokenTypes, b.S, H, m.wordEmb.W, m.posEmb.W, m.typeEmb.W, w.embSum)
	layerNormForward(w.embSum, N, H, m.embLNg.W, m.embLNb.W, w.hidden[0], w.embXhat, w.embRstd)

	// Encoder.
	for l := range m.layers {
		L, a := &m.layers[l], &w.layers[l]
		x := w.hidden[l]
		linearForward(x, N, H, L.qkvW, L.qkvB, 3*H, a.qkv)
		attentionForward(a.qkv, b.Valid, sh, a.probs, a.ctx)
		linearForward(a.ctx, N, H, L.attnOutW.W, L.attnOutB.W, H, a.attnSum)
		addInPlace(a.attnSum, x)
		layerNormForward(a.attnSum, N, H, L.ln1g.W, L.ln1b.W, a.h1, a.ln1Xhat, a.ln1Rstd)
		linearForward(a.h1, N, H, L.interW.W, L.interB.W, F, a.interPre)
		geluForward(a.interPre, a.interAct)
		linearForward(a.interAct, N, F, L.outW.W, L.outB.W, H, a.outSum)
		addInPlace(a.outSum, a.h1)
		layerNormForward(a.outSum, N, H, L.ln2g.W, L.ln2b.W, w.hidden[l+1], a.ln2Xhat, a.ln2Rstd)
	}
	return w.hidden[len(m.layers)], nil
}

// encodeBackward adds ∂loss/∂θ of the encoder for dTop = ∂loss/∂top (after
// encode on the same batch). dTop is copied, not kept.
func (m *Model[T]) encodeBackward(b *Batch, dTop []T) {
	copy(m.ws.dHidden, dTop)
	m.backpropEncoder(b)
}

// backpropEncoder adds ∂loss/∂θ of the encoder, after encode on the same
// batch, for the ∂loss/∂top that ws.dHidden holds on entry (and that it
// consumes).
func (m *Model[T]) backpropEncoder(b *Batch) {
	cfg := m.Config
	w := &m.ws
	H, F, N := cfg.HiddenSize, cfg.IntermediateSize, b.B*b.S
	sh := attentionShape{B: b.B, S: b.S, A: cfg.NumHeads, Dh: H / cfg.NumHeads}
	// dHidden holds ∂loss/∂hidden[l+1] on entry to layer l.
	dY := w.dHidden
	spare := w.dHidden2
	for l := len(m.layers) - 1; l >= 0; l-- {
		L, a := &m.layers[l], &w.layers[l]
		x := w.hidden[l]
		dSum := w.dTmp
		layerNormBackward(dY, N, H, L.ln2g.W, a.ln2Xhat, a.ln2Rstd, dSum, L.ln2g.G, L.ln2b.G)
		linearBackward(a.interAct, N, F, L.outW.W, H, dSum, w.dInter, false, L.outW.G, L.outB.G)
		geluBackward(a.interPre, w.dInter, w.dInter)
		dH1 := spare
		copy(dH1, dSum) // residual branch
		linearBackward(a.h1, N, H, L.interW.W, F, w.dInter, dH1, true, L.interW.G, L.interB.G)
		layerNormBackward(dH1, N, H, L.ln1g.W, a.ln1Xhat, a.ln1Rstd, dSum, L.ln1g.G, L.ln1b.G)
		linearBackward(a.ctx, N, H, L.attnOutW.W, H, dSum, w.dCtx, false, L.attnOutW.G, L.attnOutB.G)
		attentionBackward(a.qkv, a.probs, sh, w.dCtx, w.dQKV)
		dX := dY // dY is consumed; reuse it for ∂loss/∂x
		copy(dX, dSum)
		linearBackward(x, N, H, L.qkvW, 3*H, w.dQKV, dX, true, L.qkvGW, L.qkvGB)
	}
	layerNormBackward(dY, N, H, m.embLNg.W, w.embXhat, w.embRstd, w.dTmp, m.embLNg.G, m.embLNb.G)
	embeddingBackward(b.InputIDs, b.TokenTypes, b.S, H, w.dTmp, int32(cfg.PadTokenID), m.wordEmb.G, m.posEmb.G, m.typeEmb.G)
}
