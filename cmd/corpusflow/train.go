package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/corpusflow/corpusflow/trainer"
)

func init() {
	register(command{
		name:    "train",
		usage:   "--shards DIR --output DIR [--model mlm|contrastive] [--steps N] [--batch B] [--layers L --hidden H --heads A --ff F] [--image-size S --patch P --queue N ...] [--follow] [--resume]",
		summary: "train a BERT masked-LM encoder, or an image–text dual encoder (--model contrastive), on Arrow shards (finished, or --follow while a pipeline writes them); safetensors checkpoints Hugging Face can load",
		run:     runTrain,
	})
}

type trainFlags struct {
	shards, output, model, vocab, schedule, logLevel string
	steps, epochs, batch, accum, warmup              int
	layers, hidden, heads, ff                        int
	lr, weightDecay, clip, maskProb                  float64
	evalExamples, evalEvery, checkpointEvery, keep   int
	seed                                             uint64
	follow, resume, wholeWord, quiet                 bool
	contrastive                                      trainer.ContrastiveSection
}

func runTrain(args []string) int {
	fs := flag.NewFlagSet("train", flag.ContinueOnError)
	def := trainer.DefaultSection()
	var f trainFlags
	fs.StringVar(&f.shards, "shards", "", "shard directory (manifest.json + shard-*.arrow) written by a pipeline's arrow sink")
	fs.StringVar(&f.output, "output", "", "training output: checkpoints/, metrics.jsonl, loss.svg, train_summary.md")
	fs.StringVar(&f.model, "model", "mlm", "objective: mlm (BERT masked-LM; shards packed in mode nsp add the next-sentence head) or contrastive (image–text dual encoder, CLIP/WenLan; shards packed in mode image_text)")
	fs.StringVar(&f.vocab, "vocab", "", "the shards' vocabulary (vocab.txt or tokenizer.json); needed for --whole-word, checked against the shards; default: the shards' metadata")
	fs.IntVar(&f.steps, "steps", 1000, "optimizer updates")
	fs.IntVar(&f.epochs, "epochs", 0, "also stop after this many passes over the shards (0 = steps decide)")
	fs.IntVar(&f.batch, "batch", def.Batch, "sequences per micro-batch")
	fs.IntVar(&f.accum, "accum", 1, "micro-batches per update (gradient accumulation)")
	fs.IntVar(&f.layers, "layers", def.Layers, "encoder layers")
	fs.IntVar(&f.hidden, "hidden", def.Hidden, "hidden size")
	fs.IntVar(&f.heads, "heads", def.Heads, "attention heads")
	fs.IntVar(&f.ff, "ff", def.FF, "feed-forward size")
	fs.Float64Var(&f.lr, "lr", def.LR, "peak learning rate (AdamW)")
	fs.IntVar(&f.warmup, "warmup", -1, "warmup updates (default: 10% of --steps)")
	fs.StringVar(&f.schedule, "schedule", def.Schedule, "decay after warmup: linear, cosine or constant")
	fs.Float64Var(&f.weightDecay, "weight-decay", def.WeightDecay, "AdamW decoupled weight decay (not on biases and LayerNorm)")
	fs.Float64Var(&f.clip, "clip", def.ClipNorm, "clip the global gradient norm (0 = off)")
	fs.Float64Var(&f.maskProb, "mask-prob", def.MaskProb, "fraction of tokens to predict (80% [MASK], 10% random, 10% kept)")
	fs.BoolVar(&f.wholeWord, "whole-word", false, "mask whole words (a piece and its ## continuations); needs --vocab")
	fs.IntVar(&f.evalExamples, "eval-examples", def.EvalExamples, "first examples held out for evaluation (0 = none)")
	fs.IntVar(&f.evalEvery, "eval-every", -1, "evaluate every N updates (default: --steps/10)")
	fs.IntVar(&f.checkpointEvery, "checkpoint-every", -1, "checkpoint every N updates (default: --steps/4); always at the end")
	fs.IntVar(&f.keep, "keep-checkpoints", 3, "checkpoints kept (0 = all)")
	fs.Uint64Var(&f.seed, "seed", 0, "seed of initialisation, masking and shard order")
	fs.BoolVar(&f.follow, "follow", false, "follow a shard directory a running pipeline is still writing")
	fs.BoolVar(&f.resume, "resume", false, "continue from the latest checkpoint in --output (same weights, optimizer state and data position)")
	fs.BoolVar(&f.quiet, "quiet", false, "no progress bar")
	fs.StringVar(&f.logLevel, "log-level", "info", "debug, info, warn or error")
	registerContrastiveFlags(fs, &f.contrastive)
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return exitUsage
	}
	if len(pos) != 0 || f.shards == "" || f.output == "" {
		fmt.Fprintln(os.Stderr, "usage: corpusflow train --shards DIR --output DIR [flags]; see corpusflow train -h")
		return exitUsage
	}
	if f.model != "mlm" && f.model != "contrastive" {
		fmt.Fprintf(os.Stderr, "corpusflow train: --model %q is not one of mlm, contrastive\n", f.model)
		return exitUsage
	}
	logger, err := newLogger(f.logLevel)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return exitUsage
	}
	sec := def
	sec.Layers, sec.Hidden, sec.Heads, sec.FF = f.layers, f.hidden, f.heads, f.ff
	sec.Steps, sec.Epochs, sec.Batch, sec.AccumSteps = f.steps, f.epochs, f.batch, f.accum
	sec.LR, sec.Schedule, sec.WeightDecay, sec.ClipNorm = f.lr, f.schedule, f.weightDecay, f.clip
	sec.MaskProb, sec.WholeWord, sec.Vocab, sec.Seed = f.maskProb, f.wholeWord, f.vocab, f.seed
	sec.Warmup = pick(f.warmup, f.steps/10)
	sec.EvalExamples = f.evalExamples
	sec.EvalEvery = pick(f.evalEvery, max(1, f.steps/10))
	sec.CheckpointEvery = pick(f.checkpointEvery, max(1, f.steps/4))
	sec.Model, sec.Contrastive = f.model, f.contrastive
	if err := sec.Validate(); err != nil {
		fmt.Fprintln(os.Stderr, "corpusflow train:", err)
		return exitUsage
	}
	cfg := sec.Config()
	cfg.KeepCheckpoints = f.keep
	switch cfg.Optimizer.Schedule {
	case "linear", "cosine", "constant":
	default:
		fmt.Fprintf(os.Stderr, "corpusflow train: --schedule %q is not one of linear, cosine, constant\n", f.schedule)
		return exitUsage
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	context.AfterFunc(ctx, func() {
		stop()
		logger.Warn("interrupted: checkpointing where training stands (Ctrl-C again to kill)")
	})
	opts := trainer.RunOptions{
		Shards: f.shards, Output: f.output, Vocab: f.vocab, Follow: f.follow, Resume: f.resume,
		Progress: !f.quiet, Logger: logger,
	}
	if f.model == "contrastive" {
		return trainContrastive(ctx, &sec, f.keep, opts)
	}
	sum, err := trainer.TrainOnShards(ctx, cfg, opts)
	if err != nil {
		fmt.Fprintln(os.Stderr, "corpusflow train:", err)
		return exitFailure
	}
	fmt.Fprintf(os.Stderr, "trained %d updates (%s) on %d examples: loss %.3f → %.3f, held-out loss %.3f (perplexity %.1f, masked accuracy %.3f), %.0f tokens/s\n",
		sum.Steps, sum.StoppedBy, sum.Examples, sum.FirstLoss, sum.FinalLoss, sum.EvalLoss, sum.EvalPerplexity, sum.EvalAccuracy, sum.TokensPerSec)
	fmt.Fprintf(os.Stderr, "checkpoint %s\nsummary %s/train_summary.md, loss curve %s\n", sum.Checkpoint, f.output, sum.LossCurve)
	if sum.StoppedBy == "interrupted" {
		return exitInterrupted
	}
	return exitOK
}

// pick returns v, or def when v is negative (flag not given).
func pick(v, def int) int {
	if v < 0 {
		return def
	}
	return v
}
