package flow

import (
	"context"
	"fmt"
	"hash/fnv"
	"strings"
	"sync/atomic"
	"testing"
)

// keyedDedup keeps the first record of each text, keyed by a hash of the
// lowered text; it counts how its decisions were asked for.
type keyedDedup struct {
	seen           map[uint64]string
	order          []string
	keyed, plain   int
	keysComputed   *atomic.Int64
	panicOnKeyOfID string
}

func (d *keyedDedup) Sequential() {}

func (d *keyedDedup) PartitionKey(r *Record) uint64 {
	d.keysComputed.Add(1)
	if r.ID == d.panicOnKeyOfID {
		panic("no key for this one")
	}
	h := fnv.New64a()
	h.Write([]byte(strings.ToLower(r.Text)))
	return h.Sum64()
}

func (d *keyedDedup) Process(r *Record) string {
	d.plain++
	return d.decide(r, d.PartitionKey(r))
}

func (d *keyedDedup) ProcessKeyed(r *Record, k uint64) string {
	d.keyed++
	return d.decide(r, k)
}

func (d *keyedDedup) decide(r *Record, k uint64) string {
	d.order = append(d.order, r.ID)
	if first, ok := d.seen[k]; ok {
		r.SetMeta("dup_of", first)
		return "duplicate"
	}
	d.seen[k] = r.ID
	return ""
}

// dupSource: 2,000 records whose texts repeat every 300 (in another case).
type dupSource struct{}

func (dupSource) Parts() ([]Part, error) { return []Part{dupPart{}}, nil }

type dupPart struct{}

func (dupPart) Name() string { return "dups" }
func (dupPart) Size() int64  { return -1 }
func (dupPart) Read(ctx context.Context, emit func(*Record) error, _ *SourceReport) error {
	for i := 0; i < 2000; i++ {
		text := fmt.Sprintf("text number %d", i%300)
		if i%2 == 1 {
			text = strings.ToUpper(text)
		}
		if err := emit(&Record{ID: fmt.Sprint(i), Text: text}); err != nil {
			return err
		}
	}
	return nil
}

// TestKeysComputedAhead: a keyed sequential stage gets its keys computed by
// the workers before it (ProcessKeyed), in the stateless run before it or in
// a run of its own, and decides exactly as with one worker, where it
// computes them itself; a key that panics rejects only its record.
func TestKeysComputedAhead(t *testing.T) {
	run := func(workers int, withStatelessBefore bool) (*keyedDedup, *memorySink, *memoryRejects, *RunStats) {
		d := &keyedDedup{seen: map[uint64]string{}, keysComputed: &atomic.Int64{}, panicOnKeyOfID: "1234"}
		var stages []NamedStage
		if withStatelessBefore {
			stages = append(stages, NamedStage{Name: "trim", Stage: stageFunc(func(r *Record) string { r.Text = strings.TrimSpace(r.Text); return "" })})
		}
		stages = append(stages, NamedStage{Name: "dedup", Stage: d})
		sink, rejects := &memorySink{}, &memoryRejects{}
		stats, err := Run(context.Background(), Plan{Sources: []NamedSource{{Name: "dups", Source: dupSource{}}},
			Stages: stages, Sinks: []NamedSink{{Name: "mem", Sink: sink}}, Rejects: rejects, Workers: workers, BatchRecords: 16})
		if err != nil {
			t.Fatal(err)
		}
		return d, sink, rejects, stats
	}
	one, sinkOne, rejOne, _ := run(1, false)
	if one.keyed != 0 || one.plain != 2000 {
		t.Fatalf("one worker, no stateless stage: %d keyed and %d plain decisions, want 0 and 2000", one.keyed, one.plain)
	}
	for _, before := range []bool{false, true} {
		for _, workers := range []int{1, 2, 4} {
			d, sink, rej, stats := run(workers, before)
			name := fmt.Sprintf("workers=%d stateless-before=%v", workers, before)
			if strings.Join(sink.ids, ",") != strings.Join(sinkOne.ids, ",") || strings.Join(rej.got, ",") != strings.Join(rejOne.got, ",") {
				t.Errorf("%s: output or rejects differ from one worker's", name)
			}
			if strings.Join(d.order, ",") != strings.Join(one.order, ",") {
				t.Errorf("%s: decisions in another order", name)
			}
			ahead := workers > 1 || before
			// Every record but the one whose key panics comes keyed.
			if ahead && (d.keyed != 1999 || d.plain != 1) {
				t.Errorf("%s: %d keyed and %d plain decisions, want 1999 and 1", name, d.keyed, d.plain)
			}
			if n := d.keysComputed.Load(); n != 2001 && ahead {
				t.Errorf("%s: %d keys computed, want 2001 (each once, the panicking one twice)", name, n)
			}
			last := stats.Stages[len(stats.Stages)-1]
			if last.Rejected["stage_panic"] != 1 || last.Kept != 300 {
				t.Errorf("%s: dedup stats %+v, want 300 kept (record 1234 is a duplicate anyway) and one stage_panic", name, last)
			}
		}
	}
}

// slowKeyed is a keyed stage whose key costs about what exact_dedup's
// costs for a 1 KB document (normalizing and hashing it, ~25 µs): FNV over
// 24 KB.
type slowKeyed struct{ seen map[uint64]bool }

var slowKeyPad = []byte(strings.Repeat("x", 1024))

func (s *slowKeyed) Sequential() {}
func (s *slowKeyed) PartitionKey(r *Record) uint64 {
	h := fnv.New64a()
	h.Write([]byte(r.Text))
	for i := 0; i < 24; i++ {
		h.Write(slowKeyPad)
	}
	return h.Sum64()
}
func (s *slowKeyed) Process(r *Record) string { return s.ProcessKeyed(r, s.PartitionKey(r)) }
func (s *slowKeyed) ProcessKeyed(r *Record, k uint64) string {
	if s.seen[k] {
		return "duplicate"
	}
	s.seen[k] = true
	return ""
}

// BenchmarkKeyedStage: a keyed stage alone, 1 and 2 workers, with its keys
// computed ahead on the workers and (ahead=off) on its own goroutine. Off,
// the stage's one goroutine is the ceiling whatever the workers.
//
//	go test -run XXX -bench KeyedStage -benchtime 5x -count 2 ./flow
func BenchmarkKeyedStage(b *testing.B) {
	for _, off := range []bool{true, false} {
		for _, workers := range []int{1, 2} {
			b.Run(fmt.Sprintf("ahead=%v/workers=%d", !off, workers), func(b *testing.B) {
				noKeysAhead = off
				defer func() { noKeysAhead = false }()
				for i := 0; i < b.N; i++ {
					_, err := Run(context.Background(), Plan{Sources: []NamedSource{{Name: "docs", Source: sliceSource{n: 20000, perPart: 5000}}},
						Stages:  []NamedStage{{Name: "keyed", Stage: &slowKeyed{seen: map[uint64]bool{}}}},
						Sinks:   []NamedSink{{Name: "mem", Sink: &memorySink{}}},
						Workers: workers})
					if err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(20000*b.N)/b.Elapsed().Seconds(), "records/s")
			})
		}
	}
}
