package trainer

// momentumEncoder is MoCo's key encoder as WenLan/BriVL uses it for both
// modalities: copies of the text and image towers and their projections,
// never trained, that follow the online weights as an exponential moving
// average, and two queues holding the keys of the last Queue pairs. Keys
// from a slowly moving encoder stay comparable across steps, which is what
// lets old keys serve as negatives.
type momentumEncoder[T Float] struct {
	m      float64
	pool   string
	text   *Model[T]
	vision *visionTower[T]
	// params are the momentum weights, in the online model's order (without
	// logit_scale), named like the online ones; online are their sources.
	params, online    []*Param[T]
	textProj, visProj *Param[T]

	// queueText and queueImage are rings of Queue keys [Q, D]: ptr is the
	// next row written, filled how many rows hold keys.
	queueText, queueImage []T
	ptr, filled           int

	tPooled, tFeat, kt, tNorm []T
	iFeat, ki, iNorm          []T
}

func newMomentumEncoder[T Float](on *ContrastiveModel[T]) (*momentumEncoder[T], error) {
	cfg := on.Config
	e := &momentumEncoder[T]{m: cfg.Momentum, pool: cfg.Pool}
	var err error
	if e.text, err = NewModel[T](cfg.Text, 0); err != nil {
		return nil, err
	}
	if e.vision, err = newVisionTower[T](cfg.Vision, 0); err != nil {
		return nil, err
	}
	D, Ht, Hv := cfg.ProjectionDim, cfg.Text.HiddenSize, cfg.Vision.HiddenSize
	var heads paramSet[T]
	e.visProj = heads.add("visual_projection.weight", kindWeight, D, Hv)
	e.textProj = heads.add("text_projection.weight", kindWeight, D, Ht)
	e.params = append(e.params, e.text.encoderParams(textTowerPrefix)...)
	e.params = append(e.params, e.vision.params.list...)
	e.params = append(e.params, e.visProj, e.textProj)
	for _, p := range on.params {
		if p != on.logitScale {
			e.online = append(e.online, p)
		}
	}
	for i, p := range e.params {
		copy(p.W, e.online[i].W) // θm starts at θ
	}
	e.queueText, e.queueImage = make([]T, cfg.Queue*D), make([]T, cfg.Queue*D)
	return e, nil
}

// follow moves every momentum weight towards its online weight.
func (e *momentumEncoder[T]) follow() {
	for i, p := range e.params {
		momentumUpdate(e.m, e.online[i].W, p.W)
	}
}

// keys encodes b with the momentum towers: normalised text and image keys
// [B, D] (valid until the next call).
func (e *momentumEncoder[T]) keys(b *PairBatch) (kt, ki []T, err error) {
	D := e.textProj.Shape[0]
	Ht, Hv := e.textProj.Shape[1], e.visProj.Shape[1]
	B, S := b.B, b.Text.S
	if len(e.kt) != B*D {
		e.tPooled, e.tFeat, e.kt, e.tNorm = make([]T, B*Ht), make([]T, B*D), make([]T, B*D), make([]T, B)
		e.iFeat, e.ki, e.iNorm = make([]T, B*D), make([]T, B*D), make([]T, B)
	}
	top, err := e.text.encode(b.Text)
	if err != nil {
		return nil, nil, err
	}
	poolForward(e.pool, top, b.Text.Valid, B, S, Ht, e.tPooled)
	projectForward(e.tPooled, B, Ht, e.textProj.W, D, e.tFeat)
	l2NormalizeForward(e.tFeat, B, D, e.kt, e.tNorm)
	iPooled := e.vision.forward(b.Pixels, B)
	projectForward(iPooled, B, Hv, e.visProj.W, D, e.iFeat)
	l2NormalizeForward(e.iFeat, B, D, e.ki, e.iNorm)
	return e.kt, e.ki, nil
}

// withQueue lays out the keys of a pass in dst: the batch's keys, then the
// queued ones in ring order.
func (e *momentumEncoder[T]) withQueue(batch, queue, dst []T) []T {
	n := copy(dst, batch)
	D := e.textProj.Shape[0]
	copy(dst[n:], queue[:e.filled*D])
	return dst[:n+e.filled*D]
}

// enqueue pushes the last keys (B pairs) into both queues, oldest out.
func (e *momentumEncoder[T]) enqueue(B int) {
	D := e.textProj.Shape[0]
	Q := len(e.queueText) / D
	if Q == 0 {
		return
	}
	for i := 0; i < B; i++ {
		copy(e.queueText[e.ptr*D:(e.ptr+1)*D], e.kt[i*D:(i+1)*D])
		copy(e.queueImage[e.ptr*D:(e.ptr+1)*D], e.ki[i*D:(i+1)*D])
		e.ptr = (e.ptr + 1) % Q
		e.filled = min(e.filled+1, Q)
	}
}
