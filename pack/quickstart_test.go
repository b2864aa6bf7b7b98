package pack_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/corpusflow/corpusflow/flow"
	"github.com/corpusflow/corpusflow/pack"
	"github.com/corpusflow/corpusflow/pipelines"
)

// TestQuickstartShardsReadInArrowJS runs the README's quickstart pipeline and
// opens every shard it writes with Arrow JS, comparing row counts with the
// manifest and the first ids of each shard with the Go reader.
func TestQuickstartShardsReadInArrowJS(t *testing.T) {
	p, err := pipelines.Load(filepath.Join("..", "pipelines", "quickstart.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	built, err := p.Build(pipelines.BuildOptions{Output: out, Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := flow.Run(context.Background(), built.Plan); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(built.OutputDir, "shards")
	m, err := pack.ReadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !m.Complete || m.Rows == 0 {
		t.Fatalf("quickstart shards: complete=%v rows=%d", m.Complete, m.Rows)
	}
	rep := pack.CompareWithArrowJS(t, dir)
	t.Logf("Arrow JS read %d rows in %d shards of the quickstart", rep.Rows, len(rep.Shards))
}
