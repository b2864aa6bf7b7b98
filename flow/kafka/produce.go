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
)

// route is where a step sends its output.
type route struct {
	step       string // the next step: a stage's name or "sinks"
	topic      string
	mode       routeMode
	partitions int
	key        func(*flow.Record) uint64
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

// send produces one frame; onAck runs once the broker has it.
func (p *producer) send(ctx context.Context, topic string, partition int, value []byte, onAck func()) error {
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
		if err != nil {
			p.errMu.Lock()
			if p.err == nil {
				p.err = fmt.Errorf("kafka: producing to %s partition %d: %w", topic, partition, err)
			}
			p.errMu.Unlock()
			return
		}
		p.frames.Add(1)
		p.bytes.Add(int64(len(value)))
		onAck()
	}
	if err := p.w.WriteMessages(ctx, kgo.Message{Topic: topic, Value: value, WriterData: om}); err != nil {
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
	var frames []*frame
	var parts []int
	switch r.mode {
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
	var left atomic.Int64
	left.Store(int64(len(frames)))
	ack := func() {
		if left.Add(-1) == 0 {
			onAck()
		}
	}
	for i, f := range frames {
		value, err := appendFrame(make([]byte, 0, frameSizeHint(f)), f)
		if err != nil {
			return fmt.Errorf("encoding batch %d: %w", id.batch, err)
		}
		if err := p.send(ctx, r.topic, parts[i], value, ack); err != nil {
			return err
		}
	}
	return nil
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
		add(pr.r)
	}
	for _, pj := range f.rejects {
		add(pj.rej.Record)
	}
	return n
}

// partitionKeys computes the next stage's key of every record. A key can
// cost as much as the stage itself (exact_dedup normalizes the text to hash
// it), and batches are sent from one goroutine, so large batches are keyed
// on all the worker's goroutines.
func (p *producer) partitionKeys(r route, recs []*flow.Record) []uint64 {
	keys := make([]uint64, len(recs))
	const perGoroutine = 32
	workers := min(p.workers, (len(recs)+perGoroutine-1)/perGoroutine)
	if workers <= 1 {
		for i, rec := range recs {
			keys[i] = r.key(rec)
		}
		return keys
	}
	var wg sync.WaitGroup
	chunk := (len(recs) + workers - 1) / workers
	for start := 0; start < len(recs); start += chunk {
		end := min(start+chunk, len(recs))
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := start; i < end; i++ {
				keys[i] = r.key(recs[i])
			}
		}()
	}
	wg.Wait()
	return keys
}
