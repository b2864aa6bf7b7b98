package trainer

import (
	"math/rand/v2"
	"testing"
	"time"
)

// Benchmarks of the contrastive trainer for BENCHMARKS.md (## Contrastive
// trainer). pairs/s is reported as a custom metric:
//
//	go test ./trainer -run XXX -bench 'Contrastive' -benchtime 10x -count 1

// benchPairBatch is B synthetic pairs already decoded: random caption ids
// of 16 tokens in a row of textLen, random pixels.
func benchPairBatch(cfg ContrastiveConfig, B, textLen int) *PairBatch {
	rng := rand.New(rand.NewPCG(1, 2))
	text := &Batch{B: B, S: textLen, InputIDs: make([]int32, B*textLen), Valid: make([]bool, B*textLen)}
	for r := 0; r < B; r++ {
		for i := 0; i < 16 && i < textLen; i++ {
			text.InputIDs[r*textLen+i] = int32(1000 + rng.IntN(cfg.Text.VocabSize-1000))
			text.Valid[r*textLen+i] = true
		}
	}
	px := make([]float32, B*3*cfg.Vision.ImageSize*cfg.Vision.ImageSize)
	for i := range px {
		px[i] = float32(rng.NormFloat64())
	}
	return &PairBatch{B: B, Text: text, Pixels: px}
}

// BenchmarkContrastiveStep times one update of the tiny dual encoder (text
// 2×64 with the bert-base-uncased vocabulary, ViT 2×64 over 32×32 images in
// 4×4 patches, or 8×8 for patch8) on 64 decoded pairs with 18-token caption
// rows: forward, backward and AdamW, without data loading.
func BenchmarkContrastiveStep(b *testing.B) {
	for _, c := range []struct {
		name     string
		patch    int
		queue    int
		momentum float64
	}{{"clip", 4, 0, 0}, {"momentum-queue-1024", 4, 1024, 0.99}, {"clip-patch8", 8, 0, 0}} {
		b.Run(c.name, func(b *testing.B) {
			cfg := TinyContrastiveConfig(30522)
			cfg.Vision.PatchSize = c.patch
			cfg.Queue, cfg.Momentum = c.queue, c.momentum
			m, err := NewContrastiveModel[float32](cfg, 1)
			if err != nil {
				b.Fatal(err)
			}
			opt, _ := NewAdamW(DefaultOptimizer(1000), m.Params())
			batch := benchPairBatch(cfg, 64, 18)
			step := func() {
				m.ZeroGrad()
				if _, err := m.TrainStep(batch, 1); err != nil {
					b.Fatal(err)
				}
				opt.Step(m.Params())
				m.ClampLogitScale()
			}
			step() // allocate the workspaces
			b.ResetTimer()
			cpu0 := cpuSeconds()
			start := time.Now()
			for i := 0; i < b.N; i++ {
				step()
			}
			b.ReportMetric(float64(64*b.N)/time.Since(start).Seconds(), "pairs/s")
			// CPU time does not grow when other jobs take the cores.
			b.ReportMetric(float64(64*b.N)/(cpuSeconds()-cpu0), "pairs/cpu-s")
			b.ReportMetric(float64(peakRSS())/(1<<20), "peakRSS-MiB")
		})
	}
}

// BenchmarkPairDecode times the data side of a batch: 64 synthetic 64×64
// JPEGs decoded, centre-cropped to 32×32 and normalised on all cores.
func BenchmarkPairDecode(b *testing.B) {
	cfg := TinyContrastiveConfig(30522)
	g := SynthPairs{Lang: "en", Seed: 3}
	pairs := make([]Pair, 64)
	for i := range pairs {
		_, jpeg, err := g.Pair(i)
		if err != nil {
			b.Fatal(err)
		}
		pairs[i] = Pair{InputIDs: []int32{101, 2048, 102}, Length: 3, Image: jpeg}
	}
	vocab := &Vocab{Size: 30522, CLS: 101, SEP: 102, PAD: 0}
	col := &pairCollator{vocab: vocab, cfg: cfg, textLen: 18, prep: imagePrep{size: 32, maxPixels: defaultMaxPixels}}
	b.ResetTimer()
	cpu0 := cpuSeconds()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		ds, errs := col.prepare(pairs)
		for _, err := range errs {
			if err != nil {
				b.Fatal(err)
			}
		}
		col.collate(ds)
	}
	b.ReportMetric(float64(64*b.N)/time.Since(start).Seconds(), "pairs/s")
	b.ReportMetric(float64(64*b.N)/(cpuSeconds()-cpu0), "pairs/cpu-s")
}
