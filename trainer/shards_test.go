package trainer_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/corpusflow/corpusflow/flow"
	"github.com/corpusflow/corpusflow/pack"
	"github.com/corpusflow/corpusflow/pipelines"
	"github.com/corpusflow/corpusflow/trainer"
)

// These tests run the real pipeline (text → WordPiece → mlm packing → Arrow
// shards) on bundled WikiText and train on its shards, finished or still
// being written.

const testVocab = "testdata/bert-base-uncased-vocab.txt"

func pipelineYAML(t *testing.T, out string, extra string) string {
	t.Helper()
	text, _ := filepath.Abs("../testdata/text/wikitext-2-test-head.txt")
	vocab, _ := filepath.Abs(testVocab)
	y := fmt.Sprintf(`name: trainer-shards
output: %s
sources:
  - type: text
    path: %s
    split: blank_line
stages:
  - use: tokenize
    vocab: %s
  - use: pack
    vocab: %s
    mode: mlm
    seq_len: 64
sinks:
  - type: arrow
    path: shards
    batch_rows: 8
    max_rows: 24
%s`, out, text, vocab, vocab, extra)
	path := filepath.Join(t.TempDir(), "pipeline.yaml")
	if err := os.WriteFile(path, []byte(y), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func runPipeline(t *testing.T, ctx context.Context, p *pipelines.Pipeline, out string) {
	t.Helper()
	built, err := p.Build(pipelines.BuildOptions{Output: out, Workers: 2})
	if err != nil {
		t.Error(err)
		return
	}
	if _, err := flow.Run(ctx, built.Plan); err != nil {
		t.Error(err)
	}
}

func smallConfig(steps int) trainer.Config {
	cfg := trainer.DefaultConfig(0, steps)
	cfg.Model.HiddenSize, cfg.Model.NumHeads, cfg.Model.IntermediateSize = 32, 2, 64
	cfg.BatchSize = 8
	cfg.EvalExamples = 8
	cfg.EvalEvery = 5
	cfg.Optimizer.LR = 1e-3
	return cfg
}

func TestTrainOnFinishedShards(t *testing.T) {
	out := t.TempDir()
	p, err := pipelines.Load(pipelineYAML(t, out, ""))
	if err != nil {
		t.Fatal(err)
	}
	runPipeline(t, context.Background(), p, out)
	m, err := pack.ReadManifest(filepath.Join(out, "shards"))
	if err != nil || !m.Complete || len(m.Shards) < 3 {
		t.Fatalf("pipeline made no multi-shard output: %+v %v", m, err)
	}
	sum, err := trainer.TrainOnShards(context.Background(), smallConfig(10), trainer.RunOptions{
		Shards: filepath.Join(out, "shards"), Output: filepath.Join(out, "train"), Vocab: testVocab})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Steps != 10 || sum.Examples != 80 || sum.EvalTokens() == 0 || sum.FinalLoss >= sum.FirstLoss {
		t.Fatalf("summary %+v", sum)
	}
	// Without the vocabulary file the shards' metadata is enough.
	sum2, err := trainer.TrainOnShards(context.Background(), smallConfig(3), trainer.RunOptions{
		Shards: filepath.Join(out, "shards"), Output: filepath.Join(out, "train2")})
	if err != nil || sum2.Steps != 3 {
		t.Fatalf("training from metadata only: %+v %v", sum2, err)
	}
	// Shards of another vocabulary are refused.
	other := filepath.Join(t.TempDir(), "vocab.txt")
	b, _ := os.ReadFile(testVocab)
	os.WriteFile(other, append(b[:len(b)-1:len(b)-1], []byte("x\n")...), 0o644)
	if _, err := trainer.TrainOnShards(context.Background(), smallConfig(1), trainer.RunOptions{
		Shards: filepath.Join(out, "shards"), Output: filepath.Join(out, "train3"), Vocab: other}); err == nil {
		t.Fatal("a different vocabulary was accepted")
	}
}

// TestTrainSectionFollowsRunningPipeline does what `corpusflow run` does with
// a `train:` section: the pipeline and the trainer start together, the
// trainer follows the shard directory as shards close, and one epoch ends
// when the manifest says the run is complete. Every example the pipeline
// wrote is either trained on or held out.
func TestTrainSectionFollowsRunningPipeline(t *testing.T) {
	out := t.TempDir()
	p, err := pipelines.Load(pipelineYAML(t, out, `train:
  layers: 1
  hidden: 32
  heads: 2
  ff: 64
  steps: 1000
  epochs: 1
  batch: 4
  eval_examples: 8
  eval_every: 0
  checkpoint_every: 0
`))
	if err != nil {
		t.Fatal(err)
	}
	sec, ok := p.Sections["train"].(*trainer.Section)
	if !ok {
		t.Fatalf("train: section decoded as %T", p.Sections["train"])
	}
	if !sec.Follow || sec.Shards != "shards" {
		t.Fatalf("section defaults lost: %+v", sec)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var wg sync.WaitGroup
	var sum *trainer.Summary
	var trainErr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		sum, trainErr = sec.Run(ctx, out, false, nil)
	}()
	time.Sleep(100 * time.Millisecond) // let the trainer wait for the manifest first
	runPipeline(t, ctx, p, out)
	wg.Wait()
	if trainErr != nil {
		t.Fatal(trainErr)
	}
	m, _ := pack.ReadManifest(filepath.Join(out, "shards"))
	if sum.StoppedBy != "end of data" || sum.Examples+8 != m.Rows {
		t.Fatalf("trained on %d examples + 8 held out, the shards hold %d (stopped by %q)", sum.Examples, m.Rows, sum.StoppedBy)
	}
	if _, err := os.Stat(filepath.Join(out, "train", "loss.svg")); err != nil {
		t.Fatal(err)
	}
}

func TestSectionValidation(t *testing.T) {
	s := trainer.DefaultSection()
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	s.Heads = 3
	if err := s.Validate(); err == nil {
		t.Fatal("3 heads for hidden 128 accepted")
	}
	s = trainer.DefaultSection()
	s.WholeWord = true
	if err := s.Validate(); err == nil {
		t.Fatal("whole_word without vocab accepted")
	}
}
