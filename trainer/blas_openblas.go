//go:build openblas

package trainer

// Built with -tags openblas, every matrix multiply goes to OpenBLAS
// (Debian: libopenblas-dev) through gonum's cgo bindings. The link flag lives
// here so that a plain `go build -tags openblas` needs no CGO_LDFLAGS.

/*
#cgo LDFLAGS: -lopenblas
*/
import "C"

import (
	"gonum.org/v1/netlib/blas/netlib"
	"gorgonia.org/tensor"
)

const blasName = "OpenBLAS (cgo, gonum.org/v1/netlib)"

func defaultBLAS() tensor.BLAS { return netlib.Implementation{} }
