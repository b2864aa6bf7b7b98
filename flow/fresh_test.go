package flow

import (
	"errors"
	"strings"
	"testing"
)

type freshSink struct {
	memorySink
	started int
	err     error
}

func (s *freshSink) StartFresh() error { s.started++; return s.err }

func TestPrepareFreshStartsEveryFreshStarter(t *testing.T) {
	a, b := &freshSink{}, &memorySink{}
	if err := PrepareFresh(Plan{Sinks: []NamedSink{{Name: "a", Sink: a}, {Name: "b", Sink: b}}}); err != nil {
		t.Fatal(err)
	}
	if a.started != 1 {
		t.Fatalf("StartFresh called %d times", a.started)
	}
	bad := &freshSink{err: errors.New("disk full")}
	err := PrepareFresh(Plan{Sinks: []NamedSink{{Name: "shards", Sink: bad}}})
	if err == nil || !strings.Contains(err.Error(), "sink shards") || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("error %v does not name the sink and the cause", err)
	}
}
