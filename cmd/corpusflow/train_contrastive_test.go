package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/corpusflow/corpusflow/trainer"
)

// TestImageTextPipelineThenContrastiveTrain: synthetic pictures with
// captions go through a whole image pipeline (image_text source, safe
// decoding and resizing, WordPiece, image_text shards with mismatched ITM
// rows), then `corpusflow train --model contrastive` trains a dual encoder
// on the shards, with a momentum queue, and resumes.
func TestImageTextPipelineThenContrastiveTrain(t *testing.T) {
	work := t.TempDir()
	if err := (trainer.SynthPairs{Lang: "en", Seed: 3}).WriteFolder(filepath.Join(work, "pairs"), 60); err != nil {
		t.Fatal(err)
	}
	vocab, _ := filepath.Abs("../../testdata/tokenize/vocab/bert-base-uncased-vocab.txt")
	out := filepath.Join(work, "out")
	yaml := fmt.Sprintf(`name: synthetic-image-text
output: %s
sources:
  - type: image_text
    path: pairs/pairs.jsonl
    caption_column: caption
    image_column: image
    id_column: id
stages:
  - use: image_decode
    max_pixels: 1000000
    resize_mode: center_crop
    image_size: 32
    quality: 90
  - use: tokenize
    vocab: %s
  - use: pack
    vocab: %s
    mode: image_text
    caption_len: 12
    itm: true
    seed: 1
sinks:
  - type: arrow
    path: shards
`, out, vocab, vocab)
	pipeline := filepath.Join(work, "pipeline.yaml")
	if err := os.WriteFile(pipeline, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	if code := dispatch([]string{"run", pipeline, "--quiet", "--log-level", "error"}); code != exitOK {
		t.Fatalf("run: exit %d", code)
	}
	train := filepath.Join(out, "train")
	args := []string{"train", "--model", "contrastive", "--shards", filepath.Join(out, "shards"), "--output", train,
		"--steps", "4", "--batch", "8", "--layers", "1", "--hidden", "32", "--heads", "2", "--ff", "64",
		"--image-size", "16", "--patch", "4", "--vision-layers", "1", "--vision-hidden", "32", "--vision-heads", "2", "--vision-ff", "64",
		"--proj-dim", "16", "--queue", "16", "--momentum", "0.9", "--eval-examples", "12", "--quiet", "--log-level", "error"}
	if code := dispatch(args); code != exitOK {
		t.Fatalf("train: exit %d", code)
	}
	for _, f := range []string{"metrics.jsonl", "recall.svg", "recall.png", "loss.svg", "train_summary.md",
		"checkpoints/step-0000004/model.safetensors", "checkpoints/step-0000004/momentum.safetensors", "checkpoints/step-0000004/config.json"} {
		if _, err := os.Stat(filepath.Join(train, f)); err != nil {
			t.Fatal(err)
		}
	}
	args[8] = "6" // --steps 6, resumed
	if code := dispatch(append(args, "--resume")); code != exitOK {
		t.Fatalf("train --resume: exit %d", code)
	}
	var sum trainer.ContrastiveSummary
	b, _ := os.ReadFile(filepath.Join(train, "train_summary.json"))
	if err := json.Unmarshal(b, &sum); err != nil || sum.Steps != 6 || sum.Examples != 48 || sum.Retrieval.Pairs != 12 {
		t.Fatalf("resumed summary %+v (%v)", sum, err)
	}
}

func TestContrastiveTrainUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"--patch", "5"},
		{"--queue", "64"},
		{"--pool", "max"},
		{"--vision-heads", "3"},
		{"--momentum", "1"},
	} {
		full := append([]string{"train", "--model", "contrastive", "--shards", "x", "--output", "y", "--log-level", "error"}, args...)
		if code := dispatch(full); code != exitUsage {
			t.Errorf("%v: exit %d, want %d", args, code, exitUsage)
		}
	}
}
