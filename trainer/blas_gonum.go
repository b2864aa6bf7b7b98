//go:build !openblas

package trainer

import (
	"gonum.org/v1/gonum/blas/gonum"
	"gorgonia.org/tensor"
)

const blasName = "gonum (pure Go)"

func defaultBLAS() tensor.BLAS { return gonum.Implementation{} }
