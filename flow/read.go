package flow

import (
	"context"
	"fmt"
	"strings"
	"unicode/utf8"
)

// partRun is one part being read ahead into its own small buffer.
type partRun struct {
	part   Part
	report *SourceReport
	out    chan *Batch
}

// readSources reads every part of every source, up to e.workers parts at a
// time, and sends their batches on in part order, numbering records as they
// go. stop ends reading early (Ctrl-C); work is only cancelled on a fatal
// error, so the batches already read still go through the pipeline.
func (e *engine) readSources(stop, work context.Context, out Link) error {
	var runs []*partRun
	for i, src := range e.plan.Sources {
		parts, err := src.Source.Parts()
		if err != nil {
			return fmt.Errorf("source %s: %w", src.Name, err)
		}
		for _, p := range parts {
			runs = append(runs, &partRun{part: p, report: e.reports[i], out: make(chan *Batch, e.partBuffer())})
			if size := p.Size(); size > 0 {
				e.mu.Lock()
				e.totalBytes += size
				e.mu.Unlock()
			}
		}
	}

	started := 0
	startUpTo := func(n int) {
		for ; started < n && started < len(runs); started++ {
			go e.readPart(stop, runs[started])
		}
	}
	var batchSeq, recordSeq uint64
	for i, run := range runs {
		if stop.Err() == nil {
			startUpTo(i + e.workers)
		}
		if i >= started {
			break // interrupted before this part began
		}
		for b := range run.out {
			for _, r := range b.Records {
				r.seq = recordSeq
				recordSeq++
			}
			b.Seq = batchSeq
			batchSeq++
			e.mu.Lock()
			e.records += int64(len(b.Records))
			e.mu.Unlock()
			if err := out.Send(work, b); err != nil {
				return err
			}
		}
		if size := run.part.Size(); size > 0 {
			e.mu.Lock()
			e.readBytes += size
			e.mu.Unlock()
		}
	}
	return nil
}

// partBuffer is how many batches each part may read ahead: the read-ahead
// budget shared by the parts read at once, at least two.
func (e *engine) partBuffer() int {
	return max(2, e.plan.ReadAheadBytes/(e.workers*e.plan.BatchBytes))
}

// readPart runs one part's reader, batching what it emits.
func (e *engine) readPart(ctx context.Context, run *partRun) {
	defer close(run.out)
	run.report.parts.Add(1)
	batch := &Batch{}
	batchBytes := 0
	send := func() error {
		if len(batch.Records) == 0 {
			return nil
		}
		select {
		case run.out <- batch:
		case <-ctx.Done():
			return ctx.Err()
		}
		batch = &Batch{Records: make([]*Record, 0, e.plan.BatchRecords)}
		batchBytes = 0
		return nil
	}
	emit := func(r *Record) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		if r.Source == "" {
			r.Source = run.part.Name()
		}
		if !utf8.ValidString(r.Text) {
			// Sources repair encoding themselves; this is the engine's promise
			// to every stage that Text is valid UTF-8, whatever a source did.
			run.report.Problem("invalid_utf8", fmt.Sprintf("%s record %s", run.part.Name(), r.ID), nil)
			r.Text = strings.ToValidUTF8(r.Text, "\uFFFD")
		}
		run.report.records.Add(1)
		batch.Records = append(batch.Records, r)
		batchBytes += len(r.Text)
		if len(batch.Records) >= e.plan.BatchRecords || batchBytes >= e.plan.BatchBytes {
			return send()
		}
		return nil
	}
	err := run.part.Read(ctx, emit, run.report)
	if err != nil && ctx.Err() == nil {
		run.report.Problem("unreadable", run.part.Name(), err)
	}
	// What was read before an interruption or a failure still goes on; send
	// uses a fresh context for that last batch.
	if len(batch.Records) > 0 {
		run.out <- batch
	}
}
