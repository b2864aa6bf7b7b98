package tokenize

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync/atomic"

	"github.com/corpusflow/corpusflow/flow"
)

// StageConfig configures the `tokenize` pipeline stage.
type StageConfig struct {
	Vocab  string `yaml:"vocab" required:"true" path:"input" help:"vocab.txt (WordPiece), tokenizer.json, or vocab.json (byte-level BPE, merges.txt beside it)"`
	Merges string `yaml:"merges" path:"input" help:"merges.txt for a vocab.json, when it is not beside it"`
	Case   string `yaml:"case" choices:"auto,uncased,cased" help:"WordPiece vocab.txt only: lowercase and strip accents (uncased) or not; auto reads tokenizer_config.json or the file name"`
	// AddSpecial wraps each record as the model's input expects.
	AddSpecial bool    `yaml:"add_special" help:"wrap ids as [CLS] ... [SEP] (BERT) or <s> ... </s> / <|endoftext|> ... (BPE)"`
	MaxUnkRate float64 `yaml:"max_unk_rate" help:"reject records whose share of unknown tokens is above this (0 keeps all)"`
	MinTokens  int     `yaml:"min_tokens" help:"reject records with fewer tokens than this (0 keeps all)"`
}

// Validate checks the numbers.
func (c *StageConfig) Validate() error {
	if c.MaxUnkRate < 0 || c.MaxUnkRate > 1 {
		return &flow.FieldError{Field: "max_unk_rate", Err: fmt.Errorf("must be between 0 and 1, got %g", c.MaxUnkRate)}
	}
	if c.MinTokens < 0 {
		return &flow.FieldError{Field: "min_tokens", Err: fmt.Errorf("must not be negative, got %d", c.MinTokens)}
	}
	if c.Case != "" && c.Case != "auto" && strings.ToLower(filepath.Ext(c.Vocab)) != ".txt" {
		return &flow.FieldError{Field: "case", Err: errors.New("applies to a WordPiece vocab.txt only; a tokenizer.json says its own normalization")}
	}
	return nil
}

// Rejection reasons of the tokenize stage.
const (
	RejectTooManyUnknown = "too_many_unknown_tokens"
	RejectTooFewTokens   = "too_few_tokens"
)

func init() {
	flow.RegisterStage("tokenize", "token ids into the record (BERT WordPiece or byte-level BPE, the same ids as Hugging Face)",
		StageConfig{Case: "auto"},
		func(c *StageConfig, env *flow.Env) (flow.Stage, error) {
			tok, err := LoadForStage(c.Vocab, c.Merges, c.Case)
			if err != nil {
				return nil, err
			}
			return NewStage(tok, *c, env.Counters), nil
		})
}

// LoadForStage loads a vocabulary as the stage and the CLI do: Load, with an
// explicit merges file or case when given ("auto", "uncased", "cased").
func LoadForStage(vocab, merges, casing string) (Tokenizer, error) {
	if merges != "" {
		return LoadBPE(vocab, merges)
	}
	if casing == "" || casing == "auto" || strings.ToLower(filepath.Ext(vocab)) != ".txt" {
		return Load(vocab)
	}
	return LoadWordPiece(vocab, BertOptions(casing == "uncased"))
}

// Stage puts token ids into Record.Tokens and accounts for them.
type Stage struct {
	tok      Tokenizer
	cfg      StageConfig
	counters *flow.Counters
	unk      int32
	prefix   []int32 // added before the ids with add_special
	suffix   []int32
	tokens   atomic.Int64
	unknown  atomic.Int64
}

// NewStage makes a tokenize stage around a loaded tokenizer. counters may be
// nil.
func NewStage(tok Tokenizer, cfg StageConfig, counters *flow.Counters) *Stage {
	s := &Stage{tok: tok, cfg: cfg, counters: counters, unk: tok.Special().UNK}
	if cfg.AddSpecial {
		s.prefix, s.suffix = SpecialWrap(tok)
	}
	return s
}

// SpecialWrap returns the ids a model expects around one sequence: [CLS] and
// [SEP] for BERT, <s> and </s> for RoBERTa, nothing and <|endoftext|> for
// GPT-2.
func SpecialWrap(tok Tokenizer) (prefix, suffix []int32) {
	sp := tok.Special()
	switch {
	case sp.CLS >= 0 && sp.SEP >= 0:
		return []int32{sp.CLS}, []int32{sp.SEP}
	case sp.EOS >= 0:
		return nil, []int32{sp.EOS}
	}
	return nil, nil
}

// Process tokenizes one record. Counters: tokens, unknown_tokens (also the
// final unknown_per_million), and the rejections.
func (s *Stage) Process(r *flow.Record) string {
	ids := r.Tokens[:0]
	if cap(ids) == 0 {
		ids = make([]int32, 0, len(r.Text)/3+len(s.prefix)+len(s.suffix)+4)
	}
	ids = append(ids, s.prefix...)
	ids = s.tok.Encode(r.Text, ids)
	n := len(ids) - len(s.prefix)
	unknown := 0
	if s.unk >= 0 {
		for _, id := range ids[len(s.prefix):] {
			if id == s.unk {
				unknown++
			}
		}
	}
	ids = append(ids, s.suffix...)
	r.Tokens = ids
	s.tokens.Add(int64(n))
	s.unknown.Add(int64(unknown))
	if s.counters != nil {
		s.counters.Add("tokens", int64(n))
		s.counters.Add("unknown_tokens", int64(unknown))
	}
	if s.cfg.MinTokens > 0 && n < s.cfg.MinTokens {
		return RejectTooFewTokens
	}
	if s.cfg.MaxUnkRate > 0 && n > 0 && float64(unknown) > s.cfg.MaxUnkRate*float64(n) {
		return RejectTooManyUnknown
	}
	return ""
}

// Finish records the unknown-token rate of the whole run, in parts per
// million (counters are integers).
func (s *Stage) Finish(context.Context) error {
	if s.counters != nil {
		if t := s.tokens.Load(); t > 0 {
			s.counters.Add("unknown_per_million", s.unknown.Load()*1_000_000/t)
		}
	}
	return nil
}

// Tokenizer returns the stage's tokenizer.
func (s *Stage) Tokenizer() Tokenizer { return s.tok }
