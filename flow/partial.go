package flow

import (
	"context"
	"errors"
	"io"
	"sync"
	"time"
)

// Running part of a pipeline.
//
// When a pipeline is spread over several processes (one Kafka consumer group
// per stage), each process runs one piece of it between links that a
// transport provides: the sources and a sending link, stages between a
// receiving and a sending link, or a receiving link and the sinks. These entry
// points are built from the same internals as Run, so a stage behaves exactly
// as it does in one process.
//
// Batch correspondence: RunStages sends exactly one batch for every batch it
// receives, in the order received, and then, when an Emitter stage flushes
// records at the end, at most one more batch per Emitter. A transport relies
// on this to know which input a sent batch came from (to acknowledge input
// only once the output built from it is safely sent).

// RunSources reads every source of plan and sends the batches on out, in
// source order, numbering batches (Batch.Seq) and records (Record.Seq) from 0.
// out is closed at the end. Cancelling ctx stops reading; what was read is
// still sent. plan.Stages and plan.Sinks are ignored.
func RunSources(ctx context.Context, plan Plan, out Link) (*RunStats, error) {
	start := time.Now()
	plan.Stages, plan.Sinks, plan.Rejects = nil, nil, nil
	e, err := newEngine(plan)
	if err != nil {
		return nil, err
	}
	work, abort := context.WithCancelCause(context.Background())
	defer abort(nil)
	stopSources, cancelSources := context.WithCancel(ctx)
	defer cancelSources()
	context.AfterFunc(work, cancelSources)

	stopTicker := e.startProgress()
	err = e.readSources(stopSources, work, out)
	out.CloseSend()
	stopTicker()
	stats := e.stats(time.Since(start))
	stats.Interrupted = ctx.Err() != nil
	return stats, err
}

// RunStages runs plan's stages on the batches received from in and sends the
// results on out (closed at the end), with the same segments, workers and
// ordering as Run. Stages' Finish is called at the end. plan.Sources,
// plan.Sinks and plan.Rejects are ignored: rejected records travel on in the
// batches' Rejected lists.
//
// Cancelling ctx abandons the work: batches not yet sent are dropped and the
// error is ctx's. A receiving link ends the input cleanly by returning io.EOF.
func RunStages(ctx context.Context, plan Plan, in, out Link) (*RunStats, error) {
	start := time.Now()
	plan.Sources, plan.Sinks, plan.Rejects = nil, nil, nil
	// The links between this process's own segments are in memory, whatever
	// transport connects it to the other processes.
	plan.Transport = nil
	e, err := newEngine(plan)
	if err != nil {
		return nil, err
	}
	work, abort := context.WithCancelCause(ctx)
	defer abort(nil)

	var wg sync.WaitGroup
	cur := in
	for i, seg := range e.segments {
		next := out
		if i < len(e.segments)-1 {
			next, err = e.transport.NewLink(e.segmentName(i), e.segmentName(i+1))
			if err != nil {
				abort(err)
				break
			}
		}
		wg.Add(1)
		go func(seg segment, in, out Link) {
			defer wg.Done()
			defer out.CloseSend()
			if err := seg.run(work, in, out); err != nil {
				abort(err)
				drain(in)
			}
		}(seg, cur, next)
		cur = next
	}
	if len(e.segments) == 0 {
		// No stage: pass batches straight through.
		err := passThrough(work, in, out)
		out.CloseSend()
		if err != nil {
			abort(err)
		}
	}
	wg.Wait()

	var errs []error
	if cause := context.Cause(work); cause != nil && !errors.Is(cause, context.Canceled) {
		errs = append(errs, cause)
	}
	if ctx.Err() != nil {
		errs = append(errs, ctx.Err())
	}
	errs = append(errs, e.finish()...)
	return e.stats(time.Since(start)), errors.Join(errs...)
}

func passThrough(ctx context.Context, in, out Link) error {
	for {
		b, err := in.Recv(ctx)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if err := out.Send(ctx, b); err != nil {
			return err
		}
	}
}

// RunSinks writes the batches received from in to plan's sinks and rejects
// sink until in returns io.EOF, then closes them. If the input fails (or ctx
// is cancelled) the sinks are told the run was interrupted before they close,
// as in Run. plan.Sources and plan.Stages are ignored.
func RunSinks(ctx context.Context, plan Plan, in Link) (*RunStats, error) {
	start := time.Now()
	plan.Sources, plan.Stages = nil, nil
	e, err := newEngine(plan)
	if err != nil {
		return nil, err
	}
	var errs []error
	if err := e.writeSinks(ctx, in); err != nil {
		errs = append(errs, err)
		notifyInterrupted(e.plan.Sinks)
	}
	errs = append(errs, e.finish()...)
	stats := e.stats(time.Since(start))
	stats.Interrupted = ctx.Err() != nil
	return stats, errors.Join(errs...)
}

// SetSeq sets the record's position in the stream entering the engine. Only
// transports that carry records between processes need it: the receiving side
// restores the position the sending side's engine gave.
func (r *Record) SetSeq(seq uint64) { r.seq = seq }
