package flow

import (
	"context"
	"errors"
	"testing"
)

type resumableSink struct {
	memorySink
	interrupted bool
	resumed     int
	skip        int64
	err         error
}

func (s *resumableSink) Interrupted()           { s.interrupted = true }
func (s *resumableSink) Resume() (int64, error) { s.resumed++; return s.skip, s.err }
func (s *resumableSink) Write(r *Record) error  { return s.memorySink.Write(r) }
func (s *resumableSink) Close() error           { return s.memorySink.Close() }

func TestInterruptedIsToldOnlyWhenTheRunDidNotFinish(t *testing.T) {
	done := &resumableSink{}
	if _, err := Run(context.Background(), Plan{
		Sources: []NamedSource{{Name: "s", Source: sliceSource{n: 10, perPart: 5}}},
		Sinks:   []NamedSink{{Name: "a", Sink: done}},
	}); err != nil {
		t.Fatal(err)
	}
	if done.interrupted || !done.closed {
		t.Fatalf("finished run: interrupted=%v closed=%v", done.interrupted, done.closed)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cut := &resumableSink{}
	n := 0
	stop := &seqStage{stageFunc: func(r *Record) string {
		if n++; n == 100 {
			cancel()
		}
		return ""
	}}
	if _, err := Run(ctx, Plan{
		Sources: []NamedSource{{Name: "endless", Source: endlessSource{}}},
		Stages:  []NamedStage{{Name: "stop", Stage: stop}},
		Sinks:   []NamedSink{{Name: "a", Sink: cut}},
	}); err != nil {
		t.Fatal(err)
	}
	if !cut.interrupted || !cut.closed {
		t.Fatalf("cancelled run: interrupted=%v closed=%v", cut.interrupted, cut.closed)
	}
}

func TestPrepareResumeAsksEveryResumer(t *testing.T) {
	a, b := &resumableSink{skip: 7}, &memorySink{}
	skipped, err := PrepareResume(Plan{Sinks: []NamedSink{{Name: "a", Sink: a}, {Name: "b", Sink: b}}})
	if err != nil {
		t.Fatal(err)
	}
	if a.resumed != 1 || skipped["a"] != 7 || len(skipped) != 1 {
		t.Fatalf("resumed=%d skipped=%v", a.resumed, skipped)
	}
	bad := &resumableSink{err: errors.New("manifest is corrupt")}
	if _, err := PrepareResume(Plan{Sinks: []NamedSink{{Name: "shards", Sink: bad}}}); err == nil || err.Error() != "sink shards: resume: manifest is corrupt" {
		t.Fatalf("error = %v", err)
	}
}
