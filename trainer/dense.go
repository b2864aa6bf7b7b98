package trainer

import (
	"runtime"
	"sync"

	"gorgonia.org/tensor"
)

// newDense allocates a zeroed gorgonia tensor of element type T. Parameters,
// gradients, optimizer moments and activations all live in such tensors; the
// kernels work on their backing slices (values[T]) so that the hot loops and
// BLAS calls see plain memory.
func newDense[T Float](shape ...int) *tensor.Dense {
	n := 1
	for _, s := range shape {
		n *= s
	}
	return denseOver(make([]T, n), shape...)
}

// denseOver wraps an existing slice, so several tensors can be views of one
// buffer (the query, key and value weights are rows of one fused matrix).
func denseOver[T Float](backing []T, shape ...int) *tensor.Dense {
	return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(backing))
}

// values returns the backing slice of a tensor made by newDense/denseOver.
func values[T Float](t *tensor.Dense) []T { return t.Data().([]T) }

// parallelFor splits [0,n) into contiguous chunks and runs body on them on
// all cores. Chunks are fixed by n and the core count, and every index is
// written by exactly one goroutine, so results do not depend on scheduling.
func parallelFor(n int, body func(lo, hi int)) {
	workers := runtime.GOMAXPROCS(0)
	if workers > n {
		workers = n
	}
	if workers <= 1 || n < 64 {
		body(0, n)
		return
	}
	var wg sync.WaitGroup
	chunk := (n + workers - 1) / workers
	for lo := 0; lo < n; lo += chunk {
		hi := min(lo+chunk, n)
		wg.Add(1)
		go func() {
			defer wg.Done()
			body(lo, hi)
		}()
	}
	wg.Wait()
}
