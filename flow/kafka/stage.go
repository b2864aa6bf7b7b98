package kafka

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"

	kgo "github.com/segmentio/kafka-go"

	"github.com/corpusflow/corpusflow/flow"
)

// RunStage runs the stage called name as one member of its consumer group:
// it consumes its share of the stage's input topic, runs the stage, produces
// to the next topic, and commits input offsets only once the output built
// from them is acknowledged. It returns when the whole step is complete
// (every partition of its input reached its end marker, whichever worker
// owned it), after writing the end marker for the next step, or when any
// worker of the run failed. Start as many as there are partitions; more
// stand by and take over partitions from workers that die.
func RunStage(ctx context.Context, run *Run, name string) (*WorkerStats, error) {
	idx := run.stageIndex(name)
	if idx < 0 {
		return nil, fmt.Errorf("the pipeline has no stage %q (stages: %v)", name, run.Steps()[:len(run.Stages)])
	}
	ws := newWorkerStats(name, run.worker())
	// One instance tells how records reach this stage; it then serves the
	// first lane, so a stage with a costly build (a test-set index) is built
	// once per lane, not more.
	tmpl, err := run.Stages[idx].New()
	if err != nil {
		return ws, err
	}
	self := run.routeOf(run.Stages[idx].Name, tmpl.Stage)
	_, emitter := tmpl.Stage.(flow.Emitter)
	_, reporter := tmpl.Stage.(flow.PartialReporter)
	if self.mode == bucketed && emitter {
		return ws, fmt.Errorf("stage %s: a bucketed stage cannot emit new records", name)
	}
	if run.Transport.Chain && Chainable(tmpl.Stage) {
		return ws, fmt.Errorf("stage %s runs in the worker of the step before it (the transport chains stateless stages: chain: true); start workers for the other steps only", name)
	}
	// The chained stages after it run where its decisions are made: in its
	// lanes, or a bucketed stage's joiner's.
	tail, out, err := run.chainFrom(idx+1, run.Transport.Chain)
	if err != nil {
		return ws, err
	}
	cctx, stopControl := context.WithCancel(context.Background())
	defer stopControl()
	ctl, err := run.start(cctx, joinSteps(self, out)...)
	if err != nil {
		return ws, err
	}
	defer ctl.close()

	newWorker := func(step string, self, out route, role stageRole, tmpl *flow.NamedStage, ws *WorkerStats) *stageWorker {
		w := &stageWorker{template: tmpl, role: role, reporter: reporter && role == roleStage,
			run: run, name: step, step: run.Stages[idx], self: self, out: out, ctl: ctl, ws: ws,
			emitter: emitter, logger: run.logger().With("stage", step, "worker", run.worker()),
			trackers: map[int]*offsetTracker{}, lanes: map[int]*lane{}, eos: map[int]int64{}, eosBatches: map[int]uint64{}, ending: map[int]bool{},
		}
		if role != roleOwner {
			w.tailFrom, w.tailLen, w.tailTemplate = idx+1, len(tail), tail
		}
		return w
	}
	if self.mode != bucketed {
		err = newWorker(name, self, out, roleStage, &tmpl, ws).consumeStep(ctx)
		if err != nil && !errors.Is(err, context.Canceled) {
			ctl.fail(name, err)
		}
		return ws, err
	}
	// A bucketed stage: this worker is one of the owners of the buckets, and
	// one of the candidates for the joiner (one joiner works at a time, the
	// others stand by); see flow.BucketPartitioner.
	join := joinStep(name)
	joinIn := route{step: join, topic: self.joinTopic, mode: single, partitions: self.partitions}
	toJoin := route{step: join, topic: self.joinTopic, mode: answers, partitions: self.partitions}
	ws.Join = newWorkerStats(join, run.worker())
	var wg sync.WaitGroup
	var ownerErr, joinErr error
	wg.Add(2)
	go func() {
		defer wg.Done()
		ownerErr = newWorker(name, self, toJoin, roleOwner, &tmpl, ws).consumeStep(ctx)
		if ownerErr != nil && !errors.Is(ownerErr, context.Canceled) {
			ctl.fail(name, ownerErr)
		}
	}()
	go func() {
		defer wg.Done()
		joinErr = newWorker(join, joinIn, out, roleJoiner, nil, ws.Join).consumeStep(ctx)
		if joinErr != nil && !errors.Is(joinErr, context.Canceled) {
			ctl.fail(join, joinErr)
		}
	}()
	wg.Wait()
	return ws, errors.Join(ownerErr, joinErr)
}

// stageRole is what a stage worker does for its stage.
type stageRole int

const (
	roleStage  stageRole = iota // runs the stage
	roleOwner                   // a bucketed stage's owner: answers probes
	roleJoiner                  // a bucketed stage's joiner: decides
)

// joinSuffix names a bucketed stage's join step (and topic, and group).
const joinSuffix = ".join"

func joinStep(stage string) string { return stage + joinSuffix }

// joinSteps lists the join steps the routes use, for creating their topics.
func joinSteps(routes ...route) []string {
	var steps []string
	for _, r := range routes {
		if r.mode == bucketed {
			steps = append(steps, joinStep(r.step))
		}
	}
	return steps
}

type stageWorker struct {
	run       *Run
	name      string
	step      Step
	self      route // how records reach this stage
	out       route
	ctl       *control
	ws        *WorkerStats
	emitter   bool
	role      stageRole
	reporter  bool // the stage is a flow.PartialReporter (reports.go)
	logger    *slog.Logger
	reader    *kgo.Reader
	committer *committer
	// template is a built instance not yet given to a lane.
	template *flow.NamedStage
	// The chained stages that run after the stage in its lanes
	// (Config.Chain): Stages[tailFrom:tailFrom+tailLen]; tailTemplate are
	// built instances not yet given to a lane.
	tailFrom, tailLen int
	tailTemplate      []flow.NamedStage
	prod              *producer

	ctx        context.Context // cancelled when the step is complete or failed
	fail       context.CancelCauseFunc
	parent     context.Context
	mu         sync.Mutex
	trackers   map[int]*offsetTracker // stateless: per partition
	lanes      map[int]*lane          // ordered: per partition
	eos        map[int]int64          // stateless: offset of a partition's end marker
	eosBatches map[int]uint64
	ending     map[int]bool // stateless: the partition's end is being published
	stateless  *lane
	lanesWG    sync.WaitGroup
}

func (w *stageWorker) consumeStep(parent context.Context) error {
	t := w.run.Transport
	if ok, batches := w.ctl.state.complete(w.name, t.Partitions); ok {
		w.logger.Info("stage already complete in this run; repeating the end marker")
		return w.writeEnds(batches)
	}
	ctx, fail := context.WithCancelCause(parent)
	defer fail(nil)
	w.ctx, w.fail, w.parent = ctx, fail, parent
	w.reader = t.groupReader(w.name)
	complete := false
	defer func() { closeDrained(w.reader, complete) }()
	w.committer = newCommitter(w.reader, w.self.topic, w.logger)
	commitCtx, stopCommits := context.WithCancel(context.Background())
	commitsDone := make(chan struct{})
	go func() {
		defer close(commitsDone)
		w.committer.run(commitCtx)
	}()
	defer func() {
		stopCommits()
		<-commitsDone
	}()
	w.prod = newProducer(t, w.run.CarryRejects, w.run.Workers)
	defer w.prod.close()
	stopReport := w.ws.reportEvery(w.run.Report, w.prod, w.reader)
	defer stopReport()

	// The step is complete when every partition has ended, whoever owned it.
	completeErr := make(chan error, 1)
	var inBatches uint64
	go func() {
		b, err := waitComplete(ctx, w.ctl, w.name, t.Partitions)
		inBatches = b
		if err == nil {
			w.abandonOpenLanes()
		}
		completeErr <- err
		if err != nil {
			fail(err)
		} else {
			fail(errComplete)
		}
	}()

	if w.self.mode == spread {
		sts, err := w.newStages()
		if err != nil {
			return err
		}
		w.stateless = newLane(parent, -1, 0, 0, false, nil)
		w.startLane(w.stateless, sts)
	}
	fetchErr := w.consume(ctx)
	if fetchErr != nil {
		fail(fetchErr) // also ends the wait for completion
	}
	if w.stateless != nil {
		close(w.stateless.in)
	}
	w.lanesWG.Wait()
	waitErr := <-completeErr
	var err error
	switch cause := context.Cause(ctx); {
	case fetchErr != nil:
		err = fetchErr
	case cause != nil && !errors.Is(cause, errComplete) && !errors.Is(cause, context.Canceled):
		err = cause // a lane failed, or another worker of the run did
	case waitErr != nil:
		err = waitErr
	}
	if err == nil {
		err = w.laneErrors()
	}
	if ferr := w.prod.flush(); err == nil {
		err = ferr
	}
	if err != nil {
		return err
	}
	complete = true
	return w.writeEnds(inBatches)
}

// writeEnds ends the step's output: its report parts, then the stream to
// the next step (whose end the sinks wait for, so the report parts are all
// there when the sinks worker merges them).
func (w *stageWorker) writeEnds(inBatches uint64) error {
	t := w.run.Transport
	if w.reporter {
		if err := writeReportEnd(context.Background(), t, w.name); err != nil {
			return err
		}
	}
	return writeEnd(context.Background(), t, w.out.topic, w.outBatches(inBatches))
}

var errComplete = errors.New("step complete")

// outBatches is the length of the output stream: an Emitter adds one batch,
// the records it flushes at the end.
func (w *stageWorker) outBatches(in uint64) uint64 {
	if w.emitter {
		return in + 1
	}
	return in
}

func (w *stageWorker) laneErrors() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	var errs []error
	all := []*lane{w.stateless}
	for _, l := range w.lanes {
		all = append(all, l)
	}
	for _, l := range all {
		if l != nil && l.err != nil && !l.abandoned.Load() {
			errs = append(errs, l.err)
		}
	}
	return errors.Join(errs...)
}

// consume dispatches consumed messages until the step is complete.
func (w *stageWorker) consume(ctx context.Context) error {
	for {
		m, err := w.reader.FetchMessage(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("kafka: consuming %s: %w", w.self.topic, err)
		}
		w.ws.observe(m)
		if w.ctl.state.partitionEnded(w.name, m.Partition) {
			continue // a late duplicate after the partition's end marker
		}
		f, err := decodeFrame(m.Value)
		if err != nil {
			return fmt.Errorf("kafka: %s partition %d offset %d: %w", w.self.topic, m.Partition, m.Offset, err)
		}
		key := msgKey{m.Partition, m.Offset}
		if w.self.mode == spread {
			err = w.dispatchStateless(ctx, f, key)
		} else {
			err = w.dispatchOrdered(ctx, f, key)
		}
		if err != nil {
			if ctx.Err() != nil {
				// The step completed (or failed elsewhere) while this frame
				// was being dispatched, e.g. during a take-over's replay;
				// consumeStep reports the cause.
				return nil
			}
			return err
		}
	}
}

func (w *stageWorker) tracker(p int) *offsetTracker {
	w.mu.Lock()
	defer w.mu.Unlock()
	t := w.trackers[p]
	if t == nil {
		t = newOffsetTracker()
		w.trackers[p] = t
		if w.self.mode == spread {
			w.logger.Info("owning partition", "partition", p)
		}
	}
	return t
}

// dispatchStateless hands a frame to the worker's one stateless lane.
func (w *stageWorker) dispatchStateless(ctx context.Context, f *frame, key msgKey) error {
	p := key.partition
	tr := w.tracker(p)
	if key.offset <= tr.lastReceived() {
		return nil // redelivered after a rebalance; already in this process
	}
	w.mu.Lock()
	_, afterEnd := w.eos[p]
	w.mu.Unlock()
	if afterEnd {
		return nil // every worker of the step before writes an end marker; the first counts
	}
	tr.received(key.offset)
	if f.kind == kindEnd {
		w.mu.Lock()
		w.eos[p] = key.offset
		w.eosBatches[p] = f.batches
		w.mu.Unlock()
		w.maybeEndStateless(p, tr)
		return nil
	}
	select {
	case w.stateless.in <- ticketOf(f, key):
		return nil
	case <-ctx.Done():
		return nil
	}
}

// maybeEndStateless ends partition p once everything before its end marker
// is done: publish the event first, then commit past the marker.
func (w *stageWorker) maybeEndStateless(p int, tr *offsetTracker) {
	w.mu.Lock()
	eos, ok := w.eos[p]
	batches := w.eosBatches[p]
	started := w.ending[p]
	w.mu.Unlock()
	if !ok || started || tr.pendingBefore(eos) {
		return
	}
	w.mu.Lock()
	if w.ending[p] {
		w.mu.Unlock()
		return
	}
	w.ending[p] = true
	w.mu.Unlock()
	go w.endPartition(p, eos, batches, tr)
}

func (w *stageWorker) endPartition(p int, eos int64, batches uint64, tr *offsetTracker) {
	if err := w.ctl.publish(w.ctx, controlEvent{Step: w.name, Event: "ended", Partition: p, Batches: batches}); err != nil {
		if w.ctx.Err() == nil {
			w.fail(err)
		}
		return
	}
	if next := tr.finish(eos); next >= 0 {
		w.committer.commit(p, next)
	}
	w.logger.Debug("partition ended", "partition", p, "batches", batches)
}

// ack marks a ticket's messages done and commits what that allows.
func (w *stageWorker) ack(l *lane, t *ticket) {
	for _, k := range t.keys {
		tr := l.tracker
		if l.partition < 0 {
			tr = w.tracker(k.partition)
		}
		if next := tr.finish(k.offset); next >= 0 {
			w.committer.commit(k.partition, next)
		}
		if l.partition < 0 {
			w.maybeEndStateless(k.partition, tr)
		}
	}
}

// send produces the output of one batch of a lane.
func (w *stageWorker) send(l *lane, t *ticket, b *flow.Batch) error {
	var id identity
	pos := indexPos
	switch {
	case t == nil: // the records an Emitter flushed at the end
		id = identity{batch: l.flushBatch, part: l.index, of: l.count}
		l.flushSent = true
	case w.role == roleOwner:
		// The joiner gathers the sender's parts of the batch (numbered
		// from 0) and one part per owner after them.
		id = identity{batch: t.batch.Seq, part: t.want + l.index, of: t.want + l.count}
	case l.ordered:
		id = identity{batch: t.batch.Seq, part: l.index, of: l.count}
	default:
		id = t.id
	}
	if t != nil {
		pos = func(r *flow.Record, i int) uint64 {
			if p, ok := t.pos[r]; ok {
				return p
			}
			return uint64(i)
		}
	}
	l.inFlight.Add(1)
	onAck := func() { l.inFlight.Done() }
	if t != nil {
		onAck = func() {
			w.ack(l, t)
			l.inFlight.Done()
		}
	}
	if l.reporter == nil {
		return w.prod.sendFrames(l.ctx, w.out, id, b, pos, l.takeAnswers, onAck)
	}
	// The batch's report part travels too; its input is done when both are.
	var left atomic.Int32
	left.Store(2)
	both := func() {
		if left.Add(-1) == 0 {
			onAck()
		}
	}
	if err := w.prod.sendFrames(l.ctx, w.out, id, b, pos, l.takeAnswers, both); err != nil {
		return err
	}
	return w.sendReportPart(l.ctx, l, id, b, both)
}

// startLane runs RunStages for a lane until its input closes: the step's
// stage (sts[0]) and the stages chained after it.
func (w *stageWorker) startLane(l *lane, sts []flow.NamedStage) {
	st := sts[0]
	if pr, ok := st.Stage.(flow.PartialReporter); ok && w.reporter {
		pr.KeepReportParts()
		l.reporter = pr
	}
	if kp, ok := st.Stage.(flow.KeyedProcessor); ok && l.ordered {
		if _, emits := st.Stage.(flow.Emitter); !emits {
			st.Stage = &keyedStage{Stage: st.Stage, kp: kp, l: l}
		}
	}
	if bp, ok := st.Stage.(flow.BucketPartitioner); ok {
		switch w.role {
		case roleOwner:
			// Its counts are probes, not documents: keep them apart.
			st.Name += ".buckets"
			st.Stage = &bucketOwnerStage{index: bp.NewBucketIndex(), l: l}
		case roleJoiner:
			st.Stage = &bucketJoinStage{Stage: st.Stage, bp: bp, l: l}
		}
	}
	plan := flow.Plan{Pipeline: w.run.Transport.TopicPrefix, Stages: append([]flow.NamedStage{st}, sts[1:]...), Workers: w.run.Workers, Logger: w.logger}
	if l.ordered && len(sts) == 1 {
		plan.Workers = 1 // one ordered stage: nothing for more goroutines to do
	}
	w.lanesWG.Add(1)
	go func() {
		defer w.lanesWG.Done()
		defer close(l.done)
		stats, err := flow.RunStages(l.ctx, plan, laneIn{l}, laneOut{l: l, send: w.send})
		w.ws.addRun(stats)
		if l.abandoned.Load() {
			return
		}
		if err != nil {
			l.err = fmt.Errorf("stage %s: %w", w.name, err)
			w.fail(l.err)
			return
		}
		if l.ordered && l.partition >= 0 && l.flushReady() {
			w.finishOrderedLane(l)
		}
	}()
}

// flushReady reports whether the lane's input ended at an end marker (not
// because the worker is stopping).
func (l *lane) flushReady() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.endOffset >= 0
}

// abandonOpenLanes stops the lanes still waiting for input when the step is
// complete: their partitions were finished by other workers.
func (w *stageWorker) abandonOpenLanes() {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, l := range w.lanes {
		l.mu.Lock()
		open := l.endOffset < 0
		l.mu.Unlock()
		if open {
			l.abandoned.Store(true)
			l.cancel()
		}
	}
}

// laneIndex says whether partition p has an ordered lane, and its output
// identity.
func (w *stageWorker) laneIndex(p int) (index, count uint64, ok bool) {
	if w.self.mode == keyed || w.self.mode == bucketed {
		return uint64(p), uint64(w.run.Transport.Partitions), true
	}
	if p == 0 {
		return 0, 1, true
	}
	return 0, 0, false
}

// dispatchOrdered hands a frame to its partition's ordered lane, creating
// the lane (and rebuilding its state) when this worker starts owning the
// partition.
func (w *stageWorker) dispatchOrdered(ctx context.Context, f *frame, key msgKey) error {
	p := key.partition
	index, count, isLane := w.laneIndex(p)
	if !isLane {
		// Without a partition key only partition 0 carries data; the others
		// get just their end marker.
		if f.kind != kindEnd {
			return fmt.Errorf("kafka: %s partition %d offset %d: a data frame where only partition 0 carries data (stage %s has no partition key); was the topic written by another pipeline? use a new topic_prefix", w.self.topic, p, key.offset, w.name)
		}
		tr := w.tracker(p)
		w.mu.Lock()
		first := !w.ending[p]
		w.ending[p] = true
		w.mu.Unlock()
		if first {
			tr.received(key.offset)
			go w.endPartition(p, key.offset, f.batches, tr)
		}
		return nil
	}
	w.mu.Lock()
	l := w.lanes[p]
	w.mu.Unlock()
	if l != nil {
		l.mu.Lock()
		ended := l.endOffset >= 0
		l.mu.Unlock()
		if ended || key.offset <= l.last {
			return nil // redelivered, or after the end
		}
	}
	if l == nil || key.offset > l.last+1 {
		if l != nil {
			// Another worker processed this partition meanwhile: this lane's
			// state is stale.
			l.abandoned.Store(true)
			l.cancel()
		}
		var err error
		if l, err = w.newOrderedLane(ctx, p, index, count, key.offset); err != nil {
			return err
		}
	}
	l.last = key.offset
	l.tracker.received(key.offset)
	if f.kind == kindEnd {
		if err := l.gather.end(f.batches); err != nil {
			return fmt.Errorf("kafka: stage %s partition %d: %w", w.name, p, err)
		}
		l.mu.Lock()
		l.endOffset = key.offset
		l.flushBatch = f.batches
		l.mu.Unlock()
		close(l.in)
		return nil
	}
	if !l.gather.add(f, key) {
		w.ws.dupFrames.Add(1)
		if next := l.tracker.finish(key.offset); next >= 0 {
			w.committer.commit(p, next)
		}
		return nil
	}
	return w.release(ctx, l, false)
}

// release hands the lane every batch the gatherer can release.
func (w *stageWorker) release(ctx context.Context, l *lane, suppress bool) error {
	for {
		g, ok := l.gather.release()
		if !ok {
			return nil
		}
		if g.err != nil {
			return fmt.Errorf("kafka: stage %s partition %d: %w", w.name, l.partition, g.err)
		}
		t := ticketOfGathered(g, suppress)
		l.putSide(t)
		select {
		case l.in <- t:
		case <-ctx.Done():
			return nil
		}
	}
}

// newOrderedLane starts a lane for partition p with a fresh stage instance.
// When the partition's history before offset upTo was processed by another
// worker, that history is replayed through the stage with its output
// suppressed (it was produced and acknowledged before the commit), so the
// stage's state is the one the other worker had.
func (w *stageWorker) newOrderedLane(ctx context.Context, p int, index, count uint64, upTo int64) (*lane, error) {
	sts, err := w.newStages()
	if err != nil {
		return nil, fmt.Errorf("building stage %s for partition %d: %w", w.name, p, err)
	}
	l := newLane(w.parent, p, index, count, true, w.run.stageOrder())
	w.mu.Lock()
	w.lanes[p] = l
	w.mu.Unlock()
	w.startLane(l, sts)
	w.logger.Info("owning partition", "partition", p, "from_offset", upTo)
	if upTo <= 0 {
		return l, nil
	}
	w.ws.rebuilds.Add(1)
	w.logger.Info("taking over a partition: replaying its history to rebuild the stage's state", "partition", p, "messages", upTo)
	r := w.run.Transport.partitionReader(w.self.topic, p)
	replayed := false
	defer func() { closeDrained(r, replayed) }()
	for {
		m, err := r.FetchMessage(ctx)
		if err != nil {
			return nil, fmt.Errorf("kafka: replaying %s partition %d: %w", w.self.topic, p, err)
		}
		if m.Offset >= upTo {
			replayed = true
			return l, nil
		}
		w.ws.replayed.Add(1)
		f, err := decodeFrame(m.Value)
		if err != nil {
			return nil, fmt.Errorf("kafka: %s partition %d offset %d: %w", w.self.topic, p, m.Offset, err)
		}
		if f.kind == kindEnd {
			return nil, fmt.Errorf("kafka: %s partition %d: end marker at offset %d before the committed offset %d, but the partition never ended", w.self.topic, p, m.Offset, upTo)
		}
		l.gather.add(f, msgKey{p, m.Offset})
		if err := w.release(ctx, l, true); err != nil {
			return nil, err
		}
		if m.Offset == upTo-1 {
			replayed = true
			return l, nil
		}
	}
}

// finishOrderedLane ends a partition after its lane's stage finished: the
// records an Emitter flushed are produced (an empty frame if none, so the
// next step knows the batch count), then the partition is marked ended.
func (w *stageWorker) finishOrderedLane(l *lane) {
	if w.emitter && !l.flushSent {
		if err := w.send(l, nil, &flow.Batch{}); err != nil {
			w.fail(err)
			return
		}
	}
	l.inFlight.Wait()
	if err := w.prod.failed(); err != nil {
		w.fail(err)
		return
	}
	l.mu.Lock()
	eos, batches := l.endOffset, l.flushBatch
	l.mu.Unlock()
	w.endPartition(l.partition, eos, batches, l.tracker)
}

// newStages returns the stage and its chained tail for a lane: the template
// instances the first time, then fresh ones.
func (w *stageWorker) newStages() ([]flow.NamedStage, error) {
	w.mu.Lock()
	t, tail := w.template, w.tailTemplate
	w.template, w.tailTemplate = nil, nil
	w.mu.Unlock()
	if t == nil {
		st, err := w.step.New()
		if err != nil {
			return nil, err
		}
		t = &st
	}
	if tail == nil && w.tailLen > 0 {
		var err error
		if tail, err = w.run.newTail(w.tailFrom, w.tailLen); err != nil {
			return nil, err
		}
	}
	return append([]flow.NamedStage{*t}, tail...), nil
}
