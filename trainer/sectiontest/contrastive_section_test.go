package sectiontest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/corpusflow/corpusflow/flow"
	"github.com/corpusflow/corpusflow/pack"
	"github.com/corpusflow/corpusflow/pipelines"
	"github.com/corpusflow/corpusflow/trainer"
)

// TestContrastiveTrainSectionFollowsImagePipeline: an image pipeline whose
// `train:` section says model: contrastive trains a dual encoder on the
// image_text shards while they are written. Mismatched (itm) rows are not
// trained on: every matching pair is either trained on or held out.
func TestContrastiveTrainSectionFollowsImagePipeline(t *testing.T) {
	work := t.TempDir()
	const pairs = 72
	if err := (trainer.SynthPairs{Lang: "zh", Seed: 9}).WriteFolder(filepath.Join(work, "pairs"), pairs); err != nil {
		t.Fatal(err)
	}
	vocab, _ := filepath.Abs("../../testdata/tokenize/vocab/bert-base-chinese-vocab.txt")
	out := filepath.Join(work, "out")
	y := fmt.Sprintf(`name: contrastive-section
output: %s
sources:
  - type: image_text
    path: pairs/pairs.jsonl
    caption_column: caption
    image_column: image
    id_column: id
stages:
  - use: image_decode
    resize_mode: center_crop
    image_size: 32
  - use: tokenize
    vocab: %s
  - use: pack
    vocab: %s
    mode: image_text
    caption_len: 16
    itm: true
sinks:
  - type: arrow
    path: shards
    max_rows: 24
train:
  model: contrastive
  layers: 1
  hidden: 32
  heads: 2
  ff: 64
  steps: 1000
  epochs: 1
  batch: 8
  eval_examples: 8
  eval_every: 0
  checkpoint_every: 0
  contrastive:
    image_size: 16
    patch_size: 4
    vision_layers: 1
    vision_hidden: 32
    vision_heads: 2
    vision_ff: 64
    projection_dim: 16
    queue: 32
    momentum: 0.99
`, out, vocab, vocab)
	path := filepath.Join(work, "pipeline.yaml")
	if err := os.WriteFile(path, []byte(y), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := pipelines.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	sec, ok := p.Sections["train"].(*trainer.Section)
	if !ok || sec.Model != "contrastive" || sec.Contrastive.Queue != 32 || sec.Contrastive.Pool != trainer.PoolMean {
		t.Fatalf("train: section decoded as %+v", p.Sections["train"])
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
	sum, err := wait()
	if err != nil {
		t.Fatal(err)
	}
	m, _ := pack.ReadManifest(filepath.Join(out, "shards"))
	cs := sum.Contrastive
	if cs == nil || m.Rows != 2*pairs-1 || cs.Examples+8 != pairs || cs.StoppedBy != "end of data" || cs.Retrieval.Pairs != 8 {
		t.Fatalf("%d rows in the shards; summary %+v", m.Rows, cs)
	}
	for _, f := range []string{"recall.svg", "loss.svg", "train_summary.md"} {
		if _, err := os.Stat(filepath.Join(out, "train", f)); err != nil {
			t.Fatal(err)
		}
	}
}

func TestContrastiveSectionErrors(t *testing.T) {
	for _, tc := range []struct{ block, want string }{
		{"  model: clip\n", "model"},
		{"  model: contrastive\n  contrastive:\n    queue: 16\n", "queue"},
		{"  model: contrastive\n  contrastive:\n    patch_size: 5\n", "patch_size"},
		{"  model: contrastive\n  contrastive:\n    pool: max\n", "pool"},
	} {
		y := fmt.Sprintf("name: x\nsources:\n  - type: text\n    path: %s\ntrain:\n%s", mustAbs(t, "../../testdata/text/wikitext-2-test-head.txt"), tc.block)
		path := filepath.Join(t.TempDir(), "p.yaml")
		if err := os.WriteFile(path, []byte(y), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := pipelines.Load(path)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want one naming %s", tc.block, err, tc.want)
		}
	}
}

func mustAbs(t *testing.T, p string) string {
	a, err := filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	return a
}
