package trainer

import (
	"gonum.org/v1/gonum/blas"
	"gorgonia.org/tensor"
)

// Float is the element type of a model: float32 for training, float64 for the
// finite-difference gradient checks, which need the extra precision.
type Float interface {
	~float32 | ~float64
}

// blasImpl is the BLAS that every matrix multiply of the trainer goes through.
// It is also installed as gorgonia.org/tensor's BLAS (tensor.Use), so
// tensor.MatMul and the trainer's kernels share one implementation. The
// default is gonum's pure-Go BLAS, which always builds; the "openblas" build
// tag swaps in OpenBLAS through cgo (blas_openblas.go).
var blasImpl tensor.BLAS

func init() {
	blasImpl = defaultBLAS()
	tensor.Use(blasImpl)
}

// BLASName says which BLAS the binary was built with, for logs and benchmarks.
func BLASName() string { return blasName }

func transFlag(t bool) blas.Transpose {
	if t {
		return blas.Trans
	}
	return blas.NoTrans
}

// gemm computes C = alpha·op(A)·op(B) + beta·C on row-major matrices, where
// op(A) is m×k and op(B) is k×n. The leading dimensions let a kernel address a
// block inside a wider matrix (one attention head inside the fused Q|K|V
// projection) without copying it out.
func gemm[T Float](transA, transB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	switch a := any(a).(type) {
	case []float32:
		blasImpl.Sgemm(transFlag(transA), transFlag(transB), m, n, k, float32(alpha), a, lda, any(b).([]float32), ldb, float32(beta), any(c).([]float32), ldc)
	case []float64:
		blasImpl.Dgemm(transFlag(transA), transFlag(transB), m, n, k, float64(alpha), a, lda, any(b).([]float64), ldb, float64(beta), any(c).([]float64), ldc)
	}
}
