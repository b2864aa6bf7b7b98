package dedup

import "math"

// Block minima are the probe's inner loop: for every one of the K hash
// functions (a·x+b)>>32 of the multiply-shift family and every block of
// blockTokens word pairs, the least hash. That is K multiplies per word
// pair, most of the decontamination stage's work, so where the processor
// has 64-bit vector multiplies (AVX-512 DQ) it is done 8 blocks at a time
// in assembly (blockminima_amd64.s); everywhere else in Go.
//
// The word pairs of a segment are stored by their position in the block:
// pairs[p*stride + blk] is pair p of block blk. The vector code loads pair
// p of 8 consecutive blocks with one instruction and keeps each block's
// minimum in its own lane, with no reduction across lanes.

func init() {
	// A block of 8 pairs is what the vector code and the layout assume.
	if blockTokens != 8 {
		panic("dedup: blockTokens must be 8")
	}
}

// blockMinima sets out[blk], for blk < len(out), to the least (a·x+b)>>32
// over the pairs x of block blk. Every block has 8 pairs except the last,
// which has lastPairs (1 … 8).
func blockMinima(out []uint32, pairs []uint64, stride, lastPairs int, a, b uint64) {
	full := len(out)
	if lastPairs < blockTokens {
		full--
	}
	if useVectorMinima && full > 0 {
		blockMinimaVector(&out[0], &pairs[0], full, stride, a, b)
	} else {
		blockMinimaGo(out, pairs, stride, 0, full, a, b)
	}
	if full < len(out) {
		m := uint64(math.MaxUint64)
		for p := range lastPairs {
			m = min(m, a*pairs[p*stride+full]+b)
		}
		out[full] = uint32(m >> 32)
	}
}

// blockMinimaGo does blocks [from, to), which have 8 pairs each. The
// minimum is taken over a·x+b before the shift: >>32 is monotone, so the
// least high half is the high half of the least value.
func blockMinimaGo(out []uint32, pairs []uint64, stride, from, to int, a, b uint64) {
	if from >= to {
		return
	}
	var at [8][]uint64
	for p := range at {
		at[p] = pairs[p*stride : p*stride+to]
	}
	for blk := from; blk < to; blk++ {
		m0 := min(a*at[0][blk]+b, a*at[1][blk]+b)
		m1 := min(a*at[2][blk]+b, a*at[3][blk]+b)
		m2 := min(a*at[4][blk]+b, a*at[5][blk]+b)
		m3 := min(a*at[6][blk]+b, a*at[7][blk]+b)
		out[blk] = uint32(min(m0, m1, m2, m3) >> 32)
	}
}
