package trainer

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/corpusflow/corpusflow/flow"
	"github.com/corpusflow/corpusflow/pack"
	"github.com/corpusflow/corpusflow/tokenize"
)

// These tests make real shards from bundled WikiText with corpusflow's own
// WordPiece tokenizer, pack stage and shard writer, and train on them,
// finished or while they are still being written.

const testVocabPath = "testdata/bert-base-uncased-vocab.txt"

// writeShards packs the WikiText sample into dir (mode mlm or nsp, 64-token
// examples, 24 rows a shard) and returns the number of examples. pause, when
// set, is called after every record written (to slow the writer down).
func writeShards(t testing.TB, dir, mode string, pause func()) int64 {
	t.Helper()
	tok, err := tokenize.Load(testVocabPath)
	if err != nil {
		t.Fatal(err)
	}
	cfg := pack.DefaultConfig()
	cfg.Vocab, cfg.Mode, cfg.SeqLen = testVocabPath, mode, 64
	st, err := pack.New(&cfg, &flow.Env{})
	if err != nil {
		t.Fatal(err)
	}
	w, err := pack.NewShardWriter(pack.WriterOptions{Dir: dir, BatchRows: 8, MaxRows: 24})
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open("../testdata/text/wikitext-2-test-head.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rows int64
	emit := func(r *flow.Record) {
		if err := w.Write(r); err != nil {
			t.Error(err)
		}
		rows++
		if pause != nil {
			pause()
		}
	}
	sc := bufio.NewScanner(f)
	var doc strings.Builder
	n := 0
	flush := func() {
		if strings.TrimSpace(doc.String()) == "" {
			return
		}
		n++
		r := &flow.Record{ID: "doc" + string(rune('a'+n%26)), Text: doc.String()}
		r.Tokens = tok.Encode(r.Text, nil)
		st.ProcessEmit(r, emit)
		doc.Reset()
	}
	for sc.Scan() {
		if strings.TrimSpace(sc.Text()) == "" {
			flush()
			continue
		}
		doc.WriteString(sc.Text())
		doc.WriteByte('\n')
	}
	flush()
	if err := st.Flush(emit); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return rows
}

func smallShardConfig(steps int) Config {
	cfg := DefaultConfig(0, steps)
	cfg.Model.HiddenSize, cfg.Model.NumHeads, cfg.Model.IntermediateSize = 32, 2, 64
	cfg.BatchSize = 8
	cfg.EvalExamples = 8
	cfg.EvalEvery = 5
	cfg.Optimizer.LR = 1e-3
	return cfg
}

func TestTrainOnFinishedShards(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "shards")
	rows := writeShards(t, dir, "mlm", nil)
	m, err := pack.ReadManifest(dir)
	if err != nil || !m.Complete || len(m.Shards) < 3 || m.Rows != rows {
		t.Fatalf("shards: %+v %v", m, err)
	}
	out := t.TempDir()
	sum, err := TrainOnShards(context.Background(), smallShardConfig(10), RunOptions{Shards: dir, Output: out, Vocab: testVocabPath})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Steps != 10 || sum.Examples != 80 || sum.EvalTokens() == 0 || sum.FinalLoss >= sum.FirstLoss {
		t.Fatalf("summary %+v", sum)
	}
	if b := sum.Baseline; b == nil || b.Tokens == 0 || b.UnigramEntropy < 3 || b.MajorityAccuracy <= 0 {
		t.Fatalf("baseline %+v", sum.Baseline)
	}
	// The data position in the checkpoint is a pack position.
	st, err := readState(sum.Checkpoint)
	if err != nil {
		t.Fatal(err)
	}
	var pos pack.Position
	if err := json.Unmarshal(st.Position, &pos); err != nil || (pos.Shard == 0 && pos.Row == 0) {
		t.Fatalf("data position %s (%v)", st.Position, err)
	}
	// Without the vocabulary file the shards' metadata is enough.
	sum2, err := TrainOnShards(context.Background(), smallShardConfig(3), RunOptions{Shards: dir, Output: t.TempDir()})
	if err != nil || sum2.Steps != 3 {
		t.Fatalf("training from metadata only: %+v %v", sum2, err)
	}
	// A vocabulary other than the shards' is refused.
	other := filepath.Join(t.TempDir(), "vocab.txt")
	b, _ := os.ReadFile(testVocabPath)
	os.WriteFile(other, append(b[:len(b)-1:len(b)-1], []byte("x\n")...), 0o644)
	if _, err := TrainOnShards(context.Background(), smallShardConfig(1), RunOptions{Shards: dir, Output: t.TempDir(), Vocab: other}); err == nil {
		t.Fatal("a different vocabulary was accepted")
	}
}

// completeAtFirstRead wraps a source and records whether the shard
// directory was already complete when training read its first example.
type completeAtFirstRead struct {
	*ShardSource
	checked, complete bool
}

func (c *completeAtFirstRead) Open(epoch int, start json.RawMessage) (ExampleStream, error) {
	s, err := c.ShardSource.Open(epoch, start)
	return &firstReadStream{ExampleStream: s, src: c}, err
}

type firstReadStream struct {
	ExampleStream
	src *completeAtFirstRead
}

func (f *firstReadStream) Next(ctx context.Context) (Example, error) {
	ex, err := f.ExampleStream.Next(ctx)
	if err == nil && !f.src.checked {
		f.src.checked = true
		m, _ := pack.ReadManifest(f.src.Dir)
		f.src.complete = m != nil && m.Complete
	}
	return ex, err
}

// TestFollowShardsWhileWritten trains on a directory that a slow writer is
// still filling: the trainer starts before the manifest exists, reads shards
// as they close, and ends its epoch only when the writer marks the directory
// complete. Every example written is trained on or held out.
func TestFollowShardsWhileWritten(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "shards")
	vocab, _ := ReadVocab(testVocabPath)
	src := &completeAtFirstRead{ShardSource: &ShardSource{Dir: dir, Follow: true, PollInterval: 10 * time.Millisecond}}
	cfg := smallShardConfig(1000)
	cfg.Epochs, cfg.EvalExamples, cfg.CheckpointEvery = 1, 4, 0
	cfg.Model.VocabSize, cfg.OutputDir = vocab.Size, t.TempDir()
	cfg.Model.MaxPositions = 64
	done := make(chan *Summary)
	go func() {
		tr, err := NewTrainer(cfg, vocab, src) // blocks until the manifest and the held-out examples exist
		if err != nil {
			t.Error(err)
			done <- nil
			return
		}
		sum, err := tr.Run(context.Background())
		if err != nil {
			t.Error(err)
		}
		done <- sum
	}()
	rows := writeShards(t, dir, "mlm", func() { time.Sleep(2 * time.Millisecond) })
	sum := <-done
	if sum == nil {
		t.FailNow()
	}
	if src.complete {
		t.Fatal("training began only after the directory was complete: nothing was followed")
	}
	if sum.StoppedBy != "end of data" || sum.Examples+4 != rows {
		t.Fatalf("trained on %d + 4 held out of %d written (stopped by %q)", sum.Examples, rows, sum.StoppedBy)
	}
}

// TestTrainOnNSPShards: shards packed in mode nsp (segment pairs with a
// next-sentence label) give the model BERT's NSP head; its loss and accuracy
// are logged beside the masked-LM ones and config.json says
// BertForPreTraining.
func TestTrainOnNSPShards(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "shards")
	writeShards(t, dir, "nsp", nil)
	out := t.TempDir()
	sum, err := TrainOnShards(context.Background(), smallShardConfig(4), RunOptions{Shards: dir, Output: out, Vocab: testVocabPath})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(filepath.Join(out, "metrics.jsonl"))
	if sum.Steps != 4 || !strings.Contains(string(b), `"nsp_loss"`) || !strings.Contains(string(b), `"nsp_accuracy"`) {
		t.Fatalf("no NSP metrics after %d steps:\n%s", sum.Steps, b)
	}
	cfg, _ := os.ReadFile(filepath.Join(sum.Checkpoint, "config.json"))
	if !strings.Contains(string(cfg), "BertForPreTraining") {
		t.Fatalf("config.json of an NSP model: %s", cfg)
	}
}

func TestSectionValidation(t *testing.T) {
	s := DefaultSection()
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	s.Heads = 3
	if err := s.Validate(); err == nil {
		t.Fatal("3 heads for hidden 128 accepted")
	}
	s = DefaultSection()
	s.WholeWord = true
	if err := s.Validate(); err == nil {
		t.Fatal("whole_word without vocab accepted")
	}
}
