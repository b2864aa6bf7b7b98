package dedup

import (
	"context"
	"fmt"
	"testing"

	"github.com/corpusflow/corpusflow/flow"
	"github.com/corpusflow/corpusflow/internal/imageutil"
)

// BenchmarkImagePipeline measures images/s through decode (pixel cap
// first) + size/aspect filter + resize to 256 px (keep_ratio) + JPEG
// re-encode + pHash, on the engine with 2 workers: the image_decode and
// image_text work is inlined here (domain packages do not import each
// other) with the same imageutil calls, followed by image_hash. Input: the
// 11 bundled photos (320 px JPEG/PNG) and 640×480 synthetic JPEGs.
func BenchmarkImagePipeline(b *testing.B) {
	var inputs [][]byte
	for _, n := range bundledPhotos {
		_, data := loadPhoto(b, n)
		inputs = append(inputs, data)
	}
	for s := 0; s < 21; s++ {
		data, _ := imageutil.EncodeJPEG(imageutil.SyntheticImage(uint64(s), 640, 480), 85)
		inputs = append(inputs, data)
	}
	for _, workers := range []int{1, 2} {
		b.Run(fmt.Sprintf("workers=%d", workers), func(b *testing.B) {
			const perOp = 256
			recs := make([]*flow.Record, perOp)
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				for j := range recs {
					recs[j] = &flow.Record{ID: fmt.Sprint(j), Text: "a caption", Fields: map[string]any{FieldImage: inputs[j%len(inputs)]}}
				}
				_, err := flow.Run(context.Background(), flow.Plan{
					Sources: []flow.NamedSource{{Name: "b", Source: recordsSource(recs)}},
					Stages: []flow.NamedStage{
						{Name: "decode_filter_resize", Stage: decodeFilterResize{}},
						{Name: "image_hash", Stage: &ImageHasher{cfg: ImageHashConfig{Hash: HashPHash, MaxPixels: 1 << 24}, counters: &flow.Counters{}}},
					},
					Workers: workers, BatchRecords: 16,
				})
				if err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*perOp)/b.Elapsed().Seconds(), "images/s")
		})
	}
}

type decodeFilterResize struct{}

func (decodeFilterResize) Process(r *flow.Record) string {
	img, info, err := imageutil.Decode(r.Fields[FieldImage].([]byte), 1<<24)
	if err != nil {
		return "image_corrupt"
	}
	if short, long := min(info.Width, info.Height), max(info.Width, info.Height); short < 200 || float64(long)/float64(short) > 3 {
		return "image_too_small"
	}
	out, err := imageutil.Resize(img, imageutil.ResizeOptions{Mode: imageutil.ResizeKeepRatio, Size: 256})
	if err != nil {
		return "resize"
	}
	enc, err := imageutil.EncodeJPEG(out, 90)
	if err != nil {
		return "encode"
	}
	r.Fields[FieldImage] = enc
	return ""
}

// BenchmarkBKTreeQuery measures lookups at distance 10 in an index of
// 100,000 random hashes and reports the fraction of nodes a query compares.
func BenchmarkBKTreeQuery(b *testing.B) {
	var tree bkTree
	for i := 0; i < 100000; i++ {
		tree.Add(imageutilRand(uint64(i)), int32(i))
	}
	tree.Compared = 0
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		tree.Search(imageutilRand(uint64(1e9+i)), defaultImageMaxDistance, func(int32, int) {})
	}
	b.ReportMetric(float64(tree.Compared)/float64(b.N)/float64(tree.Len()), "fraction_compared")
}

func imageutilRand(x uint64) uint64 { // splitmix64
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}
