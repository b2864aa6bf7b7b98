package dedup

import (
	"image"
	"math/rand/v2"
	"slices"
	"sort"
	"testing"

	xdraw "golang.org/x/image/draw"

	"github.com/corpusflow/corpusflow/internal/imageutil"
)

func mirrorOf(img image.Image) *image.RGBA {
	b := img.Bounds()
	out := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	for y := 0; y < b.Dy(); y++ {
		for x := 0; x < b.Dx(); x++ {
			out.Set(b.Dx()-1-x, y, img.At(b.Min.X+x, b.Min.Y+y))
		}
	}
	return out
}

func TestHashesOfMirrorAndResize(t *testing.T) {
	for _, algo := range []string{HashPHash, HashDHash} {
		for seed := uint64(1); seed <= 5; seed++ {
			img := imageutil.SyntheticImage(seed, 200, 150)
			h := hashImage(algo, img)
			m := hashImage(algo, mirrorOf(img))
			// The mirror's hash is the original's mirror hash and back
			// (up to ties at the median, hence a small tolerance).
			if d := Hamming(m.Hash, h.Mirror); d > 2 {
				t.Errorf("%s seed %d: hash of mirror vs mirror hash differ in %d bits", algo, seed, d)
			}
			if d := Hamming(m.Mirror, h.Hash); d > 2 {
				t.Errorf("%s seed %d: mirror hash of mirror vs hash differ in %d bits", algo, seed, d)
			}
			small := image.NewRGBA(image.Rect(0, 0, 100, 75))
			xdraw.BiLinear.Scale(small, small.Bounds(), img, img.Bounds(), xdraw.Src, nil)
			if d := Hamming(hashImage(algo, small).Hash, h.Hash); d > 6 {
				t.Errorf("%s seed %d: half-size copy is %d bits away", algo, seed, d)
			}
		}
	}
}

// hammingIndex is what image_dedup needs of an index.
type hammingIndex interface {
	Add(h uint64, id int32)
	Search(q uint64, maxDist int, found func(id int32, dist int))
}

// TestHashIndexMatchesLinearScan: the multi-index hash and the BK-tree
// return exactly the ids a linear scan returns, each once, with the true
// distance, at every radius image_dedup accepts; on random hashes, on
// clusters of near copies (the hard case for bucket sizes: real photo
// hashes cluster) and on hashes with exactly 32 bits set (what pHash gives:
// a bit per coefficient above the median). The sizes cross the point where
// the multi-index hash builds its tables, and radius 32 makes it fall back
// to scanning.
func TestHashIndexMatchesLinearScan(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	halfSet := func() uint64 { // 32 of 64 bits set
		var h uint64
		for _, i := range rng.Perm(64)[:32] {
			h |= 1 << i
		}
		return h
	}
	for _, n := range []int{300, 5000, 20000} {
		for _, kind := range []string{"random", "clusters", "32 bits set"} {
			hashes := make([]uint64, n)
			for i := range hashes {
				switch {
				case kind == "clusters" && i > 0 && rng.IntN(2) == 0:
					h := hashes[rng.IntN(i)]
					for k := rng.IntN(8); k > 0; k-- {
						h ^= 1 << rng.IntN(64)
					}
					hashes[i] = h
				case kind == "32 bits set":
					hashes[i] = halfSet()
				default:
					hashes[i] = rng.Uint64()
				}
			}
			mih, tree := &hashIndex{}, &bkTree{}
			for i, h := range hashes {
				mih.Add(h, int32(i))
				tree.Add(h, int32(i))
			}
			if (mih.tables != nil) != (n >= mihMinEntries) {
				t.Fatalf("n=%d: tables built %v", n, mih.tables != nil)
			}
			for q := 0; q < 60; q++ {
				query := hashes[rng.IntN(n)]
				for k := rng.IntN(12); k > 0; k-- {
					query ^= 1 << rng.IntN(64)
				}
				if q%10 == 0 {
					query = rng.Uint64()
				}
				for _, maxDist := range []int{0, 1, 3, 4, 7, 10, 12, 16, 32} {
					var want []int
					for i, h := range hashes {
						if Hamming(h, query) <= maxDist {
							want = append(want, i)
						}
					}
					for name, ix := range map[string]hammingIndex{"multi-index hash": mih, "BK-tree": tree} {
						var got []int
						ix.Search(query, maxDist, func(id int32, d int) {
							if d != Hamming(hashes[id], query) {
								t.Fatalf("%s: distance %d reported for %d, true %d", name, d, id, Hamming(hashes[id], query))
							}
							got = append(got, int(id))
						})
						sort.Ints(got)
						if !slices.Equal(got, want) {
							t.Fatalf("%s, %d %s hashes, query %d, d=%d: found %d ids, the scan %d\n%v\n%v", name, n, kind, q, maxDist, len(got), len(want), got, want)
						}
					}
				}
			}
		}
	}
}

func TestSubRadiiCoverTheRadius(t *testing.T) {
	for r := 0; r <= 64; r++ {
		radii := subRadii(r)
		sum := 0
		for _, ri := range radii {
			if ri < -1 || ri > mihBits {
				t.Fatalf("r=%d: sub-radius %d", r, ri)
			}
			sum += ri + 1
		}
		// Pigeonhole: substring distances above every sub-radius add up to
		// at least sum, which must exceed r.
		if sum < r+1 {
			t.Errorf("r=%d: sub-radii %v cover only %d", r, radii, sum-1)
		}
	}
	if got := subRadii(10); mihTables == 4 && got != [mihTables]int{2, 2, 2, 1} {
		t.Errorf("subRadii(10) = %v", got)
	}
}

// TestPHashOfResizedOutputUnchanged: image_decode's output (resize to 256
// px, JPEG q90) now comes from imageutil's plane resampler instead of
// x/image/draw; the bytes differ, the pHash that image_dedup computes from
// them must not move enough to change a decision at the default distance.
func TestPHashOfResizedOutputUnchanged(t *testing.T) {
	worst, changed, total := 0, 0, 0
	for _, name := range bundledPhotos {
		img, _ := loadPhoto(t, name)
		for _, mode := range []string{imageutil.ResizeKeepRatio, imageutil.ResizeBorder, imageutil.ResizeCenterCrop} {
			o := imageutil.ResizeOptions{Mode: mode, Size: 256}
			var hashes [2]ImageHash
			for i, resize := range []func(image.Image, imageutil.ResizeOptions) (image.Image, error){imageutil.ResizeXDraw, imageutil.Resize} {
				out, err := resize(img, o)
				if err != nil {
					t.Fatal(err)
				}
				hashes[i] = PHash(jpegRoundTrip(out, 90))
			}
			d := max(Hamming(hashes[0].Hash, hashes[1].Hash), Hamming(hashes[0].Mirror, hashes[1].Mirror))
			worst = max(worst, d)
			total++
			if d > 0 {
				changed++
			}
			if d > 2 {
				t.Errorf("%s %s: pHash moved %d bits between the x/image/draw and the plane resampler outputs", name, mode, d)
			}
		}
	}
	t.Logf("pHash of the re-encoded output changed for %d of %d photo×mode outputs, by at most %d bits", changed, total, worst)
}
