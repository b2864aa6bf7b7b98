package trainer

import "math/rand/v2"

// syntheticBatch makes b sequences of s random ids in [5, vocab) with the last
// quarter of the second half of the batch padded (id 0) and every 7th valid
// token masked, labelled with its own id.
func syntheticBatch(b, s, vocab int, seed uint64) *Batch {
	rng := rand.New(rand.NewPCG(seed, 1))
	n := b * s
	out := &Batch{B: b, S: s, InputIDs: make([]int32, n), Valid: make([]bool, n)}
	for i := range out.InputIDs {
		row, col := i/s, i%s
		if row >= b/2 && col >= s*3/4 {
			continue // padding
		}
		out.Valid[i] = true
		out.InputIDs[i] = int32(5 + rng.IntN(vocab-5))
		if i%7 == 3 {
			out.MaskedPos = append(out.MaskedPos, int32(i))
			out.MaskedLabels = append(out.MaskedLabels, out.InputIDs[i])
			out.InputIDs[i] = 4 // [MASK]
		}
	}
	return out
}
