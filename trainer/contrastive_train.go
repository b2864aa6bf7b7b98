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

// ContrastiveTrainConfig is a contrastive training run.
type ContrastiveTrainConfig struct {
	Model     ContrastiveConfig `json:"model"`
	Optimizer OptimizerConfig   `json:"optimizer"`
	// BatchSize pairs per update: each image's negatives are the other
	// captions of the batch (and the queue), so there is no gradient
	// accumulation, which would shrink the set of negatives.
	BatchSize int `json:"batch_size"`
	Steps     int `json:"steps"`
	Epochs    int `json:"epochs"`
	// EvalExamples pairs are held out (the first ones of the stream) and
	// scored every EvalEvery updates and at the end.
	EvalExamples    int    `json:"eval_examples"`
	EvalEvery       int    `json:"eval_every"`
	CheckpointEvery int    `json:"checkpoint_every"`
	KeepCheckpoints int    `json:"keep_checkpoints"`
	Seed            uint64 `json:"seed"`
	// TextLen is the caption row length the text tower reads ([CLS] and
	// [SEP] included); MaxPixels bounds the images decoded.
	TextLen   int    `json:"text_len"`
	MaxPixels int64  `json:"max_pixels"`
	VocabPath string `json:"vocab_path,omitempty"`

	OutputDir string       `json:"-"`
	Resume    bool         `json:"-"`
	Progress  bool         `json:"-"`
	Logger    *slog.Logger `json:"-"`
}

// DefaultContrastiveTrainConfig is the tiny dual encoder trained for steps
// updates on batches of 64 pairs (learning rate 5e-4, 10% warmup, cosine
// decay, weight decay 0.1).
func DefaultContrastiveTrainConfig(vocab, steps int) ContrastiveTrainConfig {
	opt := DefaultOptimizer(steps)
	opt.LR, opt.Schedule, opt.WeightDecay = 5e-4, "cosine", 0.1
	return ContrastiveTrainConfig{
		Model: TinyContrastiveConfig(vocab), Optimizer: opt,
		BatchSize: 64, Steps: steps, EvalExamples: 256, EvalEvery: max(1, steps/10),
		CheckpointEvery: max(1, steps/4), KeepCheckpoints: 3, TextLen: 34, MaxPixels: defaultMaxPixels,
	}
}

// Validate names the first bad setting.
func (c ContrastiveTrainConfig) Validate() error {
	if err := c.Model.Validate(); err != nil {
		return err
	}
	if err := c.Optimizer.Validate(); err != nil {
		return err
	}
	switch {
	case c.BatchSize < 2:
		return fmt.Errorf("train: batch %d: a contrastive batch needs at least 2 pairs (the others are the negatives)", c.BatchSize)
	case c.Steps < 1:
		return fmt.Errorf("train: steps %d must be at least 1", c.Steps)
	case c.EvalExamples < 0 || c.EvalEvery < 0 || c.CheckpointEvery < 0 || c.Epochs < 0:
		return errors.New("train: eval_examples, eval_every, checkpoint_every and epochs must not be negative")
	case c.TextLen < 2 || c.TextLen > c.Model.Text.MaxPositions:
		return fmt.Errorf("train: caption length %d must be in [2, max_position_embeddings %d]", c.TextLen, c.Model.Text.MaxPositions)
	case c.MaxPixels < 1:
		return fmt.Errorf("train: max_pixels %d must be positive", c.MaxPixels)
	case c.OutputDir == "":
		return errors.New("train: no output directory")
	}
	return nil
}

// ContrastiveSummary is what a run did; also OUTPUT/train_summary.json.
type ContrastiveSummary struct {
	Model       string    `json:"model"`
	Steps       int       `json:"steps"`
	Examples    int64     `json:"pairs_seen"`
	Skipped     int64     `json:"pairs_skipped"`
	Params      int       `json:"parameters"`
	FirstLoss   float64   `json:"first_loss"`
	FinalLoss   float64   `json:"final_loss"`
	EvalLoss    float64   `json:"eval_loss"`
	Retrieval   Retrieval `json:"eval_retrieval"`
	Temperature float64   `json:"temperature"`
	// PairsPerSec counts the training updates only (reading and decoding,
	// forward, backward, AdamW), not evaluations or checkpoints.
	PairsPerSec float64 `json:"pairs_per_s"`
	Seconds     float64 `json:"seconds"`
	Checkpoint  string  `json:"checkpoint"`
	RecallCurve string  `json:"recall_curve"`
	LossCurve   string  `json:"loss_curve"`
	BLAS        string  `json:"blas"`
	StoppedBy   string  `json:"stopped_by"`
	Data        string  `json:"data"`
}

// ContrastiveTrainer owns one contrastive run.
type ContrastiveTrainer struct {
	cfg    ContrastiveTrainConfig
	vocab  *Vocab
	data   PairSource
	log    *slog.Logger
	model  *ContrastiveModel[float32]
	opt    *AdamW[float32]
	col    *pairCollator
	state  ContrastiveState
	stream PairStream

	heldOut   map[[2]int]bool
	evalBatch []*PairBatch
	metrics   *metricsWriter
	// epochDecoded counts usable pairs of the current epoch: an epoch
	// without one would loop forever.
	epochDecoded int
}

// NewContrastiveTrainer builds the model (or restores the latest
// checkpoint of cfg.OutputDir when cfg.Resume), reads the held-out pairs and
// opens the data.
func NewContrastiveTrainer(ctx context.Context, cfg ContrastiveTrainConfig, vocab *Vocab, data PairSource) (*ContrastiveTrainer, error) {
	if cfg.Model.Text.VocabSize == 0 {
		cfg.Model.Text.VocabSize = vocab.Size
	}
	cfg.Model.Text.PadTokenID = int(vocab.PAD)
	if cfg.Model.Text.VocabSize != vocab.Size {
		return nil, fmt.Errorf("train: text tower vocab_size %d but the vocabulary has %d tokens", cfg.Model.Text.VocabSize, vocab.Size)
	}
	if cfg.Optimizer.TotalSteps == 0 {
		cfg.Optimizer.TotalSteps = cfg.Steps
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	t := &ContrastiveTrainer{cfg: cfg, vocab: vocab, data: data, log: loggerOrDiscard(cfg.Logger)}
	if err := os.MkdirAll(cfg.OutputDir, 0o755); err != nil {
		return nil, err
	}
	var err error
	if t.model, err = NewContrastiveModel[float32](cfg.Model, cfg.Seed); err != nil {
		return nil, err
	}
	if t.opt, err = NewAdamW(cfg.Optimizer, t.model.Params()); err != nil {
		return nil, err
	}
	t.col = &pairCollator{vocab: vocab, cfg: cfg.Model, textLen: cfg.TextLen, prep: imagePrep{size: cfg.Model.Vision.ImageSize, maxPixels: cfg.MaxPixels}}
	t.state = ContrastiveState{Config: cfg, Data: data.Describe(), BLAS: BLASName()}
	if cfg.Resume {
		if err := t.restore(); err != nil {
			return nil, err
		}
	}
	if err := t.loadEvalSet(ctx); err != nil {
		return nil, err
	}
	if t.stream, err = data.Open(t.state.Epoch, t.state.Position); err != nil {
		return nil, err
	}
	if t.metrics, err = openMetrics(filepath.Join(cfg.OutputDir, "metrics.jsonl"), t.state.Step); err != nil {
		return nil, err
	}
	return t, nil
}

// Model is the model being trained.
func (t *ContrastiveTrainer) Model() *ContrastiveModel[float32] { return t.model }

func (t *ContrastiveTrainer) restore() error {
	dir, err := checkpointToResume(t.cfg.OutputDir, t.log)
	if err != nil || dir == "" {
		return err
	}
	var st ContrastiveState
	b, err := os.ReadFile(filepath.Join(dir, stateFile))
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, &st); err != nil {
		return fmt.Errorf("%s: %w", filepath.Join(dir, stateFile), err)
	}
	if st.Config.Model != t.cfg.Model || st.Config.TextLen != t.cfg.TextLen {
		return fmt.Errorf("resume %s: checkpoint model %+v (caption length %d) differs from the requested %+v (%d)", dir, st.Config.Model, st.Config.TextLen, t.cfg.Model, t.cfg.TextLen)
	}
	if err := loadContrastiveCheckpoint(dir, t.model, t.opt); err != nil {
		return err
	}
	t.opt.Steps = st.Step
	t.state.Step, t.state.Epoch, t.state.Position = st.Step, st.Epoch, st.Position
	t.state.Examples, t.state.Skipped = st.Examples, st.Skipped
	t.log.Info("resumed", "checkpoint", dir, "step", st.Step, "epoch", st.Epoch)
	return nil
}

// loadEvalSet reads and decodes the first EvalExamples pairs of epoch 0:
// they are scored, never trained on.
func (t *ContrastiveTrainer) loadEvalSet(ctx context.Context) error {
	t.heldOut = map[[2]int]bool{}
	if t.cfg.EvalExamples == 0 {
		return nil
	}
	s, err := t.data.Open(0, nil)
	if err != nil {
		return err
	}
	defer s.Close()
	var pairs []Pair
	for len(pairs) < t.cfg.EvalExamples {
		p, err := s.Next(ctx)
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("reading the held-out pairs: %w", err)
		}
		t.heldOut[[2]int{p.Key.Shard, p.Key.Row}] = true
		pairs = append(pairs, p)
	}
	ds, errs := t.col.prepare(pairs)
	var good []decoded
	for i, err := range errs {
		if err != nil {
			t.log.Warn("held-out pair skipped", "err", err)
			continue
		}
		good = append(good, ds[i])
	}
	for i := 0; i < len(good); i += t.cfg.BatchSize {
		t.evalBatch = append(t.evalBatch, t.col.collate(good[i:min(i+t.cfg.BatchSize, len(good))]))
	}
	return nil
}

// Evaluate scores the held-out pairs: the mean InfoNCE loss of each
// evaluation batch (in-batch negatives) and retrieval recall over all of
// them at once.
func (t *ContrastiveTrainer) Evaluate() (loss float64, r Retrieval, err error) {
	D := t.cfg.Model.ProjectionDim
	var images, texts []float64
	var captions []string
	pairs := 0
	for _, b := range t.evalBatch {
		res, err := t.model.Forward(b)
		if err != nil {
			return 0, r, err
		}
		if b.B > 1 {
			loss += res.Loss * float64(b.B)
			pairs += b.B
		}
		for _, v := range t.model.ws.iEmb {
			images = append(images, float64(v))
		}
		for _, v := range t.model.ws.tEmb {
			texts = append(texts, float64(v))
		}
		captions = append(captions, b.Captions...)
	}
	if pairs > 0 {
		loss /= float64(pairs)
	}
	return loss, scoreRetrieval(images, texts, len(captions), D, captions, RecallKs), nil
}

// nextBatch reads and decodes BatchSize usable pairs, moving to the next
// epoch at the end of one. It returns nil at the end of the data.
func (t *ContrastiveTrainer) nextBatch(ctx context.Context) (*PairBatch, error) {
	var ds []decoded
	var raw []Pair
	decode := func() {
		if len(raw) == 0 {
			return
		}
		got, errs := t.col.prepare(raw)
		for i, err := range errs {
			if err != nil {
				t.state.Skipped++
				t.log.Warn("skipping pair", "err", err)
				continue
			}
			ds = append(ds, got[i])
			t.epochDecoded++
		}
		raw = raw[:0]
	}
	for len(ds) < t.cfg.BatchSize {
		p, err := t.stream.Next(ctx)
		if err == io.EOF {
			decode()
			if len(ds) >= t.cfg.BatchSize {
				break
			}
			t.stream.Close()
			if t.epochDecoded == 0 {
				return nil, fmt.Errorf("train: an epoch of %s gave no usable pair (%d held out for evaluation, %d skipped)", t.data.Describe(), len(t.heldOut), t.state.Skipped)
			}
			t.state.Epoch++
			t.state.Position = nil
			t.epochDecoded = 0
			if t.cfg.Epochs > 0 && t.state.Epoch >= t.cfg.Epochs {
				t.stream = emptyPairStream{}
				break
			}
			if t.stream, err = t.data.Open(t.state.Epoch, nil); err != nil {
				return nil, err
			}
			continue
		}
		if err != nil {
			return nil, err
		}
		if t.heldOut[[2]int{p.Key.Shard, p.Key.Row}] {
			continue
		}
		raw = append(raw, p)
		if len(ds)+len(raw) >= t.cfg.BatchSize {
			decode()
		}
	}
	// The data position is that of the stream after the last pair read; a
	// batch never spans the pairs after it, so resuming there is exact.
	t.state.Position = t.stream.Position()
	if len(ds) < 2 {
		return nil, nil
	}
	t.state.Examples += int64(len(ds))
	return t.col.collate(ds), nil
}

type emptyPairStream struct{}

func (emptyPairStream) Next(context.Context) (Pair, error) { return Pair{}, io.EOF }
func (emptyPairStream) Position() json.RawMessage          { return nil }
func (emptyPairStream) Close() error                       { return nil }

// Run trains until Steps updates (or the data ends), writing metrics,
// checkpoints, the recall and loss curves and the summary.
func (t *ContrastiveTrainer) Run(ctx context.Context) (*ContrastiveSummary, error) {
	defer t.metrics.Close()
	cfg := t.cfg
	sum := &ContrastiveSummary{Model: "contrastive", Params: t.model.NumParams(), BLAS: BLASName(), Data: t.data.Describe(), StoppedBy: "steps"}
	bar := newProgress(cfg.Progress, cfg.Steps, t.state.Step)
	start := time.Now()
	var trainSeconds float64
	var trainPairs int64
	first := true
	if t.state.Step == 0 && len(t.evalBatch) > 0 {
		// The untrained model's scores start the recall curve at chance.
		if err := t.evalAndLog(sum); err != nil {
			return nil, err
		}
	}
	for t.state.Step < cfg.Steps {
		if ctx.Err() != nil {
			sum.StoppedBy = "interrupted"
			break
		}
		stepStart := time.Now()
		before, beforeDecoded := t.state, t.epochDecoded
		b, err := t.nextBatch(ctx)
		if err != nil && ctx.Err() == nil {
			return nil, err
		}
		if err != nil || b == nil {
			// An interrupt or the end of the data: the pairs read for this
			// update are given back, so a resumed run reads them again.
			t.state, t.epochDecoded = before, beforeDecoded
			sum.StoppedBy = earlyStopReason(ctx)
			break
		}
		t.model.ZeroGrad()
		res, err := t.model.TrainStep(b, 1)
		if err != nil {
			return nil, err
		}
		lr, gradNorm := t.opt.Step(t.model.Params())
		t.model.ClampLogitScale()
		t.state.Step++
		elapsed := time.Since(stepStart).Seconds()
		trainSeconds += elapsed
		trainPairs += int64(b.B)
		scale := t.model.LogitScale()
		rec := contrastiveTrainRecord{
			Kind: "train", Step: t.state.Step, Epoch: t.state.Epoch,
			Loss: res.Loss, I2TLoss: res.I2TLoss, T2ILoss: res.T2ILoss,
			I2TAcc: ratio(res.I2TCorrect, res.Pairs), T2IAcc: ratio(res.T2ICorrect, res.Pairs), Keys: res.Keys,
			LogitScale: scale, Temperature: 1 / scale, LR: lr, GradNorm: gradNorm,
			PairsPS: float64(b.B) / elapsed, Examples: t.state.Examples, ElapsedS: time.Since(start).Seconds(),
		}
		if first {
			sum.FirstLoss, first = rec.Loss, false
		}
		sum.FinalLoss = rec.Loss
		if err := t.metrics.writeRecord(rec); err != nil {
			return nil, err
		}
		bar.stepContrastive(rec)
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
	if first && t.state.Step > 0 {
		// Resumed with nothing left to do: describe the restored weights.
		if len(t.evalBatch) > 0 {
			if err := t.evalAndLog(sum); err != nil {
				return nil, err
			}
		}
		var err error
		if sum.Checkpoint, err = LatestCheckpoint(cfg.OutputDir); err != nil {
			return nil, err
		}
	}
	sum.Steps, sum.Examples, sum.Skipped = t.state.Step, t.state.Examples, t.state.Skipped
	sum.Temperature = 1 / t.model.LogitScale()
	sum.Seconds = time.Since(start).Seconds()
	if trainSeconds > 0 {
		sum.PairsPerSec = float64(trainPairs) / trainSeconds
	}
	if err := t.metrics.Close(); err != nil {
		return nil, err
	}
	var err error
	sum.RecallCurve, sum.LossCurve, err = plotContrastive(filepath.Join(cfg.OutputDir, "metrics.jsonl"), cfg.OutputDir)
	if err != nil {
		return nil, fmt.Errorf("curves: %w", err)
	}
	if err := writeContrastiveSummary(cfg.OutputDir, sum); err != nil {
		return nil, err
	}
	return sum, nil
}

// checkpoint saves the model, the optimizer and the data position after the
// current update; the summary names the newest checkpoint.
func (t *ContrastiveTrainer) checkpoint(sum *ContrastiveSummary) error {
	dir, err := saveContrastiveCheckpoint(t.cfg.OutputDir, t.model, t.opt, t.state, t.cfg.KeepCheckpoints)
	if err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	sum.Checkpoint = dir
	return nil
}

func (t *ContrastiveTrainer) evalAndLog(sum *ContrastiveSummary) error {
	loss, r, err := t.Evaluate()
	if err != nil {
		return err
	}
	sum.EvalLoss, sum.Retrieval = loss, r
	return t.metrics.writeRecord(evalRecord(t.state.Step, t.state.Epoch, loss, r))
}

func (p *progress) stepContrastive(r contrastiveTrainRecord) {
	if p.bar == nil {
		return
	}
	p.bar.Describe(fmt.Sprintf("train loss %.3f τ %.3f %.0f pairs/s", r.Loss, r.Temperature, r.PairsPS))
	p.bar.Add(1)
}

func writeContrastiveSummary(out string, s *ContrastiveSummary) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	if err := writeFileAtomic(filepath.Join(out, "train_summary.json"), append(b, '\n')); err != nil {
		return err
	}
	r := s.Retrieval
	row := func(name string, v []float64) string {
		line := "| " + name + " |"
		for _, x := range v {
			line += fmt.Sprintf(" %.3f |", x)
		}
		return line + "\n"
	}
	head := "| held-out (" + fmt.Sprint(r.Pairs) + " pairs) |"
	sep := "| --- |"
	for _, k := range r.Ks {
		head += fmt.Sprintf(" R@%d |", k)
		sep += " ---: |"
	}
	md := fmt.Sprintf("# Contrastive training run\n\n"+
		"- data: %s\n- updates: %d (%s), pairs %d, skipped %d\n- parameters: %d, BLAS: %s\n"+
		"- training loss: %.4f → %.4f; held-out loss %.4f; temperature %.4f\n"+
		"- speed: %.1f pairs/s in training updates; %.1f s in all\n- checkpoint: `%s`\n- metrics: [metrics.jsonl](metrics.jsonl)\n\n",
		s.Data, s.Steps, s.StoppedBy, s.Examples, s.Skipped, s.Params, s.BLAS,
		s.FirstLoss, s.FinalLoss, s.EvalLoss, s.Temperature, s.PairsPerSec, s.Seconds, s.Checkpoint)
	if len(r.Ks) > 0 {
		md += head + "\n" + sep + "\n" + row("image → text", r.I2T) + row("text → image", r.T2I) + row("chance", r.Chance) + "\n"
	}
	md += fmt.Sprintf("![recall](%s)\n\n![loss](%s)\n", filepath.Base(s.RecallCurve), filepath.Base(s.LossCurve))
	return writeFileAtomic(filepath.Join(out, "train_summary.md"), []byte(md))
}
