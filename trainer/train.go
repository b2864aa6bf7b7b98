package trainer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"
)

// Config is a training run.
type Config struct {
	Model     ModelConfig     `json:"model"`
	Optimizer OptimizerConfig `json:"optimizer"`
	Masking   MaskingConfig   `json:"masking"`
	// BatchSize sequences per micro-batch; AccumSteps micro-batches per
	// update (effective batch BatchSize·AccumSteps).
	BatchSize  int `json:"batch_size"`
	AccumSteps int `json:"accum_steps"`
	// Steps is the number of optimizer updates. Epochs > 0 also stops the run
	// after that many passes over the data.
	Steps  int `json:"steps"`
	Epochs int `json:"epochs"`
	// EvalExamples are held out from training (the first ones of the
	// stream) and scored every EvalEvery updates and at the end.
	EvalExamples    int    `json:"eval_examples"`
	EvalEvery       int    `json:"eval_every"`
	CheckpointEvery int    `json:"checkpoint_every"`
	KeepCheckpoints int    `json:"keep_checkpoints"`
	Seed            uint64 `json:"seed"`
	// VocabPath is copied into checkpoints (tokenizer files beside weights).
	VocabPath string `json:"vocab_path,omitempty"`
	OutputDir string `json:"-"`
	Resume    bool   `json:"-"`
	// Progress draws a progress bar on stderr when it is a terminal.
	Progress bool         `json:"-"`
	Logger   *slog.Logger `json:"-"`
}

// DefaultConfig is a tiny model trained for steps updates on batches of 32.
func DefaultConfig(vocab int, steps int) Config {
	return Config{
		Model: TinyConfig(vocab), Optimizer: DefaultOptimizer(steps), Masking: DefaultMasking(),
		BatchSize: 32, AccumSteps: 1, Steps: steps,
		EvalExamples: 256, EvalEvery: max(1, steps/10), CheckpointEvery: max(1, steps/4), KeepCheckpoints: 3,
	}
}

// Validate names the first bad setting.
func (c Config) Validate() error {
	if err := c.Model.Validate(); err != nil {
		return err
	}
	if err := c.Optimizer.Validate(); err != nil {
		return err
	}
	if err := c.Masking.Validate(); err != nil {
		return err
	}
	switch {
	case c.BatchSize < 1 || c.AccumSteps < 1:
		return fmt.Errorf("train: batch %d and accum_steps %d must be at least 1", c.BatchSize, c.AccumSteps)
	case c.Steps < 1:
		return fmt.Errorf("train: steps %d must be at least 1", c.Steps)
	case c.EvalExamples < 0 || c.EvalEvery < 0 || c.CheckpointEvery < 0 || c.Epochs < 0:
		return errors.New("train: eval_examples, eval_every, checkpoint_every and epochs must not be negative")
	case c.OutputDir == "":
		return errors.New("train: no output directory")
	}
	return nil
}

// Summary is what a run did; it is also written to OUTPUT/train_summary.json.
type Summary struct {
	Steps          int     `json:"steps"`
	Examples       int64   `json:"examples_seen"`
	Tokens         int64   `json:"tokens_seen"`
	Skipped        int64   `json:"examples_skipped"`
	Params         int     `json:"parameters"`
	FirstLoss      float64 `json:"first_loss"`
	FinalLoss      float64 `json:"final_loss"`
	FinalAccuracy  float64 `json:"final_mlm_accuracy"`
	EvalLoss       float64 `json:"eval_loss"`
	EvalPerplexity float64 `json:"eval_perplexity"`
	EvalAccuracy   float64 `json:"eval_mlm_accuracy"`
	TokensPerSec   float64 `json:"tokens_per_s"`
	Seconds        float64 `json:"seconds"`
	Checkpoint     string  `json:"checkpoint"`
	LossCurve      string  `json:"loss_curve"`
	BLAS           string  `json:"blas"`
	StoppedBy      string  `json:"stopped_by"`
	Data           string  `json:"data"`
	// Baseline, when computed (finished shards), is the context-free
	// reference the losses are to be read against.
	Baseline *Baseline `json:"baseline,omitempty"`
	// Contrastive is the full summary of a model: contrastive run (the
	// fields above then hold its loss, steps and pairs).
	Contrastive *ContrastiveSummary `json:"contrastive,omitempty"`
	evalTokens  int
}

// Trainer owns one run.
type Trainer struct {
	cfg    Config
	vocab  *Vocab
	data   DataSource
	log    *slog.Logger
	model  *Model[float32]
	opt    *AdamW[float32]
	col    *collator
	state  TrainerState
	stream ExampleStream

	heldOut   map[exampleID]bool // evaluation examples, by shard file and row
	evalBatch []*Batch
	metrics   *metricsWriter
	// Baseline is copied into the summary when set.
	Baseline *Baseline
	// epochYield counts trainable examples read in the current epoch; an
	// epoch with none would loop forever.
	epochYield int
	// observe, when set (tests), sees every example put in a training batch.
	observe func(Example)
}

// NewTrainer builds the model (or restores the latest checkpoint of
// cfg.OutputDir when cfg.Resume) and opens the data.
func NewTrainer(cfg Config, vocab *Vocab, data DataSource) (*Trainer, error) {
	return NewTrainerContext(context.Background(), cfg, vocab, data)
}

// NewTrainerContext is NewTrainer; ctx bounds the wait for held-out examples
// in a directory that is still being written.
func NewTrainerContext(ctx context.Context, cfg Config, vocab *Vocab, data DataSource) (*Trainer, error) {
	if cfg.Model.VocabSize == 0 {
		cfg.Model.VocabSize = vocab.Size
	}
	cfg.Model.PadTokenID = int(vocab.PAD)
	if cfg.Model.VocabSize != vocab.Size {
		return nil, fmt.Errorf("train: model vocab_size %d but the vocabulary has %d tokens", cfg.Model.VocabSize, vocab.Size)
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Optimizer.TotalSteps == 0 {
		cfg.Optimizer.TotalSteps = cfg.Steps
	}
	t := &Trainer{cfg: cfg, vocab: vocab, data: data, log: loggerOrDiscard(cfg.Logger)}
	if err := os.MkdirAll(cfg.OutputDir, 0o755); err != nil {
		return nil, err
	}
	var err error
	if t.model, err = NewModel[float32](cfg.Model, cfg.Seed); err != nil {
		return nil, err
	}
	if t.opt, err = NewAdamW(cfg.Optimizer, t.model.Params()); err != nil {
		return nil, err
	}
	masker, err := NewMasker(cfg.Masking, vocab)
	if err != nil {
		return nil, err
	}
	t.col = &collator{masker: masker, vocab: vocab, cfg: cfg.Model}
	t.state = TrainerState{Config: cfg, Data: data.Describe(), BLAS: BLASName()}
	if cfg.Resume {
		if err := t.restore(); err != nil {
			return nil, err
		}
	}
	if err := t.loadEvalSet(ctx); err != nil {
		return nil, err
	}
	if t.stream, err = openData(ctx, data, t.state.Epoch, t.state.Position); err != nil {
		return nil, err
	}
	if t.metrics, err = openMetrics(filepath.Join(cfg.OutputDir, "metrics.jsonl"), t.state.Step); err != nil {
		return nil, err
	}
	return t, nil
}

// Model is the model being trained.
func (t *Trainer) Model() *Model[float32] { return t.model }

func (t *Trainer) restore() error {
	dir, err := checkpointToResume(t.cfg.OutputDir, t.log)
	if err != nil || dir == "" {
		return err
	}
	st, err := readState(dir)
	if err != nil {
		return err
	}
	saved, now := st.Config.Model, t.cfg.Model
	saved.NSP = now.NSP // not serialised: the shards decide it, and the weights are checked below
	if saved != now {
		return fmt.Errorf("resume %s: checkpoint model %+v differs from the requested %+v", dir, saved, now)
	}
	if err := loadWeights(filepath.Join(dir, modelFile), t.model); err != nil {
		return err
	}
	if err := loadMoments(filepath.Join(dir, optimizerFile), t.model.Params(), t.opt); err != nil {
		return err
	}
	t.opt.Steps = st.Step
	t.state.Step, t.state.Epoch, t.state.Position = st.Step, st.Epoch, st.Position
	t.state.Examples, t.state.Tokens, t.state.Skipped = st.Examples, st.Tokens, st.Skipped
	t.log.Info("resumed", "checkpoint", dir, "step", st.Step, "epoch", st.Epoch)
	return nil
}

// loadEvalSet reads the first EvalExamples examples of epoch 0: they are
// scored, never trained on.
func (t *Trainer) loadEvalSet(ctx context.Context) error {
	t.heldOut = map[exampleID]bool{}
	if t.cfg.EvalExamples == 0 {
		return nil
	}
	s, err := openData(ctx, t.data, 0, nil)
	if err != nil {
		return err
	}
	defer s.Close()
	var exs []Example
	for len(exs) < t.cfg.EvalExamples {
		ex, err := s.Next(ctx)
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("reading the held-out examples: %w", err)
		}
		t.heldOut[ex.id()] = true
		if err := t.col.check(&ex); err != nil {
			continue
		}
		ex.Key.Epoch = 0
		exs = append(exs, ex)
	}
	for i := 0; i < len(exs); i += t.cfg.BatchSize {
		b, err := t.col.collate(exs[i:min(i+t.cfg.BatchSize, len(exs))])
		if err != nil {
			return err
		}
		t.evalBatch = append(t.evalBatch, b)
	}
	return nil
}

// Evaluate scores the held-out set: token-weighted MLM loss and accuracy.
func (t *Trainer) Evaluate() (loss, accuracy float64, tokens int, err error) {
	var sum float64
	var correct int
	for _, b := range t.evalBatch {
		r, err := t.model.Forward(b)
		if err != nil {
			return 0, 0, 0, err
		}
		sum += r.MLMLoss * float64(r.MLMCount)
		correct += r.MLMCorrect
		tokens += r.MLMCount
	}
	if tokens == 0 {
		return 0, 0, 0, nil
	}
	return sum / float64(tokens), float64(correct) / float64(tokens), tokens, nil
}

// nextBatch reads up to BatchSize trainable examples, moving to the next
// epoch at the end of one. It returns nil at the end of the data.
func (t *Trainer) nextBatch(ctx context.Context) (*Batch, error) {
	var exs []Example
	for len(exs) < t.cfg.BatchSize {
		ex, err := t.stream.Next(ctx)
		if err == io.EOF {
			t.stream.Close()
			t.state.Epoch++
			t.state.Position = nil
			if t.cfg.Epochs > 0 && t.state.Epoch >= t.cfg.Epochs {
				t.stream = &sliceStream{src: &SliceSource{}}
				break
			}
			if t.stream, err = openData(ctx, t.data, t.state.Epoch, nil); err != nil {
				return nil, err
			}
			if t.epochYield == 0 {
				return nil, fmt.Errorf("train: an epoch of %s gave no trainable example (%d held out for evaluation, %d skipped)", t.data.Describe(), len(t.heldOut), t.state.Skipped)
			}
			t.epochYield = 0
			continue
		}
		if err != nil {
			return nil, err
		}
		if t.heldOut[ex.id()] {
			continue
		}
		if err := t.col.check(&ex); err != nil {
			t.state.Skipped++
			t.log.Warn("skipping example", "err", err)
			continue
		}
		exs = append(exs, ex)
		t.epochYield++
		if t.observe != nil {
			t.observe(ex)
		}
	}
	t.state.Position = t.stream.Position()
	if len(exs) == 0 {
		return nil, nil
	}
	t.state.Examples += int64(len(exs))
	return t.col.collate(exs)
}

// Run trains until Steps updates (or the data ends), writing metrics,
// checkpoints, the loss curve and the summary.
func (t *Trainer) Run(ctx context.Context) (*Summary, error) {
	defer t.metrics.Close()
	cfg := t.cfg
	sum := &Summary{Params: t.model.NumParams(), BLAS: BLASName(), Data: t.data.Describe(), StoppedBy: "steps", Baseline: t.Baseline}
	bar := newProgress(cfg.Progress, cfg.Steps, t.state.Step)
	start := time.Now()
	startTokens := t.state.Tokens
	first := true
	for t.state.Step < cfg.Steps {
		if err := ctx.Err(); err != nil {
			sum.StoppedBy = "interrupted"
			break
		}
		stepStart := time.Now()
		t.model.ZeroGrad()
		// The data state before this update: a partial accumulation is
		// undone, so a resumed run re-reads its examples instead of losing them.
		before, beforeYield := t.state, t.epochYield
		var agg Result
		var lossSum, nspSum float64
		tokens := 0
		micro := 0
		for ; micro < cfg.AccumSteps; micro++ {
			b, err := t.nextBatch(ctx)
			if err != nil {
				if ctx.Err() != nil {
					break
				}
				return nil, err
			}
			if b == nil {
				break
			}
			r, err := t.model.ForwardBackward(b, 1/float64(cfg.AccumSteps))
			if err != nil {
				return nil, err
			}
			lossSum += r.MLMLoss
			nspSum += r.NSPLoss
			agg.MLMCorrect += r.MLMCorrect
			agg.MLMCount += r.MLMCount
			agg.NSPCorrect += r.NSPCorrect
			agg.NSPCount += r.NSPCount
			tokens += b.Tokens()
		}
		if micro < cfg.AccumSteps {
			// A partial accumulation (end of data or interrupt) is dropped so
			// that every update averages the same number of micro-batches.
			sum.StoppedBy = earlyStopReason(ctx)
			t.state, t.epochYield = before, beforeYield
			break
		}
		lr, gradNorm := t.opt.Step(t.model.Params())
		t.state.Step++
		t.state.Tokens += int64(tokens)
		elapsed := time.Since(stepStart).Seconds()
		rec := metricsRecord{
			Kind: "train", Step: t.state.Step, Epoch: t.state.Epoch,
			Loss:     (lossSum + nspSum) / float64(cfg.AccumSteps),
			MLMLoss:  lossSum / float64(cfg.AccumSteps),
			MLMAcc:   ratio(agg.MLMCorrect, agg.MLMCount),
			LR:       lr,
			GradNorm: gradNorm,
			TokensPS: float64(tokens) / elapsed,
			Tokens:   t.state.Tokens,
			Examples: t.state.Examples,
			ElapsedS: time.Since(start).Seconds(),
		}
		if agg.NSPCount > 0 {
			nl, na := nspSum/float64(cfg.AccumSteps), ratio(agg.NSPCorrect, agg.NSPCount)
			rec.NSPLoss, rec.NSPAcc = &nl, &na
		}
		if first {
			sum.FirstLoss = rec.Loss
			first = false
		}
		sum.FinalLoss, sum.FinalAccuracy = rec.Loss, rec.MLMAcc
		if err := t.metrics.Write(rec); err != nil {
			return nil, err
		}
		bar.step(rec)
		if len(t.evalBatch) > 0 && dueAfter(t.state.Step, cfg.EvalEvery, cfg.Steps) {
			if err := t.evalAndLog(sum); err != nil {
				return nil, err
			}
		}
		if dueAfter(t.state.Step, cfg.CheckpointEvery, cfg.Steps) {
			if err := t.checkpoint(sum); err != nil {
				return nil, err
			}
		}
	}
	bar.finish()
	if t.state.Step < cfg.Steps && t.state.Step > 0 {
		// Stopped early: evaluate and checkpoint where we are, so the run can
		// be resumed and the summary describes the final weights.
		if len(t.evalBatch) > 0 {
			if err := t.evalAndLog(sum); err != nil {
				return nil, err
			}
		}
		if err := t.checkpoint(sum); err != nil {
			return nil, err
		}
	}
	sum.Steps, sum.Examples, sum.Tokens, sum.Skipped = t.state.Step, t.state.Examples, t.state.Tokens, t.state.Skipped
	sum.Seconds = time.Since(start).Seconds()
	if sum.Seconds > 0 {
		sum.TokensPerSec = float64(t.state.Tokens-startTokens) / sum.Seconds
	}
	if err := t.metrics.Close(); err != nil {
		return nil, err
	}
	curve, err := plotLossCurve(filepath.Join(cfg.OutputDir, "metrics.jsonl"), cfg.OutputDir, t.Baseline)
	if err != nil {
		return nil, fmt.Errorf("loss curve: %w", err)
	}
	sum.LossCurve = curve
	if err := writeSummary(cfg.OutputDir, sum); err != nil {
		return nil, err
	}
	return sum, nil
}

// checkpoint saves the model, the optimizer and the data position after the
// current update; the summary names the newest checkpoint.
func (t *Trainer) checkpoint(sum *Summary) error {
	dir, err := saveCheckpoint(t.cfg.OutputDir, t.model, t.opt, t.state, t.cfg.VocabPath, t.cfg.KeepCheckpoints)
	if err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	sum.Checkpoint = dir
	return nil
}

func (t *Trainer) evalAndLog(sum *Summary) error {
	loss, acc, n, err := t.Evaluate()
	if err != nil {
		return err
	}
	sum.EvalLoss, sum.EvalPerplexity, sum.EvalAccuracy, sum.evalTokens = loss, Perplexity(loss), acc, n
	return t.metrics.Write(metricsRecord{Kind: "eval", Step: t.state.Step, Epoch: t.state.Epoch, EvalLoss: loss, EvalPPL: Perplexity(loss), EvalAcc: acc, EvalTokens: n})
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

func writeSummary(out string, s *Summary) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	if err := writeFileAtomic(filepath.Join(out, "train_summary.json"), append(b, '\n')); err != nil {
		return err
	}
	md := fmt.Sprintf("# Training run\n\n"+
		"- data: %s\n- updates: %d (%s), examples %d, tokens %d, skipped %d\n- parameters: %d, BLAS: %s\n"+
		"- training loss: %.4f → %.4f, masked-token accuracy %.4f\n"+
		"- held-out: loss %.4f, perplexity %.2f, masked-token accuracy %.4f\n"+
		"- speed: %.0f tokens/s over %.1f s\n- checkpoint: `%s`\n- metrics: [metrics.jsonl](metrics.jsonl)\n\n![loss curve](%s)\n",
		s.Data, s.Steps, s.StoppedBy, s.Examples, s.Tokens, s.Skipped, s.Params, s.BLAS,
		s.FirstLoss, s.FinalLoss, s.FinalAccuracy, s.EvalLoss, s.EvalPerplexity, s.EvalAccuracy,
		s.TokensPerSec, s.Seconds, s.Checkpoint, filepath.Base(s.LossCurve))
	if b := s.Baseline; b != nil {
		md += fmt.Sprintf("\nContext-free baseline over %d tokens: unigram entropy %.4f nats (loss of predicting from frequencies), "+
			"most frequent token %d is right %.4f of the time.\n", b.Tokens, b.UnigramEntropy, b.MajorityToken, b.MajorityAccuracy)
	}
	return writeFileAtomic(filepath.Join(out, "train_summary.md"), []byte(md))
}

// EvalTokens is how many masked tokens the last evaluation scored (0 when
// there was none).
func (s *Summary) EvalTokens() int { return s.evalTokens }
