package trainer

import (
	"fmt"
	"math/rand/v2"

	"gorgonia.org/tensor"
)

// initStd is BERT's initializer_range.
const initStd = 0.02

// Param is one named parameter: its value and gradient tensors and their
// backing slices. Names are Hugging Face BERT state-dict keys.
type Param[T Float] struct {
	Name  string
	Shape []int
	Value *tensor.Dense
	Grad  *tensor.Dense
	W, G  []T
	// Decay is false for biases and LayerNorm parameters, which AdamW leaves
	// out of weight decay.
	Decay bool
}

// Size is the number of elements.
func (p *Param[T]) Size() int { return len(p.W) }

type paramKind int

const (
	kindWeight   paramKind = iota // N(0, initStd), decayed
	kindBias                      // 0, not decayed
	kindLNWeight                  // 1, not decayed
	kindLNBias                    // 0, not decayed
)

// paramSet builds the parameter list in a fixed order (the order of the
// state dict), which is also the order of initialisation and serialisation.
type paramSet[T Float] struct {
	list []*Param[T]
}

func (s *paramSet[T]) add(name string, kind paramKind, shape ...int) *Param[T] {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return s.addOver(name, kind, make([]T, n), make([]T, n), shape...)
}

// addOver makes a parameter whose value and gradient are views of existing
// buffers (the fused Q|K|V projection).
func (s *paramSet[T]) addOver(name string, kind paramKind, w, g []T, shape ...int) *Param[T] {
	p := &Param[T]{
		Name: name, Shape: shape,
		Value: denseOver(w, shape...), Grad: denseOver(g, shape...),
		W: w, G: g, Decay: kind == kindWeight,
	}
	if kind == kindLNWeight {
		for i := range w {
			w[i] = 1
		}
	}
	s.list = append(s.list, p)
	return p
}

// initWeights draws every weight matrix from N(0, 0.02) in parameter order
// from one seeded generator, and zeroes the padding row of the word
// embeddings, as BertPreTrainedModel._init_weights does.
func (s *paramSet[T]) initWeights(seed uint64, wordEmb *Param[T], padID int) {
	rng := rand.New(rand.NewPCG(seed, 0x62657274)) // "bert"
	for _, p := range s.list {
		if !p.Decay {
			continue
		}
		for i := range p.W {
			p.W[i] = T(rng.NormFloat64() * initStd)
		}
	}
	h := wordEmb.Shape[1]
	clear(wordEmb.W[padID*h : (padID+1)*h])
}

func layerName(l int, rest string) string {
	return fmt.Sprintf("bert.encoder.layer.%d.%s", l, rest)
}
