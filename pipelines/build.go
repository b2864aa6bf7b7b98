package pipelines

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"runtime"

	"github.com/corpusflow/corpusflow/flow"
	"github.com/corpusflow/corpusflow/sinks"
)

// BuildOptions are the command-line overrides of a pipeline's settings.
type BuildOptions struct {
	Output  string // overrides `output:` when set
	Workers int    // overrides `workers:` when > 0
	Logger  *slog.Logger
}

// Built is a pipeline ready to run: its plan plus what the caller needs to
// report on it.
type Built struct {
	Plan      flow.Plan
	OutputDir string
	Workers   int
}

// Build resolves a pipeline's output paths, creates the output directory and
// builds every component. A component that fails to build (a vocabulary that
// does not parse) is reported at its position in the file.
func (p *Pipeline) Build(opts BuildOptions) (*Built, error) {
	out := p.Output
	if opts.Output != "" {
		out = opts.Output
	}
	if out == "" {
		return nil, fmt.Errorf("%s: no output directory: set `output:` in the pipeline or pass --output", p.File)
	}
	out, err := filepath.Abs(out)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return nil, fmt.Errorf("output directory: %w", err)
	}
	workers := p.Workers
	if opts.Workers > 0 {
		workers = opts.Workers
	}
	if workers <= 0 {
		workers = runtime.NumCPU()
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.Default()
	}
	env := func(c *Component, counters *flow.Counters) *flow.Env {
		e := &flow.Env{
			BaseDir: p.BaseDir, OutputDir: out, Workers: workers, Counters: counters,
			Logger: logger, PipelineName: p.Name, PipelineSHA256: p.SHA256,
		}
		if c != nil {
			e.StageName = c.Name
			e.Logger = logger.With(string(c.Kind), c.Name)
		}
		return e
	}

	plan := flow.Plan{Pipeline: p.Name, Workers: workers, Logger: logger}
	build := func(c *Component, counters *flow.Counters) (any, error) {
		resolveOutputs(reflect.ValueOf(c.Config).Elem(), out)
		v, err := c.spec.Build(c.Config, env(c, counters))
		if err != nil {
			return nil, fmt.Errorf("%s: %s %s: %w", c.where(p.File), c.Kind, c.Name, err)
		}
		return v, nil
	}
	for _, c := range p.Sources {
		v, err := build(c, nil)
		if err != nil {
			return nil, err
		}
		plan.Sources = append(plan.Sources, flow.NamedSource{Name: c.Name, Source: v.(flow.Source)})
	}
	for _, c := range p.Stages {
		counters := &flow.Counters{}
		v, err := build(c, counters)
		if err != nil {
			return nil, err
		}
		plan.Stages = append(plan.Stages, flow.NamedStage{Name: c.Name, Use: c.Use, Stage: v.(flow.Stage), Counters: counters})
	}
	for _, c := range p.Sinks {
		v, err := build(c, nil)
		if err != nil {
			return nil, err
		}
		plan.Sinks = append(plan.Sinks, flow.NamedSink{Name: c.Name, Sink: v.(flow.Sink)})
	}
	if p.Rejects != nil {
		path := p.Rejects.Path
		if !filepath.IsAbs(path) {
			path = filepath.Join(out, path)
		}
		rs, err := sinks.NewRejects(path, p.Rejects.Text)
		if err != nil {
			return nil, fmt.Errorf("%s: rejects: %w", p.File, err)
		}
		plan.Rejects = rs
	}
	if p.Transport != nil {
		v, err := build(p.Transport, nil)
		if err != nil {
			return nil, err
		}
		plan.Transport = v.(flow.Transport)
	}
	return &Built{Plan: plan, OutputDir: out, Workers: workers}, nil
}

// resolveOutputs makes `path:"output"` parameters absolute under the output
// directory, however deeply they sit in the configuration.
func resolveOutputs(v reflect.Value, out string) {
	eachOutputField(v, func(_ reflect.StructField, fv reflect.Value) {
		if p := fv.String(); p != "" && !filepath.IsAbs(p) {
			fv.SetString(filepath.Join(out, p))
		}
	})
}
