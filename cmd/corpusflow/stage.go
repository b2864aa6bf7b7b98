package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/corpusflow/corpusflow/flow"
	"github.com/corpusflow/corpusflow/flow/kafka"
	"github.com/corpusflow/corpusflow/pipelines"
	"github.com/corpusflow/corpusflow/sinks"
)

func init() {
	register(command{
		name:    "stage",
		usage:   "PIPELINE.yaml --stage NAME [--brokers HOST:PORT,...] [--topic-prefix P] [--output DIR] [--workers N]",
		summary: "run one step of a Kafka pipeline as a worker: sources, a stage's name, or sinks; start any number per stage",
		run:     runStage,
	})
}

type stageFlags struct {
	stage        string
	brokers      string
	topicPrefix  string
	partitions   int
	output       string
	workers      int
	statsFile    string
	createTopics bool
	listSteps    bool
	chain        bool
	logLevel     string
}

func runStage(args []string) int {
	fs := flag.NewFlagSet("stage", flag.ContinueOnError)
	var f stageFlags
	fs.StringVar(&f.stage, "stage", "", "the step to run: sources, a stage's name (as in stats.json), or sinks")
	fs.StringVar(&f.brokers, "brokers", "", "comma-separated Kafka brokers (overrides the pipeline's transport brokers)")
	fs.StringVar(&f.topicPrefix, "topic-prefix", "", "prefix of the run's topics and groups (overrides topic_prefix); every worker of a run must use the same")
	fs.IntVar(&f.partitions, "partitions", 0, "partitions per topic (overrides partitions); every worker of a run must use the same")
	fs.StringVar(&f.output, "output", "", "output directory (overrides `output:`); sinks write here, every worker its stats")
	fs.IntVar(&f.workers, "workers", 0, "goroutines for a stateless stage in this worker (overrides `workers:`)")
	fs.StringVar(&f.statsFile, "stats", "", "write this worker's stats JSON here (default OUTPUT/workers/STEP-WORKER.json)")
	fs.BoolVar(&f.createTopics, "create-topics", false, "only create the run's topics, then exit (a deployment's init step)")
	fs.BoolVar(&f.listSteps, "list-steps", false, "only print the steps that need workers, one a line, then exit (with chain, chained stages are not steps)")
	fs.BoolVar(&f.chain, "chain", false, "run each stateless stage in the worker of the step before it (overrides the transport's chain); every worker of a run must agree")
	fs.StringVar(&f.logLevel, "log-level", "info", "debug, info, warn or error")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return exitUsage
	}
	if len(pos) != 1 || (f.stage == "" && !f.createTopics && !f.listSteps) {
		fmt.Fprintln(os.Stderr, "usage: corpusflow stage PIPELINE.yaml --stage NAME [--brokers HOST:PORT,...] [--topic-prefix P] [--output DIR] [--workers N]")
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
	run, err := kafkaRun(p, f, logger)
	if err != nil {
		fmt.Fprintln(os.Stderr, "corpusflow stage:", err)
		return exitUsage
	}
	if f.listSteps {
		steps, err := run.WorkerSteps()
		if err != nil {
			fmt.Fprintln(os.Stderr, "corpusflow stage:", err)
			return exitFailure
		}
		fmt.Println(strings.Join(steps, "\n"))
		return exitOK
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if f.createTopics {
		if err := run.Transport.CreateTopics(ctx, run.Steps()); err != nil {
			fmt.Fprintln(os.Stderr, "corpusflow stage:", err)
			return exitFailure
		}
		logger.Info("topics ready", "prefix", run.Transport.TopicPrefix, "steps", strings.Join(run.Steps(), ","))
		return exitOK
	}
	return executeStage(ctx, p, run, f, logger)
}

// kafkaRun describes the run from the pipeline file and the flags: the
// transport, and a builder per stage that makes a fresh instance each time
// (order-dependent stages get one per partition they own).
func kafkaRun(p *pipelines.Pipeline, f stageFlags, logger *slog.Logger) (*kafka.Run, error) {
	cfg := kafka.DefaultConfig
	if p.Transport != nil {
		c, ok := p.Transport.Config.(*kafka.Config)
		if !ok {
			return nil, fmt.Errorf("%s: transport is %q; `corpusflow stage` needs `transport: {type: kafka, ...}` (or --brokers)", p.File, p.Transport.Use)
		}
		cfg = *c
	}
	if f.brokers != "" {
		cfg.Brokers = strings.Split(f.brokers, ",")
	}
	if f.topicPrefix != "" {
		cfg.TopicPrefix = f.topicPrefix
	}
	if f.partitions > 0 {
		cfg.Partitions = f.partitions
	}
	if f.chain {
		cfg.Chain = true
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("%s: transport: %w", p.File, err)
	}
	run := &kafka.Run{
		Transport:    kafka.NewTransport(cfg, p.Name, logger),
		CarryRejects: p.Rejects != nil,
		Workers:      f.workers,
		Logger:       logger,
	}
	if run.Workers <= 0 {
		run.Workers = p.Workers
	}
	for _, c := range p.Stages {
		c := c
		run.Stages = append(run.Stages, kafka.Step{Name: c.Name, New: func() (flow.NamedStage, error) {
			built, err := buildPart(p, f, logger, func(q *pipelines.Pipeline) { q.Stages = []*pipelines.Component{c} })
			if err != nil {
				return flow.NamedStage{}, err
			}
			return built.Plan.Stages[0], nil
		}})
	}
	return run, nil
}

// buildPart builds only the components a worker needs; keep edits q.
func buildPart(p *pipelines.Pipeline, f stageFlags, logger *slog.Logger, keep func(q *pipelines.Pipeline)) (*pipelines.Built, error) {
	q := *p
	q.Sources, q.Stages, q.Sinks, q.Rejects, q.Transport = nil, nil, nil, nil, nil
	keep(&q)
	return q.Build(pipelines.BuildOptions{Output: f.output, Workers: f.workers, Logger: logger})
}

func executeStage(ctx context.Context, p *pipelines.Pipeline, run *kafka.Run, f stageFlags, logger *slog.Logger) int {
	outDir := f.output
	if outDir == "" {
		outDir = p.Output
	}
	run.Report = func(ws *kafka.WorkerStats) {
		logger.Info("worker", "step", ws.Step, "frames_in", ws.FramesIn, "frames_out", ws.FramesOut,
			"lag", ws.Lag, "produce_wait_s", fmt.Sprintf("%.2f", ws.ProduceWaitS), "duplicates", ws.DuplicateFrames,
			"replayed", ws.ReplayedFrames, "done", ws.Done)
	}
	if f.stage != kafka.SourcesStep && f.stage != kafka.SinksStep && !hasStage(p, f.stage) {
		fmt.Fprintf(os.Stderr, "corpusflow stage: %s has no step %q; steps: sources, %s, sinks\n", p.File, f.stage, strings.Join(stageNames(p), ", "))
		return exitUsage
	}
	logger.Info("starting worker", "pipeline", p.Name, "step", f.stage, "prefix", run.Transport.TopicPrefix, "brokers", strings.Join(run.Transport.Brokers, ","))
	var ws *kafka.WorkerStats
	var err error
	switch f.stage {
	case kafka.SourcesStep:
		var built *pipelines.Built
		if built, err = buildPart(p, f, logger, func(q *pipelines.Pipeline) { q.Sources = p.Sources }); err == nil {
			ws, err = kafka.RunSources(ctx, run, built.Plan)
		}
	case kafka.SinksStep:
		var built *pipelines.Built
		if built, err = buildPart(p, f, logger, func(q *pipelines.Pipeline) { q.Sinks, q.Rejects = p.Sinks, p.Rejects }); err == nil {
			outDir = built.OutputDir
			ws, err = kafka.RunSinks(ctx, run, built.Plan)
		}
	default:
		ws, err = kafka.RunStage(ctx, run, f.stage)
	}
	if ws != nil && outDir != "" {
		if werr := writeWorkerStats(outDir, f, ws); werr != nil {
			logger.Error("writing worker stats", "err", werr)
		}
		if f.stage == kafka.SinksStep && err == nil && ws.Run != nil {
			if werr := writeStats(outDir, ws.Run); werr != nil {
				logger.Error("writing stats.json", "err", werr)
				return exitFailure
			}
		}
	}
	if err != nil {
		if ctx.Err() != nil {
			logger.Warn("interrupted: this worker left the group; the others take over its partitions")
			return exitInterrupted
		}
		fmt.Fprintln(os.Stderr, "corpusflow stage:", err)
		return exitFailure
	}
	logger.Info("step complete", "step", f.stage)
	return exitOK
}

func hasStage(p *pipelines.Pipeline, name string) bool {
	for _, c := range p.Stages {
		if c.Name == name {
			return true
		}
	}
	return false
}

func stageNames(p *pipelines.Pipeline) []string {
	var names []string
	for _, c := range p.Stages {
		names = append(names, c.Name)
	}
	return names
}

func writeWorkerStats(outDir string, f stageFlags, ws *kafka.WorkerStats) error {
	path := f.statsFile
	if path == "" {
		path = filepath.Join(outDir, "workers", fmt.Sprintf("%s-%s.json", f.stage, ws.Worker))
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	data, err := json.MarshalIndent(ws, "", "  ")
	if err != nil {
		return err
	}
	return sinks.WriteFileAtomic(path, append(data, '\n'))
}
