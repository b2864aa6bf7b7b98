package trainer

import (
	"context"
	"errors"
	"fmt"

	"github.com/corpusflow/corpusflow/flow"
	"github.com/corpusflow/corpusflow/pack"
)

// ContrastiveSection is the `contrastive:` block of a `train:` section with
// `model: contrastive`: the image tower and the contrastive objective. The
// text tower takes the section's layers, hidden, heads and ff.
type ContrastiveSection struct {
	ImageSize     int     `yaml:"image_size" help:"side of the square the image tower reads (images are centre-cropped and scaled to it)"`
	PatchSize     int     `yaml:"patch_size" help:"ViT patch side in pixels (must divide image_size)"`
	VisionLayers  int     `yaml:"vision_layers" help:"image tower transformer blocks"`
	VisionHidden  int     `yaml:"vision_hidden" help:"image tower hidden size"`
	VisionHeads   int     `yaml:"vision_heads" help:"image tower attention heads (must divide vision_hidden)"`
	VisionFF      int     `yaml:"vision_ff" help:"image tower feed-forward size"`
	ProjectionDim int     `yaml:"projection_dim" help:"size of the shared image–text embedding space"`
	Pool          string  `yaml:"pool" choices:"cls,mean" help:"text vector: the [CLS] token or the mean of the caption's tokens"`
	Temperature   float64 `yaml:"temperature" help:"initial softmax temperature (CLIP: 0.07); learned, with the logit scale capped at max_logit_scale"`
	MaxLogitScale float64 `yaml:"max_logit_scale" help:"cap of the learned logit scale 1/temperature (CLIP: 100)"`
	Queue         int     `yaml:"queue" help:"momentum keys kept per modality as extra negatives (MoCo, WenLan/BriVL); 0 = in-batch negatives only; needs momentum"`
	Momentum      float64 `yaml:"momentum" help:"momentum encoder update θm ← m·θm + (1−m)·θ (0 = no momentum encoder)"`
	MaxPixels     int64   `yaml:"max_pixels" help:"images declaring more pixels are skipped before decoding"`
}

// DefaultContrastiveSection is a 2-layer ViT over 32×32 images in 4×4
// patches, 64-dimensional embeddings, CLIP's temperature, no queue.
func DefaultContrastiveSection() ContrastiveSection {
	v := TinyVisionConfig()
	return ContrastiveSection{
		ImageSize: v.ImageSize, PatchSize: v.PatchSize, VisionLayers: v.NumLayers, VisionHidden: v.HiddenSize,
		VisionHeads: v.NumHeads, VisionFF: v.IntermediateSize, ProjectionDim: 64, Pool: PoolMean,
		Temperature: DefaultTemperature, MaxLogitScale: DefaultMaxLogitScale, MaxPixels: defaultMaxPixels,
	}
}

// Validate names the parameter at fault.
func (c *ContrastiveSection) Validate() error {
	bad := func(field, format string, args ...any) error {
		return &flow.FieldError{Field: field, Err: fmt.Errorf(format, args...)}
	}
	switch {
	case c.ImageSize < 1:
		return bad("image_size", "must be positive, got %d", c.ImageSize)
	case c.PatchSize < 1 || c.ImageSize%c.PatchSize != 0:
		return bad("patch_size", "%d must divide image_size %d", c.PatchSize, c.ImageSize)
	case c.VisionLayers < 1:
		return bad("vision_layers", "must be at least 1, got %d", c.VisionLayers)
	case c.VisionHidden < 1 || c.VisionHeads < 1 || c.VisionHidden%c.VisionHeads != 0:
		return bad("vision_heads", "%d heads must divide vision_hidden %d", c.VisionHeads, c.VisionHidden)
	case c.VisionFF < 1:
		return bad("vision_ff", "must be at least 1, got %d", c.VisionFF)
	case c.ProjectionDim < 1:
		return bad("projection_dim", "must be at least 1, got %d", c.ProjectionDim)
	case c.Pool != PoolCLS && c.Pool != PoolMean:
		return bad("pool", "%q is not one of cls, mean", c.Pool)
	case !(c.Temperature > 0):
		return bad("temperature", "must be positive, got %g", c.Temperature)
	case !(c.MaxLogitScale >= 1):
		return bad("max_logit_scale", "must be at least 1, got %g", c.MaxLogitScale)
	case c.Queue < 0:
		return bad("queue", "must not be negative, got %d", c.Queue)
	case c.Momentum < 0 || c.Momentum >= 1:
		return bad("momentum", "must be in [0, 1), got %g", c.Momentum)
	case c.Queue > 0 && c.Momentum == 0:
		return bad("queue", "a queue of negatives needs the momentum encoder: set momentum (WenLan/BriVL use 0.99)")
	case c.MaxPixels < 1:
		return bad("max_pixels", "must be positive, got %d", c.MaxPixels)
	}
	return nil
}

// ContrastiveConfig turns a `train:` section with model: contrastive into a
// training configuration (vocabulary and caption length are filled in from
// the shards).
func (s *Section) ContrastiveConfig() ContrastiveTrainConfig {
	c := s.Contrastive
	cfg := DefaultContrastiveTrainConfig(0, s.Steps)
	cfg.Model = ContrastiveConfig{
		Text: ModelConfig{HiddenSize: s.Hidden, NumLayers: s.Layers, NumHeads: s.Heads, IntermediateSize: s.FF, MaxPositions: 512, TypeVocabSize: 2},
		Vision: VisionConfig{ImageSize: c.ImageSize, PatchSize: c.PatchSize, NumChannels: 3, HiddenSize: c.VisionHidden,
			NumLayers: c.VisionLayers, NumHeads: c.VisionHeads, IntermediateSize: c.VisionFF},
		ProjectionDim: c.ProjectionDim, Pool: c.Pool, InitTemperature: c.Temperature, MaxLogitScale: c.MaxLogitScale,
		Queue: c.Queue, Momentum: c.Momentum,
	}
	cfg.Optimizer.LR, cfg.Optimizer.WarmupSteps, cfg.Optimizer.Schedule = s.LR, s.Warmup, s.Schedule
	cfg.Optimizer.WeightDecay, cfg.Optimizer.ClipNorm = s.WeightDecay, s.ClipNorm
	cfg.BatchSize, cfg.Epochs, cfg.Seed = s.Batch, s.Epochs, s.Seed
	cfg.EvalExamples, cfg.EvalEvery, cfg.CheckpointEvery = s.EvalExamples, s.EvalEvery, s.CheckpointEvery
	cfg.MaxPixels = c.MaxPixels
	return cfg
}

// runContrastive is Section.Run for model: contrastive; its summary is
// carried in Summary.Contrastive.
func (s *Section) runContrastive(ctx context.Context, opts RunOptions) (*Summary, error) {
	cs, err := TrainContrastiveOnShards(ctx, s.ContrastiveConfig(), opts)
	if err != nil {
		return nil, err
	}
	return &Summary{
		Steps: cs.Steps, Examples: cs.Examples, Skipped: cs.Skipped, Params: cs.Params,
		FirstLoss: cs.FirstLoss, FinalLoss: cs.FinalLoss, EvalLoss: cs.EvalLoss,
		Seconds: cs.Seconds, Checkpoint: cs.Checkpoint, LossCurve: cs.LossCurve,
		BLAS: cs.BLAS, StoppedBy: cs.StoppedBy, Data: cs.Data, Contrastive: cs,
	}, nil
}

// TrainContrastiveOnShards trains a dual encoder on a directory of
// image_text shards: it reads their metadata for the vocabulary, the
// caption length and whether mismatched (itm) rows are mixed in, then runs
// the trainer.
func TrainContrastiveOnShards(ctx context.Context, cfg ContrastiveTrainConfig, opts RunOptions) (*ContrastiveSummary, error) {
	if opts.Shards == "" || opts.Output == "" {
		return nil, errors.New("train: the shard directory and the output directory are required")
	}
	src := &ShardPairSource{Shards: ShardSource{Dir: opts.Shards, Follow: opts.Follow, Shuffle: !opts.Follow, Seed: cfg.Seed}}
	// First: a follower waits here for the run's schema (a run publishes an
	// empty manifest when it starts).
	info, err := src.Shards.InfoContext(ctx)
	if err != nil {
		return nil, err
	}
	r, err := pack.OpenReaderContext(ctx, opts.Shards, src.Shards.options(0))
	if err != nil {
		return nil, err
	}
	md := r.Metadata()
	if mode := md[pack.MetaMode]; mode != pack.ModeImageText {
		return nil, fmt.Errorf("train: %s holds %q examples; the contrastive trainer needs shards packed in mode image_text", opts.Shards, mode)
	}
	itInfo, err := readImageTextInfo(md)
	if err != nil {
		return nil, fmt.Errorf("train: %s: %w", opts.Shards, err)
	}
	vocab, err := shardVocab(opts.Vocab, info)
	if err != nil {
		return nil, err
	}
	if opts.Vocab != "" {
		src.Shards.VocabSHA256 = vocab.sha256
	}
	src.SkipMismatched = itInfo.ITM
	cfg.Model.Text.VocabSize = vocab.Size
	// Room for [CLS] and [SEP] around captions tokenized without them.
	cfg.TextLen = itInfo.CaptionLen + 2
	cfg.Model.Text.MaxPositions = max(cfg.Model.Text.MaxPositions, cfg.TextLen)
	if cfg.Optimizer.TotalSteps < cfg.Steps {
		cfg.Optimizer.TotalSteps = cfg.Steps
	}
	cfg.OutputDir, cfg.Resume, cfg.Progress, cfg.Logger = opts.Output, opts.Resume, opts.Progress, opts.Logger
	cfg.VocabPath = opts.Vocab
	t, err := NewContrastiveTrainer(ctx, cfg, vocab.Vocab, src)
	if err != nil {
		return nil, err
	}
	if opts.Logger != nil {
		opts.Logger.Info("training", "model", "contrastive", "shards", opts.Shards, "caption_len", itInfo.CaptionLen, "itm_rows_skipped", itInfo.ITM,
			"vocab", vocab.Size, "parameters", t.Model().NumParams(), "held_out_pairs", len(t.heldOut), "blas", BLASName(), "output", opts.Output)
	}
	return t.Run(ctx)
}
