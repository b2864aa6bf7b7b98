package trainer

import (
	"runtime"
	"sync"

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
	workers := runtime.GOMAXPROCS(0)
	if !blasSingleThreaded || workers < 2 || int64(m)*int64(n)*int64(k) < parallelGemmMinWork {
		gemmCall(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	// Split the larger side of C into one block per core. Blocks are fixed by
	// the shapes, so the result is the same from run to run.
	var wg sync.WaitGroup
	if m >= n {
		chunk := (m + workers - 1) / workers
		for lo := 0; lo < m; lo += chunk {
			rows := min(chunk, m-lo)
			aOff := lo * lda // rows of A
			if transA {
				aOff = lo // columns of the stored k×m matrix
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				gemmCall(transA, transB, rows, n, k, alpha, a[aOff:], lda, b, ldb, beta, c[lo*ldc:], ldc)
			}()
		}
	} else {
		chunk := (n + workers - 1) / workers
		for lo := 0; lo < n; lo += chunk {
			cols := min(chunk, n-lo)
			bOff := lo // columns of the stored k×n matrix
			if transB {
				bOff = lo * ldb // rows of the stored n×k matrix
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				gemmCall(transA, transB, m, cols, k, alpha, a, lda, b[bOff:], ldb, beta, c[lo:], ldc)
			}()
		}
	}
	wg.Wait()
}

// parallelGemmMinWork is the m·n·k below which splitting a multiply costs
// more than it saves (one attention head is 128·128·64 ≈ 1M).
const parallelGemmMinWork = 4 << 20

func gemmCall[T Float](transA, transB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	switch a := any(a).(type) {
	case []float32:
		blasImpl.Sgemm(transFlag(transA), transFlag(transB), m, n, k, float32(alpha), a, lda, any(b).([]float32), ldb, float32(beta), any(c).([]float32), ldc)
	case []float64:
		blasImpl.Dgemm(transFlag(transA), transFlag(transB), m, n, k, float64(alpha), a, lda, any(b).([]float64), ldb, float64(beta), any(c).([]float64), ldc)
	}
}
