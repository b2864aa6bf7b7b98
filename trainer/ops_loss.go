package trainer

import "math"

// softmaxCrossEntropy scores m rows of v logits against labels. It returns
// the summed loss (natural log) and the number of rows whose arg-max equals the
// label, and overwrites logits with dLoss/dlogits = scale·(softmax − onehot),
// where scale is the caller's normaliser (1/number of masked tokens).
func softmaxCrossEntropy[T Float](logits []T, m, v int, labels []int32, scale float64) (loss float64, correct int) {
	losses := make([]float64, m)
	hits := make([]bool, m)
	parallelFor(m, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			row := logits[r*v : (r+1)*v]
			label := int(labels[r])
			best := 0
			maxV := row[0]
			for j, x := range row {
				if x > maxV {
					maxV, best = x, j
				}
			}
			xLabel := row[label]
			// One exp per logit: keep e^(x−max) in the row, then normalise.
			var sum float64
			for j, x := range row {
				e := expT(x - maxV)
				row[j] = e
				sum += float64(e)
			}
			losses[r] = float64(maxV) + math.Log(sum) - float64(xLabel)
			hits[r] = best == label
			k := T(scale / sum)
			for j := range row {
				row[j] *= k
			}
			row[label] -= T(scale)
		}
	})
	for r := range losses {
		loss += losses[r]
		if hits[r] {
			correct++
		}
	}
	return loss, correct
}
