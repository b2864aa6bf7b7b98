package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// TestQuickstartThenTrain is the end of the quickstart: run the pipeline,
// train a few updates on the shards it wrote, then resume for more.
func TestQuickstartThenTrain(t *testing.T) {
	out := runQuickstart(t, "2")
	train := filepath.Join(out, "train")
	args := []string{"train", "--shards", filepath.Join(out, "shards"), "--output", train,
		"--steps", "3", "--batch", "4", "--layers", "1", "--hidden", "32", "--heads", "2", "--ff", "64",
		"--eval-examples", "8", "--quiet", "--log-level", "error"}
	if code := dispatch(args); code != exitOK {
		t.Fatalf("train: exit %d", code)
	}
	for _, f := range []string{"metrics.jsonl", "loss.svg", "loss.png", "train_summary.md", "checkpoints/step-0000003/model.safetensors", "checkpoints/step-0000003/config.json"} {
		if _, err := os.Stat(filepath.Join(train, f)); err != nil {
			t.Fatal(err)
		}
	}
	args[6] = "5" // --steps 5, resumed
	if code := dispatch(append(args, "--resume")); code != exitOK {
		t.Fatalf("train --resume: exit %d", code)
	}
	var sum struct {
		Steps    int   `json:"steps"`
		Examples int64 `json:"examples_seen"`
	}
	b, _ := os.ReadFile(filepath.Join(train, "train_summary.json"))
	if err := json.Unmarshal(b, &sum); err != nil || sum.Steps != 5 || sum.Examples != 20 {
		t.Fatalf("resumed summary %+v (%v)", sum, err)
	}
}

func TestTrainUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"train"},
		{"train", "--shards", "x"},
		{"train", "--shards", "x", "--output", "y", "--model", "gpt"},
		{"train", "--shards", "x", "--output", "y", "--heads", "3"},
		{"train", "--shards", "x", "--output", "y", "--whole-word"},
	} {
		if code := dispatch(append(args, "--log-level", "error")); code != exitUsage {
			t.Errorf("%v: exit %d, want %d", args, code, exitUsage)
		}
	}
	if code := dispatch([]string{"train", "--shards", t.TempDir(), "--output", t.TempDir(), "--quiet", "--log-level", "error"}); code != exitFailure {
		t.Errorf("no manifest: exit %d, want %d", code, exitFailure)
	}
}
