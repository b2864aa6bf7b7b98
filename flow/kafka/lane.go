package kafka

import (
	"context"
	"fmt"
	"io"
	"sync"
	"sync/atomic"

	"github.com/corpusflow/corpusflow/flow"
)

// A lane is one flow.RunStages between Kafka: batches come in from consumed
// frames and go out as produced frames. A stateless stage has one lane for
// all the partitions a worker owns; an order-dependent stage has one lane per
// owned partition, each with its own stage instance.
//
// RunStages sends one batch per batch received, in order (see flow/partial.go),
// so the lane pairs every sent batch with the ticket of the batch received at
// the same position, and acknowledges that ticket's Kafka messages only once
// the frames built from it are acknowledged by the brokers.
type lane struct {
	partition int // -1: every partition (stateless)
	index     uint64
	count     uint64 // lanes of the step: output identity (batch, index, count)
	ordered   bool

	in     chan *ticket
	mu     sync.Mutex
	fifo   []*ticket
	ctx    context.Context
	cancel context.CancelFunc

	abandoned atomic.Bool
	gather    *gatherer
	tracker   *offsetTracker
	last      int64 // highest offset of the partition given to this lane

	flushBatch uint64 // the input stream's batch count, set at its end
	flushSent  bool
	endOffset  int64 // offset of the end marker, -1 before it
	inFlight   sync.WaitGroup

	done  chan struct{}
	stats *flow.RunStats
	err   error

	keyMu    sync.Mutex
	partKeys map[*flow.Record]uint64 // keys of records handed in, not yet processed
	// A bucketed stage's owner lane: the buckets of probes handed in, and
	// the answers its index gave, until they are sent. Its joiner lane: the
	// answers of records handed in.
	buckets map[*flow.Record][]flow.BucketKey
	answers map[*flow.Record][]flow.BucketAnswer
	// reporter is the lane's stage when it sends report parts (reports.go).
	reporter flow.PartialReporter
	// stageErr is an error of the lane's stage wrapper (a corrupt probe),
	// which Process cannot return; the next send fails with it.
	stageErr error
}

// ticket is one batch handed to a lane.
type ticket struct {
	batch    *flow.Batch
	keys     []msgKey
	id       identity                // output identity (stateless lanes)
	pos      map[*flow.Record]uint64 // positions the records came with
	suppress bool                    // replayed: its output was already produced
	partKeys map[*flow.Record]uint64 // partition keys the sender computed
	want     uint64                  // parts the batch came in
	buckets  map[*flow.Record][]flow.BucketKey
	answers  map[*flow.Record][]flow.BucketAnswer
}

func newLane(parent context.Context, partition int, index, count uint64, ordered bool, stageOrder map[string]int) *lane {
	ctx, cancel := context.WithCancel(parent)
	l := &lane{partition: partition, index: index, count: count, ordered: ordered,
		in: make(chan *ticket, 4), ctx: ctx, cancel: cancel, tracker: newOffsetTracker(), last: -1, endOffset: -1, done: make(chan struct{})}
	if ordered {
		l.gather = newGatherer(stageOrder)
	}
	return l
}

// ticketOf turns a frame into a ticket for a stateless lane.
func ticketOf(f *frame, key msgKey) *ticket {
	t := &ticket{
		batch: &flow.Batch{Seq: f.batch, Records: make([]*flow.Record, len(f.records))},
		keys:  []msgKey{key},
		id:    identity{batch: f.batch, part: f.part, of: f.of},
		pos:   make(map[*flow.Record]uint64, len(f.records)+len(f.rejects)),
	}
	for i, pr := range f.records {
		t.batch.Records[i] = pr.r
		t.pos[pr.r] = pr.pos
	}
	for _, pj := range f.rejects {
		t.batch.Rejected = append(t.batch.Rejected, pj.rej)
		t.pos[pj.rej.Record] = pj.pos
	}
	return t
}

// ticketOfGathered turns a released batch into a ticket for an ordered
// lane. Records keep the positions they came with: they are consistent
// across all the parts of the batch, whichever worker sends them on.
func ticketOfGathered(g *gathered, suppress bool) *ticket {
	return &ticket{batch: g.batch, keys: g.keys, suppress: suppress, pos: g.pos, partKeys: g.partKeys,
		want: g.want, buckets: g.buckets, answers: g.answers}
}

// keyedStage lets a keyed stage decide from the partition key its sender
// computed (carried in the frame) instead of computing it again.
type keyedStage struct {
	flow.Stage
	kp flow.KeyedProcessor
	l  *lane
}

func (k *keyedStage) Sequential() {}

func (k *keyedStage) Process(r *flow.Record) string {
	if key, ok := k.l.takeKey(r); ok {
		return k.kp.ProcessKeyed(r, key)
	}
	return k.Stage.Process(r)
}

func (k *keyedStage) Finish(ctx context.Context) error {
	if f, ok := k.Stage.(flow.Finisher); ok {
		return f.Finish(ctx)
	}
	return nil
}

func (l *lane) putKeys(keys map[*flow.Record]uint64) {
	if len(keys) == 0 {
		return
	}
	l.keyMu.Lock()
	defer l.keyMu.Unlock()
	if l.partKeys == nil {
		l.partKeys = make(map[*flow.Record]uint64, len(keys))
	}
	for r, k := range keys {
		l.partKeys[r] = k
	}
}

// putSide records what a ticket's records came with (partition keys,
// buckets, answers) for the lane's stage wrapper to take.
func (l *lane) putSide(t *ticket) {
	l.putKeys(t.partKeys)
	if len(t.buckets) == 0 && len(t.answers) == 0 {
		return
	}
	l.keyMu.Lock()
	defer l.keyMu.Unlock()
	if l.buckets == nil {
		l.buckets = map[*flow.Record][]flow.BucketKey{}
		l.answers = map[*flow.Record][]flow.BucketAnswer{}
	}
	for r, b := range t.buckets {
		l.buckets[r] = b
	}
	for r, a := range t.answers {
		l.answers[r] = a
	}
}

func (l *lane) takeBuckets(r *flow.Record) []flow.BucketKey {
	l.keyMu.Lock()
	defer l.keyMu.Unlock()
	b := l.buckets[r]
	delete(l.buckets, r)
	return b
}

func (l *lane) putAnswers(r *flow.Record, a []flow.BucketAnswer) {
	l.keyMu.Lock()
	defer l.keyMu.Unlock()
	if l.answers == nil {
		l.answers = map[*flow.Record][]flow.BucketAnswer{}
	}
	l.answers[r] = a
}

func (l *lane) takeAnswers(r *flow.Record) []flow.BucketAnswer {
	l.keyMu.Lock()
	defer l.keyMu.Unlock()
	a := l.answers[r]
	delete(l.answers, r)
	return a
}

func (l *lane) failStage(err error) {
	l.keyMu.Lock()
	defer l.keyMu.Unlock()
	if l.stageErr == nil {
		l.stageErr = err
	}
}

func (l *lane) stageFailure() error {
	l.keyMu.Lock()
	defer l.keyMu.Unlock()
	return l.stageErr
}

// bucketOwner is a bucketed stage's owner role: its index answers the
// probes of the buckets this partition owns, in input order. Each probe
// record leaves with its answers; nothing is rejected here.
type bucketOwnerStage struct {
	index flow.BucketIndex
	l     *lane
}

func (o *bucketOwnerStage) Sequential() {}

func (o *bucketOwnerStage) Process(r *flow.Record) string {
	keys := o.l.takeBuckets(r)
	answers := make([]flow.BucketAnswer, 0, len(keys))
	for _, k := range keys {
		a, err := o.index.Probe(k, r.Seq())
		if err != nil {
			o.l.failStage(fmt.Errorf("input position %d: %w", r.Seq(), err))
			return ""
		}
		answers = append(answers, a)
	}
	o.l.putAnswers(r, answers)
	return ""
}

// bucketJoinStage is a bucketed stage's joiner role: it decides each record,
// in input order, from its owners' answers.
type bucketJoinStage struct {
	flow.Stage
	bp flow.BucketPartitioner
	l  *lane
}

func (j *bucketJoinStage) Sequential() {}

func (j *bucketJoinStage) Process(r *flow.Record) string {
	return j.bp.JoinBuckets(r, j.l.takeAnswers(r))
}

func (j *bucketJoinStage) Finish(ctx context.Context) error {
	if f, ok := j.Stage.(flow.Finisher); ok {
		return f.Finish(ctx)
	}
	return nil
}

func (l *lane) takeKey(r *flow.Record) (uint64, bool) {
	l.keyMu.Lock()
	defer l.keyMu.Unlock()
	k, ok := l.partKeys[r]
	if ok {
		delete(l.partKeys, r)
	}
	return k, ok
}

// laneIn is the lane's receiving link.
type laneIn struct{ l *lane }

func (in laneIn) Recv(ctx context.Context) (*flow.Batch, error) {
	select {
	case t, ok := <-in.l.in:
		if !ok {
			return nil, io.EOF
		}
		in.l.mu.Lock()
		in.l.fifo = append(in.l.fifo, t)
		in.l.mu.Unlock()
		return t.batch, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-in.l.ctx.Done():
		// The lane was abandoned; the engine may be draining its input with
		// a context that never ends.
		return nil, in.l.ctx.Err()
	}
}

func (in laneIn) Send(context.Context, *flow.Batch) error { return nil }
func (in laneIn) CloseSend()                              {}

// laneOut is the lane's sending link.
type laneOut struct {
	l    *lane
	send func(l *lane, t *ticket, b *flow.Batch) error
}

func (out laneOut) Send(ctx context.Context, b *flow.Batch) error {
	l := out.l
	l.mu.Lock()
	var t *ticket
	if len(l.fifo) > 0 {
		t = l.fifo[0]
		l.fifo = l.fifo[1:]
	}
	l.mu.Unlock()
	if l.abandoned.Load() {
		return nil
	}
	if t != nil && t.suppress {
		// Replayed to rebuild state: its output was delivered before; drop
		// what an owner answered for it.
		for _, r := range b.Records {
			l.takeAnswers(r)
		}
		if l.reporter != nil {
			_, _ = l.reporter.ReportPart(batchRecords(b)) // sent before, too
		}
		return nil
	}
	if err := l.stageFailure(); err != nil {
		return err
	}
	return out.send(l, t, b)
}

func (out laneOut) CloseSend()                                {}
func (out laneOut) Recv(context.Context) (*flow.Batch, error) { return nil, io.EOF }
