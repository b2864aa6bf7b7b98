package dedup

import (
	"image"
	"math/rand/v2"
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

func TestBKTreeMatchesLinearScan(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var tree bkTree
	hashes := make([]uint64, 3000)
	for i := range hashes {
		if i > 0 && rng.IntN(4) == 0 { // near copies of earlier hashes
			hashes[i] = hashes[rng.IntN(i)] ^ (1 << rng.IntN(64)) ^ (1 << rng.IntN(64))
		} else {
			hashes[i] = rng.Uint64()
		}
		tree.Add(hashes[i], int32(i))
	}
	for q := 0; q < 200; q++ {
		query := hashes[rng.IntN(len(hashes))] ^ (1 << rng.IntN(64))
		for _, maxDist := range []int{0, 4, 10} {
			var got, want []int
			tree.Search(query, maxDist, func(id int32, d int) {
				if d != Hamming(hashes[id], query) {
					t.Fatalf("distance %d reported for %d, true %d", d, id, Hamming(hashes[id], query))
				}
				got = append(got, int(id))
			})
			for i, h := range hashes {
				if Hamming(h, query) <= maxDist {
					want = append(want, i)
				}
			}
			sort.Ints(got)
			if len(got) != len(want) {
				t.Fatalf("query %d d=%d: tree found %d, scan %d", q, maxDist, len(got), len(want))
			}
			for i := range got {
				if got[i] != want[i] {
					t.Fatalf("query %d d=%d: %v vs %v", q, maxDist, got, want)
				}
			}
		}
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
