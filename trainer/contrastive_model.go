package trainer

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
)

// ContrastiveConfig is the shape of a dual-encoder image–text model (CLIP,
// Radford et al. 2021; ALIGN; WenLan/BriVL, Huo et al. 2021): a BERT text
// tower, pooled, and a ViT image tower, each projected without bias to a
// shared space and L2-normalised, trained with the symmetric InfoNCE loss at
// a learnable temperature. With Momentum > 0, momentum copies of both towers
// encode the keys, and with Queue > 0 the keys of the last Queue pairs are
// kept as extra negatives (MoCo, as WenLan/BriVL does).
type ContrastiveConfig struct {
	Text          ModelConfig  `json:"text"`
	Vision        VisionConfig `json:"vision"`
	ProjectionDim int          `json:"projection_dim"`
	// Pool is PoolCLS or PoolMean: how the text tower's tokens become one
	// vector.
	Pool string `json:"pool"`
	// InitTemperature τ starts the logit scale at 1/τ (CLIP: 0.07);
	// MaxLogitScale caps it (CLIP: 100).
	InitTemperature float64 `json:"init_temperature"`
	MaxLogitScale   float64 `json:"max_logit_scale"`
	// Queue is the number of momentum keys kept per modality as extra
	// negatives (0: in-batch negatives only). Momentum m in (0, 1) turns on
	// the momentum encoders, updated θm ← m·θm + (1−m)·θ each step.
	Queue    int     `json:"queue"`
	Momentum float64 `json:"momentum"`
}

// Defaults of the contrastive model.
const (
	DefaultTemperature   = 0.07
	DefaultMaxLogitScale = 100
	DefaultMomentum      = 0.99 // BriVL's
)

// TinyContrastiveConfig is a 2-layer text tower (hidden 64) and a 2-layer
// ViT over 32×32 images, projected to 64 dimensions.
func TinyContrastiveConfig(vocab int) ContrastiveConfig {
	text := TinyConfig(vocab)
	text.HiddenSize, text.NumHeads, text.IntermediateSize = 64, 2, 256
	return ContrastiveConfig{Text: text, Vision: TinyVisionConfig(), ProjectionDim: 64, Pool: PoolMean,
		InitTemperature: DefaultTemperature, MaxLogitScale: DefaultMaxLogitScale}
}

// Validate names the first bad setting.
func (c ContrastiveConfig) Validate() error {
	if err := c.Text.Validate(); err != nil {
		return fmt.Errorf("text tower: %w", err)
	}
	if err := c.Vision.Validate(); err != nil {
		return err
	}
	switch {
	case c.ProjectionDim < 1:
		return fmt.Errorf("contrastive: projection_dim %d must be positive", c.ProjectionDim)
	case c.Pool != PoolCLS && c.Pool != PoolMean:
		return fmt.Errorf("contrastive: pool %q is not one of %s, %s", c.Pool, PoolCLS, PoolMean)
	case !(c.InitTemperature > 0) || math.IsInf(c.InitTemperature, 0):
		return fmt.Errorf("contrastive: init_temperature %g must be positive", c.InitTemperature)
	case !(c.MaxLogitScale >= 1) || math.IsInf(c.MaxLogitScale, 0):
		return fmt.Errorf("contrastive: max_logit_scale %g must be at least 1", c.MaxLogitScale)
	case c.Queue < 0:
		return fmt.Errorf("contrastive: queue %d must not be negative", c.Queue)
	case c.Momentum < 0 || c.Momentum >= 1 || math.IsNaN(c.Momentum):
		return fmt.Errorf("contrastive: momentum %g must be in [0, 1)", c.Momentum)
	case c.Queue > 0 && c.Momentum == 0:
		return errors.New("contrastive: a queue of negatives needs the momentum encoder (momentum > 0), which keeps its keys consistent (MoCo)")
	}
	return nil
}

// PairBatch is B image–caption pairs: pair i is caption row i of Text and
// image i of Pixels.
type PairBatch struct {
	B int
	// Text holds the captions, [CLS] … [SEP] padded to one length; its
	// masking fields are unused.
	Text *Batch
	// Pixels are B images [C, R, R], channel-major, normalised.
	Pixels []float32
	// Captions are the caption texts (evaluation counts a retrieved caption
	// equal to the true one as a hit); may be nil.
	Captions []string
}

func (b *PairBatch) check(c ContrastiveConfig) error {
	px := c.Vision.NumChannels * c.Vision.ImageSize * c.Vision.ImageSize
	switch {
	case b.B < 1 || b.Text == nil:
		return fmt.Errorf("pair batch: %d pairs", b.B)
	case b.Text.B != b.B:
		return fmt.Errorf("pair batch: %d captions for %d pairs", b.Text.B, b.B)
	case len(b.Pixels) != b.B*px:
		return fmt.Errorf("pair batch: %d pixel values for %d images of %d×%d×%d", len(b.Pixels), b.B, c.Vision.NumChannels, c.Vision.ImageSize, c.Vision.ImageSize)
	case b.Captions != nil && len(b.Captions) != b.B:
		return fmt.Errorf("pair batch: %d caption texts for %d pairs", len(b.Captions), b.B)
	}
	return nil
}

// ContrastiveResult is what one forward pass measured.
type ContrastiveResult struct {
	Loss             float64 // ½(image→text + text→image)
	I2TLoss, T2ILoss float64
	// I2TCorrect counts images whose own caption scored highest among the
	// keys (batch and queue); T2ICorrect the same for captions.
	I2TCorrect, T2ICorrect int
	Pairs                  int
	Keys                   int // keys per query: the batch plus the queue
	LogitScale             float64
}

const logitScaleName = "logit_scale"

// stateDictShape is the shape a parameter is saved with.
func stateDictShape[T Float](p *Param[T]) []int {
	if p.Name == logitScaleName {
		return []int{}
	}
	return p.Shape
}

// ContrastiveModel is the dual encoder. T is float32 for training and
// float64 for gradient checks.
type ContrastiveModel[T Float] struct {
	Config ContrastiveConfig

	text   *Model[T] // BERT encoder; its masked-LM head is not used
	vision *visionTower[T]
	// textProj [D, Ht] and visProj [D, Hv] project without bias; logitScale
	// is log(1/τ), a scalar.
	textProj, visProj, logitScale *Param[T]
	params                        []*Param[T]

	mom *momentumEncoder[T]
	ws  contrastiveWorkspace[T]
}

// NewContrastiveModel builds the model from seed: the text tower as
// NewModel initialises BERT, the image tower as newVisionTower does, the
// projections N(0, 1/hidden) as CLIP does, the logit scale at log(1/τ).
func NewContrastiveModel[T Float](cfg ContrastiveConfig, seed uint64) (*ContrastiveModel[T], error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	m := &ContrastiveModel[T]{Config: cfg}
	var err error
	if m.text, err = NewModel[T](cfg.Text, seed); err != nil {
		return nil, err
	}
	if m.vision, err = newVisionTower[T](cfg.Vision, seed+1); err != nil {
		return nil, err
	}
	D, Ht, Hv := cfg.ProjectionDim, cfg.Text.HiddenSize, cfg.Vision.HiddenSize
	var heads paramSet[T]
	m.visProj = heads.add("visual_projection.weight", kindWeight, D, Hv)
	m.textProj = heads.add("text_projection.weight", kindWeight, D, Ht)
	// logit_scale is a 0-dimensional tensor in CLIP's state dict; here it is
	// a one-element vector, and checkpoints store it with shape [].
	m.logitScale = heads.add(logitScaleName, kindBias, 1)
	m.logitScale.W[0] = T(math.Min(math.Log(1/cfg.InitTemperature), math.Log(cfg.MaxLogitScale)))
	rng := rand.New(rand.NewPCG(seed, 0x636c6970)) // "clip"
	for _, p := range []*Param[T]{m.visProj, m.textProj} {
		std := 1 / math.Sqrt(float64(p.Shape[1]))
		for i := range p.W {
			p.W[i] = T(rng.NormFloat64() * std)
		}
	}
	m.params = append(m.params, m.text.encoderParams(textTowerPrefix)...)
	m.params = append(m.params, m.vision.params.list...)
	m.params = append(m.params, m.visProj, m.textProj, m.logitScale)
	if cfg.Momentum > 0 {
		if m.mom, err = newMomentumEncoder(m); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// Params lists the trainable parameters in state-dict order.
func (m *ContrastiveModel[T]) Params() []*Param[T] { return m.params }

// NumParams counts the trainable values.
func (m *ContrastiveModel[T]) NumParams() int {
	n := 0
	for _, p := range m.params {
		n += p.Size()
	}
	return n
}

// ZeroGrad clears every gradient.
func (m *ContrastiveModel[T]) ZeroGrad() {
	for _, p := range m.params {
		clear(p.G)
	}
}

// LogitScale is exp(logit_scale) = 1/τ.
func (m *ContrastiveModel[T]) LogitScale() float64 { return math.Exp(float64(m.logitScale.W[0])) }

// ClampLogitScale keeps the logit scale in [1, MaxLogitScale], as CLIP clamps
// its parameter after every update so the temperature cannot collapse.
func (m *ContrastiveModel[T]) ClampLogitScale() {
	s := float64(m.logitScale.W[0])
	m.logitScale.W[0] = T(min(max(s, 0), math.Log(m.Config.MaxLogitScale)))
}

// contrastiveWorkspace keeps one batch's projection-side activations.
type contrastiveWorkspace[T Float] struct {
	b, k int

	tPooled, tFeat, tEmb, tNorm  []T
	iFeat, iEmb, iNorm           []T
	dTEmb, dIEmb, dTFeat, dIFeat []T
	dTPooled, dIPooled, dTop     []T
	keysT, keysI, logits         []T
	labels                       []int32
}

func (w *contrastiveWorkspace[T]) ensure(cfg ContrastiveConfig, b, s, k int) {
	D, Ht, Hv := cfg.ProjectionDim, cfg.Text.HiddenSize, cfg.Vision.HiddenSize
	if w.b != b || w.k != k || len(w.dTop) != b*s*Ht {
		*w = contrastiveWorkspace[T]{b: b, k: k}
		w.tPooled, w.tFeat, w.tEmb, w.tNorm = make([]T, b*Ht), make([]T, b*D), make([]T, b*D), make([]T, b)
		w.iFeat, w.iEmb, w.iNorm = make([]T, b*D), make([]T, b*D), make([]T, b)
		w.dTEmb, w.dIEmb, w.dTFeat, w.dIFeat = make([]T, b*D), make([]T, b*D), make([]T, b*D), make([]T, b*D)
		w.dTPooled, w.dIPooled, w.dTop = make([]T, b*Ht), make([]T, b*Hv), make([]T, b*s*Ht)
		w.keysT, w.keysI, w.logits = make([]T, k*D), make([]T, k*D), make([]T, b*k)
		w.labels = make([]int32, b)
	}
}

// embed runs both towers and the projections: w.tEmb and w.iEmb hold the
// normalised embeddings [B, D] afterwards.
func (m *ContrastiveModel[T]) embed(b *PairBatch, k int) error {
	if err := b.check(m.Config); err != nil {
		return err
	}
	cfg := m.Config
	D, Ht, Hv := cfg.ProjectionDim, cfg.Text.HiddenSize, cfg.Vision.HiddenSize
	B, S := b.B, b.Text.S
	w := &m.ws
	w.ensure(cfg, B, S, k)
	top, err := m.text.encode(b.Text)
	if err != nil {
		return err
	}
	poolForward(cfg.Pool, top, b.Text.Valid, B, S, Ht, w.tPooled)
	projectForward(w.tPooled, B, Ht, m.textProj.W, D, w.tFeat)
	l2NormalizeForward(w.tFeat, B, D, w.tEmb, w.tNorm)
	iPooled := m.vision.forward(b.Pixels, B)
	projectForward(iPooled, B, Hv, m.visProj.W, D, w.iFeat)
	l2NormalizeForward(w.iFeat, B, D, w.iEmb, w.iNorm)
	return nil
}

// Embed returns the normalised image and text embeddings [B, D] of a batch
// (copies), for retrieval evaluation.
func (m *ContrastiveModel[T]) Embed(b *PairBatch) (images, texts []T, err error) {
	if err := m.embed(b, b.B); err != nil {
		return nil, nil, err
	}
	return append([]T(nil), m.ws.iEmb...), append([]T(nil), m.ws.tEmb...), nil
}

// passMode says where the keys come from and whether the momentum state
// advances.
type passMode int

const (
	// passEval: keys are the batch's own online embeddings (in-batch
	// negatives only), as CLIP scores.
	passEval passMode = iota
	// passFixed: momentum keys and queue as they stand, nothing advances
	// (the gradient check's pure function of the online weights).
	passFixed
	// passTrain: the momentum encoders step towards the online weights,
	// encode the keys, and the keys join the queues after the loss.
	passTrain
)

// Forward scores b with in-batch negatives (held-out evaluation) and touches
// no gradient.
func (m *ContrastiveModel[T]) Forward(b *PairBatch) (ContrastiveResult, error) {
	return m.run(b, 0, passEval)
}

// TrainStep runs b forward and backward, adding gradScale·∂loss/∂θ to every
// gradient; with a momentum encoder it first moves the encoder, scores
// against its keys and the queues, then enqueues the keys.
func (m *ContrastiveModel[T]) TrainStep(b *PairBatch, gradScale float64) (ContrastiveResult, error) {
	return m.run(b, gradScale, passTrain)
}

// ForwardBackward is TrainStep without advancing the momentum encoder or the
// queues: the loss is then a function of the online weights alone.
func (m *ContrastiveModel[T]) ForwardBackward(b *PairBatch, gradScale float64) (ContrastiveResult, error) {
	return m.run(b, gradScale, passFixed)
}

func (m *ContrastiveModel[T]) run(b *PairBatch, gradScale float64, mode passMode) (ContrastiveResult, error) {
	cfg := m.Config
	D, Ht, Hv := cfg.ProjectionDim, cfg.Text.HiddenSize, cfg.Vision.HiddenSize
	B := b.B
	useMomentum := m.mom != nil && mode != passEval
	K := B
	if useMomentum {
		K += m.mom.filled
	}
	if err := m.embed(b, K); err != nil {
		return ContrastiveResult{}, err
	}
	w := &m.ws
	S := b.Text.S
	keysT, keysI := w.tEmb, w.iEmb
	if useMomentum {
		if mode == passTrain {
			m.mom.follow()
		}
		kt, ki, err := m.mom.keys(b)
		if err != nil {
			return ContrastiveResult{}, err
		}
		keysT, keysI = m.mom.withQueue(kt, m.mom.queueText, w.keysT), m.mom.withQueue(ki, m.mom.queueImage, w.keysI)
	}
	scale := m.LogitScale()
	backward := gradScale != 0
	if backward {
		clear(w.dTEmb)
		clear(w.dIEmb)
	}
	var dkT, dkI []T
	if backward && !useMomentum {
		dkT, dkI = w.dTEmb, w.dIEmb // the keys are the other tower's embeddings
	}
	res := ContrastiveResult{Pairs: B, Keys: K, LogitScale: scale}
	var dS1, dS2 float64
	res.I2TLoss, res.I2TCorrect, dS1 = infoNCE(w.iEmb, B, D, keysT, K, scale, gradScale/2, w.logits, w.labels, w.dIEmb, dkT)
	res.T2ILoss, res.T2ICorrect, dS2 = infoNCE(w.tEmb, B, D, keysI, K, scale, gradScale/2, w.logits, w.labels, w.dTEmb, dkI)
	res.Loss = (res.I2TLoss + res.T2ILoss) / 2
	if mode == passTrain && m.mom != nil {
		m.mom.enqueue(B)
	}
	if !backward {
		return res, nil
	}
	m.logitScale.G[0] += T(dS1 + dS2)
	l2NormalizeBackward(w.iEmb, w.iNorm, B, D, w.dIEmb, w.dIFeat)
	projectBackward(m.vision.ws.pooled, B, Hv, m.visProj.W, D, w.dIFeat, w.dIPooled, m.visProj.G)
	m.vision.backward(w.dIPooled)
	l2NormalizeBackward(w.tEmb, w.tNorm, B, D, w.dTEmb, w.dTFeat)
	projectBackward(w.tPooled, B, Ht, m.textProj.W, D, w.dTFeat, w.dTPooled, m.textProj.G)
	poolBackward(cfg.Pool, w.dTPooled, b.Text.Valid, B, S, Ht, w.dTop)
	m.text.encodeBackward(b.Text, w.dTop)
	return res, nil
}
