package flow

import (
	"context"
	"log/slog"
)

// Stage inspects, changes or rejects one record at a time.
//
// Process returns "" to keep r (possibly changed) or a short snake_case reason
// to reject it; the reason becomes a key in stats.json, so keep the set of
// reasons small and fixed. A stage that only implements Stage is assumed to be
// stateless: the engine calls Process from many goroutines at once, on records
// in any order.
type Stage interface {
	Process(r *Record) (reject string)
}

// Sequential marks a stage whose decision for a record depends on the records
// before it (deduplication: "first seen wins"). The engine calls its Process
// from one goroutine, in input order.
type Sequential interface {
	Stage
	Sequential()
}

// Emitter is a sequential stage that turns the records it consumes into other
// records (packing documents into fixed-length examples). Process still
// accounts for the consumed record; out receives new records, which continue
// down the pipeline in the order they are emitted.
type Emitter interface {
	Sequential
	ProcessEmit(r *Record, out func(*Record)) (reject string)
	// Flush emits what is still buffered when the input ends.
	Flush(out func(*Record)) error
}

// Finisher is implemented by stages that have something to write or release
// when the run ends (reports, indexes). Finish is called once, after the last
// record, also when a run is interrupted.
type Finisher interface {
	Finish(ctx context.Context) error
}

// Env is what a source, stage or sink gets when it is built.
type Env struct {
	// BaseDir resolves relative input paths: the directory of the pipeline
	// YAML, so a pipeline runs the same from any working directory.
	BaseDir string
	// OutputDir is where sinks and reports write.
	OutputDir string
	// Workers is the number of goroutines parallel stages run on.
	Workers int
	// Counters is where a stage records counts beyond in/kept/rejected (lines
	// dropped by reason, tokens, unknown-token rate). It is safe for
	// concurrent use and appears in stats.json under the stage's "counts".
	Counters *Counters
	Logger   *slog.Logger
	// PipelineName and PipelineSHA256 identify the pipeline definition, for
	// outputs that record their provenance (shard metadata, reports).
	PipelineName   string
	PipelineSHA256 string
	// StageName is the name the stage has in this pipeline.
	StageName string
}
