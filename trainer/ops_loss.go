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
			best := 0
			maxV := math.Inf(-1)
			for j, x := range row {
				if float64(x) > maxV {
					maxV, best = float64(x), j
				}
			}
			var sum float64
			for _, x := range row {
				sum += math.Exp(float64(x) - maxV)
			}
			logZ := maxV + math.Log(sum)
			label := int(labels[r])
			losses[r] = logZ - float64(row[label])
			hits[r] = best == label
			for j, x := range row {
				row[j] = T(math.Exp(float64(x)-logZ) * scale)
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
