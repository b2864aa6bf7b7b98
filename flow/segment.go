package flow

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
)

// A segment is the unit the engine wires between two links: either a run of
// consecutive stateless stages, executed together on every worker (one hop
// per batch, not one per stage), or a single sequential stage.
type segment interface {
	name() string
	run(ctx context.Context, in, out Link) error
}

// noKeysAhead turns computing keys ahead off, for the benchmark that
// measures what it gives.
var noKeysAhead bool

func planSegments(stages []*stageAccount, workers int, logger *slog.Logger) []segment {
	var segs []segment
	var run []*stageAccount
	// flush ends the current run of stateless stages; keyFor, when set, is
	// the keyed stage after it, whose keys the run's workers compute.
	flush := func(keyFor KeyedProcessor) {
		if len(run) > 0 || keyFor != nil {
			segs = append(segs, &parallelSegment{stages: run, workers: workers, logger: logger, keyFor: keyFor})
			run = nil
		}
	}
	for _, st := range stages {
		switch st.Stage.(type) {
		case Emitter:
			flush(nil)
			segs = append(segs, &emitterSegment{stage: st, logger: logger})
		case Sequential:
			// A keyed stage (exact_dedup) decides on one goroutine, but its
			// key (a normalized hash of the text) is most of its work and
			// depends on the record alone: the workers compute it first, in
			// the stateless run before the stage, or in a run of their own.
			kp, keyed := st.Stage.(KeyedProcessor)
			if keyed && !noKeysAhead && (len(run) > 0 || workers > 1) {
				flush(kp)
			} else {
				flush(nil)
			}
			segs = append(segs, &sequentialSegment{stage: st, logger: logger})
		default:
			run = append(run, st)
		}
	}
	flush(nil)
	return segs
}

// parallelSegment runs its stages on many workers and restores batch order
// before sending on, so everything downstream sees input order whatever the
// worker count. The number of batches in flight is bounded by tickets, so a
// slow batch cannot make the reorder buffer grow without limit.
type parallelSegment struct {
	stages  []*stageAccount
	workers int
	logger  *slog.Logger
	// keyFor is the keyed stage after the segment: each kept record gets its
	// PartitionKey, which the stage then uses (ProcessKeyed).
	keyFor KeyedProcessor
}

func (s *parallelSegment) name() string {
	if len(s.stages) == 0 {
		return "keys"
	}
	n := ""
	for i, st := range s.stages {
		if i > 0 {
			n += "+"
		}
		n += st.Name
	}
	return n
}

type job struct {
	idx   uint64
	batch *Batch
}

func (s *parallelSegment) run(ctx context.Context, in, out Link) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	inFlight := 4 * s.workers
	tickets := make(chan struct{}, inFlight)
	work := make(chan job, s.workers)
	done := make(chan job, inFlight)

	var feedErr error
	go func() {
		defer close(work)
		for idx := uint64(0); ; idx++ {
			b, err := in.Recv(ctx)
			if err != nil {
				if err != io.EOF {
					feedErr = err
				}
				return
			}
			select {
			case tickets <- struct{}{}:
			case <-ctx.Done():
				return
			}
			work <- job{idx, b}
		}
	}()
	var wg sync.WaitGroup
	for w := 0; w < s.workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range work {
				for _, st := range s.stages {
					runStage(st, j.batch, s.logger)
				}
				if s.keyFor != nil {
					for _, r := range j.batch.Records {
						keyAhead(s.keyFor, r)
					}
				}
				done <- j
			}
		}()
	}
	go func() {
		wg.Wait()
		close(done)
	}()

	pending := make(map[uint64]*Batch, inFlight)
	var next uint64
	var sendErr error
	for j := range done {
		if sendErr != nil {
			<-tickets
			continue // keep draining so workers can exit
		}
		pending[j.idx] = j.batch
		for b, ok := pending[next]; ok; b, ok = pending[next] {
			delete(pending, next)
			next++
			<-tickets
			if err := out.Send(ctx, b); err != nil {
				sendErr = err
				cancel()
				break
			}
		}
	}
	return errors.Join(sendErr, feedErr)
}

// keyAhead gives r the key kp will decide it by. A key that panics is left
// to the stage, whose own call then rejects the record as stage_panic.
func keyAhead(kp KeyedProcessor, r *Record) {
	defer func() {
		if recover() != nil {
			r.hasPartKey = false
		}
	}()
	r.partKey, r.hasPartKey = kp.PartitionKey(r), true
}

// sequentialSegment runs one order-dependent stage on one goroutine.
type sequentialSegment struct {
	stage  *stageAccount
	logger *slog.Logger
}

func (s *sequentialSegment) name() string { return s.stage.Name }

func (s *sequentialSegment) run(ctx context.Context, in, out Link) error {
	for {
		b, err := in.Recv(ctx)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		runStage(s.stage, b, s.logger)
		if err := out.Send(ctx, b); err != nil {
			return err
		}
	}
}

// emitterSegment runs a stage that turns consumed records into new ones.
type emitterSegment struct {
	stage  *stageAccount
	logger *slog.Logger
}

func (s *emitterSegment) name() string { return s.stage.Name }

func (s *emitterSegment) run(ctx context.Context, in, out Link) error {
	em := s.stage.Stage.(Emitter)
	var seq uint64
	for {
		b, err := in.Recv(ctx)
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		var emitted []*Record
		collect := func(r *Record) { emitted = append(emitted, r) }
		var kept int64
		for _, r := range b.Records {
			reason := s.processSafely(em, r, collect)
			if reason != "" {
				b.Rejected = append(b.Rejected, Rejection{Record: r, Stage: s.stage.Name, Reason: reason})
				s.stage.rejected.Add(reason, 1)
				continue
			}
			kept++
		}
		s.stage.in.Add("n", int64(len(b.Records)))
		s.stage.kept.Add("n", kept)
		s.stage.emitted.Add("n", int64(len(emitted)))
		b.Records = emitted
		b.Seq = seq
		seq++
		if err := out.Send(ctx, b); err != nil {
			return err
		}
	}
	var emitted []*Record
	if err := em.Flush(func(r *Record) { emitted = append(emitted, r) }); err != nil {
		return err
	}
	s.stage.emitted.Add("n", int64(len(emitted)))
	if len(emitted) == 0 {
		return nil
	}
	return out.Send(ctx, &Batch{Seq: seq, Records: emitted})
}

func (s *emitterSegment) processSafely(em Emitter, r *Record, out func(*Record)) (reason string) {
	defer func() {
		if p := recover(); p != nil {
			logStagePanic(s.logger, s.stage, r, p)
			reason = "stage_panic"
		}
	}()
	return em.ProcessEmit(r, out)
}
