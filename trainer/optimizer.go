package trainer

import (
	"fmt"
	"math"

	"gorgonia.org/tensor"
)

// OptimizerConfig configures AdamW and its learning-rate schedule.
type OptimizerConfig struct {
	LR          float64 `json:"lr"`
	Beta1       float64 `json:"beta1"`
	Beta2       float64 `json:"beta2"`
	Eps         float64 `json:"eps"`
	WeightDecay float64 `json:"weight_decay"`
	// WarmupSteps rise linearly from 0 to LR; then the rate falls to 0 at
	// TotalSteps, linearly or along a half cosine.
	WarmupSteps int    `json:"warmup_steps"`
	TotalSteps  int    `json:"total_steps"`
	Schedule    string `json:"schedule"` // linear | cosine | constant
	// ClipNorm bounds the global gradient L2 norm (0 = no clipping).
	ClipNorm float64 `json:"clip_norm"`
}

// DefaultOptimizer is BERT's recipe (Devlin et al.): AdamW, β=(0.9, 0.999),
// weight decay 0.01, linear warmup and decay, clipping at 1.
func DefaultOptimizer(total int) OptimizerConfig {
	return OptimizerConfig{LR: 1e-4, Beta1: 0.9, Beta2: 0.999, Eps: 1e-6, WeightDecay: 0.01,
		WarmupSteps: total / 10, TotalSteps: total, Schedule: "linear", ClipNorm: 1}
}

// Validate names the first bad field.
func (c OptimizerConfig) Validate() error {
	switch {
	case c.LR <= 0 || math.IsNaN(c.LR):
		return fmt.Errorf("optimizer: lr %g must be positive", c.LR)
	case c.Beta1 < 0 || c.Beta1 >= 1 || c.Beta2 < 0 || c.Beta2 >= 1:
		return fmt.Errorf("optimizer: betas (%g, %g) must be in [0, 1)", c.Beta1, c.Beta2)
	case c.Eps <= 0 || c.WeightDecay < 0 || c.ClipNorm < 0:
		return fmt.Errorf("optimizer: eps %g must be positive, weight_decay %g and clip_norm %g not negative", c.Eps, c.WeightDecay, c.ClipNorm)
	case c.WarmupSteps < 0 || c.TotalSteps < 0:
		return fmt.Errorf("optimizer: warmup %d and total %d steps must not be negative", c.WarmupSteps, c.TotalSteps)
	}
	switch c.Schedule {
	case "linear", "cosine", "constant":
		return nil
	}
	return fmt.Errorf("optimizer: schedule %q is not one of linear, cosine, constant", c.Schedule)
}

// LRAt is the learning rate of the update that follows `done` updates, with
// the conventions of transformers' get_{linear,cosine}_schedule_with_warmup
// (the first update of a warmup runs at rate 0).
func (c OptimizerConfig) LRAt(done int) float64 {
	if done < c.WarmupSteps {
		return c.LR * float64(done) / float64(max(1, c.WarmupSteps))
	}
	if c.Schedule == "constant" || c.TotalSteps <= c.WarmupSteps {
		return c.LR
	}
	progress := float64(done-c.WarmupSteps) / float64(c.TotalSteps-c.WarmupSteps)
	progress = min(progress, 1)
	if c.Schedule == "cosine" {
		return c.LR * 0.5 * (1 + math.Cos(math.Pi*progress))
	}
	return c.LR * (1 - progress)
}

// AdamW is Adam with decoupled weight decay (Loshchilov & Hutter), updated
// exactly as torch.optim.AdamW does.
type AdamW[T Float] struct {
	Config OptimizerConfig
	Steps  int // updates done
	m, v   []*tensor.Dense
}

// NewAdamW makes zeroed moments for params.
func NewAdamW[T Float](cfg OptimizerConfig, params []*Param[T]) (*AdamW[T], error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	o := &AdamW[T]{Config: cfg}
	for _, p := range params {
		o.m = append(o.m, newDense[T](p.Shape...))
		o.v = append(o.v, newDense[T](p.Shape...))
	}
	return o, nil
}

// GradNorm is the global L2 norm of all gradients, summed in a fixed order.
func GradNorm[T Float](params []*Param[T]) float64 {
	var sq float64
	for _, p := range params {
		for _, g := range p.G {
			sq += float64(g) * float64(g)
		}
	}
	return math.Sqrt(sq)
}

// Step clips the gradients, applies one update and returns the learning rate
// used and the gradient norm before clipping.
func (o *AdamW[T]) Step(params []*Param[T]) (lr, gradNorm float64) {
	c := o.Config
	gradNorm = GradNorm(params)
	clip := 1.0
	if c.ClipNorm > 0 && gradNorm > c.ClipNorm {
		clip = c.ClipNorm / (gradNorm + 1e-6) // torch.nn.utils.clip_grad_norm_
	}
	lr = c.LRAt(o.Steps)
	o.Steps++
	t := float64(o.Steps)
	bc1 := 1 - math.Pow(c.Beta1, t)
	bc2 := 1 - math.Pow(c.Beta2, t)
	stepSize := lr / bc1
	sqrtBC2 := math.Sqrt(bc2)
	for i, p := range params {
		mv, vv := values[T](o.m[i]), values[T](o.v[i])
		decay := 1.0
		if p.Decay {
			decay = 1 - lr*c.WeightDecay
		}
		w, g := p.W, p.G
		parallelFor(len(w), func(lo, hi int) {
			for j := lo; j < hi; j++ {
				gj := float64(g[j]) * clip
				mj := c.Beta1*float64(mv[j]) + (1-c.Beta1)*gj
				vj := c.Beta2*float64(vv[j]) + (1-c.Beta2)*gj*gj
				mv[j], vv[j] = T(mj), T(vj)
				wj := float64(w[j]) * decay
				w[j] = T(wj - stepSize*mj/(math.Sqrt(vj)/sqrtBC2+c.Eps))
			}
		})
	}
	return lr, gradNorm
}
