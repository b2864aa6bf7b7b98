package trainer

import "math"

// layerNormEps is BERT's layer_norm_eps.
const layerNormEps = 1e-12

// layerNormForward normalises each of the n rows of x (width h) and applies
// gamma and beta. It keeps xhat (the normalised rows) and rstd (1/σ per row)
// for the backward pass. Statistics are summed in float64 so float32 rows of
// a few hundred values lose nothing that PyTorch keeps.
func layerNormForward[T Float](x []T, n, h int, gamma, beta []T, y, xhat, rstd []T) {
	parallelFor(n, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			row := x[r*h : (r+1)*h]
			var sum float64
			for _, v := range row {
				sum += float64(v)
			}
			mean := sum / float64(h)
			var sq float64
			for _, v := range row {
				d := float64(v) - mean
				sq += d * d
			}
			rs := 1 / math.Sqrt(sq/float64(h)+layerNormEps)
			rstd[r] = T(rs)
			xh := xhat[r*h : (r+1)*h]
			out := y[r*h : (r+1)*h]
			for j, v := range row {
				z := T((float64(v) - mean) * rs)
				xh[j] = z
				out[j] = z*gamma[j] + beta[j]
			}
		}
	})
}

// layerNormBackward writes dx and adds to dgamma and dbeta.
//
//	dx = rstd · (ĝ − mean(ĝ) − x̂·mean(ĝ·x̂)),  ĝ = dy·gamma
func layerNormBackward[T Float](dy []T, n, h int, gamma, xhat, rstd []T, dx, dgamma, dbeta []T) {
	parallelFor(n, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			g := dy[r*h : (r+1)*h]
			xh := xhat[r*h : (r+1)*h]
			var sumG, sumGX float64
			for j := range g {
				gg := float64(g[j] * gamma[j])
				sumG += gg
				sumGX += gg * float64(xh[j])
			}
			meanG := sumG / float64(h)
			meanGX := sumGX / float64(h)
			rs := float64(rstd[r])
			out := dx[r*h : (r+1)*h]
			for j := range g {
				out[j] = T(rs * (float64(g[j]*gamma[j]) - meanG - float64(xh[j])*meanGX))
			}
		}
	})
	// Column sums stay sequential: summing rows in a fixed order keeps the
	// gradient bit-identical from run to run.
	for r := 0; r < n; r++ {
		g := dy[r*h : (r+1)*h]
		xh := xhat[r*h : (r+1)*h]
		for j := range g {
			dgamma[j] += g[j] * xh[j]
			dbeta[j] += g[j]
		}
	}
}
