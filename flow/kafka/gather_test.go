package kafka

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/corpusflow/corpusflow/flow"
)

func part(batch, part, of, gather uint64, ids ...string) *frame {
	f := &frame{kind: kindData, batch: batch, part: part, of: of, gather: gather}
	for _, id := range ids {
		var pos uint64
		fmt.Sscanf(id, "r%d", &pos)
		f.records = append(f.records, posRecord{pos: pos, r: &flow.Record{ID: id}})
	}
	return f
}

func ids(b *flow.Batch) string {
	var s []string
	for _, r := range b.Records {
		s = append(s, r.ID)
	}
	return strings.Join(s, ",")
}

func TestGathererRestoresOrder(t *testing.T) {
	g := newGatherer(nil)
	// Batch 1 arrives before batch 0; batch 0's two parts out of order; one
	// part is delivered twice.
	steps := []struct {
		f       *frame
		fresh   bool
		release []string
	}{
		{part(1, 0, 1, 1, "r0", "r1"), true, nil},
		{part(0, 1, 2, 2, "r1", "r3"), true, nil},
		{part(0, 1, 2, 2, "r1", "r3"), false, nil},
		{part(0, 0, 2, 2, "r0", "r2"), true, []string{"r0,r1,r2,r3", "r0,r1"}},
		{part(0, 0, 2, 2, "r0", "r2"), false, nil}, // after release: still a duplicate
		{part(2, 0, 1, 1), true, []string{""}},
	}
	for i, s := range steps {
		if fresh := g.add(s.f, msgKey{0, int64(i)}); fresh != s.fresh {
			t.Fatalf("step %d: add says fresh=%v, want %v", i, fresh, s.fresh)
		}
		var got []string
		for {
			gb, ok := g.release()
			if !ok {
				break
			}
			got = append(got, ids(gb.batch))
		}
		if fmt.Sprint(got) != fmt.Sprint(s.release) {
			t.Fatalf("step %d: released %q, want %q", i, got, s.release)
		}
	}
	if err := g.end(3); err != nil {
		t.Errorf("complete stream: %v", err)
	}
	if g.dups != 2 {
		t.Errorf("%d duplicates counted, want 2", g.dups)
	}
}

func TestGathererReportsLostBatches(t *testing.T) {
	g := newGatherer(nil)
	g.add(part(0, 0, 1, 1, "r0"), msgKey{})
	g.add(part(2, 0, 2, 2, "r0"), msgKey{})
	for _, ok := g.release(); ok; _, ok = g.release() {
	}
	err := g.end(3)
	if err == nil || !strings.Contains(err.Error(), "batch 1 never arrived") {
		t.Errorf("a missing batch must fail loudly, got %v", err)
	}
	if err := newGatherer(nil).end(1); err == nil {
		t.Error("a stream whose only batch never came must fail")
	}
}

func TestGathererOrdersRejectionsByStage(t *testing.T) {
	g := newGatherer(map[string]int{"a": 0, "b": 1})
	rej := func(stage string, pos uint64) posRejection {
		return posRejection{pos: pos, rej: flow.Rejection{Stage: stage, Reason: "x", Record: &flow.Record{ID: fmt.Sprintf("%s%d", stage, pos)}}}
	}
	p0 := part(0, 0, 2, 2)
	p0.rejects = []posRejection{rej("b", 4), rej("a", 1)}
	p1 := part(0, 1, 2, 2)
	p1.rejects = []posRejection{rej("b", 2), rej("a", 3)}
	g.add(p1, msgKey{})
	g.add(p0, msgKey{})
	gb, ok := g.release()
	if !ok {
		t.Fatal("not released")
	}
	var got []string
	for _, r := range gb.batch.Rejected {
		got = append(got, r.Record.ID)
	}
	if want := "a1,a3,b2,b4"; strings.Join(got, ",") != want {
		t.Errorf("rejections %v, want %s (stage order, then position)", got, want)
	}
}

func TestOffsetTrackerCommitsOnlyDonePrefix(t *testing.T) {
	tr := newOffsetTracker()
	for _, o := range []int64{10, 11, 12, 15} {
		tr.received(o)
	}
	steps := []struct {
		finish int64
		commit int64
	}{
		{11, -1}, // 10 still pending
		{12, -1},
		{10, 15}, // 10,11,12 done: next to read is 15
		{99, -1}, // never received
		{15, 16},
	}
	for _, s := range steps {
		if got := tr.finish(s.finish); got != s.commit {
			t.Errorf("finish(%d) = %d, want %d", s.finish, got, s.commit)
		}
	}
	if tr.pendingBefore(100) {
		t.Error("nothing should be pending")
	}
}

func TestConfigValidate(t *testing.T) {
	ok := DefaultConfig
	ok.Brokers = []string{"localhost:9092"}
	cases := []struct {
		field string
		edit  func(c *Config)
	}{
		{"", func(c *Config) {}},
		{"brokers", func(c *Config) { c.Brokers = nil }},
		{"brokers.0", func(c *Config) { c.Brokers = []string{"localhost"} }},
		{"partitions", func(c *Config) { c.Partitions = 0 }},
		{"replication_factor", func(c *Config) { c.ReplicationFactor = 0 }},
		{"session_timeout_ms", func(c *Config) { c.SessionTimeoutMS = 10 }},
		{"max_in_flight", func(c *Config) { c.MaxInFlight = 0 }},
		{"max_message_bytes", func(c *Config) { c.MaxMessageBytes = 1000 }},
		{"topic_prefix", func(c *Config) { c.TopicPrefix = "a/b" }},
	}
	for _, c := range cases {
		cfg := ok
		c.edit(&cfg)
		err := cfg.Validate()
		if c.field == "" {
			if err != nil {
				t.Errorf("valid config: %v", err)
			}
			continue
		}
		fe, isField := err.(*flow.FieldError)
		if !isField || fe.Field != c.field {
			t.Errorf("%s: got %v, want an error about %s", c.field, err, c.field)
		}
	}
}

type recordingKeyed struct {
	calls []string
}

func (s *recordingKeyed) Sequential()                        {}
func (s *recordingKeyed) PartitionKey(r *flow.Record) uint64 { return 7 }
func (s *recordingKeyed) Process(r *flow.Record) string {
	s.calls = append(s.calls, "Process "+r.ID)
	return ""
}
func (s *recordingKeyed) ProcessKeyed(r *flow.Record, key uint64) string {
	s.calls = append(s.calls, fmt.Sprintf("ProcessKeyed %s %d", r.ID, key))
	return ""
}

// The key a sender put in a keyed frame reaches the stage through the
// gatherer and the lane, so the stage does not compute it again; a record
// without one falls back to Process.
func TestCarriedPartitionKeyReachesTheStage(t *testing.T) {
	f := part(0, 0, 1, 1, "r0", "r1")
	f.keyed = true
	f.records[0].key, f.records[1].key = 41, 42
	b, err := appendFrame(nil, f)
	if err != nil {
		t.Fatal(err)
	}
	decoded, err := decodeFrame(b)
	if err != nil {
		t.Fatal(err)
	}
	g := newGatherer(nil)
	g.add(decoded, msgKey{})
	gb, ok := g.release()
	if !ok {
		t.Fatal("not released")
	}
	l := newLane(context.Background(), 0, 0, 1, true, nil)
	tk := ticketOfGathered(gb, false)
	l.putKeys(tk.partKeys)
	inner := &recordingKeyed{}
	st := &keyedStage{Stage: inner, kp: inner, l: l}
	for _, r := range tk.batch.Records {
		st.Process(r)
	}
	st.Process(&flow.Record{ID: "unkeyed"})
	want := "[ProcessKeyed r0 41 ProcessKeyed r1 42 Process unkeyed]"
	if fmt.Sprint(inner.calls) != want {
		t.Errorf("calls %v, want %s", inner.calls, want)
	}
}
