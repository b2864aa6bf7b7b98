package trainer

import (
	"fmt"
	"math/rand/v2"
)

// VisionConfig is the shape of the image tower, a small Vision Transformer
// (Dosovitskiy et al. 2021). JSON names are those of a Hugging Face
// ViTConfig.
type VisionConfig struct {
	ImageSize        int `json:"image_size"`
	PatchSize        int `json:"patch_size"`
	NumChannels      int `json:"num_channels"`
	HiddenSize       int `json:"hidden_size"`
	NumLayers        int `json:"num_hidden_layers"`
	NumHeads         int `json:"num_attention_heads"`
	IntermediateSize int `json:"intermediate_size"`
}

// TinyVisionConfig is a 2-layer ViT over 32×32 images cut into 4×4 patches.
func TinyVisionConfig() VisionConfig {
	return VisionConfig{ImageSize: 32, PatchSize: 4, NumChannels: 3, HiddenSize: 64, NumLayers: 2, NumHeads: 2, IntermediateSize: 256}
}

// Patches is the number of patches per image.
func (c VisionConfig) Patches() int { g := c.ImageSize / c.PatchSize; return g * g }

// Validate reports the first field that makes the shape impossible.
func (c VisionConfig) Validate() error {
	switch {
	case c.ImageSize < 1 || c.PatchSize < 1 || c.NumChannels < 1:
		return fmt.Errorf("vision: image_size %d, patch_size %d and num_channels %d must be positive", c.ImageSize, c.PatchSize, c.NumChannels)
	case c.ImageSize%c.PatchSize != 0:
		return fmt.Errorf("vision: patch_size %d does not divide image_size %d", c.PatchSize, c.ImageSize)
	case c.HiddenSize < 1 || c.NumLayers < 0 || c.NumHeads < 1 || c.IntermediateSize < 1:
		return fmt.Errorf("vision: hidden %d, layers %d, heads %d and ff %d must be positive", c.HiddenSize, c.NumLayers, c.NumHeads, c.IntermediateSize)
	case c.HiddenSize%c.NumHeads != 0:
		return fmt.Errorf("vision: hidden size %d is not a multiple of %d heads", c.HiddenSize, c.NumHeads)
	}
	return nil
}

// hfConfig is the vision part of config.json, as transformers writes a
// ViTConfig (no pooling layer: the tower's output is the [CLS] token after
// the final LayerNorm, as CLIP's vision tower pools).
func (c VisionConfig) hfConfig() map[string]any {
	return map[string]any{
		"model_type":                   "vit",
		"image_size":                   c.ImageSize,
		"patch_size":                   c.PatchSize,
		"num_channels":                 c.NumChannels,
		"hidden_size":                  c.HiddenSize,
		"num_hidden_layers":            c.NumLayers,
		"num_attention_heads":          c.NumHeads,
		"intermediate_size":            c.IntermediateSize,
		"hidden_act":                   "gelu",
		"hidden_dropout_prob":          0.0,
		"attention_probs_dropout_prob": 0.0,
		"layer_norm_eps":               layerNormEps,
		"qkv_bias":                     true,
		"initializer_range":            initStd,
		"corpusflow_pooling":           "cls_after_layernorm",
	}
}

// visionTower is a pre-LayerNorm ViT: a stride-P patch projection, a learned
// [CLS] token and position embeddings, L blocks
//
//	h = x + Attn(LN_before(x)),  y = h + FF(LN_after(h)),
//
// and a final LayerNorm, of which the [CLS] row is the image's vector.
// Parameters carry Hugging Face ViTModel names under "vision_model.".
type visionTower[T Float] struct {
	cfg    VisionConfig
	params paramSet[T]

	cls, pos, patchW, patchB *Param[T]
	layers                   []vitLayer[T]
	lnG, lnB                 *Param[T]

	ws vitWorkspace[T]
}

type vitLayer[T Float] struct {
	ln1g, ln1b               *Param[T]
	qkvW, qkvB, qkvGW, qkvGB []T
	attnOutW, attnOutB       *Param[T]
	ln2g, ln2b               *Param[T]
	interW, interB           *Param[T]
	outW, outB               *Param[T]
}

func vitName(l int, rest string) string {
	return fmt.Sprintf("vision_model.encoder.layer.%d.%s", l, rest)
}

// newVisionTower builds the tower with N(0, 0.02) weights, [CLS] and
// position embeddings drawn from seed.
func newVisionTower[T Float](cfg VisionConfig, seed uint64) (*visionTower[T], error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	v := &visionTower[T]{cfg: cfg}
	s := &v.params
	H, F, C, P := cfg.HiddenSize, cfg.IntermediateSize, cfg.NumChannels, cfg.PatchSize
	// [CLS] and position embeddings are initialised like weights but, as in
	// timm and CLIP, kept out of weight decay.
	v.cls = s.add("vision_model.embeddings.cls_token", kindBias, 1, 1, H)
	v.pos = s.add("vision_model.embeddings.position_embeddings", kindBias, 1, cfg.Patches()+1, H)
	v.patchW = s.add("vision_model.embeddings.patch_embeddings.projection.weight", kindWeight, H, C, P, P)
	v.patchB = s.add("vision_model.embeddings.patch_embeddings.projection.bias", kindBias, H)
	for l := 0; l < cfg.NumLayers; l++ {
		var L vitLayer[T]
		L.ln1g = s.add(vitName(l, "layernorm_before.weight"), kindLNWeight, H)
		L.ln1b = s.add(vitName(l, "layernorm_before.bias"), kindLNBias, H)
		L.qkvW, L.qkvGW = make([]T, 3*H*H), make([]T, 3*H*H)
		L.qkvB, L.qkvGB = make([]T, 3*H), make([]T, 3*H)
		for i, part := range []string{"query", "key", "value"} {
			s.addOver(vitName(l, "attention.attention."+part+".weight"), kindWeight, L.qkvW[i*H*H:(i+1)*H*H], L.qkvGW[i*H*H:(i+1)*H*H], H, H)
			s.addOver(vitName(l, "attention.attention."+part+".bias"), kindBias, L.qkvB[i*H:(i+1)*H], L.qkvGB[i*H:(i+1)*H], H)
		}
		L.attnOutW = s.add(vitName(l, "attention.output.dense.weight"), kindWeight, H, H)
		L.attnOutB = s.add(vitName(l, "attention.output.dense.bias"), kindBias, H)
		L.ln2g = s.add(vitName(l, "layernorm_after.weight"), kindLNWeight, H)
		L.ln2b = s.add(vitName(l, "layernorm_after.bias"), kindLNBias, H)
		L.interW = s.add(vitName(l, "intermediate.dense.weight"), kindWeight, F, H)
		L.interB = s.add(vitName(l, "intermediate.dense.bias"), kindBias, F)
		L.outW = s.add(vitName(l, "output.dense.weight"), kindWeight, H, F)
		L.outB = s.add(vitName(l, "output.dense.bias"), kindBias, H)
		v.layers = append(v.layers, L)
	}
	v.lnG = s.add("vision_model.layernorm.weight", kindLNWeight, H)
	v.lnB = s.add("vision_model.layernorm.bias", kindLNBias, H)

	rng := rand.New(rand.NewPCG(seed, 0x766974)) // "vit"
	for _, p := range s.list {
		if p.Decay || p == v.cls || p == v.pos {
			for i := range p.W {
				p.W[i] = T(rng.NormFloat64() * initStd)
			}
		}
	}
	return v, nil
}

// vitWorkspace keeps one batch's activations for backward.
type vitWorkspace[T Float] struct {
	b int

	patches, patchEmb []T
	hidden            [][]T // hidden[l] is the input of block l; hidden[L] the output
	layers            []vitActs[T]
	clsTop            []T // [B, H] the [CLS] rows of hidden[L]
	lnXhat, lnRstd    []T
	pooled            []T // [B, H] the tower's output
	valid             []bool

	dHidden, dTmp, dA, dCtx, dQKV, dInter, dPatch []T
}

type vitActs[T Float] struct {
	a, ln1Xhat, ln1Rstd, qkv, probs, ctx, h []T
	c, ln2Xhat, ln2Rstd, interPre, interAct []T
}

func (w *vitWorkspace[T]) ensure(cfg VisionConfig, b int) {
	if w.b == b {
		return
	}
	H, F, A := cfg.HiddenSize, cfg.IntermediateSize, cfg.NumHeads
	N := cfg.Patches()
	S := N + 1
	n := b * S
	cpp := cfg.NumChannels * cfg.PatchSize * cfg.PatchSize
	*w = vitWorkspace[T]{b: b}
	w.patches, w.patchEmb = make([]T, b*N*cpp), make([]T, b*N*H)
	w.hidden = make([][]T, cfg.NumLayers+1)
	for i := range w.hidden {
		w.hidden[i] = make([]T, n*H)
	}
	w.layers = make([]vitActs[T], cfg.NumLayers)
	for i := range w.layers {
		w.layers[i] = vitActs[T]{
			a: make([]T, n*H), ln1Xhat: make([]T, n*H), ln1Rstd: make([]T, n),
			qkv: make([]T, n*3*H), probs: make([]T, b*A*S*S), ctx: make([]T, n*H), h: make([]T, n*H),
			c: make([]T, n*H), ln2Xhat: make([]T, n*H), ln2Rstd: make([]T, n),
			interPre: make([]T, n*F), interAct: make([]T, n*F),
		}
	}
	w.clsTop, w.lnXhat, w.lnRstd, w.pooled = make([]T, b*H), make([]T, b*H), make([]T, b), make([]T, b*H)
	w.valid = make([]bool, n)
	for i := range w.valid {
		w.valid[i] = true // every patch is a real token
	}
	w.dHidden, w.dTmp, w.dA, w.dCtx = make([]T, n*H), make([]T, n*H), make([]T, n*H), make([]T, n*H)
	w.dQKV, w.dInter, w.dPatch = make([]T, n*3*H), make([]T, n*F), make([]T, b*N*H)
}

// forward encodes B images (pixels [B, C, R, R], normalised) and returns the
// pooled vectors [B, H] (valid until the next call).
func (v *visionTower[T]) forward(pixels []float32, B int) []T {
	cfg := v.cfg
	w := &v.ws
	w.ensure(cfg, B)
	H, F, N := cfg.HiddenSize, cfg.IntermediateSize, cfg.Patches()
	S := N + 1
	n := B * S
	cpp := cfg.NumChannels * cfg.PatchSize * cfg.PatchSize
	sh := attentionShape{B: B, S: S, A: cfg.NumHeads, Dh: H / cfg.NumHeads}

	patchify(pixels, B, cfg.NumChannels, cfg.ImageSize, cfg.PatchSize, w.patches)
	linearForward(w.patches, B*N, cpp, v.patchW.W, v.patchB.W, H, w.patchEmb)
	vitEmbeddingForward(w.patchEmb, B, N, H, v.cls.W, v.pos.W, w.hidden[0])
	for l := range v.layers {
		L, a := &v.layers[l], &w.layers[l]
		x, y := w.hidden[l], w.hidden[l+1]
		layerNormForward(x, n, H, L.ln1g.W, L.ln1b.W, a.a, a.ln1Xhat, a.ln1Rstd)
		linearForward(a.a, n, H, L.qkvW, L.qkvB, 3*H, a.qkv)
		attentionForward(a.qkv, w.valid, sh, a.probs, a.ctx)
		linearForward(a.ctx, n, H, L.attnOutW.W, L.attnOutB.W, H, a.h)
		addInPlace(a.h, x)
		layerNormForward(a.h, n, H, L.ln2g.W, L.ln2b.W, a.c, a.ln2Xhat, a.ln2Rstd)
		linearForward(a.c, n, H, L.interW.W, L.interB.W, F, a.interPre)
		geluForward(a.interPre, a.interAct)
		linearForward(a.interAct, n, F, L.outW.W, L.outB.W, H, y)
		addInPlace(y, a.h)
	}
	top := w.hidden[len(v.layers)]
	for b := 0; b < B; b++ {
		copy(w.clsTop[b*H:(b+1)*H], top[b*S*H:b*S*H+H])
	}
	// The final LayerNorm is per token, so normalising only the [CLS] rows
	// gives the [CLS] row of ViTModel's last_hidden_state.
	layerNormForward(w.clsTop, B, H, v.lnG.W, v.lnB.W, w.pooled, w.lnXhat, w.lnRstd)
	return w.pooled
}

// backward adds ∂loss/∂θ for dPooled = ∂loss/∂pooled [B, H] (after forward
// on the same batch).
func (v *visionTower[T]) backward(dPooled []T) {
	cfg := v.cfg
	w := &v.ws
	B := w.b
	H, F, N := cfg.HiddenSize, cfg.IntermediateSize, cfg.Patches()
	S := N + 1
	n := B * S
	cpp := cfg.NumChannels * cfg.PatchSize * cfg.PatchSize
	sh := attentionShape{B: B, S: S, A: cfg.NumHeads, Dh: H / cfg.NumHeads}

	dY := w.dHidden // ∂loss/∂hidden[l+1] on entry to block l, ∂loss/∂hidden[l] after it
	clear(dY)
	layerNormBackward(dPooled, B, H, v.lnG.W, w.lnXhat, w.lnRstd, w.dTmp[:B*H], v.lnG.G, v.lnB.G)
	for b := 0; b < B; b++ {
		copy(dY[b*S*H:b*S*H+H], w.dTmp[b*H:(b+1)*H])
	}
	for l := len(v.layers) - 1; l >= 0; l-- {
		L, a := &v.layers[l], &w.layers[l]
		// y = h + FF(LN_after(h))
		linearBackward(a.interAct, n, F, L.outW.W, H, dY, w.dInter, false, L.outW.G, L.outB.G)
		geluBackward(a.interPre, w.dInter, w.dInter)
		linearBackward(a.c, n, H, L.interW.W, F, w.dInter, w.dA, false, L.interW.G, L.interB.G)
		layerNormBackward(w.dA, n, H, L.ln2g.W, a.ln2Xhat, a.ln2Rstd, w.dTmp, L.ln2g.G, L.ln2b.G)
		addInPlace(dY, w.dTmp) // now ∂loss/∂h
		// h = x + Attn(LN_before(x))
		linearBackward(a.ctx, n, H, L.attnOutW.W, H, dY, w.dCtx, false, L.attnOutW.G, L.attnOutB.G)
		attentionBackward(a.qkv, a.probs, sh, w.dCtx, w.dQKV)
		linearBackward(a.a, n, H, L.qkvW, 3*H, w.dQKV, w.dA, false, L.qkvGW, L.qkvGB)
		layerNormBackward(w.dA, n, H, L.ln1g.W, a.ln1Xhat, a.ln1Rstd, w.dTmp, L.ln1g.G, L.ln1b.G)
		addInPlace(dY, w.dTmp) // now ∂loss/∂x
	}
	vitEmbeddingBackward(dY, B, N, H, w.dPatch, v.cls.G, v.pos.G)
	linearBackward(w.patches, B*N, cpp, v.patchW.W, H, w.dPatch, nil, false, v.patchW.G, v.patchB.G)
}
