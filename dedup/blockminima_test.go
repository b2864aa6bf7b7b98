package dedup

import (
	"math/rand/v2"
	"testing"
)

// Block minima, by whichever path the machine takes (8 blocks at a time in
// vector code where it has AVX-512, then Go), must equal the plain
// definition for every number of blocks and pairs in the last block, and
// for hash parameters and pair values across the whole 64-bit range.
func TestBlockMinima(t *testing.T) {
	t.Logf("vector path: %v", useVectorMinima)
	rng := rand.New(rand.NewPCG(5, 6))
	const stride = 61 // not a multiple of 8: rows of pairs start unaligned
	pairs := make([]uint64, 8*stride)
	out := make([]uint32, stride+1)
	for trial := 0; trial < 300; trial++ {
		for i := range pairs {
			pairs[i] = rng.Uint64()
			if trial%7 == 0 {
				pairs[i] >>= rng.IntN(64) // small values too
			}
		}
		a, b := rng.Uint64()|1, rng.Uint64()
		if trial%11 == 0 {
			a, b = 1, ^uint64(0) // a·x+b wraps around
		}
		blocks := 1 + rng.IntN(stride)
		lastPairs := 1 + rng.IntN(blockTokens)
		guard := uint32(0xdeadbeef)
		out[blocks] = guard
		blockMinima(out[:blocks], pairs, stride, lastPairs, a, b)
		for blk := range blocks {
			n := blockTokens
			if blk == blocks-1 {
				n = lastPairs
			}
			want := ^uint32(0)
			for p := range n {
				want = min(want, uint32((a*pairs[p*stride+blk]+b)>>32))
			}
			if out[blk] != want {
				t.Fatalf("trial %d, %d blocks, %d pairs in the last: block %d = %d, want %d", trial, blocks, lastPairs, blk, out[blk], want)
			}
		}
		if out[blocks] != guard {
			t.Fatalf("trial %d: wrote past %d blocks", trial, blocks)
		}
	}
}
