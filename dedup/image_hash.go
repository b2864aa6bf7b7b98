package dedup

import (
	"image"
	"math"
	"math/bits"
	"slices"

	"github.com/corpusflow/corpusflow/internal/imageutil"
)

// Perceptual hashes of images: 64 bits that change little when an image is
// resized, re-encoded, slightly cropped or brightened, so near-duplicates are
// a small Hamming distance apart (BiT de-duplicated its upstream data
// against downstream test images this way).
//
//   - pHash (DCT): the image's luminance averaged onto 32×32, its 2-D DCT-II,
//     the 8×8 lowest frequencies (DC included, as the imagehash library
//     does); a bit is set where a coefficient is above their median.
//   - dHash (difference): luminance on 9×8; a bit is set where a pixel is
//     brighter than its right neighbour. Cheaper, a little less robust.
//
// Neither survives a mirror image: the hash of a flipped picture is about as
// far from the original as an unrelated one. Both therefore also give the
// hash of the mirrored image, computed from the same grid (for pHash by
// negating the odd horizontal frequencies, which is what flipping does to a
// DCT), and a lookup tries both.

// Hash algorithm names.
const (
	HashPHash = "phash"
	HashDHash = "dhash"
)

// ImageHash is an image's perceptual hash and that of its mirror image.
type ImageHash struct {
	Hash, Mirror uint64
}

// Hamming is the number of differing bits.
func Hamming(a, b uint64) int { return bits.OnesCount64(a ^ b) }

const (
	phashGrid = 32
	phashLow  = 8
)

// dctCos[k][n] = cos(pi/N * (n + 0.5) * k) for the 8 lowest k.
var dctCos = func() [phashLow][phashGrid]float64 {
	var t [phashLow][phashGrid]float64
	for k := 0; k < phashLow; k++ {
		for n := 0; n < phashGrid; n++ {
			t[k][n] = math.Cos(math.Pi / phashGrid * (float64(n) + 0.5) * float64(k))
		}
	}
	return t
}()

// PHash is the 64-bit DCT perceptual hash of img and of its mirror.
func PHash(img image.Image) ImageHash {
	return phashOfGrid(imageutil.LumaGrid(img, phashGrid, phashGrid))
}

func phashOfGrid(g []float64) ImageHash {
	// Separable DCT, computing only the low frequencies: rows first (8
	// horizontal frequencies per row), then columns.
	var rows [phashGrid][phashLow]float64
	for y := 0; y < phashGrid; y++ {
		line := g[y*phashGrid : (y+1)*phashGrid]
		for u := 0; u < phashLow; u++ {
			s := 0.0
			for x, v := range line {
				s += v * dctCos[u][x]
			}
			rows[y][u] = s
		}
	}
	var coeff [phashLow * phashLow]float64 // [v*8+u]
	for v := 0; v < phashLow; v++ {
		for u := 0; u < phashLow; u++ {
			s := 0.0
			for y := 0; y < phashGrid; y++ {
				s += rows[y][u] * dctCos[v][y]
			}
			coeff[v*phashLow+u] = s
		}
	}
	h := bitsAboveMedian(coeff[:])
	for i := range coeff {
		if i%phashLow%2 == 1 { // odd horizontal frequency: flips sign in a mirror
			coeff[i] = -coeff[i]
		}
	}
	return ImageHash{Hash: h, Mirror: bitsAboveMedian(coeff[:])}
}

func bitsAboveMedian(c []float64) uint64 {
	sorted := slices.Clone(c)
	slices.Sort(sorted)
	median := (sorted[len(sorted)/2-1] + sorted[len(sorted)/2]) / 2
	var h uint64
	for i, v := range c {
		if v > median {
			h |= 1 << (63 - i)
		}
	}
	return h
}

// DHash is the 64-bit difference hash of img and of its mirror.
func DHash(img image.Image) ImageHash {
	g := imageutil.LumaGrid(img, 9, 8)
	var h, m uint64
	for y := 0; y < 8; y++ {
		row := g[y*9 : y*9+9]
		for x := 0; x < 8; x++ {
			bit := uint(63 - (y*8 + x))
			if row[x+1] > row[x] {
				h |= 1 << bit
			}
			// Mirrored row: position x holds the original 8-x.
			if row[7-x] > row[8-x] {
				m |= 1 << bit
			}
		}
	}
	return ImageHash{Hash: h, Mirror: m}
}

// hashImage applies the named algorithm.
func hashImage(algo string, img image.Image) ImageHash {
	if algo == HashDHash {
		return DHash(img)
	}
	return PHash(img)
}
