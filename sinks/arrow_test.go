package sinks

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/corpusflow/corpusflow/flow"
	"github.com/corpusflow/corpusflow/pack"
)

// tokenDocs is a source of n tokenized documents in parts of 50, standing
// in for ingest + tokenize. Token ids stay inside the BERT vocabulary.
type tokenDocs struct{ n int }

func (s tokenDocs) Parts() ([]flow.Part, error) {
	var parts []flow.Part
	for start := 0; start < s.n; start += 50 {
		parts = append(parts, tokenPart{start, min(start+50, s.n)})
	}
	return parts, nil
}

type tokenPart struct{ start, end int }

func (p tokenPart) Name() string { return fmt.Sprintf("part-%d", p.start) }
func (p tokenPart) Size() int64  { return -1 }
func (p tokenPart) Read(ctx context.Context, emit func(*flow.Record) error, rep *flow.SourceReport) error {
	for d := p.start; d < p.end; d++ {
		toks := make([]int32, 20+(d*31)%300)
		for i := range toks {
			toks[i] = int32(2000 + (d*17+i*7)%20000)
		}
		if err := emit(&flow.Record{ID: fmt.Sprintf("doc-%d", d), Text: "x", Tokens: toks}); err != nil {
			return err
		}
	}
	return nil
}

// stopAfter cancels the run after n records, like a Ctrl-C in the middle.
type stopAfter struct {
	n      int64
	seen   atomic.Int64
	cancel context.CancelFunc
}

func (s *stopAfter) Process(r *flow.Record) string {
	if s.seen.Add(1) == s.n {
		s.cancel()
	}
	return ""
}

func arrowPlan(t *testing.T, dir string, workers int, extra ...flow.NamedStage) (flow.Plan, *pack.ShardWriter) {
	t.Helper()
	cfg := pack.DefaultConfig()
	cfg.Vocab = filepath.Join("..", "testdata", "tokenize", "vocab", "bert-base-uncased-vocab.txt")
	cfg.SeqLen = 64
	cfg.StaticMask = true
	cfg.Shuffle = pack.ShuffleConfig{Buffer: 100, Seed: 3}
	env := &flow.Env{PipelineName: "sink-test", PipelineSHA256: "abc"}
	stage, err := pack.New(&cfg, env)
	if err != nil {
		t.Fatal(err)
	}
	sink, err := NewArrow(&ArrowConfig{Path: dir, Format: "stream", Compression: "lz4", BatchRows: 32, MaxShardBytes: 1 << 30, MaxRows: 100}, env)
	if err != nil {
		t.Fatal(err)
	}
	stages := append(extra, flow.NamedStage{Name: "pack", Use: "pack", Stage: stage})
	return flow.Plan{
		Sources: []flow.NamedSource{{Name: "docs", Source: tokenDocs{n: 2000}}},
		Stages:  stages,
		Sinks:   []flow.NamedSink{{Name: "shards", Sink: sink}},
		Workers: workers, BatchRecords: 16,
	}, sink
}

func shardFiles(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	for _, e := range entries {
		data, _ := os.ReadFile(filepath.Join(dir, e.Name()))
		files[e.Name()] = data
	}
	return files
}

func sameShards(t *testing.T, want, got map[string][]byte) {
	t.Helper()
	if len(want) != len(got) {
		t.Fatalf("%d files, want %d", len(got), len(want))
	}
	for name, data := range want {
		if !bytes.Equal(data, got[name]) {
			t.Fatalf("%s differs", name)
		}
	}
}

func TestArrowSinkThroughTheEngineIsDeterministicAndResumable(t *testing.T) {
	whole := t.TempDir()
	plan, _ := arrowPlan(t, whole, 1)
	stats, err := flow.Run(context.Background(), plan)
	if err != nil {
		t.Fatal(err)
	}
	want := shardFiles(t, whole)
	m, err := pack.ReadManifest(whole)
	if err != nil || !m.Complete || m.Format != pack.FormatStream || m.Rows != stats.Sinks[0].Records {
		t.Fatalf("manifest %+v (%v), sink wrote %d", m, err, stats.Sinks[0].Records)
	}

	// Any worker count: the same bytes.
	other := t.TempDir()
	plan, _ = arrowPlan(t, other, 4)
	if _, err := flow.Run(context.Background(), plan); err != nil {
		t.Fatal(err)
	}
	sameShards(t, want, shardFiles(t, other))

	// Interrupted half way: the engine tells the sink, which leaves the
	// manifest incomplete and drops the unfinished shard.
	cut := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	plan, _ = arrowPlan(t, cut, 2, flow.NamedStage{Name: "stop", Stage: &stopAfter{n: 1000, cancel: cancel}})
	stats, err = flow.Run(ctx, plan)
	if err != nil {
		t.Fatal(err)
	}
	m, err = pack.ReadManifest(cut)
	if err != nil || !stats.Interrupted || m.Complete || m.Rows%100 != 0 || m.Rows == 0 {
		t.Fatalf("after the interruption: interrupted=%v manifest %+v (%v)", stats.Interrupted, m, err)
	}
	for name := range shardFiles(t, cut) {
		if strings.HasPrefix(name, ".tmp") {
			t.Fatalf("left %s behind", name)
		}
	}

	// --resume: PrepareResume, then the replayed run completes the directory.
	plan, _ = arrowPlan(t, cut, 2)
	skipped, err := flow.PrepareResume(plan)
	if err != nil {
		t.Fatal(err)
	}
	if skipped["shards"] != m.Rows {
		t.Fatalf("resume skips %d rows, the manifest holds %d", skipped["shards"], m.Rows)
	}
	if _, err := flow.Run(context.Background(), plan); err != nil {
		t.Fatal(err)
	}
	sameShards(t, want, shardFiles(t, cut))
}

func TestArrowConfigErrorsNameTheField(t *testing.T) {
	for field, c := range map[string]ArrowConfig{
		"batch_rows":      {BatchRows: 0, MaxShardBytes: 1},
		"max_shard_bytes": {BatchRows: 1, MaxShardBytes: 0},
		"max_rows":        {BatchRows: 1, MaxShardBytes: 1, MaxRows: -1},
	} {
		err := c.Validate()
		fe, ok := err.(*flow.FieldError)
		if !ok || fe.Field != field {
			t.Errorf("%s: got %v", field, err)
		}
	}
}
