package main

import (
	"context"
	"flag"
	"fmt"
	"os"

	"github.com/corpusflow/corpusflow/trainer"
)

// The flags of `corpusflow train --model contrastive`: the image tower and
// the contrastive objective. The text tower takes --layers, --hidden,
// --heads and --ff.
func registerContrastiveFlags(fs *flag.FlagSet, c *trainer.ContrastiveSection) {
	*c = trainer.DefaultContrastiveSection()
	fs.IntVar(&c.ImageSize, "image-size", c.ImageSize, "contrastive: side of the square the image tower reads (images are centre-cropped and scaled to it)")
	fs.IntVar(&c.PatchSize, "patch", c.PatchSize, "contrastive: ViT patch side in pixels (must divide --image-size)")
	fs.IntVar(&c.VisionLayers, "vision-layers", c.VisionLayers, "contrastive: image tower transformer blocks")
	fs.IntVar(&c.VisionHidden, "vision-hidden", c.VisionHidden, "contrastive: image tower hidden size")
	fs.IntVar(&c.VisionHeads, "vision-heads", c.VisionHeads, "contrastive: image tower attention heads")
	fs.IntVar(&c.VisionFF, "vision-ff", c.VisionFF, "contrastive: image tower feed-forward size")
	fs.IntVar(&c.ProjectionDim, "proj-dim", c.ProjectionDim, "contrastive: size of the shared image–text embedding space")
	fs.StringVar(&c.Pool, "pool", c.Pool, "contrastive: text vector from the caption's tokens: mean or cls")
	fs.Float64Var(&c.Temperature, "temperature", c.Temperature, "contrastive: initial temperature (learned; logit scale capped at --max-logit-scale)")
	fs.Float64Var(&c.MaxLogitScale, "max-logit-scale", c.MaxLogitScale, "contrastive: cap of the logit scale 1/temperature")
	fs.IntVar(&c.Queue, "queue", c.Queue, "contrastive: momentum keys kept per modality as extra negatives (MoCo, WenLan/BriVL); needs --momentum")
	fs.Float64Var(&c.Momentum, "momentum", c.Momentum, "contrastive: momentum encoder update θm ← m·θm + (1−m)·θ (0 = none; WenLan/BriVL use 0.99)")
}

func trainContrastive(ctx context.Context, sec *trainer.Section, keep int, opts trainer.RunOptions) int {
	cfg := sec.ContrastiveConfig()
	cfg.KeepCheckpoints = keep
	sum, err := trainer.TrainContrastiveOnShards(ctx, cfg, opts)
	if err != nil {
		fmt.Fprintln(os.Stderr, "corpusflow train:", err)
		return exitFailure
	}
	i2t, t2i := sum.Retrieval.At(1)
	chance := 0.0
	if len(sum.Retrieval.Chance) > 0 {
		chance = sum.Retrieval.Chance[0]
	}
	fmt.Fprintf(os.Stderr, "trained %d updates (%s) on %d pairs: loss %.3f → %.3f, held-out loss %.3f, recall@1 image→text %.3f, text→image %.3f (chance %.3f) over %d pairs, temperature %.3f, %.0f pairs/s\n",
		sum.Steps, sum.StoppedBy, sum.Examples, sum.FirstLoss, sum.FinalLoss, sum.EvalLoss, i2t, t2i, chance, sum.Retrieval.Pairs, sum.Temperature, sum.PairsPerSec)
	fmt.Fprintf(os.Stderr, "checkpoint %s\nsummary %s/train_summary.md, recall curve %s\n", sum.Checkpoint, opts.Output, sum.RecallCurve)
	if sum.StoppedBy == "interrupted" {
		return exitInterrupted
	}
	return exitOK
}
