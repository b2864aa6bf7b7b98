//go:build !openblas

package trainer

import (
	"gonum.org/v1/gonum/blas/gonum"
	"gorgonia.org/tensor"
)

const blasName = "gonum (pure Go)"

// gonum's BLAS already spreads a large multiply over all cores.
const blasSingleThreaded = false

func defaultBLAS() tensor.BLAS { return gonum.Implementation{} }
