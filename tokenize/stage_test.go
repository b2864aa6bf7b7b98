package tokenize

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	"github.com/corpusflow/corpusflow/flow"
)

const (
	uncasedVocab = "../testdata/tokenize/vocab/bert-base-uncased-vocab.txt"
	chineseVocab = "../testdata/tokenize/vocab/bert-base-chinese-vocab.txt"
	gpt2Vocab    = "../testdata/tokenize/gpt2/vocab.json"
)

type textsSource []string

func (s textsSource) Parts() ([]flow.Part, error) { return []flow.Part{s}, nil }
func (s textsSource) Name() string                { return "texts" }
func (s textsSource) Size() int64                 { return -1 }
func (s textsSource) Read(ctx context.Context, emit func(*flow.Record) error, _ *flow.SourceReport) error {
	for i, t := range s {
		if err := emit(&flow.Record{ID: fmt.Sprint(i), Text: t}); err != nil {
			return err
		}
	}
	return nil
}

type collectSink struct {
	mu   sync.Mutex
	recs []*flow.Record
}

func (c *collectSink) Write(r *flow.Record) error { c.recs = append(c.recs, r); return nil }
func (c *collectSink) Close() error               { return nil }

type collectRejects struct{ reasons map[string]string }

func (c *collectRejects) WriteRejection(r flow.Rejection) error {
	c.reasons[r.Record.ID] = r.Reason
	return nil
}
func (c *collectRejects) Close() error { return nil }

// buildStage builds the stage through the registry, as a pipeline does.
func buildStage(t *testing.T, set func(*StageConfig)) (flow.Stage, *flow.Counters) {
	t.Helper()
	comp, ok := flow.Lookup(flow.KindStage, "tokenize")
	if !ok {
		t.Fatal("tokenize stage not registered")
	}
	cfg := comp.NewConfig().(*StageConfig)
	set(cfg)
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	counters := &flow.Counters{}
	st, err := comp.Build(cfg, &flow.Env{Counters: counters, Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	return st.(flow.Stage), counters
}

func TestStageThroughEngine(t *testing.T) {
	texts := []string{
		"Hello, world!",
		"",
		"短",
		"😀 😀 😀 ok", // emoji are not in the uncased vocabulary: 3 of 4 tokens are [UNK]
		"The quick brown fox jumps over the lazy dog.",
	}
	st, counters := buildStage(t, func(c *StageConfig) {
		c.Vocab = uncasedVocab
		c.AddSpecial = true
		c.MinTokens = 2
		c.MaxUnkRate = 0.5
	})
	sink, rejects := &collectSink{}, &collectRejects{reasons: map[string]string{}}
	stats, err := flow.Run(context.Background(), flow.Plan{
		Sources: []flow.NamedSource{{Name: "texts", Source: textsSource(texts)}},
		Stages:  []flow.NamedStage{{Name: "tok", Use: "tokenize", Stage: st, Counters: counters}},
		Sinks:   []flow.NamedSink{{Name: "mem", Sink: sink}},
		Rejects: rejects,
		Workers: 2,
	})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := Load(uncasedVocab)
	if err != nil {
		t.Fatal(err)
	}
	if len(sink.recs) != 2 {
		t.Fatalf("kept %d records, want 2 (rejections: %v)", len(sink.recs), rejects.reasons)
	}
	for _, r := range sink.recs {
		want := append([]int32{101}, tok.Encode(r.Text, nil)...)
		want = append(want, 102)
		if !equalIDs(r.Tokens, want) {
			t.Errorf("record %s: tokens %v, want %v", r.ID, r.Tokens, want)
		}
	}
	wantRejects := map[string]string{"1": RejectTooFewTokens, "2": RejectTooFewTokens, "3": RejectTooManyUnknown}
	if fmt.Sprint(rejects.reasons) != fmt.Sprint(wantRejects) {
		t.Errorf("rejections %v, want %v", rejects.reasons, wantRejects)
	}
	var total, unknown int64
	for _, text := range texts {
		ids := tok.Encode(text, nil)
		total += int64(len(ids))
		for _, id := range ids {
			if id == 100 {
				unknown++
			}
		}
	}
	c := stats.Stages[0].Counts
	if c["tokens"] != total || c["unknown_tokens"] != unknown || unknown == 0 {
		t.Errorf("counts %v, want tokens=%d unknown_tokens=%d", c, total, unknown)
	}
	if c["unknown_per_million"] != unknown*1_000_000/total {
		t.Errorf("unknown_per_million %d, want %d", c["unknown_per_million"], unknown*1_000_000/total)
	}
}

func TestStageConfigErrors(t *testing.T) {
	cases := []struct {
		cfg   StageConfig
		field string
	}{
		{StageConfig{Vocab: uncasedVocab, MaxUnkRate: 1.5}, "max_unk_rate"},
		{StageConfig{Vocab: uncasedVocab, MinTokens: -1}, "min_tokens"},
		{StageConfig{Vocab: gpt2Vocab, Case: "cased"}, "case"},
	}
	for _, c := range cases {
		err := c.cfg.Validate()
		var fe *flow.FieldError
		if !errors.As(err, &fe) || fe.Field != c.field {
			t.Errorf("%+v: error %v, want a FieldError on %s", c.cfg, err, c.field)
		}
	}
	if _, err := LoadForStage(filepath.Join(t.TempDir(), "missing.txt"), "", "auto"); err == nil {
		t.Error("a missing vocabulary loaded without error")
	}
}

func TestStageCasedAndBPE(t *testing.T) {
	for _, c := range []struct {
		name  string
		set   func(*StageConfig)
		text  string
		want  []int32
		extra func(t *testing.T, r *flow.Record)
	}{
		// "Hello" in the uncased vocabulary: lowercased to "hello" (7592);
		// cased keeps "Hello", which the uncased vocabulary splits as [UNK].
		{"uncased", func(c *StageConfig) { c.Vocab = uncasedVocab; c.Case = "uncased" }, "Hello", []int32{7592}, nil},
		{"cased", func(c *StageConfig) { c.Vocab = uncasedVocab; c.Case = "cased" }, "Hello", []int32{100}, nil},
		{"gpt2", func(c *StageConfig) { c.Vocab = gpt2Vocab; c.AddSpecial = true }, "Hello world", []int32{15496, 995, 50256}, nil},
		{"chinese", func(c *StageConfig) { c.Vocab = chineseVocab }, "中文", []int32{704, 3152}, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			st, _ := buildStage(t, c.set)
			r := &flow.Record{Text: c.text}
			if reason := st.Process(r); reason != "" {
				t.Fatalf("rejected: %s", reason)
			}
			if !equalIDs(r.Tokens, c.want) {
				t.Errorf("tokens %v, want %v", r.Tokens, c.want)
			}
		})
	}
}
