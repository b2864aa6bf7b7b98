//go:build openblas

package trainer

// Built with -tags openblas, every matrix multiply goes to OpenBLAS
// (Debian: libopenblas-dev) through gonum's cgo bindings. The link flag lives
// here so that a plain `go build -tags openblas` needs no CGO_LDFLAGS.
//
// OpenBLAS is pinned to one thread: the trainer runs many small multiplies
// (one per attention head) from several goroutines at once, and OpenBLAS's
// own thread pool, woken from every goroutine, oversubscribes the cores and
// spins. Large multiplies are split across cores by gemm instead.

/*
#cgo LDFLAGS: -lopenblas
void openblas_set_num_threads(int num_threads);
*/
import "C"

import (
	"gonum.org/v1/netlib/blas/netlib"
	"gorgonia.org/tensor"
)

const blasName = "OpenBLAS (cgo, gonum.org/v1/netlib)"

// blasSingleThreaded tells gemm to split large multiplies across cores.
const blasSingleThreaded = true

func defaultBLAS() tensor.BLAS {
	C.openblas_set_num_threads(1)
	return netlib.Implementation{}
}
