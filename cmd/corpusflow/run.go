package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/corpusflow/corpusflow/flow"
	"github.com/corpusflow/corpusflow/pipelines"
	"github.com/corpusflow/corpusflow/sinks"
	"github.com/corpusflow/corpusflow/trainer"
)

func init() {
	register(command{
		name:    "run",
		usage:   "PIPELINE.yaml [--output DIR] [--workers N] [--rejects FILE] [--resume]",
		summary: "run a pipeline; writes its outputs and OUTPUT/stats.json",
		run:     runRun,
	})
}

// exitInterrupted is the conventional status after SIGINT: the outputs are
// complete files, but the run did not read all its input.
const exitInterrupted = 130

type runFlags struct {
	output   string
	workers  int
	rejects  string
	quiet    bool
	logLevel string
	resume   bool
}

func (f *runFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.output, "output", "", "output directory (overrides the pipeline's `output:`)")
	fs.IntVar(&f.workers, "workers", 0, "worker goroutines (overrides `workers:`; 0 keeps the pipeline's value)")
	fs.StringVar(&f.rejects, "rejects", "", "also write rejected records to this JSONL file (.jsonl, .jsonl.gz, .jsonl.zst)")
	fs.BoolVar(&f.quiet, "quiet", false, "no progress bar and no summary table")
	fs.StringVar(&f.logLevel, "log-level", "info", "debug, info, warn or error")
	fs.BoolVar(&f.resume, "resume", false, "continue an interrupted run: the input is replayed, shards already complete are kept, not rewritten")
}

func runRun(args []string) int {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	var f runFlags
	f.register(fs)
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return exitUsage
	}
	if len(pos) != 1 {
		fmt.Fprintln(os.Stderr, "usage: corpusflow run PIPELINE.yaml [--output DIR] [--workers N] [--rejects FILE] [--resume]")
		return exitUsage
	}
	logger, err := newLogger(f.logLevel)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return exitUsage
	}
	p, err := pipelines.Load(pos[0])
	if err != nil {
		printLoadError(pos[0], err)
		return exitUsage
	}
	if f.rejects != "" {
		p.Rejects = &pipelines.RejectsConfig{Path: mustAbs(f.rejects), Text: true}
	}
	built, err := p.Build(pipelines.BuildOptions{Output: f.output, Workers: f.workers, Logger: logger})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return exitUsage
	}
	if f.resume {
		// See flow/resume.go: sinks that can resume keep their complete
		// output and skip the replayed records that made it.
		if _, err := flow.PrepareResume(built.Plan); err != nil {
			fmt.Fprintln(os.Stderr, "corpusflow:", err)
			return exitFailure
		}
	} else if err := flow.PrepareFresh(built.Plan); err != nil {
		// Before the train: section starts following the shard directory:
		// it must not find the previous run's complete manifest there.
		fmt.Fprintln(os.Stderr, "corpusflow:", err)
		return exitFailure
	}
	return execute(p, built, logger, executeOptions{quiet: f.quiet, train: true, resume: f.resume})
}

// executeOptions say what a pipeline run does besides the pipeline itself.
type executeOptions struct {
	quiet bool
	// train starts the pipeline's `train:` section, if it has one, beside the
	// run: the trainer follows the shard directory as shards close.
	train bool
	// resume continues an interrupted run (and its training).
	resume bool
}

// execute runs a built pipeline with signal handling, progress, stats.json
// and the summary table. Other commands that run pipelines (audit) share it.
func execute(p *pipelines.Pipeline, built *pipelines.Built, logger *slog.Logger, opts executeOptions) int {
	quiet := opts.quiet
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// After the first signal the run drains and closes its outputs; restoring
	// the default handler lets a second Ctrl-C kill it at once.
	context.AfterFunc(ctx, func() {
		stop()
		logger.Warn("interrupted: finishing records in flight and closing outputs (Ctrl-C again to kill)")
	})

	plan := built.Plan
	var bar *progressbar.ProgressBar
	if !quiet && term.IsTerminal(int(os.Stderr.Fd())) {
		bar = newProgressBar()
		started := time.Now()
		plan.Progress = func(pr flow.Progress) { updateProgress(bar, pr, time.Since(started)) }
	}
	logger.Info("running", "pipeline", p.Name, "file", p.File, "output", built.OutputDir, "workers", built.Workers)
	// The trainer gets its own context: it stops with the run when the run
	// fails or is interrupted, and otherwise trains on until its last step.
	trainCtx, stopTraining := context.WithCancel(ctx)
	defer stopTraining()
	waitTraining := func() (*trainer.Summary, error) { return nil, nil }
	if opts.train {
		waitTraining = trainer.StartSection(trainCtx, p.Sections, built.OutputDir, opts.resume, logger)
	}
	stats, runErr := flow.Run(ctx, plan)
	if runErr != nil || (stats != nil && stats.Interrupted) {
		stopTraining()
	}
	summary, trainErr := waitTraining()
	if bar != nil {
		bar.Finish()
		fmt.Fprintln(os.Stderr)
	}
	if stats != nil {
		if err := writeStats(built.OutputDir, stats); err != nil {
			logger.Error("writing stats.json", "err", err)
			return exitFailure
		}
		if !quiet {
			printSummary(os.Stderr, stats, built.OutputDir)
		}
	}
	if summary != nil && !quiet {
		printTrainingSummary(os.Stderr, summary)
	}
	if runErr != nil {
		fmt.Fprintln(os.Stderr, "corpusflow:", runErr)
		return exitFailure
	}
	if trainErr != nil && ctx.Err() == nil {
		fmt.Fprintln(os.Stderr, "corpusflow: training:", trainErr)
		return exitFailure
	}
	if stats != nil && stats.Interrupted {
		return exitInterrupted
	}
	return exitOK
}

func printTrainingSummary(w io.Writer, s *trainer.Summary) {
	if c := s.Contrastive; c != nil {
		i2t, t2i := c.Retrieval.At(1)
		fmt.Fprintf(w, "  training (contrastive): %d steps, %d pairs, loss %.3f → %.3f, held-out loss %.3f, recall@1 image→text %.3f, text→image %.3f over %d pairs, %.0f pairs/s\n",
			c.Steps, c.Examples, c.FirstLoss, c.FinalLoss, c.EvalLoss, i2t, t2i, c.Retrieval.Pairs, c.PairsPerSec)
		if c.RecallCurve != "" {
			fmt.Fprintf(w, "  recall curve: %s\n", c.RecallCurve)
		}
	} else {
		fmt.Fprintf(w, "  training: %d steps, %s tokens, loss %.3f → %.3f, held-out loss %.3f (perplexity %.1f), masked accuracy %.3f, %.0f tokens/s\n",
			s.Steps, humanCount(s.Tokens), s.FirstLoss, s.FinalLoss, s.EvalLoss, s.EvalPerplexity, s.EvalAccuracy, s.TokensPerSec)
	}
	if s.Checkpoint != "" {
		fmt.Fprintf(w, "  checkpoint: %s\n", s.Checkpoint)
	}
	if s.LossCurve != "" {
		fmt.Fprintf(w, "  loss curve: %s\n", s.LossCurve)
	}
}

func writeStats(dir string, stats *flow.RunStats) error {
	data, err := json.MarshalIndent(stats, "", "  ")
	if err != nil {
		return err
	}
	return sinks.WriteFileAtomic(filepath.Join(dir, "stats.json"), append(data, '\n'))
}

func newLogger(level string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level: %q is not one of debug, info, warn, error", level)
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: l})), nil
}

func mustAbs(p string) string {
	abs, err := filepath.Abs(p)
	if err != nil {
		return p
	}
	return abs
}

func newProgressBar() *progressbar.ProgressBar {
	return progressbar.NewOptions64(-1,
		progressbar.OptionSetWriter(os.Stderr),
		progressbar.OptionSetDescription("reading"),
		progressbar.OptionShowBytes(true),
		progressbar.OptionShowCount(),
		progressbar.OptionThrottle(200*time.Millisecond),
		progressbar.OptionSetWidth(30),
		progressbar.OptionClearOnFinish(),
	)
}

// updateProgress shows on-disk bytes against the input size when it is
// known (so the ETA is meaningful), and records plus text bytes read.
func updateProgress(bar *progressbar.ProgressBar, pr flow.Progress, elapsed time.Duration) {
	if pr.TotalBytes > 0 && bar.GetMax64() != pr.TotalBytes {
		bar.ChangeMax64(pr.TotalBytes)
	}
	secs := max(elapsed.Seconds(), 1e-3)
	bar.Describe(fmt.Sprintf("%s records (%s/s), %.1f MB text (%.1f MB/s)",
		humanCount(pr.Records), humanCount(int64(float64(pr.Records)/secs)), float64(pr.Bytes)/1e6, float64(pr.Bytes)/1e6/secs))
	if pr.TotalBytes > 0 {
		bar.Set64(pr.ReadBytes)
	} else {
		bar.Set64(pr.Bytes)
	}
}

// printSummary prints the account of a run: sources, then every stage's
// in = kept + rejected with its reasons.
func printSummary(w io.Writer, s *flow.RunStats, outDir string) {
	fmt.Fprintf(w, "\n%s: %.2fs, %d workers", s.Pipeline, s.ElapsedS, s.Workers)
	if s.Interrupted {
		fmt.Fprint(w, " (interrupted: outputs hold what was read before the signal)")
	}
	fmt.Fprintln(w)
	for _, src := range s.Sources {
		fmt.Fprintf(w, "  source %-18s %12s records %10.1f MB", src.Name, humanCount(src.Records), float64(src.Bytes)/1e6)
		if len(src.Errors) > 0 {
			fmt.Fprintf(w, "  problems: %s", formatReasons(src.Errors))
		}
		if len(src.Skipped) > 0 {
			fmt.Fprintf(w, "  skipped: %s", formatReasons(src.Skipped))
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "  %-25s %12s %12s %12s  %s\n", "stage", "in", "kept", "rejected", "reasons")
	for _, st := range s.Stages {
		fmt.Fprintf(w, "  %-25s %12s %12s %12s  %s\n", st.Name, humanCount(st.In), humanCount(st.Kept), humanCount(st.RejectedTotal()), formatReasons(st.Rejected))
	}
	for _, sk := range s.Sinks {
		fmt.Fprintf(w, "  sink %-20s %12s records\n", sk.Name, humanCount(sk.Records))
	}
	fmt.Fprintf(w, "  stats: %s\n", filepath.Join(outDir, "stats.json"))
}

func formatReasons(m map[string]int64) string {
	type kv struct {
		k string
		v int64
	}
	var list []kv
	for k, v := range m {
		list = append(list, kv{k, v})
	}
	sort.Slice(list, func(i, j int) bool {
		if list[i].v != list[j].v {
			return list[i].v > list[j].v
		}
		return list[i].k < list[j].k
	})
	parts := make([]string, len(list))
	for i, e := range list {
		parts[i] = fmt.Sprintf("%s %s", e.k, humanCount(e.v))
	}
	return strings.Join(parts, ", ")
}

// humanCount formats 1234567 as "1,234,567".
func humanCount(n int64) string {
	s := fmt.Sprint(n)
	if n < 0 {
		return s
	}
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}
