package flow

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"runtime/debug"
	"sync"
	"time"
)

// Defaults for batching. A batch is closed at whichever limit comes first:
// enough records to amortize channel costs for tiny records, few enough bytes
// to keep memory bounded for huge ones.
const (
	DefaultBatchRecords = 256
	DefaultBatchBytes   = 1 << 20
	// DefaultReadAheadBytes lets the parts read ahead of the one being
	// consumed buffer enough that decompressing big files keeps every core
	// busy, at a fixed cost in memory.
	DefaultReadAheadBytes = 64 << 20
)

// NamedSource is a source as configured in a pipeline.
type NamedSource struct {
	Name   string
	Source Source
}

// NamedStage is a stage as configured in a pipeline.
type NamedStage struct {
	Name     string // unique name in the pipeline ("c4", "dedup_urls")
	Use      string // registered stage name
	Stage    Stage
	Counters *Counters
}

// NamedSink is a sink as configured in a pipeline.
type NamedSink struct {
	Name string
	Sink Sink
}

// Plan is everything the engine needs to run a pipeline.
type Plan struct {
	Pipeline string
	Sources  []NamedSource
	Stages   []NamedStage
	Sinks    []NamedSink
	Rejects  RejectSink // nil: rejected records are only counted
	// Workers is the number of goroutines for parallel stages and for reading
	// source parts ahead; 0 means runtime.NumCPU().
	Workers   int
	Transport Transport // nil: MemoryTransport
	Logger    *slog.Logger
	// BatchRecords and BatchBytes override the batching defaults.
	BatchRecords int
	BatchBytes   int
	// ReadAheadBytes bounds how much the parts being read ahead may buffer in
	// all (default DefaultReadAheadBytes). More lets several large files
	// decompress in parallel; less saves memory.
	ReadAheadBytes int
	// Progress, when set, is called about every 200 ms and at the end.
	Progress func(Progress)
}

// Progress is a snapshot for progress displays.
type Progress struct {
	Records    int64
	Bytes      int64
	TotalBytes int64 // sum of known part sizes, 0 when unknown
	ReadBytes  int64 // on-disk bytes of the parts finished so far
	Done       bool
}

// Run executes plan until the sources are exhausted or ctx is cancelled.
//
// Cancelling ctx (Ctrl-C) stops the sources only: records already in flight
// still pass through every stage and reach the sinks, then stages finish and
// sinks close, so every output is complete and valid. The returned stats then
// have Interrupted set and the error is nil. Run returns an error only when a
// sink or stage fails in a way that makes the output wrong.
func Run(ctx context.Context, plan Plan) (*RunStats, error) {
	start := time.Now()
	e, err := newEngine(plan)
	if err != nil {
		return nil, err
	}
	// work is cancelled only by a fatal error; it keeps draining after the
	// user's ctx stops the sources.
	work, abort := context.WithCancelCause(context.Background())
	defer abort(nil)
	stopSources, cancelSources := context.WithCancel(ctx)
	defer cancelSources()
	go func() {
		<-work.Done()
		cancelSources()
	}()

	stopTicker := e.startProgress()

	var wg sync.WaitGroup
	first, err := e.transport.NewLink("sources", e.segmentName(0))
	if err != nil {
		return nil, err
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer first.CloseSend()
		if err := e.readSources(stopSources, work, first); err != nil {
			abort(err)
		}
		if ctx.Err() != nil {
			notifyInterrupted(e.plan.Sinks) // before CloseSend: see resume.go
		}
	}()

	in := first
	for i, seg := range e.segments {
		out, err := e.transport.NewLink(e.segmentName(i), e.segmentName(i+1))
		if err != nil {
			abort(err)
			break
		}
		wg.Add(1)
		go func(seg segment, in, out Link) {
			defer wg.Done()
			defer out.CloseSend()
			if err := seg.run(work, in, out); err != nil {
				abort(err)
				drain(in)
			}
		}(seg, in, out)
		in = out
	}
	sinkErr := e.writeSinks(work, in)
	if sinkErr != nil {
		abort(sinkErr)
		drain(in)
	}
	wg.Wait()

	var errs []error
	if cause := context.Cause(work); cause != nil && !errors.Is(cause, context.Canceled) {
		errs = append(errs, cause)
	}
	if ctx.Err() != nil || len(errs) > 0 {
		notifyInterrupted(e.plan.Sinks) // see resume.go
	}
	errs = append(errs, e.finish()...)
	stopTicker()
	stats := e.stats(time.Since(start))
	stats.Interrupted = ctx.Err() != nil
	return stats, errors.Join(errs...)
}

// startProgress reports progress every 200 ms until the returned function is
// called, which makes the final report.
func (e *engine) startProgress() (stop func()) {
	if e.progress == nil {
		return func() {}
	}
	quit := make(chan struct{})
	exited := make(chan struct{})
	go func() {
		defer close(exited)
		ticker := time.NewTicker(200 * time.Millisecond)
		defer ticker.Stop()
		for {
			select {
			case <-ticker.C:
				e.progress(e.snapshot(false))
			case <-quit:
				return
			}
		}
	}()
	return func() {
		close(quit)
		<-exited
		e.progress(e.snapshot(true))
	}
}

// drain discards what is left on a link so its sender can finish.
func drain(l Link) {
	for {
		if _, err := l.Recv(context.Background()); err != nil {
			return
		}
	}
}

type engine struct {
	plan      Plan
	workers   int
	logger    *slog.Logger
	transport Transport
	segments  []segment
	stages    []*stageAccount
	reports   []*SourceReport
	sinkCount []int64
	progress  func(Progress)

	mu         sync.Mutex
	records    int64
	bytes      int64
	totalBytes int64
	readBytes  int64
}

// stageAccount holds one stage's balance; parallel workers add to it.
type stageAccount struct {
	NamedStage
	in, kept, emitted Counters // single counter each, named "n"
	rejected          Counters
}

func newEngine(plan Plan) (*engine, error) {
	workers := plan.Workers
	if workers <= 0 {
		workers = runtime.NumCPU()
	}
	logger := plan.Logger
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	transport := plan.Transport
	if transport == nil {
		transport = MemoryTransport{Capacity: 2 * workers}
	}
	if plan.BatchRecords <= 0 {
		plan.BatchRecords = DefaultBatchRecords
	}
	if plan.BatchBytes <= 0 {
		plan.BatchBytes = DefaultBatchBytes
	}
	if plan.ReadAheadBytes <= 0 {
		plan.ReadAheadBytes = DefaultReadAheadBytes
	}
	e := &engine{plan: plan, workers: workers, logger: logger, transport: transport, progress: plan.Progress}
	for _, st := range plan.Stages {
		if st.Stage == nil {
			return nil, fmt.Errorf("stage %q has no implementation", st.Name)
		}
		if st.Counters == nil {
			st.Counters = &Counters{}
		}
		e.stages = append(e.stages, &stageAccount{NamedStage: st})
	}
	e.segments = planSegments(e.stages, workers, logger)
	for _, s := range plan.Sources {
		e.reports = append(e.reports, NewSourceReport(s.Name, logger))
	}
	e.sinkCount = make([]int64, len(plan.Sinks))
	return e, nil
}

func (e *engine) segmentName(i int) string {
	if i >= len(e.segments) {
		return "sinks"
	}
	return e.segments[i].name()
}

// writeSinks hands every batch, in order, to the sinks and the rejects sink.
func (e *engine) writeSinks(ctx context.Context, in Link) error {
	for {
		b, err := in.Recv(ctx)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		for _, r := range b.Records {
			for i, s := range e.plan.Sinks {
				if err := s.Sink.Write(r); err != nil {
					return fmt.Errorf("sink %s: record %s: %w", s.Name, r.ID, err)
				}
				e.sinkCount[i]++
			}
		}
		if e.plan.Rejects != nil {
			for _, rej := range b.Rejected {
				if err := e.plan.Rejects.WriteRejection(rej); err != nil {
					return fmt.Errorf("rejects sink: record %s: %w", rej.Record.ID, err)
				}
			}
		}
	}
}

// finish lets stages write their reports and closes every sink, also after an
// interruption or an error, so outputs are complete files.
func (e *engine) finish() []error {
	var errs []error
	for _, st := range e.stages {
		if f, ok := st.Stage.(Finisher); ok {
			if err := f.Finish(context.Background()); err != nil {
				errs = append(errs, fmt.Errorf("stage %s: finish: %w", st.Name, err))
			}
		}
	}
	for _, s := range e.plan.Sinks {
		if err := s.Sink.Close(); err != nil {
			errs = append(errs, fmt.Errorf("sink %s: %w", s.Name, err))
		}
	}
	if e.plan.Rejects != nil {
		if err := e.plan.Rejects.Close(); err != nil {
			errs = append(errs, fmt.Errorf("rejects sink: %w", err))
		}
	}
	return errs
}

func (e *engine) stats(elapsed time.Duration) *RunStats {
	rs := &RunStats{Pipeline: e.plan.Pipeline, Workers: e.workers, ElapsedS: elapsed.Seconds()}
	for _, r := range e.reports {
		rs.Sources = append(rs.Sources, r.Stats())
	}
	for _, st := range e.stages {
		rej := st.rejected.Snapshot()
		if rej == nil {
			rej = map[string]int64{}
		}
		rs.Stages = append(rs.Stages, StageStats{
			Name:     st.Name,
			Use:      st.Use,
			In:       st.in.Get("n"),
			Kept:     st.kept.Get("n"),
			Rejected: rej,
			Emitted:  st.emitted.Get("n"),
			Counts:   st.Counters.Snapshot(),
		})
	}
	for i, s := range e.plan.Sinks {
		rs.Sinks = append(rs.Sinks, SinkStats{Name: s.Name, Records: e.sinkCount[i]})
	}
	return rs
}

func (e *engine) snapshot(done bool) Progress {
	e.mu.Lock()
	defer e.mu.Unlock()
	var bytes int64
	for _, r := range e.reports {
		bytes += r.Bytes()
	}
	return Progress{Records: e.records, Bytes: bytes, TotalBytes: e.totalBytes, ReadBytes: e.readBytes, Done: done}
}

// runStage applies one stage to the records of b, keeping b's order, and
// accounts for every record. A stage that panics must neither take the run
// down nor lose the other records: the record it panicked on is rejected as
// "stage_panic" and logged with its id, and the run goes on.
func runStage(st *stageAccount, b *Batch, logger *slog.Logger) {
	kept := make([]*Record, 0, len(b.Records))
	for _, r := range b.Records {
		if reason := processSafely(st, r, logger); reason != "" {
			b.Rejected = append(b.Rejected, Rejection{Record: r, Stage: st.Name, Reason: reason})
			st.rejected.Add(reason, 1)
			continue
		}
		kept = append(kept, r)
	}
	st.in.Add("n", int64(len(b.Records)))
	st.kept.Add("n", int64(len(kept)))
	b.Records = kept
}

// processSafely calls the stage with a recover; the defer is open-coded, so
// it costs a few nanoseconds per record.
func processSafely(st *stageAccount, r *Record, logger *slog.Logger) (reason string) {
	defer func() {
		if p := recover(); p != nil {
			logStagePanic(logger, st, r, p)
			reason = "stage_panic"
		}
	}()
	if r.hasPartKey {
		r.hasPartKey = false
		if kp, ok := st.Stage.(KeyedProcessor); ok {
			return kp.ProcessKeyed(r, r.partKey)
		}
	}
	return st.Stage.Process(r)
}

func logStagePanic(logger *slog.Logger, st *stageAccount, r *Record, p any) {
	logger.Error("stage panicked on a record; the record is rejected as stage_panic and the run goes on",
		"stage", st.Name, "record", r.ID, "source", r.Source, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
}
