package kafka

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	kgo "github.com/segmentio/kafka-go"

	"github.com/corpusflow/corpusflow/flow"
)

// routeMode says how the frames of a batch reach the next step's partitions.
type routeMode int

const (
	// spread: a stateless stage; each frame goes whole to one partition
	// chosen by its batch and part, so the work spreads over the workers.
	spread routeMode = iota
	// single: an order-dependent stage without a key, or the sinks; every
	// frame goes to partition 0, read by one worker at a time.
	single
	// keyed: an order-dependent stage with a PartitionKey; every batch is
	// split into one frame per partition (empty ones included, so that each
	// partition's worker can tell when it has all of a batch).
	keyed
	// bucketed: a flow.BucketPartitioner. Every batch becomes one frame per
	// partition of the stage's topic, holding a probe (stub record and its
	// buckets) for each bucket the partition owns, and one frame with the
	// records themselves to the stage's join topic.
	bucketed
	// answers: from a bucketed stage's owners to its joiner; each frame
	// holds the answers for one partition's probes of a batch.
	answers
)

// route is where a step sends its output.
type route struct {
	step       string // the next step: a stage's name or "sinks"
	topic      string
	mode       routeMode
	partitions int
	key        func(*flow.Record) uint64
	// bucketed: the buckets of a record, and the topic of the joiner.
	buckets   func(*flow.Record, []flow.BucketKey) []flow.BucketKey
	joinTopic string
}

// identity names a frame within its stream.
type identity struct{ batch, part, of uint64 }

// outMessage travels with a produced message to the completion callback.
type outMessage struct {
	partition int
	done      func(error)
}

// producer sends frames asynchronously, at most MaxInFlight unacknowledged
// at once: beyond that Send waits, and the wait (back-pressure from the
// brokers) is counted.
type producer struct {
	w        *kgo.Writer
	compress string // "zstd" or "s2": frames are compressed here (compress.go)
	slots    chan struct{}
	inFlight sync.WaitGroup
	waitNS   atomic.Int64
	frames   atomic.Int64
	bytes    atomic.Int64
	errMu    sync.Mutex
	err      error
	carryRej bool
	workers  int // goroutines for computing partition keys
}

func newProducer(t *Transport, carryRejects bool, workers int) *producer {
	p := &producer{slots: make(chan struct{}, t.MaxInFlight), carryRej: carryRejects, workers: max(workers, 1)}
	if t.compressFrames() {
		p.compress = t.Compression
	}
	p.w = t.writer(func(msgs []kgo.Message, err error) {
		for _, m := range msgs {
			m.WriterData.(*outMessage).done(err)
		}
	})
	return p
}

func (p *producer) failed() error {
	p.errMu.Lock()
	defer p.errMu.Unlock()
	return p.err
}

// send produces one message; onAck runs once the broker has it.
func (p *producer) send(ctx context.Context, topic string, partition int, value []byte, onAck func()) error {
	return p.sendSized(ctx, topic, partition, value, nil, len(value), onAck)
}

// sendSized is send for a message whose size before compression was size.
// pooled, when not nil, holds value and goes back to messageBuffers once
// kafka-go is done with the message.
func (p *producer) sendSized(ctx context.Context, topic string, partition int, value []byte, pooled *[]byte, size int, onAck func()) error {
	if err := p.failed(); err != nil {
		return err
	}
	start := time.Now()
	select {
	case p.slots <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	p.waitNS.Add(int64(time.Since(start)))
	p.inFlight.Add(1)
	om := &outMessage{partition: partition}
	om.done = func(err error) {
		defer p.inFlight.Done()
		<-p.slots
		messageBuffers.put(pooled)
		if err != nil {
			p.errMu.Lock()
			if p.err == nil {
				p.err = fmt.Errorf("kafka: producing to %s partition %d: %w", topic, partition, err)
			}
			p.errMu.Unlock()
			return
		}
		p.frames.Add(1)
		p.bytes.Add(int64(size))
		onAck()
	}
	if err := p.w.WriteMessages(ctx, kgo.Message{Topic: topic, Value: value, WriterData: om}); err != nil {
		if ctx.Err() != nil {
			// The sender gave up (its lane was abandoned, or the worker is
			// stopping): not a failure of the brokers. Its input is not
			// acknowledged, so whoever owns it now redoes it. The value is
			// not put back: kafka-go may still hold it.
			p.inFlight.Done()
			<-p.slots
			return ctx.Err()
		}
		om.done(err)
		return err
	}
	return nil
}

// flush waits until every frame sent so far is acknowledged.
func (p *producer) flush() error {
	p.inFlight.Wait()
	return p.failed()
}

func (p *producer) close() error {
	err := p.w.Close()
	return errors.Join(err, p.failed())
}

// sendBatch encodes b as the frame(s) for id along r and calls onAck once all
// are acknowledged. pos gives each record's position as it came in (records
// a stage created get their index in b).
func (p *producer) sendBatch(ctx context.Context, r route, id identity, b *flow.Batch, pos func(*flow.Record, int) uint64, onAck func()) error {
	return p.sendFrames(ctx, r, id, b, pos, nil, onAck)
}

// sendFrames is sendBatch; answersOf gives the answers of each record for
// an answers route (a bucketed stage's owner).
func (p *producer) sendFrames(ctx context.Context, r route, id identity, b *flow.Batch, pos func(*flow.Record, int) uint64, answersOf func(*flow.Record) []flow.BucketAnswer, onAck func()) error {
	var frames []*frame
	var parts []int
	topics := []string{}
	switch r.mode {
	case bucketed:
		return p.sendBucketed(ctx, r, id, b, pos, onAck)
	case answers:
		f := &frame{kind: kindData, batch: id.batch, part: id.part, of: id.of, gather: id.of, flags: frameStub | frameAnswers}
		for i, rec := range b.Records {
			f.records = append(f.records, posRecord{pos: pos(rec, i), r: rec, answers: answersOf(rec)})
		}
		frames, parts = []*frame{f}, []int{0}
	case spread:
		f := &frame{kind: kindData, batch: id.batch, part: id.part, of: id.of}
		frames, parts = []*frame{f}, []int{int((id.batch*31 + id.part) % uint64(r.partitions))}
	case single:
		f := &frame{kind: kindData, batch: id.batch, part: id.part, of: id.of, gather: id.of}
		frames, parts = []*frame{f}, []int{0}
	case keyed:
		n := uint64(r.partitions)
		for j := 0; j < r.partitions; j++ {
			frames = append(frames, &frame{kind: kindData, batch: id.batch, part: id.part*n + uint64(j), of: id.of * n, gather: id.of, keyed: true})
			parts = append(parts, j)
		}
	}
	var keys []uint64
	if r.mode == keyed {
		keys = p.partitionKeys(r, b.Records)
	}
	for i, rec := range b.Records {
		f, key := frames[0], uint64(0)
		if r.mode == keyed {
			key = keys[i]
			f = frames[key%uint64(r.partitions)]
		}
		f.records = append(f.records, posRecord{pos: pos(rec, i), r: rec, key: key})
	}
	if p.carryRej {
		for i, rej := range b.Rejected {
			frames[0].rejects = append(frames[0].rejects, posRejection{pos: pos(rej.Record, i), rej: rej})
		}
	}
	for range frames {
		topics = append(topics, r.topic)
	}
	return p.sendAll(ctx, id, frames, topics, parts, onAck)
}

// sendAll produces frames (frame i to topics[i], partition parts[i]) and
// calls onAck once all are acknowledged.
func (p *producer) sendAll(ctx context.Context, id identity, frames []*frame, topics []string, parts []int, onAck func()) error {
	var left atomic.Int64
	left.Store(int64(len(frames)))
	ack := func() {
		if left.Add(-1) == 0 {
			onAck()
		}
	}
	for i, f := range frames {
		value, pooled, size, err := p.encode(f)
		if err != nil {
			return fmt.Errorf("encoding batch %d: %w", id.batch, err)
		}
		if err := p.sendSized(ctx, topics[i], parts[i], value, pooled, size, ack); err != nil {
			return err
		}
	}
	return nil
}

// encode makes a frame's message value, compressed when the producer
// compresses frames; size is the encoded size before compression. The
// value lives in pooled, a buffer from messageBuffers.
func (p *producer) encode(f *frame) (value []byte, pooled *[]byte, size int, err error) {
	hint := frameSizeHint(f)
	if p.compress == "" {
		pooled = messageBuffers.get(hint)
		if value, err = appendFrame(*pooled, f); err != nil {
			messageBuffers.put(pooled)
			return nil, nil, 0, err
		}
		*pooled = value
		return value, pooled, len(value), nil
	}
	buf := frameBuffers.get(hint)
	defer frameBuffers.put(buf)
	raw, err := appendFrame(*buf, f)
	if err != nil {
		return nil, nil, 0, err
	}
	*buf = raw
	pooled = messageBuffers.get(len(raw)/2 + 64)
	value = compressFrame(*pooled, raw, p.compress)
	*pooled = value
	return value, pooled, len(raw), nil
}

// sendBucketed sends a batch to a bucketed stage: a probe frame to every
// partition of its topic (each owner gets the buckets it holds, and must
// hear of every batch, so empty frames are sent too) and the records to
// its join topic, where the owners' answers join them. The join frame and
// the owners' answer frames share the batch's part numbers: the sender's
// parts first, then one per owner partition.
func (p *producer) sendBucketed(ctx context.Context, r route, id identity, b *flow.Batch, pos func(*flow.Record, int) uint64, onAck func()) error {
	n := uint64(r.partitions)
	frames := make([]*frame, 0, r.partitions+1)
	topics := make([]string, 0, r.partitions+1)
	parts := make([]int, 0, r.partitions+1)
	for j := 0; j < r.partitions; j++ {
		frames = append(frames, &frame{kind: kindData, batch: id.batch, part: id.part*n + uint64(j), of: id.of * n, gather: id.of, flags: frameStub | frameBuckets})
		topics, parts = append(topics, r.topic), append(parts, j)
	}
	join := &frame{kind: kindData, batch: id.batch, part: id.part, of: id.of + n, gather: id.of + n, flags: frameNAnswers}
	frames, topics, parts = append(frames, join), append(topics, r.joinTopic), append(parts, 0)

	buckets := p.bucketKeys(r, b.Records)
	for i, rec := range b.Records {
		at := pos(rec, i)
		keys := buckets[i]
		join.records = append(join.records, posRecord{pos: at, r: rec, nAnswers: len(keys)})
		// Group the record's buckets by owner: one probe per owner.
		for len(keys) > 0 {
			owner := bucketOwner(keys[0], r.partitions)
			var mine []flow.BucketKey
			rest := keys[:0:0]
			for _, k := range keys {
				if bucketOwner(k, r.partitions) == owner {
					mine = append(mine, k)
				} else {
					rest = append(rest, k)
				}
			}
			f := frames[owner]
			f.records = append(f.records, posRecord{pos: at, r: rec, buckets: mine})
			keys = rest
		}
	}
	if p.carryRej {
		for i, rej := range b.Rejected {
			join.rejects = append(join.rejects, posRejection{pos: pos(rej.Record, i), rej: rej})
		}
	}
	return p.sendAll(ctx, id, frames, topics, parts, onAck)
}

// bucketOwner is the partition that owns a bucket. The band is mixed in so
// that equal hashes of different bands (different buckets) spread too.
func bucketOwner(k flow.BucketKey, partitions int) int {
	h := (k.Key ^ uint64(k.Band)*0x9e3779b97f4a7c15) * 0xbf58476d1ce4e5b9
	return int((h >> 32) % uint64(partitions))
}

// writeEnd writes the end-of-stream marker to every partition of topic,
// synchronously.
func writeEnd(ctx context.Context, t *Transport, topic string, batches uint64) error {
	w := t.writer(nil)
	defer w.Close()
	value, _ := appendFrame(nil, &frame{kind: kindEnd, batches: batches})
	msgs := make([]kgo.Message, t.Partitions)
	for p := range msgs {
		msgs[p] = kgo.Message{Topic: topic, Value: value, WriterData: &outMessage{partition: p}}
	}
	if err := w.WriteMessages(ctx, msgs...); err != nil {
		return fmt.Errorf("kafka: writing end of stream to %s: %w", topic, err)
	}
	return nil
}

// frameSizeHint estimates a frame's encoded size, so encoding allocates once.
func frameSizeHint(f *frame) int {
	n := 32
	add := func(r *flow.Record) {
		n += 32 + len(r.ID) + len(r.Text) + len(r.URL) + len(r.Timestamp) + len(r.Source) + 3*len(r.Tokens) + 64*(len(r.Meta)+len(r.Fields))
	}
	for _, pr := range f.records {
		if f.flags&frameStub != 0 {
			n += 16 + 10*len(pr.buckets)
			for _, a := range pr.answers {
				n += 12 + 4*len(a.Earlier)
			}
			continue
		}
		add(pr.r)
	}
	for _, pj := range f.rejects {
		add(pj.rej.Record)
	}
	return n
}

// bucketKeys computes every record's buckets, on all the worker's
// goroutines for a large batch (a MinHash signature is the costly part of
// the stage).
func (p *producer) bucketKeys(r route, recs []*flow.Record) [][]flow.BucketKey {
	keys := make([][]flow.BucketKey, len(recs))
	parallel(p.workers, len(recs), func(i int) { keys[i] = r.buckets(recs[i], nil) })
	return keys
}

// parallel calls f(0..n-1) on up to workers goroutines, in chunks of at
// least 32 calls.
func parallel(workers, n int, f func(i int)) {
	const perGoroutine = 32
	workers = min(workers, (n+perGoroutine-1)/perGoroutine)
	if workers <= 1 {
		for i := 0; i < n; i++ {
			f(i)
		}
		return
	}
	var wg sync.WaitGroup
	chunk := (n + workers - 1) / workers
	for start := 0; start < n; start += chunk {
		end := min(start+chunk, n)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := start; i < end; i++ {
				f(i)
			}
		}()
	}
	wg.Wait()
}

// partitionKeys computes the next stage's key of every record. A key can
// cost as much as the stage itself (exact_dedup normalizes the text to hash
// it), and batches are sent from one goroutine, so large batches are keyed
// on all the worker's goroutines.
func (p *producer) partitionKeys(r route, recs []*flow.Record) []uint64 {
	keys := make([]uint64, len(recs))
	parallel(p.workers, len(recs), func(i int) { keys[i] = r.key(recs[i]) })
	return keys
}
