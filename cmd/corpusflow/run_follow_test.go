package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/corpusflow/corpusflow/pack"
)

// followPipeline writes a pipeline that packs the text file into 64-token
// examples of mode in OUTPUT/shards, with extra pack parameters and train
// (a `train:` section or "") after it.
func followPipeline(t *testing.T, text, mode, pack, train string) string {
	t.Helper()
	vocab, _ := filepath.Abs("../../testdata/tokenize/vocab/bert-base-uncased-vocab.txt")
	y := fmt.Sprintf(`name: follow-%s
sources:
  - type: text
    path: %s
    split: blank_line
stages:
  - use: tokenize
    vocab: %s
  - use: pack
    vocab: %s
    mode: %s
    seq_len: 64
%s
sinks:
  - type: arrow
    path: shards
    batch_rows: 4
    max_rows: 8
%s`, mode, text, vocab, vocab, mode, pack, train)
	path := filepath.Join(t.TempDir(), "follow-"+mode+".yaml")
	if err := os.WriteFile(path, []byte(y), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestRunTrainsOnlyOnItsOwnShards: run A leaves a complete shard directory;
// run B writes into the same output with a train: section that follows it.
// The trainer must wait for B's shards, not train on A's complete ones
// (which B's writer deletes as it starts): every example it trains on or
// holds out is one of B's.
func TestRunTrainsOnlyOnItsOwnShards(t *testing.T) {
	out := t.TempDir()
	shards := filepath.Join(out, "shards")
	text, _ := filepath.Abs("../../testdata/text/wikitext-2-test-head.txt")
	// Run A's shards are T5 span corruption, which the masked-LM trainer
	// refuses: a trainer that takes them for run B's fails the run.
	if code := dispatch([]string{"run", followPipeline(t, text, "span_corruption", "", ""), "--output", out, "--quiet", "--log-level", "error"}); code != exitOK {
		t.Fatalf("run A exited %d", code)
	}
	a, err := pack.ReadManifest(shards)
	if err != nil || !a.Complete || a.Schema.Metadata[pack.MetaMode] != "span_corruption" {
		t.Fatalf("run A's manifest: %+v %v", a, err)
	}
	// Run B shuffles all its examples in one buffer, so its first shard
	// closes only once all its input is read: until then the directory
	// holds run A's shards, unless run B hid them when it started.
	data, err := os.ReadFile(text)
	if err != nil {
		t.Fatal(err)
	}
	bigger := filepath.Join(t.TempDir(), "text.txt")
	if err := os.WriteFile(bigger, bytes.Repeat(append(data, '\n'), 3), 0o644); err != nil {
		t.Fatal(err)
	}
	train := `train:
  layers: 1
  hidden: 16
  heads: 2
  ff: 32
  steps: 1000
  epochs: 1
  batch: 16
  eval_examples: 4
  eval_every: 0
  checkpoint_every: 0
`
	shuffle := "    shuffle: {buffer: 100000, seed: 1}"
	if code := dispatch([]string{"run", followPipeline(t, bigger, "mlm", shuffle, train), "--output", out, "--quiet", "--log-level", "error"}); code != exitOK {
		t.Fatalf("run B exited %d", code)
	}
	b, err := pack.ReadManifest(shards)
	if err != nil || !b.Complete || b.Schema.Metadata[pack.MetaMode] != "mlm" {
		t.Fatalf("run B's manifest: %+v %v", b, err)
	}
	var sum struct {
		Examples  int64  `json:"examples_seen"`
		StoppedBy string `json:"stopped_by"`
	}
	js, err := os.ReadFile(filepath.Join(out, "train", "train_summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(js, &sum); err != nil {
		t.Fatal(err)
	}
	if sum.StoppedBy != "end of data" || sum.Examples+4 != b.Rows {
		t.Fatalf("trained on %d + 4 held out; run B wrote %d rows (stopped by %q)", sum.Examples, b.Rows, sum.StoppedBy)
	}
}
