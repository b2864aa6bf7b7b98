package flow

import "fmt"

// Resuming a run.
//
// corpusflow resumes by deterministic replay: a resumed run reads its input
// again from the start and every stage sees exactly the records it saw the
// first time, so stateful stages (dedup "first seen wins", packing buffers)
// rebuild their state without any checkpoint of their own. What resume saves
// is the output: a Resumer sink keeps what it had durably finished, discards
// the records it is handed again until it reaches the point where it stopped,
// and writes only what comes after. Sinks that are not Resumers simply write
// their output again from scratch, which is equally correct.

// Resumer is implemented by sinks that can continue the output of an
// interrupted run instead of writing it again.
type Resumer interface {
	Sink
	// Resume is called once, before Run, when the user asks to resume. The
	// sink loads what it durably finished before (a manifest), removes what
	// was left unfinished, and checks that the replayed records it then
	// discards are the ones it had written. It returns how many records it
	// will discard. A sink with nothing to resume from starts fresh and
	// returns 0.
	Resume() (skip int64, err error)
}

// Interruptible is implemented by sinks whose Close would otherwise mark
// their output as finished (a "complete" manifest). The engine calls
// Interrupted when the run was cancelled or failed, so the sink leaves its
// output resumable rather than complete.
//
// On cancellation (Ctrl-C) the call comes as soon as the sources have
// stopped, before the end of input reaches the stages: what arrives at the
// sink afterwards includes what Emitter stages Flush at the end of their
// input (a partial example, a shuffle buffer), which an uninterrupted run
// would have emitted later and elsewhere. A resumable sink must not persist
// it. Interrupted may be called from another goroutine than Write, and more
// than once.
type Interruptible interface {
	Interrupted()
}

// PrepareResume calls Resume on every sink of plan that is a Resumer and
// returns, by sink name, how many replayed records each will discard.
func PrepareResume(plan Plan) (map[string]int64, error) {
	skipped := map[string]int64{}
	for _, s := range plan.Sinks {
		r, ok := s.Sink.(Resumer)
		if !ok {
			continue
		}
		n, err := r.Resume()
		if err != nil {
			return nil, fmt.Errorf("sink %s: resume: %w", s.Name, err)
		}
		skipped[s.Name] = n
	}
	return skipped, nil
}

// FreshStarter is implemented by sinks whose output a reader may follow
// while it is written (the arrow sink's manifest). Without it a sink
// replaces a previous run's output only when its first record arrives, and
// a follower started beside the run (a train: section) would meanwhile read
// the previous run's finished output as this run's.
type FreshStarter interface {
	Sink
	// StartFresh is called once, before Run, when the run does not resume:
	// the sink replaces what a previous run left with an empty, unfinished
	// output.
	StartFresh() error
}

// PrepareFresh calls StartFresh on every sink of plan that is a
// FreshStarter. Call it instead of PrepareResume, before starting anything
// that follows the run's output.
func PrepareFresh(plan Plan) error {
	for _, s := range plan.Sinks {
		if f, ok := s.Sink.(FreshStarter); ok {
			if err := f.StartFresh(); err != nil {
				return fmt.Errorf("sink %s: %w", s.Name, err)
			}
		}
	}
	return nil
}

// notifyInterrupted tells Interruptible sinks that the run did not finish.
func notifyInterrupted(sinks []NamedSink) {
	for _, s := range sinks {
		if i, ok := s.Sink.(Interruptible); ok {
			i.Interrupted()
		}
	}
}
