package trainer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"

	"github.com/corpusflow/corpusflow/flow"
	"github.com/corpusflow/corpusflow/tokenize"
)

// Section is the `train:` section of a pipeline file: train a masked-LM
// encoder on the shards the pipeline writes, following the shard directory
// while the pipeline runs, so one `corpusflow run` makes the corpus and
// trains on it as shards close.
type Section struct {
	Shards string `yaml:"shards" help:"shard directory, relative to the run's output directory (the arrow sink's path)"`
	Output string `yaml:"output" help:"training output directory (checkpoints, metrics.jsonl, loss.svg), relative to the run's output directory"`
	Vocab  string `yaml:"vocab" help:"the vocabulary of the shards (vocab.txt or tokenizer.json); needed for whole_word, checked against the shards' checksum" path:"input"`
	Follow bool   `yaml:"follow" help:"train while the pipeline writes shards; an epoch ends when the manifest says the run is complete"`
	Model  string `yaml:"model" choices:"mlm,contrastive" help:"mlm: BERT masked-LM on mlm/nsp shards; contrastive: image–text dual encoder (CLIP, WenLan) on image_text shards"`

	// Contrastive configures the image tower and objective of model: contrastive.
	Contrastive ContrastiveSection `yaml:"contrastive" help:"model: contrastive only: image tower, projection, temperature, momentum queue"`

	Layers int `yaml:"layers" help:"encoder layers"`
	Hidden int `yaml:"hidden" help:"hidden size"`
	Heads  int `yaml:"heads" help:"attention heads (must divide hidden)"`
	FF     int `yaml:"ff" help:"feed-forward size"`

	Steps           int     `yaml:"steps" help:"optimizer updates"`
	Epochs          int     `yaml:"epochs" help:"stop after this many passes over the shards (0 = only steps decides)"`
	Batch           int     `yaml:"batch" help:"sequences per micro-batch"`
	AccumSteps      int     `yaml:"accum_steps" help:"micro-batches per update (gradient accumulation)"`
	LR              float64 `yaml:"lr" help:"peak learning rate (AdamW)"`
	Warmup          int     `yaml:"warmup" help:"linear warmup updates"`
	Schedule        string  `yaml:"schedule" help:"decay after warmup" choices:"linear,cosine,constant"`
	WeightDecay     float64 `yaml:"weight_decay" help:"AdamW decoupled weight decay (not on biases and LayerNorm)"`
	ClipNorm        float64 `yaml:"clip_norm" help:"clip the global gradient norm to this (0 = off)"`
	MaskProb        float64 `yaml:"mask_prob" help:"fraction of tokens to predict (80% [MASK], 10% random, 10% kept)"`
	WholeWord       bool    `yaml:"whole_word" help:"mask all pieces of a word together (needs vocab)"`
	EvalExamples    int     `yaml:"eval_examples" help:"first examples held out for evaluation"`
	EvalEvery       int     `yaml:"eval_every" help:"evaluate every this many updates (0 = only at the end)"`
	CheckpointEvery int     `yaml:"checkpoint_every" help:"checkpoint every this many updates (0 = only at the end)"`
	Seed            uint64  `yaml:"seed" help:"seed of initialisation and masking"`
}

// DefaultSection is what `train:` means with no keys: the tiny model for 300
// updates on shards/ followed as they are written.
func DefaultSection() Section {
	return Section{
		Shards: "shards", Output: "train", Follow: true, Model: "mlm", Contrastive: DefaultContrastiveSection(),
		Layers: 2, Hidden: 128, Heads: 2, FF: 512,
		Steps: 300, Batch: 32, AccumSteps: 1, LR: 1e-3, Warmup: 30, Schedule: "linear",
		WeightDecay: 0.01, ClipNorm: 1, MaskProb: 0.15,
		EvalExamples: 256, EvalEvery: 50, CheckpointEvery: 100,
	}
}

func init() {
	flow.RegisterSection("train", "train a BERT masked-LM encoder, or an image–text dual encoder, on the shards while they are written (corpusflow train)", DefaultSection())
}

// Validate names the parameter at fault.
func (s *Section) Validate() error {
	bad := func(field, format string, args ...any) error {
		return &flow.FieldError{Field: field, Err: fmt.Errorf(format, args...)}
	}
	switch {
	case s.Layers < 1:
		return bad("layers", "must be at least 1, got %d", s.Layers)
	case s.Hidden < 1 || s.Heads < 1 || s.Hidden%s.Heads != 0:
		return bad("heads", "%d heads must divide hidden size %d", s.Heads, s.Hidden)
	case s.FF < 1:
		return bad("ff", "must be at least 1, got %d", s.FF)
	case s.Steps < 1:
		return bad("steps", "must be at least 1, got %d", s.Steps)
	case s.Batch < 1:
		return bad("batch", "must be at least 1, got %d", s.Batch)
	case s.AccumSteps < 1:
		return bad("accum_steps", "must be at least 1, got %d", s.AccumSteps)
	case s.LR <= 0:
		return bad("lr", "must be positive, got %g", s.LR)
	case s.MaskProb <= 0 || s.MaskProb > 1:
		return bad("mask_prob", "must be in (0, 1], got %g", s.MaskProb)
	case s.WholeWord && s.Vocab == "":
		return bad("whole_word", "needs vocab: the trainer must know which pieces continue a word")
	case s.Model != "" && s.Model != "mlm" && s.Model != "contrastive":
		return bad("model", "%q is not one of mlm, contrastive", s.Model)
	case s.Model == "contrastive":
		return s.Contrastive.Validate()
	}
	return nil
}

// RunOptions say where a training run reads and writes.
type RunOptions struct {
	// Shards is the shard directory; Output the training directory.
	Shards, Output string
	// Vocab is a vocab.txt or tokenizer.json; "" builds the vocabulary from
	// the shards' metadata (size and special tokens).
	Vocab    string
	Follow   bool
	Resume   bool
	Progress bool
	Logger   *slog.Logger
}

// Run trains as the section says. outputDir is the pipeline run's output
// directory, against which Shards and Output resolve. The caller runs it
// beside flow.Run with the same context.
func (s *Section) Run(ctx context.Context, outputDir string, resume bool, logger *slog.Logger) (*Summary, error) {
	cfg := s.Config()
	opts := RunOptions{
		Shards: resolveUnder(outputDir, s.Shards), Output: resolveUnder(outputDir, s.Output),
		Vocab: s.Vocab, Follow: s.Follow, Resume: resume, Logger: logger,
	}
	if s.Model == "contrastive" {
		return s.runContrastive(ctx, opts)
	}
	return TrainOnShards(ctx, cfg, opts)
}

// Config turns the section into a training configuration (vocabulary size
// and sequence length are filled in from the shards).
func (s *Section) Config() Config {
	cfg := DefaultConfig(0, s.Steps)
	cfg.Model = ModelConfig{HiddenSize: s.Hidden, NumLayers: s.Layers, NumHeads: s.Heads, IntermediateSize: s.FF, MaxPositions: 512, TypeVocabSize: 2}
	cfg.Optimizer.LR, cfg.Optimizer.WarmupSteps, cfg.Optimizer.Schedule = s.LR, s.Warmup, s.Schedule
	cfg.Optimizer.WeightDecay, cfg.Optimizer.ClipNorm = s.WeightDecay, s.ClipNorm
	cfg.Masking.Prob, cfg.Masking.WholeWord, cfg.Masking.Seed = s.MaskProb, s.WholeWord, s.Seed
	cfg.BatchSize, cfg.AccumSteps, cfg.Epochs = s.Batch, s.AccumSteps, s.Epochs
	cfg.EvalExamples, cfg.EvalEvery, cfg.CheckpointEvery, cfg.Seed = s.EvalExamples, s.EvalEvery, s.CheckpointEvery, s.Seed
	return cfg
}

func resolveUnder(dir, p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(dir, p)
}

// TrainOnShards trains cfg on a shard directory: it reads the shards'
// metadata for the vocabulary, sequence length and mode (nsp adds the
// next-sentence head), then runs the trainer.
func TrainOnShards(ctx context.Context, cfg Config, opts RunOptions) (*Summary, error) {
	if opts.Shards == "" || opts.Output == "" {
		return nil, errors.New("train: the shard directory and the output directory are required")
	}
	src := &ShardSource{Dir: opts.Shards, Follow: opts.Follow, Shuffle: !opts.Follow, Seed: cfg.Seed}
	info, err := src.InfoContext(ctx)
	if err != nil {
		return nil, err
	}
	switch info.Mode {
	case "mlm", "nsp":
	case "":
		return nil, fmt.Errorf("train: %s holds no examples (its manifest has no schema: the run wrote no record)", opts.Shards)
	default:
		return nil, fmt.Errorf("train: %s holds %q examples; the masked-LM trainer needs shards packed in mode mlm or nsp", opts.Shards, info.Mode)
	}
	src.NSP = info.Mode == "nsp"
	vocab, err := shardVocab(opts.Vocab, info)
	if err != nil {
		return nil, err
	}
	if opts.Vocab != "" {
		src.VocabSHA256 = vocab.sha256
	}
	cfg.Model.VocabSize = vocab.Size
	cfg.Model.NSP = src.NSP
	if info.SeqLen > cfg.Model.MaxPositions {
		cfg.Model.MaxPositions = info.SeqLen
	}
	if cfg.Optimizer.TotalSteps == 0 || cfg.Optimizer.TotalSteps < cfg.Steps {
		cfg.Optimizer.TotalSteps = cfg.Steps
	}
	cfg.OutputDir, cfg.Resume, cfg.Progress, cfg.Logger = opts.Output, opts.Resume, opts.Progress, opts.Logger
	cfg.VocabPath = opts.Vocab
	t, err := NewTrainerContext(ctx, cfg, vocab.Vocab, src)
	if err != nil {
		return nil, err
	}
	if !opts.Follow {
		// One pass over finished shards gives the numbers the losses are
		// read against; a followed directory is not finished yet.
		b, err := ComputeBaseline(ctx, src, vocab.Vocab)
		if err != nil {
			return nil, err
		}
		t.Baseline = &b
	}
	if opts.Logger != nil {
		opts.Logger.Info("training", "shards", opts.Shards, "mode", info.Mode, "vocab", vocab.Size,
			"parameters", t.Model().NumParams(), "blas", BLASName(), "output", opts.Output)
	}
	return t.Run(ctx)
}

type loadedVocab struct {
	*Vocab
	sha256 string
}

// shardVocab loads the vocabulary file, or rebuilds what the trainer needs
// from the shards' metadata when there is none.
func shardVocab(path string, info ShardInfo) (loadedVocab, error) {
	if path != "" {
		tok, err := tokenize.Load(path)
		if err != nil {
			return loadedVocab{}, err
		}
		tokens := make([]string, tok.VocabSize())
		for i := range tokens {
			tokens[i] = tok.Token(int32(i))
		}
		v, err := VocabFromTokens(tokens)
		if err != nil {
			return loadedVocab{}, fmt.Errorf("%s: %w", path, err)
		}
		if info.VocabSize != 0 && info.VocabSize != v.Size {
			return loadedVocab{}, fmt.Errorf("%s has %d tokens but the shards were made with a vocabulary of %d", path, v.Size, info.VocabSize)
		}
		return loadedVocab{v, tok.VocabSHA256()}, nil
	}
	if info.VocabSize < 2 || info.Specials == nil {
		return loadedVocab{}, errors.New("train: the shards do not record their vocabulary size and special tokens; pass the vocabulary file")
	}
	v := &Vocab{Size: info.VocabSize, Special: make([]bool, info.VocabSize), Continuation: make([]bool, info.VocabSize)}
	for _, s := range []struct {
		key string
		dst *int32
	}{{"cls", &v.CLS}, {"sep", &v.SEP}, {"pad", &v.PAD}, {"mask", &v.MASK}, {"unk", &v.UNK}} {
		id, ok := info.Specials[s.key]
		if !ok || id < 0 || int(id) >= v.Size {
			return loadedVocab{}, fmt.Errorf("train: the shards record no usable %s token id (%v); pass the vocabulary file", s.key, info.Specials)
		}
		*s.dst = id
	}
	for _, id := range info.Specials {
		if id >= 0 && int(id) < v.Size {
			v.Special[id] = true
		}
	}
	return loadedVocab{Vocab: v}, nil
}

// StartSection starts the pipeline's `train:` section, if it has one, beside
// the pipeline run (`corpusflow run` calls it with Pipeline.Sections before
// flow.Run). wait blocks until training ends and returns its summary, or
// nil, nil when there is no section. A follower waits for the manifest to
// say the run is complete, so the caller cancels ctx when the pipeline fails
// or is interrupted; training then checkpoints where it stands and returns.
func StartSection(ctx context.Context, sections map[string]any, outputDir string, resume bool, logger *slog.Logger) (wait func() (*Summary, error)) {
	sec, ok := sections["train"].(*Section)
	if !ok {
		return func() (*Summary, error) { return nil, nil }
	}
	type result struct {
		sum *Summary
		err error
	}
	done := make(chan result, 1)
	go func() {
		sum, err := sec.Run(ctx, outputDir, resume, logger)
		done <- result{sum, err}
	}()
	return func() (*Summary, error) {
		r := <-done
		return r.sum, r.err
	}
}
