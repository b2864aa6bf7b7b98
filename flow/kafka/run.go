package kafka

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync/atomic"

	"github.com/corpusflow/corpusflow/flow"
)

// SourcesStep and SinksStep are the names of the two steps that are not
// stages: reading the sources, and writing the sinks.
const (
	SourcesStep = "sources"
	SinksStep   = "sinks"
)

// Step is one stage of a pipeline as every worker of a run knows it.
type Step struct {
	Name string
	// New builds a fresh instance of the stage with its counters. It is
	// called once for a stateless stage and once per partition for an
	// order-dependent one, whose state must not mix partitions; the stage
	// before it calls it once to learn how to route records to it.
	New func() (flow.NamedStage, error)
}

// Run is one pipeline run over Kafka, as every worker sees it. Every worker
// of the run (sources, each stage, sinks) is given the same Run.
type Run struct {
	Transport *Transport
	Stages    []Step
	// CarryRejects sends rejected records on to the sinks step (the pipeline
	// has a rejects file); otherwise they are only counted.
	CarryRejects bool
	// Workers is the goroutines a stateless stage runs on in one worker.
	Workers int
	Logger  *slog.Logger
	// Worker names this process in control events; default host-pid.
	Worker string
	// Report, when set, receives the worker's stats every few seconds and at
	// the end.
	Report func(*WorkerStats)
}

func (r *Run) logger() *slog.Logger {
	if r.Logger != nil {
		return r.Logger
	}
	return r.Transport.logger
}

func (r *Run) worker() string {
	if r.Worker != "" {
		return r.Worker
	}
	host, _ := os.Hostname()
	return fmt.Sprintf("%s-%d", host, os.Getpid())
}

// Steps lists the steps that consume a topic: every stage, then the sinks.
func (r *Run) Steps() []string {
	var s []string
	for _, st := range r.Stages {
		s = append(s, st.Name)
	}
	return append(s, SinksStep)
}

func (r *Run) stageOrder() map[string]int {
	m := map[string]int{}
	for i, st := range r.Stages {
		m[st.Name] = i
	}
	return m
}

func (r *Run) stageIndex(name string) int {
	for i, st := range r.Stages {
		if st.Name == name {
			return i
		}
	}
	return -1
}

// routeOf says how records must be routed to the stage called name.
func (r *Run) routeOf(name string, st flow.Stage) route {
	t := r.Transport
	rt := route{step: name, topic: t.Topic(name), mode: spread, partitions: t.Partitions}
	switch s := st.(type) {
	case flow.BucketPartitioner:
		rt.mode, rt.buckets, rt.joinTopic = bucketed, s.BucketKeys, t.Topic(joinStep(name))
	case flow.Partitioner:
		rt.mode, rt.key = keyed, s.PartitionKey
	case flow.Sequential:
		rt.mode = single
	}
	return rt
}

// Chainable says a stage can run in the worker of the step before it, on
// the records that step sends (Config.Chain): it needs no route of its own
// (any worker may see any record, in any order), emits no records of its
// own and sends no report parts.
func Chainable(st flow.Stage) bool {
	switch st.(type) {
	case flow.BucketPartitioner, flow.Partitioner, flow.Sequential, flow.Emitter, flow.PartialReporter:
		return false
	}
	return true
}

// chainFrom builds what a worker whose own stages end before stage i needs
// to send on: with chain, the chainable stages from i on, which it runs
// after its own (tail), and the route to the first stage after them that is
// not chainable, or to the sinks. Without chain, tail is empty and out is
// the route to stage i.
func (r *Run) chainFrom(i int, chain bool) (tail []flow.NamedStage, out route, err error) {
	t := r.Transport
	for ; i < len(r.Stages); i++ {
		st, err := r.Stages[i].New()
		if err != nil {
			return nil, route{}, fmt.Errorf("building stage %s to route to it: %w", r.Stages[i].Name, err)
		}
		if !chain || !Chainable(st.Stage) {
			return tail, r.routeOf(r.Stages[i].Name, st.Stage), nil
		}
		tail = append(tail, st)
	}
	return tail, route{step: SinksStep, topic: t.Topic(SinksStep), mode: single, partitions: t.Partitions}, nil
}

// WorkerSteps lists the steps that need workers, in order: the sources,
// every stage that is not chained into the step before it, the sinks. It
// builds every stage once, to see which are chainable.
func (r *Run) WorkerSteps() ([]string, error) {
	steps := []string{SourcesStep}
	for _, st := range r.Stages {
		if r.Transport.Chain {
			built, err := st.New()
			if err != nil {
				return nil, fmt.Errorf("building stage %s: %w", st.Name, err)
			}
			if Chainable(built.Stage) {
				continue
			}
		}
		steps = append(steps, st.Name)
	}
	return append(steps, SinksStep), nil
}

// newTail builds fresh instances of the stages from..from+n-1, for a lane of
// its own: each lane reports its own counts.
func (r *Run) newTail(from, n int) ([]flow.NamedStage, error) {
	tail := make([]flow.NamedStage, 0, n)
	for i := from; i < from+n; i++ {
		st, err := r.Stages[i].New()
		if err != nil {
			return nil, fmt.Errorf("building stage %s: %w", r.Stages[i].Name, err)
		}
		tail = append(tail, st)
	}
	return tail, nil
}

// start creates the topics (the run's steps, plus the join steps of
// bucketed stages this worker uses, which only their workers and senders
// know about) and follows the control topic until ctx ends.
func (r *Run) start(ctx context.Context, joinSteps ...string) (*control, error) {
	for _, j := range joinSteps {
		if r.stageIndex(j) >= 0 {
			return nil, fmt.Errorf("a stage is called %q, the name of the join step of a bucketed stage; rename it", j)
		}
	}
	if err := r.Transport.CreateTopics(ctx, append(r.Steps(), joinSteps...)); err != nil {
		return nil, err
	}
	ctl := newControl(r.Transport, r.worker())
	if err := ctl.catchUp(ctx); err != nil {
		ctl.close()
		return nil, err
	}
	go ctl.follow(ctx)
	return ctl, nil
}

// RunSources reads plan's sources and produces their batches to the first
// stage's topic, then marks the stream's end. A sources worker that finds
// the sources already ended (it was restarted after finishing) only repeats
// the end marker. Interrupting ctx stops reading; what was read is ended
// cleanly, so the run completes with it.
func RunSources(ctx context.Context, run *Run, plan flow.Plan) (*WorkerStats, error) {
	ws := newWorkerStats(SourcesStep, run.worker())
	cctx, stopControl := context.WithCancel(context.Background())
	defer stopControl()
	tail, out, err := run.chainFrom(0, run.Transport.Chain)
	if err != nil {
		return ws, err
	}
	ctl, err := run.start(cctx, joinSteps(out)...)
	if err != nil {
		return ws, err
	}
	defer ctl.close()
	if ok, batches := ctl.state.complete(SourcesStep, 1); ok {
		run.logger().Info("sources already ended in this run; repeating the end marker", "batches", batches)
		return ws, writeEnd(context.Background(), run.Transport, out.topic, batches)
	}
	prod := newProducer(run.Transport, run.CarryRejects, run.Workers)
	defer prod.close()
	var batches uint64
	link := &funcLink{send: func(ctx context.Context, b *flow.Batch) error {
		batches = max(batches, b.Seq+1)
		return prod.sendBatch(ctx, out, identity{batch: b.Seq, of: 1}, b, indexPos, func() {})
	}}
	stopReport := ws.reportEvery(run.Report, prod, nil)
	err = runSourcesThen(ctx, plan, tail, run.Workers, link, ws)
	if ferr := prod.flush(); err == nil {
		err = ferr
	}
	if err != nil {
		stopReport()
		ctl.fail(SourcesStep, err)
		return ws, err
	}
	bg := context.Background()
	if err := ctl.publish(bg, controlEvent{Step: SourcesStep, Event: "ended", Partition: 0, Batches: batches}); err != nil {
		stopReport()
		return ws, err
	}
	err = writeEnd(bg, run.Transport, out.topic, batches)
	stopReport()
	return ws, err
}

// runSourcesThen reads plan's sources and sends their batches on out, after
// the chained stages tail (if any) ran on them in this process.
func runSourcesThen(ctx context.Context, plan flow.Plan, tail []flow.NamedStage, workers int, out flow.Link, ws *WorkerStats) error {
	if len(tail) == 0 {
		stats, err := flow.RunSources(ctx, plan, out)
		ws.addRun(stats)
		return err
	}
	mid, err := flow.MemoryTransport{}.NewLink(SourcesStep, tail[0].Name)
	if err != nil {
		return err
	}
	// An interrupt stops the reading; what was read still goes through the
	// stages (their context is not ctx), so the run ends cleanly with it.
	stagesCtx, stopStages := context.WithCancel(context.Background())
	defer stopStages()
	readCtx, stopReading := context.WithCancel(ctx)
	defer stopReading()
	var sourcesErr error
	read := make(chan struct{})
	go func() {
		defer close(read)
		stats, err := flow.RunSources(readCtx, plan, mid)
		ws.addRun(stats)
		sourcesErr = err
	}()
	stats, stagesErr := flow.RunStages(stagesCtx, flow.Plan{Pipeline: plan.Pipeline, Stages: tail, Workers: workers, Logger: plan.Logger}, mid, out)
	ws.addRun(stats)
	if stagesErr != nil {
		// The sources may still be sending: stop them, and take what they
		// send until they end.
		stopReading()
		go func() {
			for {
				if _, err := mid.Recv(context.Background()); err != nil {
					return
				}
			}
		}()
	}
	<-read
	return errors.Join(sourcesErr, stagesErr)
}

func indexPos(_ *flow.Record, i int) uint64 { return uint64(i) }

// funcLink is a sending link made of a function.
type funcLink struct {
	send func(context.Context, *flow.Batch) error
}

func (l *funcLink) Send(ctx context.Context, b *flow.Batch) error { return l.send(ctx, b) }
func (l *funcLink) CloseSend()                                    {}
func (l *funcLink) Recv(context.Context) (*flow.Batch, error) {
	return nil, fmt.Errorf("funcLink only sends")
}

// RunSinks reads the sinks topic from its start, restores the batches'
// order, drops frames delivered twice, and writes plan's sinks and rejects
// sink; the sinks are closed when the stream ends, so a sinks worker that
// is restarted simply writes its outputs again from the start. There is one
// sinks worker per run.
func RunSinks(ctx context.Context, run *Run, plan flow.Plan) (*WorkerStats, error) {
	ws := newWorkerStats(SinksStep, run.worker())
	cctx, stopControl := context.WithCancel(context.Background())
	defer stopControl()
	ctl, err := run.start(cctx)
	if err != nil {
		return ws, err
	}
	defer ctl.close()

	t := run.Transport
	topic := t.Topic(SinksStep)
	reader := t.partitionReader(topic, 0)
	var ended atomic.Bool // the stream's end marker was read
	defer func() { closeDrained(reader, ended.Load()) }()
	in := make(chan *flow.Batch, 4)
	readCtx, stopRead := context.WithCancelCause(ctx)
	defer stopRead(nil)
	go func() {
		// A failed worker anywhere ends the run.
		for {
			if err := ctl.state.failure(); err != nil {
				stopRead(err)
				return
			}
			select {
			case <-ctl.state.wait():
			case <-readCtx.Done():
				return
			}
		}
	}()
	var readErr error
	go func() {
		defer close(in)
		g := newGatherer(run.stageOrder())
		for {
			m, err := reader.FetchMessage(readCtx)
			if err != nil {
				readErr = fmt.Errorf("kafka: reading %s: %w", topic, context.Cause(readCtx))
				return
			}
			ws.observe(m)
			f, err := decodeFrame(m.Value)
			if err != nil {
				readErr = fmt.Errorf("kafka: %s partition 0 offset %d: %w", topic, m.Offset, err)
				return
			}
			if f.kind == kindEnd {
				if err := g.end(f.batches); err != nil {
					readErr = fmt.Errorf("kafka: %s: %w", topic, err)
				}
				ended.Store(true)
				return
			}
			if !g.add(f, msgKey{0, m.Offset}) {
				ws.dupFrames.Add(1)
				continue
			}
			for {
				gb, ok := g.release()
				if !ok {
					break
				}
				select {
				case in <- gb.batch:
				case <-readCtx.Done():
					readErr = context.Cause(readCtx)
					return
				}
			}
		}
	}()
	link := &chanLink{in: in, err: func() error { return readErr }}
	stopReport := ws.reportEvery(run.Report, nil, reader)
	stats, err := flow.RunSinks(ctx, plan, link)
	ws.addRun(stats)
	if err == nil && readErr == nil && ctx.Err() == nil {
		// Every stage is complete: the reports of stages that ran on
		// several workers can be put together.
		err = mergeReports(ctx, run)
	}
	stopReport()
	if readErr != nil {
		err = readErr
		ctl.fail(SinksStep, err)
	}
	return ws, err
}

// chanLink receives batches from a channel; a closed channel is the end of
// the input, or the failure err reports.
type chanLink struct {
	in  chan *flow.Batch
	err func() error
}

func (l *chanLink) Recv(ctx context.Context) (*flow.Batch, error) {
	select {
	case b, ok := <-l.in:
		if !ok {
			if err := l.err(); err != nil {
				return nil, err
			}
			return nil, io.EOF
		}
		return b, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}
func (l *chanLink) Send(context.Context, *flow.Batch) error { return nil }
func (l *chanLink) CloseSend()                              {}

// waitComplete blocks until every partition of step's input has ended (the
// step is complete), a worker failed, or ctx ends.
func waitComplete(ctx context.Context, ctl *control, step string, partitions int) (uint64, error) {
	for {
		if err := ctl.state.failure(); err != nil {
			return 0, err
		}
		if ok, batches := ctl.state.complete(step, partitions); ok {
			return batches, nil
		}
		select {
		case <-ctl.state.wait():
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
}
