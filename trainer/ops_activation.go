package trainer

import "math"

// BERT's "gelu" is the exact form 0.5·x·(1+erf(x/√2)), not the tanh
// approximation; Hugging Face checkpoints are trained with it.

// geluForward writes y = gelu(x).
func geluForward[T Float](x, y []T) {
	parallelFor(len(x), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			v := x[i]
			y[i] = 0.5 * v * (1 + erfT(v*math.Sqrt2/2))
		}
	})
}

// geluBackward writes dx = dy · gelu'(x).
func geluBackward[T Float](x, dy, dx []T) {
	const invSqrt2Pi = 0.3989422804014327 // 1/√(2π)
	parallelFor(len(x), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			v := x[i]
			cdf := 0.5 * (1 + erfT(v*math.Sqrt2/2))
			pdf := invSqrt2Pi * expT(-0.5*v*v)
			dx[i] = dy[i] * (cdf + v*pdf)
		}
	})
}

// tanhForward writes y = tanh(x) (the NSP pooler).
func tanhForward[T Float](x, y []T) {
	for i, v := range x {
		y[i] = T(math.Tanh(float64(v)))
	}
}

// tanhBackward writes dx = dy · (1 − y²), from the forward output y.
func tanhBackward[T Float](y, dy, dx []T) {
	for i, v := range y {
		dx[i] = dy[i] * (1 - v*v)
	}
}
