package trainer

// A linear layer stores its weight as [out, in], the layout of torch.nn.Linear
// and of Hugging Face checkpoints, so y = x·Wᵀ + b.

// linearForward computes y[n,out] = x[n,in]·Wᵀ + b.
func linearForward[T Float](x []T, n, in int, w, b []T, out int, y []T) {
	for r := 0; r < n; r++ {
		copy(y[r*out:(r+1)*out], b)
	}
	gemm(false, true, n, out, in, 1, x, in, w, in, 1, y, out)
}

// linearBackward adds dW += dyᵀ·x and db += Σrows dy, and writes dx = dy·W
// (or adds it when addDx, for inputs that feed more than one layer). dx may
// be nil when the input needs no gradient.
func linearBackward[T Float](x []T, n, in int, w []T, out int, dy []T, dx []T, addDx bool, dw, db []T) {
	gemm(true, false, out, in, n, 1, dy, out, x, in, 1, dw, in)
	for r := 0; r < n; r++ {
		row := dy[r*out : (r+1)*out]
		for j, g := range row {
			db[j] += g
		}
	}
	if dx != nil {
		var beta T
		if addDx {
			beta = 1
		}
		gemm(false, false, n, in, out, 1, dy, out, w, in, beta, dx, in)
	}
}
