package trainer

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/corpusflow/corpusflow/flow"
	"github.com/corpusflow/corpusflow/pack"
	"github.com/corpusflow/corpusflow/tokenize"
)

// smallContrastiveConfig is a 1-layer text tower and a 1-layer ViT over
// 16×16 images (16 patches), hidden 32, for tests that train.
func smallContrastiveConfig(steps int) ContrastiveTrainConfig {
	cfg := DefaultContrastiveTrainConfig(0, steps)
	cfg.Model.Text = ModelConfig{HiddenSize: 32, NumLayers: 1, NumHeads: 2, IntermediateSize: 64, MaxPositions: 32, TypeVocabSize: 2}
	cfg.Model.Vision = VisionConfig{ImageSize: 16, PatchSize: 4, NumChannels: 3, HiddenSize: 32, NumLayers: 1, NumHeads: 2, IntermediateSize: 64}
	cfg.Model.ProjectionDim = 32
	cfg.Optimizer.LR, cfg.Optimizer.WarmupSteps = 1e-3, steps/10
	cfg.BatchSize, cfg.EvalExamples = 32, 128
	return cfg
}

// TestContrastiveOverfitsSmallBatch: eight pairs with real (JPEG-decoded)
// pictures are memorised: the loss falls from about ln 8 to near zero and
// every image ranks its own caption first and the reverse.
func TestContrastiveOverfitsSmallBatch(t *testing.T) {
	cfg := smallContrastiveConfig(200).Model
	cfg.Text.VocabSize = 64
	m, err := NewContrastiveModel[float32](cfg, 11)
	if err != nil {
		t.Fatal(err)
	}
	opt := DefaultOptimizer(200)
	opt.LR, opt.WarmupSteps, opt.Schedule, opt.WeightDecay = 1e-3, 0, "constant", 0
	adam, err := NewAdamW(opt, m.Params())
	if err != nil {
		t.Fatal(err)
	}
	vocab := &Vocab{Size: 64, CLS: 2, SEP: 3, PAD: 0}
	col := &pairCollator{vocab: vocab, cfg: cfg, textLen: 8, prep: imagePrep{size: 16, maxPixels: defaultMaxPixels}}
	g := SynthPairs{Lang: "en", Seed: 4}
	var pairs []Pair
	for i := 0; i < 8; i++ {
		_, jpeg, err := g.Pair(i)
		if err != nil {
			t.Fatal(err)
		}
		ids := []int32{int32(10 + 3*i), int32(11 + 3*i), int32(12 + i)}
		pairs = append(pairs, Pair{InputIDs: ids, Length: 3, Image: jpeg, Key: ExampleKey{Row: i}})
	}
	ds, errs := col.prepare(pairs)
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	b := col.collate(ds)
	var first, last ContrastiveResult
	for step := 0; step < 200; step++ {
		m.ZeroGrad()
		r, err := m.TrainStep(b, 1)
		if err != nil {
			t.Fatal(err)
		}
		if step == 0 {
			first = r
		}
		last = r
		adam.Step(m.Params())
		m.ClampLogitScale()
	}
	if math.Abs(first.Loss-math.Log(8)) > 0.5 {
		t.Errorf("first loss %.3f, want about ln 8 = %.3f", first.Loss, math.Log(8))
	}
	if last.Loss > 0.05 || last.I2TCorrect != 8 || last.T2ICorrect != 8 {
		t.Fatalf("after 200 updates: loss %.4f, image→text %d/8, text→image %d/8", last.Loss, last.I2TCorrect, last.T2ICorrect)
	}
	t.Logf("loss %.3f → %.4f, logit scale %.1f", first.Loss, last.Loss, m.LogitScale())
}

// writeSynthShards packs n synthetic pairs into dir with the
// bert-base-uncased vocabulary.
func writeSynthShards(t testing.TB, dir string, g SynthPairs, n int) {
	t.Helper()
	if err := g.WriteShards(dir, n, SynthShardsOptions{Vocab: testVocabPath, CaptionLen: 12, MaxRows: 256}); err != nil {
		t.Fatal(err)
	}
}

// TestContrastiveLearnsSyntheticPairs trains on shards of pictures showing
// one shape in one of three colours in one of four places ("one blue circle
// at the top"): held-out recall@1 must rise from chance (0.09 with the
// duplicate captions of 12 contents) to at least 0.8 in both directions. (BENCHMARKS.md has the full task: 216 contents, English and
// Chinese.)
func TestContrastiveLearnsSyntheticPairs(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "shards")
	g := SynthPairs{Lang: "en", Seed: 5, Colours: 3, Shapes: 1, Counts: 1, Places: 4}
	writeSynthShards(t, dir, g, 1200)
	cfg := smallContrastiveConfig(300)
	cfg.EvalEvery = 100
	out := t.TempDir()
	sum, err := TrainContrastiveOnShards(context.Background(), cfg, RunOptions{Shards: dir, Output: out, Vocab: testVocabPath})
	if err != nil {
		t.Fatal(err)
	}
	r := sum.Retrieval
	i2t, t2i := r.At(1)
	chance := r.Chance[0]
	t.Logf("held-out %d pairs: R@1 image→text %.3f, text→image %.3f, chance %.3f; loss %.3f → %.3f (held-out %.3f); %.0f pairs/s",
		r.Pairs, i2t, t2i, chance, sum.FirstLoss, sum.FinalLoss, sum.EvalLoss, sum.PairsPerSec)
	if r.Pairs != 128 || sum.Steps != 300 || sum.Examples != 300*32 {
		t.Fatalf("summary %+v", sum)
	}
	if i2t < 0.8 || t2i < 0.8 {
		t.Fatalf("recall@1 image→text %.3f, text→image %.3f: not far above chance %.3f", i2t, t2i, chance)
	}
	for _, f := range []string{"recall.svg", "recall.png", "loss.svg", "train_summary.md", "metrics.jsonl"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Fatal(err)
		}
	}
	// The checkpoint has every parameter under its Hugging Face name and a
	// config.json describing both towers.
	tensors, _, err := ReadSafetensors(filepath.Join(sum.Checkpoint, modelFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"text_model.embeddings.word_embeddings.weight", "vision_model.embeddings.patch_embeddings.projection.weight", "logit_scale", "text_projection.weight"} {
		if _, ok := tensors[name]; !ok {
			t.Errorf("checkpoint lacks %s", name)
		}
	}
	if s := tensors["logit_scale"]; len(s.Shape) != 0 || len(s.Data) != 1 {
		t.Errorf("logit_scale stored with shape %v", s.Shape)
	}
	raw, err := os.ReadFile(filepath.Join(sum.Checkpoint, configFile))
	if err != nil {
		t.Fatal(err)
	}
	back, err := ParseContrastiveConfig(raw)
	if err != nil {
		t.Fatal(err)
	}
	want := cfg.Model
	want.Text.VocabSize, want.Text.PadTokenID = 30522, 0
	if back != want {
		t.Fatalf("config.json reads back as %+v, want %+v", back, want)
	}
}

// TestContrastiveResumeIsExact: N updates, then --resume for N more, give
// the same weights, momentum encoder and queues, bit for bit, as 2N
// updates in one run.
func TestContrastiveResumeIsExact(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "shards")
	writeSynthShards(t, dir, SynthPairs{Lang: "en", Seed: 6}, 100)
	run := func(out string, steps int, resume bool) *ContrastiveSummary {
		cfg := smallContrastiveConfig(steps)
		cfg.BatchSize, cfg.EvalExamples, cfg.EvalEvery, cfg.CheckpointEvery = 8, 16, 3, 3
		cfg.Optimizer.TotalSteps, cfg.Optimizer.WarmupSteps = 12, 2
		cfg.Model.Queue, cfg.Model.Momentum = 20, 0.9
		sum, err := TrainContrastiveOnShards(context.Background(), cfg, RunOptions{Shards: dir, Output: out, Vocab: testVocabPath, Resume: resume})
		if err != nil {
			t.Fatal(err)
		}
		return sum
	}
	once := run(t.TempDir(), 12, false)
	split := t.TempDir()
	run(split, 6, false)
	twice := run(split, 12, true)
	if once.Steps != 12 || twice.Steps != 12 || once.Examples != twice.Examples {
		t.Fatalf("one run %d steps / %d pairs, resumed %d / %d", once.Steps, once.Examples, twice.Steps, twice.Examples)
	}
	for _, f := range []string{modelFile, momentumFile, optimizerFile} {
		a, err := os.ReadFile(filepath.Join(once.Checkpoint, f))
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(filepath.Join(twice.Checkpoint, f))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a, b) {
			t.Fatalf("%s differs between one run and a resumed one", f)
		}
	}
	_, meta, err := ReadSafetensors(filepath.Join(once.Checkpoint, momentumFile))
	if err != nil || meta["queue_filled"] != "20" {
		t.Fatalf("queue after 96 pairs: %v %v", meta, err)
	}
}

// writeITMShards packs n synthetic pairs with itm: true (each pair followed
// by a mismatched one); the image of pair `broken` is cut in half.
func writeITMShards(t *testing.T, dir string, n, broken int) {
	t.Helper()
	tok, err := tokenize.Load(testVocabPath)
	if err != nil {
		t.Fatal(err)
	}
	cfg := pack.DefaultConfig()
	cfg.Vocab, cfg.Mode, cfg.CaptionLen, cfg.ITM, cfg.Seed = testVocabPath, pack.ModeImageText, 12, true, 1
	st, err := pack.New(&cfg, &flow.Env{Counters: &flow.Counters{}})
	if err != nil {
		t.Fatal(err)
	}
	w, err := pack.NewShardWriter(pack.WriterOptions{Dir: dir, MaxRows: 16})
	if err != nil {
		t.Fatal(err)
	}
	emit := func(r *flow.Record) {
		if err := w.Write(r); err != nil {
			t.Error(err)
		}
	}
	g := SynthPairs{Lang: "en", Seed: 8}
	for i := 0; i < n; i++ {
		caption, jpeg, err := g.Pair(i)
		if err != nil {
			t.Fatal(err)
		}
		if i == broken {
			jpeg = jpeg[:len(jpeg)/2]
		}
		r := &flow.Record{ID: fmt.Sprint("pair-", i), Text: caption, Tokens: tok.Encode(caption, nil),
			Fields: map[string]any{pack.ColImage: jpeg, pack.ColWidth: int32(64), pack.ColHeight: int32(64)}}
		st.ProcessEmit(r, emit)
	}
	if err := st.Flush(emit); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestContrastiveSkipsMismatchedRowsAndBrokenImages: shards packed with
// itm: true hold a mismatched pair after each real one; the trainer reads
// only the real ones, and a truncated JPEG is counted and skipped, not
// fatal. Captions tokenized without [CLS]/[SEP] are wrapped.
func TestContrastiveSkipsMismatchedRowsAndBrokenImages(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "shards")
	writeITMShards(t, dir, 21, 5)
	m, err := pack.ReadManifest(dir)
	if err != nil || m.Rows != 41 { // the first pair has no mismatch partner
		t.Fatalf("manifest %+v %v", m, err)
	}
	src := &ShardPairSource{Shards: ShardSource{Dir: dir}, SkipMismatched: true}
	s, err := src.Open(0, nil)
	if err != nil {
		t.Fatal(err)
	}
	seen := 0
	for {
		p, err := s.Next(context.Background())
		if err != nil {
			break
		}
		seen++
		if p.DocID != fmt.Sprint("pair-", seen-1) || p.InputIDs[0] == 101 {
			t.Fatalf("pair %d: doc %s, ids %v", seen, p.DocID, p.InputIDs[:4])
		}
	}
	if seen != 21 {
		t.Fatalf("read %d matching pairs, want 21", seen)
	}

	cfg := smallContrastiveConfig(100)
	cfg.BatchSize, cfg.EvalExamples, cfg.Epochs = 4, 0, 1
	sum, err := TrainContrastiveOnShards(context.Background(), cfg, RunOptions{Shards: dir, Output: t.TempDir(), Vocab: testVocabPath})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Skipped != 1 || sum.Examples != 20 || sum.StoppedBy != "end of data" || sum.Steps != 5 {
		t.Fatalf("summary: %d pairs, %d skipped, %d steps, stopped by %q", sum.Examples, sum.Skipped, sum.Steps, sum.StoppedBy)
	}

	// The collator wraps a caption without [CLS]/[SEP] and cuts long ones.
	vocab := &Vocab{Size: 30522, CLS: 101, SEP: 102, PAD: 0}
	col := &pairCollator{vocab: vocab, cfg: cfg.Model, textLen: 5}
	col.cfg.Text.VocabSize = 30522
	for _, tc := range []struct {
		in, want []int32
	}{
		{[]int32{2000, 2001, 0, 0}, []int32{101, 2000, 2001, 102}},
		{[]int32{101, 2000, 102, 0}, []int32{101, 2000, 102}},
		{[]int32{2000, 2001, 2002, 2003, 2004}, []int32{101, 2000, 2001, 2002, 102}},
	} {
		got, err := col.captionIDs(&Pair{InputIDs: tc.in})
		if err != nil || fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("caption %v → %v (%v), want %v", tc.in, got, err, tc.want)
		}
	}
	if _, err := col.captionIDs(&Pair{InputIDs: []int32{0, 0}}); err == nil {
		t.Error("empty caption accepted")
	}
	if _, err := col.captionIDs(&Pair{InputIDs: []int32{40000}}); err == nil {
		t.Error("id outside the vocabulary accepted")
	}
}

func TestContrastiveRefusesOtherShards(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "shards")
	writeShards(t, dir, "mlm", nil)
	_, err := TrainContrastiveOnShards(context.Background(), smallContrastiveConfig(5), RunOptions{Shards: dir, Output: t.TempDir(), Vocab: testVocabPath})
	if err == nil {
		t.Fatal("mlm shards accepted by the contrastive trainer")
	}
}

func TestScoreRetrieval(t *testing.T) {
	// Three pairs in 2-d, images and texts on the unit circle (angles):
	// image 0 ranks its text first, image 1 second, image 2 second; text 0
	// and text 1 rank their image first, text 2 third.
	angle := func(a float64) []float64 { return []float64{math.Cos(a), math.Sin(a)} }
	flat := func(vs ...[]float64) []float64 {
		var out []float64
		for _, v := range vs {
			out = append(out, v...)
		}
		return out
	}
	img := flat(angle(0), angle(1), angle(2.5))
	txt := flat(angle(0.05), angle(1.6), angle(1.05))
	r := scoreRetrieval(img, txt, 3, 2, nil, []int{1, 2})
	check := func(what string, got, want float64) {
		t.Helper()
		if math.Abs(got-want) > 1e-12 {
			t.Errorf("%s = %g, want %g", what, got, want)
		}
	}
	i2t, t2i := r.At(1)
	check("image→text R@1", i2t, 1.0/3)
	check("text→image R@1", t2i, 2.0/3)
	i2t, t2i = r.At(2)
	check("image→text R@2", i2t, 1)
	check("text→image R@2", t2i, 2.0/3)
	check("chance R@1", r.Chance[0], 1.0/3)
	check("chance R@2", r.Chance[1], 2.0/3)
	// When pairs 1 and 2 share their caption, either one is right.
	r = scoreRetrieval(img, txt, 3, 2, []string{"a", "b", "b"}, []int{1})
	i2t, t2i = r.At(1)
	check("grouped image→text R@1", i2t, 1)
	check("grouped text→image R@1", t2i, 1)
	check("grouped chance R@1", r.Chance[0], (1.0/3+2.0/3+2.0/3)/3)
}

func TestSynthPairsAreDeterministic(t *testing.T) {
	g := SynthPairs{Lang: "zh", Seed: 2}
	c1, j1, err := g.Pair(17)
	if err != nil {
		t.Fatal(err)
	}
	c2, j2, _ := g.Pair(17)
	if c1 != c2 || !bytes.Equal(j1, j2) {
		t.Fatal("the same pair differs between two calls")
	}
	c := g.Content(17)
	want := synthPlacesZH[c.Place] + "有" + synthCountsZH[c.Count-1] + synthColoursZH[c.Colour] + "的" + synthShapesZH[c.Shape]
	if c1 != want {
		t.Fatalf("caption %q, want %q", c1, want)
	}
	en := SynthPairs{Lang: "en"}.Caption(SynthContent{Count: 2, Colour: 0, Shape: 0, Place: 0})
	zh := g.Caption(SynthContent{Count: 2, Colour: 0, Shape: 0, Place: 0})
	if en != "two red circles on the left" || zh != "左边有两个红色的圆" {
		t.Fatalf("captions %q, %q", en, zh)
	}
	if d := (SynthPairs{}).Distinct(); d != 216 {
		t.Fatalf("%d distinct contents, want 216", d)
	}
}

// TestSynthPicturesShowTheirCaption: in every picture the shapes are as
// many separate blobs as the caption counts, all inside the captioned half,
// and on both sides of the other midline (so no other place is true too).
func TestSynthPicturesShowTheirCaption(t *testing.T) {
	g := SynthPairs{Lang: "en", Seed: 1}
	for i := 0; i < 300; i++ {
		c := g.Content(i)
		img := g.Draw(i, c)
		bg := img.RGBAAt(0, 0)
		if c.Place == 0 || c.Place == 2 {
			bg = img.RGBAAt(63, 63)
		}
		shape := func(x, y int) bool { return img.RGBAAt(x, y) != bg }
		seen := map[[2]int]bool{}
		blobs := 0
		sides := [2]bool{}
		for y := 0; y < 64; y++ {
			for x := 0; x < 64; x++ {
				if !shape(x, y) {
					continue
				}
				inside := [4]bool{x < 32, x >= 32, y < 32, y >= 32}[c.Place]
				if !inside {
					t.Fatalf("pair %d (%s): shape pixel (%d,%d) outside its half", i, g.Caption(c), x, y)
				}
				other := y
				if c.Place >= 2 {
					other = x
				}
				sides[min(other/32, 1)] = true
				if seen[[2]int{x, y}] {
					continue
				}
				blobs++
				stack := [][2]int{{x, y}}
				seen[[2]int{x, y}] = true
				for len(stack) > 0 {
					p := stack[len(stack)-1]
					stack = stack[:len(stack)-1]
					for _, d := range [][2]int{{1, 0}, {-1, 0}, {0, 1}, {0, -1}} {
						q := [2]int{p[0] + d[0], p[1] + d[1]}
						if q[0] >= 0 && q[0] < 64 && q[1] >= 0 && q[1] < 64 && !seen[q] && shape(q[0], q[1]) {
							seen[q] = true
							stack = append(stack, q)
						}
					}
				}
			}
		}
		if blobs != c.Count {
			t.Fatalf("pair %d (%s): %d separate shapes", i, g.Caption(c), blobs)
		}
		if !sides[0] || !sides[1] {
			t.Fatalf("pair %d (%s): shapes on one side of the other midline only: another place is true too", i, g.Caption(c))
		}
	}
}

func FuzzParseContrastiveConfig(f *testing.F) {
	cfg := TinyContrastiveConfig(100)
	b, _ := json.Marshal(cfg.hfConfig(18))
	f.Add(b)
	f.Add([]byte(`{"text_config": {}, "vision_config": {"patch_size": 0}}`))
	f.Add([]byte(`{`))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ParseContrastiveConfig(data)
		if err == nil {
			if verr := c.Validate(); verr != nil {
				t.Fatalf("accepted an invalid config: %v", verr)
			}
		}
	})
}

// pairCancelAfter is a pair source whose streams cancel the run after n pairs
// have been read in all, as an interrupt in the middle of reading a batch.
type pairCancelAfter struct {
	PairSource
	n      int
	cancel context.CancelFunc
}

func (c *pairCancelAfter) Open(epoch int, start json.RawMessage) (PairStream, error) {
	s, err := c.PairSource.Open(epoch, start)
	return &pairCancelStream{PairStream: s, c: c}, err
}

type pairCancelStream struct {
	PairStream
	c *pairCancelAfter
}

func (s *pairCancelStream) Next(ctx context.Context) (Pair, error) {
	if s.c.n == 0 {
		s.c.cancel()
		return Pair{}, ctx.Err()
	}
	s.c.n--
	return s.PairStream.Next(ctx)
}

// TestContrastiveInterruptedResumeIsExact: an interrupt that lands while a
// batch is being read, after that batch crossed into the next epoch, gives
// the batch's pairs back (epoch and position included); resuming from the
// checkpoint written at the interrupt ends with the weights, momentum
// encoder and queues of an uninterrupted run.
func TestContrastiveInterruptedResumeIsExact(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "shards")
	writeSynthShards(t, dir, SynthPairs{Lang: "en", Seed: 7}, 100)
	vocab, err := ReadVocab(testVocabPath)
	if err != nil {
		t.Fatal(err)
	}
	config := func(out string, resume bool) ContrastiveTrainConfig {
		cfg := smallContrastiveConfig(14)
		cfg.Model.Text.VocabSize, cfg.TextLen = vocab.Size, 14
		cfg.BatchSize, cfg.EvalExamples, cfg.EvalEvery, cfg.CheckpointEvery = 8, 16, 0, 0
		cfg.Model.Queue, cfg.Model.Momentum = 24, 0.9
		cfg.OutputDir, cfg.Resume = out, resume
		return cfg
	}
	source := func() PairSource { return &ShardPairSource{Shards: ShardSource{Dir: dir, Shuffle: true, Seed: 3}} }
	train := func(ctx context.Context, cfg ContrastiveTrainConfig, src PairSource) *ContrastiveSummary {
		tr, err := NewContrastiveTrainer(ctx, cfg, vocab, src)
		if err != nil {
			t.Fatal(err)
		}
		sum, err := tr.Run(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return sum
	}
	once := train(context.Background(), config(t.TempDir(), false), source())

	split := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	// The 16 held-out pairs are read for evaluation, then again (and
	// skipped) by the training stream, then the 84 others of epoch 0: ten
	// batches of 8 and 4 pairs of the eleventh, which goes on into epoch 1,
	// skips the held-out pairs again and reads 2 more before the interrupt.
	cut := train(ctx, config(split, false), &pairCancelAfter{PairSource: source(), n: 16 + 16 + 84 + 16 + 2, cancel: cancel})
	if cut.StoppedBy != "interrupted" || cut.Steps != 10 || cut.Examples != 80 {
		t.Fatalf("interrupted run: %d steps, %d pairs, stopped by %q", cut.Steps, cut.Examples, cut.StoppedBy)
	}
	resumed := train(context.Background(), config(split, true), source())
	if resumed.Steps != 14 || resumed.Examples != once.Examples {
		t.Fatalf("resumed: %d steps, %d pairs; uninterrupted %d pairs", resumed.Steps, resumed.Examples, once.Examples)
	}
	for _, f := range []string{modelFile, momentumFile, optimizerFile} {
		a, _ := os.ReadFile(filepath.Join(once.Checkpoint, f))
		b, _ := os.ReadFile(filepath.Join(resumed.Checkpoint, f))
		if len(a) == 0 || !bytes.Equal(a, b) {
			t.Fatalf("%s differs between an uninterrupted run and an interrupted, resumed one", f)
		}
	}
}
