package kafka

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/corpusflow/corpusflow/flow"
)

// bandsSource yields documents made of 5 "band values" drawn from a small
// alphabet, so that documents share bands often and in chains: a document
// can share a band with an earlier duplicate but with no kept document.
type bandsSource struct{ n int }

func (s bandsSource) Parts() ([]flow.Part, error) {
	var ps []flow.Part
	for start := 0; start < s.n; start += 101 {
		ps = append(ps, bandsPart{start, min(start+101, s.n)})
	}
	return ps, nil
}

type bandsPart struct{ start, end int }

func (p bandsPart) Name() string { return fmt.Sprintf("bands-%d", p.start) }
func (p bandsPart) Size() int64  { return -1 }
func (p bandsPart) Read(ctx context.Context, emit func(*flow.Record) error, _ *flow.SourceReport) error {
	for i := p.start; i < p.end; i++ {
		var words []string
		if i%13 != 12 { // every 13th has no bands at all
			for b := 0; b < 5; b++ {
				h := uint64(i)*0x9e3779b97f4a7c15 + uint64(b)*0xbf58476d1ce4e5b9
				h ^= h >> 29
				words = append(words, strconv.Itoa(int(h%uint64(500+300*b))))
			}
		}
		if i%10 == 9 {
			words = []string{"x"} // short: min_length drops it
		}
		r := &flow.Record{ID: fmt.Sprintf("doc-%d", i), Text: strings.Join(words, " ") + " padding"}
		if err := emit(r); err != nil {
			return err
		}
	}
	return nil
}

// bandDedup is a miniature MinHash LSH dedup: a document is a duplicate of
// the first kept document that shares one of its bands (lowest band first);
// duplicates are not indexed. It implements the bucketed protocol the way
// dedup's minhash_dedup does, with a tiny bucket capacity so that full
// buckets are common.
type bandDedup struct {
	tables []map[string]string // one process: band value → kept id
	// joiner
	keptSeq  map[uint64]string
	overflow map[flow.BucketKey]string
}

const bandCapacity = 1

// overflowMatches counts joiner decisions that needed the overflow table.
var overflowMatches atomic.Int64

func newBandDedup() *bandDedup {
	d := &bandDedup{keptSeq: map[uint64]string{}, overflow: map[flow.BucketKey]string{}}
	for b := 0; b < 5; b++ {
		d.tables = append(d.tables, map[string]string{})
	}
	return d
}

func bandValues(r *flow.Record) []string {
	f := strings.Fields(r.Text)
	if len(f) < 6 {
		return nil
	}
	return f[:5]
}

func (d *bandDedup) Sequential() {}

func (d *bandDedup) Process(r *flow.Record) string {
	vals := bandValues(r)
	for b, v := range vals {
		if first, ok := d.tables[b][v]; ok {
			r.SetMeta("dup_of", first)
			return "near_duplicate"
		}
	}
	for b, v := range vals {
		d.tables[b][v] = r.ID
	}
	return ""
}

func (d *bandDedup) BucketKeys(r *flow.Record, dst []flow.BucketKey) []flow.BucketKey {
	for b, v := range bandValues(r) {
		dst = append(dst, flow.BucketKey{Band: b, Key: textHash(v)})
	}
	return dst
}

func (d *bandDedup) NewBucketIndex() flow.BucketIndex {
	return &bandIndex{seen: map[flow.BucketKey][]uint64{}}
}

func (d *bandDedup) JoinBuckets(r *flow.Record, answers []flow.BucketAnswer) string {
	for _, a := range answers {
		for _, s := range a.Earlier {
			if id, ok := d.keptSeq[s]; ok {
				r.SetMeta("dup_of", id)
				return "near_duplicate"
			}
		}
		if id, ok := d.overflow[a.BucketKey]; ok && a.Full {
			overflowMatches.Add(1)
			r.SetMeta("dup_of", id)
			return "near_duplicate"
		}
	}
	d.keptSeq[r.Seq()] = r.ID
	for _, a := range answers {
		if a.Full {
			d.overflow[a.BucketKey] = r.ID
		}
	}
	return ""
}

type bandIndex struct{ seen map[flow.BucketKey][]uint64 }

func (x *bandIndex) Probe(k flow.BucketKey, seq uint64) (flow.BucketAnswer, error) {
	if k.Band >= 5 {
		return flow.BucketAnswer{}, fmt.Errorf("band %d", k.Band)
	}
	prev := x.seen[k]
	a := flow.BucketAnswer{BucketKey: k, Earlier: append([]uint64(nil), prev...), Full: len(prev) >= bandCapacity}
	if !a.Full {
		x.seen[k] = append(prev, seq)
	}
	return a, nil
}

func bandSteps(newBands func() flow.Stage) []Step {
	return []Step{
		{Name: "min_length", New: func() (flow.NamedStage, error) {
			return flow.NamedStage{Name: "min_length", Use: "min_length", Stage: minLength{}}, nil
		}},
		{Name: "bands", New: func() (flow.NamedStage, error) {
			return flow.NamedStage{Name: "bands", Use: "bands", Stage: newBands()}, nil
		}},
		{Name: "number", New: func() (flow.NamedStage, error) {
			return flow.NamedStage{Name: "number", Use: "number", Stage: &numberer{}}, nil
		}},
	}
}

func bandsInProcess(t *testing.T, n int) (*memorySink, *memoryRejects) {
	t.Helper()
	sink, rejects := &memorySink{}, &memoryRejects{}
	plan := flow.Plan{Sources: []flow.NamedSource{{Name: "bands", Source: bandsSource{n}}},
		Sinks: []flow.NamedSink{{Name: "mem", Sink: sink}}, Rejects: rejects, Workers: 2, BatchRecords: 16}
	for _, s := range bandSteps(func() flow.Stage { return newBandDedup() }) {
		st, _ := s.New()
		plan.Stages = append(plan.Stages, st)
	}
	if _, err := flow.Run(context.Background(), plan); err != nil {
		t.Fatal(err)
	}
	return sink, rejects
}

// TestBucketedStageEqualsInProcess runs a bucketed stage (owners of the
// buckets answer probes, one joiner decides) with one and two workers: the
// sinks and rejects get exactly what one process writes, dup_of included,
// although documents share buckets in chains and buckets overflow.
func TestBucketedStageEqualsInProcess(t *testing.T) {
	broker := startBroker(t)
	const n = 1500
	wantSink, wantRej := bandsInProcess(t, n)
	dups := 0
	for _, l := range wantRej.lines {
		if strings.HasPrefix(l, "bands/near_duplicate/") {
			dups++
		}
	}
	if dups < n/5 || len(wantSink.lines) < n/5 {
		t.Fatalf("in process: %d kept, %d near-duplicates; the test needs both", len(wantSink.lines), dups)
	}
	for _, replicas := range []int{1, 2} {
		t.Run(fmt.Sprintf("replicas=%d", replicas), func(t *testing.T) {
			steps := bandSteps(func() flow.Stage { return newBandDedup() })
			overflowMatches.Store(0)
			gotSink, gotRej, stats := distributedSource(t, broker, "src", bandsSource{n}, replicas, steps)
			if overflowMatches.Load() == 0 {
				t.Error("no decision needed the joiner's overflow table; the input does not exercise full buckets")
			}
			compareLines(t, "sink", gotSink.lines, wantSink.lines)
			compareLines(t, "rejects", gotRej.lines, wantRej.lines)
			// The owners answered probes and the joiner decided.
			var probes, joined int64
			for _, ws := range stats {
				if ws == nil || ws.Step != "bands" {
					continue
				}
				if run := ws.Snapshot().Run; run != nil {
					for _, st := range run.Stages {
						if st.Name == "bands.buckets" {
							probes += st.In
						}
					}
				}
				if ws.Join != nil && ws.Join.Run != nil {
					for _, st := range ws.Join.Run.Stages {
						if st.Name == "bands" {
							joined += st.In
						}
					}
				}
			}
			if probes == 0 || joined == 0 {
				t.Errorf("owners answered %d probes, the joiner decided %d records", probes, joined)
			}
		})
	}
}

// stoppingBands cancels its worker after a number of decisions or probes:
// the worker leaves mid-stream with part of its input committed.
type stoppingBands struct {
	*bandDedup
	mu     *sync.Mutex
	left   *int
	cancel context.CancelFunc
}

func (s stoppingBands) tick() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if *s.left--; *s.left == 0 {
		s.cancel()
	}
}

func (s stoppingBands) JoinBuckets(r *flow.Record, a []flow.BucketAnswer) string {
	s.tick()
	return s.bandDedup.JoinBuckets(r, a)
}

// TestBucketedTakeOver stops the only worker of a bucketed stage mid-stream;
// a worker started afterwards takes over the owners' partitions and the
// joiner's, replays their committed history to rebuild the indexes and the
// joiner's state, and the output is still exactly one process's.
func TestBucketedTakeOver(t *testing.T) {
	broker := startBroker(t)
	const n = 4000
	wantSink, wantRej := bandsInProcess(t, n)

	tr := NewTransport(Config{Brokers: []string{broker}, TopicPrefix: "bucketed-takeover", Partitions: 3, SessionTimeoutMS: 1000}, "test", nil)
	steps := bandSteps(func() flow.Stage { return newBandDedup() })
	run := &Run{Transport: tr, Stages: steps, CarryRejects: true, Workers: 2}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	firstCtx, stopFirst := context.WithCancel(ctx)
	left, mu := 900, &sync.Mutex{}
	first := &Run{Transport: tr, CarryRejects: true, Workers: 2,
		Stages: bandSteps(func() flow.Stage {
			return stoppingBands{bandDedup: newBandDedup(), mu: mu, left: &left, cancel: stopFirst}
		})}

	sink, rejects := &memorySink{}, &memoryRejects{}
	var wg sync.WaitGroup
	errs := make(chan error, 10)
	goRun := func(name string, f func() (*WorkerStats, error)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := f(); err != nil {
				errs <- fmt.Errorf("%s: %w", name, err)
			}
		}()
	}
	goRun("sinks", func() (*WorkerStats, error) {
		return RunSinks(ctx, run, flow.Plan{Sinks: []flow.NamedSink{{Name: "mem", Sink: sink}}, Rejects: rejects})
	})
	for _, s := range []string{"min_length", "number"} {
		goRun(s, func() (*WorkerStats, error) { return RunStage(ctx, run, s) })
	}
	goRun("sources", func() (*WorkerStats, error) {
		return RunSources(ctx, run, flow.Plan{Sources: []flow.NamedSource{{Name: "src", Source: bandsSource{n}}}, Workers: 2, BatchRecords: 16})
	})
	if _, err := RunStage(firstCtx, first, "bands"); !errors.Is(err, context.Canceled) {
		t.Fatalf("the first bands worker should have been stopped mid-stream, got %v", err)
	}
	second, err := RunStage(ctx, run, "bands")
	if err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	owner, joiner := second.Snapshot(), second.Join.Snapshot()
	if owner.Rebuilds == 0 || joiner.Rebuilds == 0 {
		t.Errorf("the second worker took over without replaying: owners %d rebuilds, joiner %d", owner.Rebuilds, joiner.Rebuilds)
	}
	t.Logf("second worker: owners replayed %d frames in %d rebuilds, joiner %d frames", owner.ReplayedFrames, owner.Rebuilds, joiner.ReplayedFrames)
	compareLines(t, "sink", sink.lines, wantSink.lines)
	compareLines(t, "rejects", rejects.lines, wantRej.lines)
}

// Answers that do not add up (an owner answered for a record the batch does
// not have, or too few) stop the joiner instead of deciding wrongly.
func TestJoinAnswersChecked(t *testing.T) {
	r1, r2 := &flow.Record{ID: "a"}, &flow.Record{ID: "b"}
	r1.SetSeq(10)
	r2.SetSeq(11)
	ans := func(seq uint64, bands ...int) posRecord {
		pr := posRecord{r: &flow.Record{}}
		pr.r.SetSeq(seq)
		for _, b := range bands {
			pr.answers = append(pr.answers, flow.BucketAnswer{BucketKey: flow.BucketKey{Band: b}})
		}
		return pr
	}
	cases := []struct {
		name    string
		owners  []posRecord
		wantErr string
	}{
		{"complete", []posRecord{ans(10, 1, 0), ans(11, 0)}, ""},
		{"missing", []posRecord{ans(10, 0)}, "has 1 bucket answers, the sender announced 2"},
		{"stray", []posRecord{ans(10, 0, 1), ans(11, 0), ans(12, 0)}, "not in the batch"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g := newGatherer(nil)
			g.add(&frame{kind: kindData, batch: 0, part: 0, of: 2, gather: 2, flags: frameNAnswers,
				records: []posRecord{{pos: 0, r: r1, nAnswers: 2}, {pos: 1, r: r2, nAnswers: 1}}}, msgKey{0, 0})
			g.add(&frame{kind: kindData, batch: 0, part: 1, of: 2, gather: 2, flags: frameStub | frameAnswers, records: c.owners}, msgKey{0, 1})
			got, ok := g.release()
			if !ok {
				t.Fatal("batch not released")
			}
			if c.wantErr == "" {
				if got.err != nil {
					t.Fatal(got.err)
				}
				a := got.answers[r1]
				if len(a) != 2 || a[0].Band != 0 || a[1].Band != 1 {
					t.Errorf("answers of a: %+v, want bands 0 and 1 in order", a)
				}
				return
			}
			if got.err == nil || !strings.Contains(got.err.Error(), c.wantErr) {
				t.Errorf("err %v, want %q", got.err, c.wantErr)
			}
		})
	}
	// Input positions must grow from batch to batch.
	g := newGatherer(nil)
	for b, seq := range []uint64{5, 5} {
		r := &flow.Record{ID: fmt.Sprint(b)}
		r.SetSeq(seq)
		g.add(&frame{kind: kindData, batch: uint64(b), of: 1, gather: 1, flags: frameNAnswers, records: []posRecord{{r: r}}}, msgKey{0, int64(b)})
		got, _ := g.release()
		if (got.err != nil) != (b == 1) {
			t.Errorf("batch %d: err %v", b, got.err)
		}
	}
}
