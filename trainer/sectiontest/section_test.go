// Package sectiontest runs a whole pipeline file with a `train:` section the
// way `corpusflow run` is to: the pipeline and the trainer start together and
// the trainer follows the shards as they close. It lives apart from package
// trainer because it needs every pipeline component (package pipelines).
package sectiontest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/corpusflow/corpusflow/flow"
	"github.com/corpusflow/corpusflow/pack"
	"github.com/corpusflow/corpusflow/pipelines"
	"github.com/corpusflow/corpusflow/trainer"
)

func pipelineYAML(t *testing.T, out, extra string) string {
	t.Helper()
	text, _ := filepath.Abs("../../testdata/text/wikitext-2-test-head.txt")
	vocab, _ := filepath.Abs("../testdata/bert-base-uncased-vocab.txt")
	y := fmt.Sprintf(`name: trainer-section
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

// TestTrainSectionFollowsRunningPipeline: a `train:` section decodes into
// trainer.Section; run beside the pipeline it waits for the manifest, follows
// the shards as they close, and ends its one epoch when the manifest says the
// run is complete. Every example the pipeline wrote is either trained on or
// held out.
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
	if !sec.Follow || sec.Shards != "shards" || sec.Hidden != 32 {
		t.Fatalf("section: %+v", sec)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	wait := trainer.StartSection(ctx, p.Sections, out, false, nil)
	built, err := p.Build(pipelines.BuildOptions{Output: out, Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := flow.Run(ctx, built.Plan); err != nil {
		t.Fatal(err)
	}
	sum, trainErr := wait()
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
