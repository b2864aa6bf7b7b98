package kafka

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"strings"
	"sync"
	"testing"
	"time"

	kgo "github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/corpusflow/corpusflow/flow"
)

// startBroker runs an in-process Kafka-protocol broker on a TCP port.
func startBroker(t testing.TB) string {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.Ports(0), kfake.GroupMinSessionTimeout(100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c.ListenAddrs()[0]
}

// docsSource yields n documents in parts; every 7th repeats an earlier text
// (for dedup), every 10th is short (for the filter).
type docsSource struct{ n, perPart int }

func (s docsSource) Parts() ([]flow.Part, error) {
	var ps []flow.Part
	for start := 0; start < s.n; start += s.perPart {
		ps = append(ps, docsPart{start, min(start+s.perPart, s.n)})
	}
	return ps, nil
}

type docsPart struct{ start, end int }

func (p docsPart) Name() string { return fmt.Sprintf("part-%d", p.start) }
func (p docsPart) Size() int64  { return -1 }
func (p docsPart) Read(ctx context.Context, emit func(*flow.Record) error, _ *flow.SourceReport) error {
	for i := p.start; i < p.end; i++ {
		text := fmt.Sprintf("document number %d with some words in it", i)
		if i%7 == 6 {
			text = fmt.Sprintf("document number %d with some words in it", i/2)
		}
		if i%10 == 9 {
			text = "short"
		}
		r := &flow.Record{ID: fmt.Sprintf("doc-%d", i), Text: text, URL: fmt.Sprintf("https://example.org/%d", i)}
		r.SetMeta("n", i)
		r.SetMeta("tags", []any{"a", float64(i)})
		if err := emit(r); err != nil {
			return err
		}
	}
	return nil
}

// minLength is stateless.
type minLength struct{}

func (minLength) Process(r *flow.Record) string {
	if len(r.Text) < 10 {
		return "too_short"
	}
	r.Tokens = []int32{int32(len(r.Text)), 101, -1}
	return ""
}

// exactDedup keeps the first record of each text; keyed by the text hash.
type exactDedup struct {
	seen  map[uint64]string
	keyed int
}

func textHash(s string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(s))
	return h.Sum64()
}

func (d *exactDedup) Sequential()                        {}
func (d *exactDedup) PartitionKey(r *flow.Record) uint64 { return textHash(r.Text) }
func (d *exactDedup) Process(r *flow.Record) string      { return d.ProcessKeyed(r, textHash(r.Text)) }

// ProcessKeyed counts its calls, so a test can see the sender's key used.
func (d *exactDedup) ProcessKeyed(r *flow.Record, k uint64) string {
	d.keyed++
	if first, ok := d.seen[k]; ok {
		r.SetMeta("dup_of", first)
		return "duplicate"
	}
	d.seen[k] = r.ID
	return ""
}

// numberer is order dependent without a key: it stamps a running count.
type numberer struct{ n int }

func (s *numberer) Sequential() {}
func (s *numberer) Process(r *flow.Record) string {
	s.n++
	r.SetMeta("running", s.n)
	if s.n%50 == 0 {
		return "every_fiftieth"
	}
	return ""
}

// packer joins every 3 records into one, and flushes the rest at the end.
type packer struct {
	buf []string
	n   int
}

func (p *packer) Sequential()                   {}
func (p *packer) Process(r *flow.Record) string { return "" }
func (p *packer) ProcessEmit(r *flow.Record, out func(*flow.Record)) string {
	p.buf = append(p.buf, r.ID)
	if len(p.buf) == 3 {
		p.emit(out)
	}
	return ""
}
func (p *packer) emit(out func(*flow.Record)) {
	out(&flow.Record{ID: fmt.Sprintf("example-%d", p.n), Text: strings.Join(p.buf, "+"), Fields: map[string]any{"ids": []int32{1, 2, int32(p.n)}, "len": int64(len(p.buf))}})
	p.n++
	p.buf = nil
}
func (p *packer) Flush(out func(*flow.Record)) error {
	if len(p.buf) > 0 {
		p.emit(out)
	}
	return nil
}

type memorySink struct {
	mu    sync.Mutex
	lines []string
}

func (m *memorySink) Write(r *flow.Record) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.lines = append(m.lines, fmt.Sprintf("%s|%s|%s|%v|%v|%v", r.ID, r.Text, r.URL, r.Meta, r.Tokens, r.Fields))
	return nil
}
func (m *memorySink) Close() error { return nil }

type memoryRejects struct{ lines []string }

func (m *memoryRejects) WriteRejection(r flow.Rejection) error {
	m.lines = append(m.lines, r.Stage+"/"+r.Reason+"/"+r.Record.ID)
	return nil
}
func (m *memoryRejects) Close() error { return nil }

func testSteps(pack bool) []Step {
	steps := []Step{
		{Name: "min_length", New: func() (flow.NamedStage, error) {
			return flow.NamedStage{Name: "min_length", Use: "min_length", Stage: minLength{}}, nil
		}},
		{Name: "dedup", New: func() (flow.NamedStage, error) {
			return flow.NamedStage{Name: "dedup", Use: "dedup", Stage: &exactDedup{seen: map[uint64]string{}}}, nil
		}},
		{Name: "number", New: func() (flow.NamedStage, error) {
			return flow.NamedStage{Name: "number", Use: "number", Stage: &numberer{}}, nil
		}},
	}
	if pack {
		steps = append(steps, Step{Name: "pack", New: func() (flow.NamedStage, error) {
			return flow.NamedStage{Name: "pack", Use: "pack", Stage: &packer{}}, nil
		}})
	}
	return steps
}

func inProcess(t *testing.T, n int, steps []Step) (*memorySink, *memoryRejects) {
	t.Helper()
	sink, rejects := &memorySink{}, &memoryRejects{}
	plan := flow.Plan{Sources: []flow.NamedSource{{Name: "docs", Source: docsSource{n: n, perPart: 97}}},
		Sinks: []flow.NamedSink{{Name: "mem", Sink: sink}}, Rejects: rejects, Workers: 2, BatchRecords: 16}
	for _, s := range steps {
		st, _ := s.New()
		plan.Stages = append(plan.Stages, st)
	}
	if _, err := flow.Run(context.Background(), plan); err != nil {
		t.Fatal(err)
	}
	return sink, rejects
}

// distributed runs n test documents through steps on the broker: see
// distributedSource.
func distributed(t *testing.T, broker string, n, replicas int, steps []Step) (*memorySink, *memoryRejects, []*WorkerStats) {
	t.Helper()
	return distributedSource(t, broker, "docs", docsSource{n: n, perPart: 97}, replicas, steps)
}

// distributedSource runs the source src (named sourceName), replicas workers per
// stage, and the sinks, each as its own goroutine talking to the broker over
// TCP.
func distributedSource(t *testing.T, broker, sourceName string, src flow.Source, replicas int, steps []Step) (*memorySink, *memoryRejects, []*WorkerStats) {
	t.Helper()
	var names []string
	for _, s := range steps {
		names = append(names, s.Name)
	}
	return distributedWorkers(t, broker, sourceName, src, replicas, steps, names, false)
}

// distributedWorkers is distributedSource with workers for the stages named
// in workers only, and the transport chaining stateless stages if chain.
func distributedWorkers(t *testing.T, broker, sourceName string, src flow.Source, replicas int, steps []Step, workers []string, chain bool) (*memorySink, *memoryRejects, []*WorkerStats) {
	t.Helper()
	tr := NewTransport(Config{Brokers: []string{broker}, TopicPrefix: "test." + strings.ReplaceAll(t.Name(), "/", "."), Partitions: 3, SessionTimeoutMS: 1000, Chain: chain}, "test", nil)
	run := &Run{Transport: tr, Stages: steps, CarryRejects: true, Workers: 2}
	sink, rejects := &memorySink{}, &memoryRejects{}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	var mu sync.Mutex
	var all []*WorkerStats
	errs := make(chan error, 100)
	start := func(name string, f func() (*WorkerStats, error)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ws, err := f()
			if err != nil {
				errs <- fmt.Errorf("%s: %w", name, err)
			}
			mu.Lock()
			all = append(all, ws)
			mu.Unlock()
		}()
	}
	start("sinks", func() (*WorkerStats, error) {
		return RunSinks(ctx, run, flow.Plan{Sinks: []flow.NamedSink{{Name: "mem", Sink: sink}}, Rejects: rejects})
	})
	for _, name := range workers {
		for i := 0; i < replicas; i++ {
			start(fmt.Sprintf("%s#%d", name, i), func() (*WorkerStats, error) { return RunStage(ctx, run, name) })
		}
	}
	start("sources", func() (*WorkerStats, error) {
		return RunSources(ctx, run, flow.Plan{Sources: []flow.NamedSource{{Name: sourceName, Source: src}}, Workers: 2, BatchRecords: 16})
	})
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	return sink, rejects, all
}

func TestDistributedRunEqualsInProcess(t *testing.T) {
	broker := startBroker(t)
	for _, replicas := range []int{1, 2} {
		t.Run(fmt.Sprintf("replicas=%d", replicas), func(t *testing.T) {
			steps := testSteps(true)
			wantSink, wantRej := inProcess(t, 1000, steps)
			gotSink, gotRej, _ := distributed(t, broker, 1000, replicas, steps)
			if len(wantSink.lines) == 0 || len(wantRej.lines) == 0 {
				t.Fatal("the in-process run kept or rejected nothing; the test proves nothing")
			}
			compareLines(t, "sink", gotSink.lines, wantSink.lines)
			compareLines(t, "rejects", gotRej.lines, wantRej.lines)
		})
	}
}

// stamp is stateless: it marks the record with its name, so the output
// shows it ran.
type stamp struct{ name string }

func (s stamp) Process(r *flow.Record) string {
	if strings.HasSuffix(r.Text, "9 with some words in it") {
		return "ends_in_nine"
	}
	r.SetMeta(s.name, len(r.Text))
	return ""
}

func stampStep(name string) Step {
	return Step{Name: name, New: func() (flow.NamedStage, error) {
		return flow.NamedStage{Name: name, Use: "stamp", Stage: stamp{name}}, nil
	}}
}

// TestChainedRunEqualsInProcess: with chain, each stateless stage runs in
// the worker of the step before it — after the sources, a keyed stage, an
// emitter — and the output and rejects are still the in-process run's.
func TestChainedRunEqualsInProcess(t *testing.T) {
	broker := startBroker(t)
	all := testSteps(true)
	// min_length (stateless) dedup (keyed) stamp1 number (ordered) pack
	// (emitter) stamp2 stamp3
	steps := []Step{all[0], all[1], stampStep("stamp1"), all[2], all[3], stampStep("stamp2"), stampStep("stamp3")}
	wantSink, wantRej := inProcess(t, 1000, steps)
	for _, replicas := range []int{1, 2} {
		t.Run(fmt.Sprintf("replicas=%d", replicas), func(t *testing.T) {
			gotSink, gotRej, stats := distributedWorkers(t, broker, "docs", docsSource{n: 1000, perPart: 97}, replicas, steps, []string{"dedup", "number", "pack"}, true)
			compareLines(t, "sink", gotSink.lines, wantSink.lines)
			compareLines(t, "rejects", gotRej.lines, wantRej.lines)
			// Each chained stage ran in the worker of the step before it.
			ranIn := map[string]string{}
			for _, ws := range stats {
				if ws == nil || ws.Snapshot().Run == nil {
					continue
				}
				for _, st := range ws.Run.Stages {
					if st.In > 0 {
						ranIn[st.Name] = ws.Step
					}
				}
			}
			want := map[string]string{"min_length": SourcesStep, "dedup": "dedup", "stamp1": "dedup", "number": "number", "pack": "pack", "stamp2": "pack", "stamp3": "pack"}
			for stage, step := range want {
				if ranIn[stage] != step {
					t.Errorf("stage %s ran in step %q, want %q (all: %v)", stage, ranIn[stage], step, ranIn)
				}
			}
		})
	}
	if len(wantRej.lines) == 0 {
		t.Fatal("the in-process run rejected nothing; the test proves nothing")
	}
	t.Run("a chained stage has no worker of its own", func(t *testing.T) {
		run := &Run{Transport: NewTransport(Config{Brokers: []string{broker}, TopicPrefix: "test.chain-refused", Chain: true}, "test", nil), Stages: steps}
		_, err := RunStage(context.Background(), run, "stamp1")
		if err == nil || !strings.Contains(err.Error(), "stage stamp1 runs in the worker of the step before it") {
			t.Fatalf("RunStage(stamp1) with chain: %v", err)
		}
	})
}

func compareLines(t *testing.T, what string, got, want []string) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: %d lines, want %d", what, len(got), len(want))
	}
	for i := range min(len(got), len(want)) {
		if got[i] != want[i] {
			t.Errorf("%s line %d:\n got %s\nwant %s", what, i, got[i], want[i])
			return
		}
	}
}

// countingStage cancels its worker after a number of records: the worker
// leaves mid-stream, with some of its input committed and some not.
type countingStage struct {
	*exactDedup
	left   int
	cancel context.CancelFunc
}

func (c *countingStage) Process(r *flow.Record) string { return c.ProcessKeyed(r, textHash(r.Text)) }

func (c *countingStage) ProcessKeyed(r *flow.Record, k uint64) string {
	c.left--
	if c.left == 0 {
		c.cancel()
	}
	return c.exactDedup.ProcessKeyed(r, k)
}

// TestTakeOverRebuildsOrderedState stops the only worker of the keyed dedup
// stage mid-stream; a worker started afterwards takes over its partitions,
// replays their committed history to rebuild the seen-set, and the output is
// still exactly the in-process run's.
func TestTakeOverRebuildsOrderedState(t *testing.T) {
	broker := startBroker(t)
	t.Run("one step per stage", func(t *testing.T) { takeOver(t, broker, false) })
	// With chain, min_length runs in the sources worker and stamp1 in the
	// dedup workers' lanes: the replay goes through both dedup and stamp1.
	t.Run("chained", func(t *testing.T) { takeOver(t, broker, true) })
}

func takeOver(t *testing.T, broker string, chain bool) {
	const n = 6000
	all := testSteps(true)
	steps, workers := all, []string{"min_length", "number", "pack"}
	if chain {
		steps = []Step{all[0], all[1], stampStep("stamp1"), all[2], all[3]}
		workers = []string{"number", "pack"}
	}
	wantSink, wantRej := inProcess(t, n, steps)

	tr := NewTransport(Config{Brokers: []string{broker}, TopicPrefix: fmt.Sprintf("takeover-%v", chain), Partitions: 3, SessionTimeoutMS: 1000, Chain: chain}, "test", nil)
	run := &Run{Transport: tr, Stages: steps, CarryRejects: true, Workers: 2}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	firstCtx, stopFirst := context.WithCancel(ctx)
	first := &Run{Transport: tr, CarryRejects: true, Workers: 2}
	first.Stages = append([]Step(nil), steps...)
	first.Stages[1].New = func() (flow.NamedStage, error) {
		return flow.NamedStage{Name: "dedup", Use: "dedup", Stage: &countingStage{exactDedup: &exactDedup{seen: map[uint64]string{}}, left: 800, cancel: stopFirst}}, nil
	}

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
	for _, s := range workers {
		goRun(s, func() (*WorkerStats, error) { return RunStage(ctx, run, s) })
	}
	goRun("sources", func() (*WorkerStats, error) {
		return RunSources(ctx, run, flow.Plan{Sources: []flow.NamedSource{{Name: "docs", Source: docsSource{n: n, perPart: 97}}}, Workers: 2, BatchRecords: 16})
	})
	if _, err := RunStage(firstCtx, first, "dedup"); !errors.Is(err, context.Canceled) {
		t.Fatalf("the first dedup worker should have been stopped mid-stream, got %v", err)
	}
	second, err := RunStage(ctx, run, "dedup")
	if err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	snap := second.Snapshot()
	if snap.Rebuilds == 0 || snap.ReplayedFrames == 0 {
		t.Errorf("the second worker took over without replaying: %d rebuilds, %d frames replayed", snap.Rebuilds, snap.ReplayedFrames)
	}
	t.Logf("second worker: %d rebuilds, %d frames replayed, %d duplicates dropped", snap.Rebuilds, snap.ReplayedFrames, snap.DuplicateFrames)
	compareLines(t, "sink", sink.lines, wantSink.lines)
	compareLines(t, "rejects", rejects.lines, wantRej.lines)
}

// A message in a stage's topic that is not a frame (another program wrote
// to the run's topics) stops the run loudly: the stage worker names the
// topic, partition and offset, and every other worker stops with it instead
// of waiting for an end that will not come.
func TestCorruptFrameStopsTheRun(t *testing.T) {
	broker := startBroker(t)
	tr := NewTransport(Config{Brokers: []string{broker}, TopicPrefix: "corrupt", Partitions: 2, SessionTimeoutMS: 1000}, "test", nil)
	run := &Run{Transport: tr, Stages: testSteps(false)[:1], Workers: 1}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := tr.CreateTopics(ctx, run.Steps()); err != nil {
		t.Fatal(err)
	}
	w := &kgo.Writer{Addr: kgo.TCP(broker), Topic: tr.Topic("min_length"), Balancer: &kgo.RoundRobin{}}
	if err := w.WriteMessages(ctx, kgo.Message{Value: []byte("{\"text\": \"not a frame\"}")}); err != nil {
		t.Fatal(err)
	}
	w.Close()
	var wg sync.WaitGroup
	var stageErr, sinkErr error
	wg.Add(2)
	go func() {
		defer wg.Done()
		_, stageErr = RunStage(ctx, run, "min_length")
	}()
	go func() {
		defer wg.Done()
		_, sinkErr = RunSinks(ctx, run, flow.Plan{Sinks: []flow.NamedSink{{Name: "mem", Sink: &memorySink{}}}})
	}()
	wg.Wait()
	if stageErr == nil || !strings.Contains(stageErr.Error(), "corrupt.min_length partition") || !strings.Contains(stageErr.Error(), "offset 0") || !errors.Is(stageErr, errCorrupt) {
		t.Errorf("stage worker: %v, want a corrupt-frame error naming the topic, partition and offset", stageErr)
	}
	if sinkErr == nil || !strings.Contains(sinkErr.Error(), "failed") {
		t.Errorf("sinks worker: %v, want it to stop because a worker failed", sinkErr)
	}
	if ctx.Err() != nil {
		t.Error("the workers only stopped at the test's deadline")
	}
}
