package trainer

import (
	"bytes"
	"context"
	"encoding/json"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// toyExamples are sequences from a tiny "language": each sentence repeats a
// pattern so that masked tokens are predictable from context.
func toyExamples(v *Vocab, n, seqLen int, seed uint64) []Example {
	rng := rand.New(rand.NewPCG(seed, 5))
	exs := make([]Example, n)
	for i := range exs {
		ids := []int32{v.CLS}
		a, b := int32(6+rng.IntN(10)), int32(6+rng.IntN(10))
		for len(ids) < seqLen-1-rng.IntN(4) {
			ids = append(ids, a, b, int32(16+rng.IntN(5)))
		}
		ids = append(ids[:min(len(ids), seqLen-1)], v.SEP)
		for len(ids) < seqLen {
			ids = append(ids, v.PAD)
		}
		exs[i] = Example{InputIDs: ids, NSPLabel: -1}
	}
	return exs
}

func smallRunConfig(v *Vocab, out string, steps int) Config {
	cfg := DefaultConfig(v.Size, steps)
	cfg.Model.HiddenSize, cfg.Model.IntermediateSize, cfg.Model.MaxPositions = 32, 64, 32
	cfg.BatchSize = 8
	cfg.EvalExamples = 16
	cfg.EvalEvery = 5
	cfg.CheckpointEvery = 5
	cfg.Optimizer.LR = 3e-3
	cfg.Optimizer.WarmupSteps = 2
	cfg.OutputDir = out
	cfg.Seed = 11
	return cfg
}

func runTrainer(t *testing.T, cfg Config, v *Vocab, data DataSource) (*Trainer, *Summary) {
	t.Helper()
	tr, err := NewTrainer(cfg, v, data)
	if err != nil {
		t.Fatal(err)
	}
	sum, err := tr.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return tr, sum
}

func TestTrainWritesOutputsAndLearns(t *testing.T) {
	v := testVocab(t)
	out := t.TempDir()
	cfg := smallRunConfig(v, out, 150)
	cfg.EvalEvery, cfg.CheckpointEvery = 15, 30 // 5 checkpoints, 3 kept
	_, sum := runTrainer(t, cfg, v, &SliceSource{Examples: toyExamples(v, 120, 24, 1)})
	if sum.Steps != 150 || sum.FinalLoss >= sum.FirstLoss-0.5 || sum.EvalAccuracy < 0.3 {
		t.Fatalf("did not learn: %+v", sum)
	}
	recs, err := readMetrics(filepath.Join(out, "metrics.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	var train, eval int
	raw, _ := os.ReadFile(filepath.Join(out, "metrics.jsonl"))
	first := strings.SplitN(string(raw), "\n", 2)[0]
	for _, key := range []string{`"mlm_accuracy":`, `"lr":`, `"grad_norm":`, `"tokens_per_s":`} {
		if !strings.Contains(first, key) { // the first update runs at lr 0 and may score 0
			t.Fatalf("first metrics line lacks %s: %s", key, first)
		}
	}
	for _, r := range recs {
		switch r.Kind {
		case "train":
			train++
			if r.LR < 0 || r.GradNorm <= 0 || r.TokensPS <= 0 || r.Tokens <= 0 {
				t.Fatalf("incomplete train record %+v", r)
			}
		case "eval":
			eval++
			if r.EvalPPL <= 1 || r.EvalTokens == 0 {
				t.Fatalf("incomplete eval record %+v", r)
			}
		}
	}
	if train != 150 || eval != 10 {
		t.Fatalf("%d train and %d eval records, want 150 and 10", train, eval)
	}
	for _, f := range []string{"loss.svg", "loss.png", "train_summary.json", "train_summary.md"} {
		if st, err := os.Stat(filepath.Join(out, f)); err != nil || st.Size() == 0 {
			t.Fatalf("%s missing: %v", f, err)
		}
	}
	if md, _ := os.ReadFile(filepath.Join(out, "train_summary.md")); !bytes.Contains(md, []byte("](loss.svg)")) {
		t.Fatal("summary does not link the loss curve")
	}
	ck, _ := LatestCheckpoint(out)
	if filepath.Base(ck) != "step-0000150" {
		t.Fatalf("latest checkpoint %q", ck)
	}
	entries, _ := os.ReadDir(filepath.Join(out, "checkpoints"))
	if len(entries) != 4 { // 3 kept + "latest"
		t.Fatalf("%d entries in checkpoints/, want 3 checkpoints and latest", len(entries))
	}
	cfgBack, err := ReadHFConfig(filepath.Join(ck, "config.json"))
	if err != nil || cfgBack.HiddenSize != 32 || cfgBack.VocabSize != v.Size {
		t.Fatalf("config.json: %+v %v", cfgBack, err)
	}
	tensors, _, err := ReadSafetensors(filepath.Join(ck, "model.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"bert.embeddings.word_embeddings.weight", "bert.encoder.layer.1.attention.self.value.bias", "cls.predictions.bias", "cls.predictions.transform.LayerNorm.weight"} {
		if _, ok := tensors[name]; !ok {
			t.Fatalf("checkpoint lacks %s", name)
		}
	}
}

// TestResumeIsExact: 2N updates in one run and N updates, then a resumed run
// of N more, give bit-identical weights. The data is small enough that the
// runs cross an epoch boundary, and updates accumulate two micro-batches.
func TestResumeIsExact(t *testing.T) {
	v := testVocab(t)
	data := &SliceSource{Examples: toyExamples(v, 70, 24, 2)}
	const n = 6

	straight := t.TempDir()
	cfg := smallRunConfig(v, straight, 2*n)
	cfg.AccumSteps = 2
	cfg.CheckpointEvery = 0
	trA, _ := runTrainer(t, cfg, v, data)

	split := t.TempDir()
	cfgB := cfg
	cfgB.OutputDir = split
	cfgB.Steps = n
	cfgB.Optimizer.TotalSteps = 2 * n // same schedule as the straight run
	runTrainer(t, cfgB, v, data)
	cfgB.Steps = 2 * n
	cfgB.Resume = true
	trB, sumB := runTrainer(t, cfgB, v, data)
	if sumB.Steps != 2*n {
		t.Fatalf("resumed run ended at %d", sumB.Steps)
	}
	for i, p := range trA.Model().Params() {
		q := trB.Model().Params()[i]
		if !slices.Equal(p.W, q.W) {
			t.Fatalf("%s differs after resume", p.Name)
		}
	}
	a, _ := os.ReadFile(filepath.Join(straight, "checkpoints", "step-0000012", "model.safetensors"))
	b, _ := os.ReadFile(filepath.Join(split, "checkpoints", "step-0000012", "model.safetensors"))
	if len(a) == 0 || !bytes.Equal(a, b) {
		t.Fatal("final model.safetensors differ")
	}
	var st TrainerState
	sb, _ := os.ReadFile(filepath.Join(split, "checkpoints", "step-0000012", "trainer_state.json"))
	json.Unmarshal(sb, &st)
	if st.Epoch < 1 {
		t.Fatalf("runs did not cross an epoch (epoch %d); the test is too weak", st.Epoch)
	}
	// metrics.jsonl of the split run has each step once.
	recs, _ := readMetrics(filepath.Join(split, "metrics.jsonl"))
	seen := map[int]bool{}
	for _, r := range recs {
		if r.Kind == "train" {
			if seen[r.Step] {
				t.Fatalf("step %d logged twice", r.Step)
			}
			seen[r.Step] = true
		}
	}
	if len(seen) != 2*n {
		t.Fatalf("%d steps logged", len(seen))
	}
}

func TestBadExamplesAreSkipped(t *testing.T) {
	v := testVocab(t)
	exs := toyExamples(v, 60, 24, 3)
	exs[20].InputIDs = append([]int32(nil), exs[20].InputIDs...)
	exs[20].InputIDs[3] = 999 // outside the vocabulary
	exs[21].InputIDs = make([]int32, 40)
	exs[22].InputIDs = nil
	cfg := smallRunConfig(v, t.TempDir(), 8)
	cfg.EvalExamples = 0
	_, sum := runTrainer(t, cfg, v, &SliceSource{Examples: exs})
	if sum.Skipped < 3 || sum.Steps != 8 {
		t.Fatalf("skipped %d, steps %d", sum.Skipped, sum.Steps)
	}
}

func TestEpochLimitStopsRun(t *testing.T) {
	v := testVocab(t)
	cfg := smallRunConfig(v, t.TempDir(), 100)
	cfg.Epochs = 1
	cfg.EvalExamples = 0
	_, sum := runTrainer(t, cfg, v, &SliceSource{Examples: toyExamples(v, 20, 24, 4)})
	if sum.Steps != 3 || !strings.Contains(sum.StoppedBy, "end of data") {
		t.Fatalf("steps %d stopped by %q; want 3 (20 examples / 8, last partial batch used)", sum.Steps, sum.StoppedBy)
	}
}

// TestInterruptedRunResumesExactly: a run cancelled in the middle of an
// accumulation checkpoints the data position of the last complete update,
// so resuming it reaches the same weights as a run never interrupted.
func TestInterruptedRunResumesExactly(t *testing.T) {
	v := testVocab(t)
	data := &SliceSource{Examples: toyExamples(v, 70, 24, 7)}
	cfg := smallRunConfig(v, t.TempDir(), 6)
	cfg.AccumSteps, cfg.CheckpointEvery = 3, 0
	straight, _ := runTrainer(t, cfg, v, data)

	cfg.OutputDir = t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	// Reads: the held-out examples once to score them and once more when
	// training skips them, then 3 micro-batches of 8 per update; cancel a
	// third of the way into update 3.
	cancelling := &cancelAfter{src: data, n: 2*cfg.EvalExamples + 2*3*8 + 8, cancel: cancel}
	tr, err := NewTrainer(cfg, v, cancelling)
	if err != nil {
		t.Fatal(err)
	}
	sum, err := tr.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if sum.StoppedBy != "interrupted" || sum.Steps != 2 {
		t.Fatalf("stopped by %q after %d updates, want interrupted after 2", sum.StoppedBy, sum.Steps)
	}
	cfg.Resume = true
	resumed, _ := runTrainer(t, cfg, v, data)
	for i, p := range straight.Model().Params() {
		if !slices.Equal(p.W, resumed.Model().Params()[i].W) {
			t.Fatalf("%s differs after an interrupted run was resumed", p.Name)
		}
	}
}

// cancelAfter cancels a context once n examples have been read in total.
type cancelAfter struct {
	src    DataSource
	n      int
	read   int
	cancel func()
}

func (c *cancelAfter) Describe() string { return c.src.Describe() }

func (c *cancelAfter) Open(epoch int, start json.RawMessage) (ExampleStream, error) {
	s, err := c.src.Open(epoch, start)
	return &cancelStream{ExampleStream: s, c: c}, err
}

type cancelStream struct {
	ExampleStream
	c *cancelAfter
}

func (s *cancelStream) Next(ctx context.Context) (Example, error) {
	if s.c.read >= s.c.n {
		s.c.cancel()
		return Example{}, ctx.Err()
	}
	s.c.read++
	return s.ExampleStream.Next(ctx)
}
