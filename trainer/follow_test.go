package trainer

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/corpusflow/corpusflow/pack"
)

// TestSectionStopsWhenCancelledBeforeAnyManifest: a `train:` section that
// follows a directory no run has written yet (the run failed, or was
// interrupted, before its arrow sink saw a record) must give up when its
// context is cancelled; corpusflow run waits for it before writing
// stats.json.
func TestSectionStopsWhenCancelledBeforeAnyManifest(t *testing.T) {
	sec := DefaultSection()
	sec.Layers, sec.Hidden, sec.Heads, sec.FF = 1, 16, 2, 32
	ctx, cancel := context.WithCancel(context.Background())
	wait := StartSection(ctx, map[string]any{"train": &sec}, t.TempDir(), false, nil)
	time.Sleep(50 * time.Millisecond)
	cancel()
	done := make(chan error, 1)
	go func() {
		_, err := wait()
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("cancelled section returned %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the section still waits for a manifest 10 s after its context was cancelled")
	}
}

// TestInfoWaitsForTheRunsSchema: corpusflow run publishes an empty manifest
// when it starts and the schema with the first record; a follower's Info
// waits for the schema instead of reporting shards of mode "".
func TestInfoWaitsForTheRunsSchema(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "shards")
	w, err := pack.NewShardWriter(pack.WriterOptions{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.StartFresh(); err != nil {
		t.Fatal(err)
	}
	src := &ShardSource{Dir: dir, Follow: true, PollInterval: 10 * time.Millisecond}
	type result struct {
		info ShardInfo
		err  error
	}
	got := make(chan result, 1)
	go func() {
		info, err := src.Info()
		got <- result{info, err}
	}()
	writeShards(t, dir, "nsp", nil)
	r := <-got
	if r.err != nil || r.info.Mode != "nsp" || r.info.SeqLen != 64 || r.info.VocabSize != 30522 {
		t.Fatalf("info %+v, %v", r.info, r.err)
	}
}

// TestTrainersWaitForAFreshRunsSchema: both trainers, following a directory
// whose run has only just started (an empty manifest, no schema yet), wait
// for the schema instead of failing on shards of mode "".
func TestTrainersWaitForAFreshRunsSchema(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "shards")
	w, err := pack.NewShardWriter(pack.WriterOptions{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.StartFresh(); err != nil {
		t.Fatal(err)
	}
	opts := RunOptions{Shards: dir, Output: t.TempDir(), Follow: true}
	for name, train := range map[string]func(ctx context.Context) error{
		"mlm": func(ctx context.Context) error {
			_, err := TrainOnShards(ctx, smallShardConfig(1), opts)
			return err
		},
		"contrastive": func(ctx context.Context) error {
			_, err := TrainContrastiveOnShards(ctx, DefaultContrastiveTrainConfig(0, 1), opts)
			return err
		},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		err := train(ctx)
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("%s: %v, want it still waiting for the schema when its context ends", name, err)
		}
	}
}

// TestHeldOutNeverTrainedOnInShuffledEpochs: the held-out examples are the
// first of epoch 0; later epochs read the shards in other orders, and none
// of them may train on a held-out example (they were keyed by the shard's
// place in the epoch's order, so another shard's rows were left out instead).
func TestHeldOutNeverTrainedOnInShuffledEpochs(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "shards")
	rows := writeShards(t, dir, "mlm", nil)
	m, err := pack.ReadManifest(dir)
	if err != nil || len(m.Shards) < 4 {
		t.Fatalf("want 4+ shards: %+v %v", m, err)
	}
	src := &ShardSource{Dir: dir, Shuffle: true, Seed: 1}
	key := func(ex Example) string { return fmt.Sprint(ex.InputIDs) }
	// What the trainer holds out: the first examples of epoch 0; and the
	// first shard of each epoch, to be sure the orders differ.
	const heldOut = 8
	held := map[string]bool{}
	firsts := map[string]bool{}
	for epoch := range 3 {
		s, err := src.Open(epoch, nil)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < heldOut; i++ {
			ex, err := s.Next(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if epoch == 0 {
				held[key(ex)] = true
			}
			if i == 0 {
				firsts[ex.Shard] = true
			}
		}
	}
	if len(held) != heldOut || len(firsts) < 2 {
		t.Fatalf("%d distinct held-out examples; epochs start with shards %v", len(held), firsts)
	}
	vocab, _ := ReadVocab(testVocabPath)
	cfg := smallShardConfig(1000)
	cfg.Epochs, cfg.EvalExamples, cfg.CheckpointEvery, cfg.Seed = 3, heldOut, 0, 1
	cfg.Model.VocabSize, cfg.OutputDir, cfg.Model.MaxPositions = vocab.Size, t.TempDir(), 64
	tr, err := NewTrainer(cfg, vocab, src)
	if err != nil {
		t.Fatal(err)
	}
	trained := map[string]int{}
	tr.observe = func(ex Example) {
		if held[key(ex)] {
			t.Errorf("epoch %d trained on held-out example %s row %d", ex.Key.Epoch, ex.Shard, ex.Key.Row)
		}
		trained[key(ex)]++
	}
	sum, err := tr.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if sum.StoppedBy != "end of data" || sum.Examples != 3*(rows-heldOut) || int64(len(trained)) != rows-heldOut {
		t.Fatalf("%d examples trained in 3 epochs, %d distinct; %d rows, %d held out (stopped by %q)", sum.Examples, len(trained), rows, heldOut, sum.StoppedBy)
	}
}

// TestSectionFollowsASlowWriter drives a `train:` section (StartSection →
// TrainOnShards → Info, held-out set, epochs) on a directory that a slow
// writer fills as corpusflow run does: an empty manifest first, then small
// shards. The writer stops after two shards until the trainer has made an
// update, so training provably began on an incomplete manifest; the epoch
// ends only when the writer completes it, with every row trained on or
// held out.
func TestSectionFollowsASlowWriter(t *testing.T) {
	out := t.TempDir()
	dir := filepath.Join(out, "shards")
	w, err := pack.NewShardWriter(pack.WriterOptions{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.StartFresh(); err != nil {
		t.Fatal(err)
	}
	sec := DefaultSection()
	sec.Vocab = testVocabPath
	sec.Layers, sec.Hidden, sec.Heads, sec.FF = 1, 32, 2, 64
	sec.Steps, sec.Epochs, sec.Batch, sec.EvalExamples, sec.EvalEvery, sec.CheckpointEvery = 1000, 1, 8, 8, 0, 0
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	wait := StartSection(ctx, map[string]any{"train": &sec}, out, false, nil)

	metrics := filepath.Join(out, "train", "metrics.jsonl")
	var written int
	incompleteAtFirstUpdate := false
	rows := writeShards(t, dir, "mlm", func() {
		written++
		time.Sleep(time.Millisecond)
		if written != 48 { // two 24-row shards closed
			return
		}
		for !strings.Contains(readString(metrics), `"kind":"train"`) {
			select {
			case <-ctx.Done():
				t.Fatal("no training update while the writer waited after two shards")
			case <-time.After(10 * time.Millisecond):
			}
		}
		m, err := pack.ReadManifest(dir)
		incompleteAtFirstUpdate = err == nil && !m.Complete && len(m.Shards) == 2
	})
	sum, err := wait()
	if err != nil {
		t.Fatal(err)
	}
	if !incompleteAtFirstUpdate {
		t.Fatal("the manifest was not incomplete (2 shards) when training made its first update")
	}
	if sum.StoppedBy != "end of data" || sum.Examples+8 != rows || rows <= 48 {
		t.Fatalf("trained on %d + 8 held out of %d written (stopped by %q)", sum.Examples, rows, sum.StoppedBy)
	}
}

func readString(path string) string {
	b, _ := os.ReadFile(path)
	return string(b)
}
