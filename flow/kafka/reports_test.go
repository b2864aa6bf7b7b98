package kafka

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	kgo "github.com/segmentio/kafka-go"

	"github.com/corpusflow/corpusflow/flow"
)

// tally is a stateless stage with a report: how many records it saw and
// rejected, and the ids of the ones whose text mentions "7". Its Finish
// writes the report to written (the test's stand-in for a report file).
type tally struct {
	mu       sync.Mutex
	seen     int
	rejected int
	sevens   []string
	parts    map[*flow.Record]tallyPart // with KeepReportParts
	written  *reportBox
	left     int // stop the worker after this many records (0: never)
	cancel   context.CancelFunc
	finished bool
}

type tallyPart struct {
	Seen, Rejected int
	Sevens         []string
}

type reportBox struct {
	mu      sync.Mutex
	reports []string
}

func (b *reportBox) put(s string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.reports = append(b.reports, s)
}

func (b *reportBox) all() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.reports...)
}

func (s *tally) Process(r *flow.Record) string {
	c := tallyPart{Seen: 1}
	reject := ""
	if strings.Contains(r.Text, "3") {
		reject, c.Rejected = "has_three", 1
	}
	if strings.Contains(r.Text, "7") {
		c.Sevens = []string{r.ID}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.left > 0 {
		if s.left--; s.left == 0 {
			s.cancel()
		}
	}
	if s.parts != nil {
		s.parts[r] = c
	} else {
		s.add(c)
	}
	return reject
}

func (s *tally) add(c tallyPart) {
	s.seen += c.Seen
	s.rejected += c.Rejected
	s.sevens = append(s.sevens, c.Sevens...)
}

func (s *tally) KeepReportParts() { s.parts = map[*flow.Record]tallyPart{} }

func (s *tally) ReportPart(recs []*flow.Record) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var sum tallyPart
	for _, r := range recs {
		if c, ok := s.parts[r]; ok {
			sum.Seen += c.Seen
			sum.Rejected += c.Rejected
			sum.Sevens = append(sum.Sevens, c.Sevens...)
			delete(s.parts, r)
		}
	}
	return json.Marshal(sum)
}

func (s *tally) AddReportPart(b []byte) error {
	var c tallyPart
	if err := json.Unmarshal(b, &c); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.add(c)
	return nil
}

func (s *tally) Finish(context.Context) error {
	if s.parts != nil {
		return nil
	}
	sort.Strings(s.sevens)
	s.written.put(fmt.Sprintf("seen %d rejected %d sevens %v", s.seen, s.rejected, s.sevens))
	return nil
}

func tallySteps(box *reportBox, left int, cancel context.CancelFunc) []Step {
	steps := testSteps(false)
	tallyStep := Step{Name: "tally", New: func() (flow.NamedStage, error) {
		return flow.NamedStage{Name: "tally", Use: "tally", Stage: &tally{written: box, left: left, cancel: cancel}}, nil
	}}
	// min_length, tally (stateless, with a report), dedup, number
	return append([]Step{steps[0], tallyStep}, steps[1:]...)
}

// TestReportMergedOnce: a stage with a report runs on one or two workers;
// the sinks worker writes one report, equal to the one-process run's, and
// no worker writes its partial one.
func TestReportMergedOnce(t *testing.T) {
	broker := startBroker(t)
	const n = 1200
	want := &reportBox{}
	inProcess(t, n, tallySteps(want, 0, nil))
	if len(want.all()) != 1 {
		t.Fatalf("in process: %d reports", len(want.all()))
	}
	for _, replicas := range []int{1, 2} {
		t.Run(fmt.Sprintf("replicas=%d", replicas), func(t *testing.T) {
			got := &reportBox{}
			distributed(t, broker, n, replicas, tallySteps(got, 0, nil))
			if g := got.all(); len(g) != 1 || g[0] != want.all()[0] {
				t.Errorf("reports written: %q, want exactly %q", g, want.all()[0])
			}
		})
	}
}

// TestReportAfterTakeOver stops the only worker of the reporting stage
// mid-stream; the next one redoes the batches whose input was not
// committed, sending their parts again. The report counts each batch once.
func TestReportAfterTakeOver(t *testing.T) {
	broker := startBroker(t)
	const n = 5000
	want := &reportBox{}
	inProcess(t, n, tallySteps(want, 0, nil))

	got := &reportBox{}
	tr := NewTransport(Config{Brokers: []string{broker}, TopicPrefix: "report-takeover", Partitions: 3, SessionTimeoutMS: 1000}, "test", nil)
	run := &Run{Transport: tr, Stages: tallySteps(got, 0, nil), CarryRejects: true, Workers: 2}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	firstCtx, stopFirst := context.WithCancel(ctx)
	first := &Run{Transport: tr, Stages: tallySteps(got, 1500, stopFirst), CarryRejects: true, Workers: 2}

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
		return RunSinks(ctx, run, flow.Plan{Sinks: []flow.NamedSink{{Name: "mem", Sink: &memorySink{}}}, Rejects: &memoryRejects{}})
	})
	for _, s := range []string{"min_length", "dedup", "number"} {
		goRun(s, func() (*WorkerStats, error) { return RunStage(ctx, run, s) })
	}
	goRun("sources", func() (*WorkerStats, error) {
		return RunSources(ctx, run, flow.Plan{Sources: []flow.NamedSource{{Name: "docs", Source: docsSource{n: n, perPart: 97}}}, Workers: 2, BatchRecords: 16})
	})
	if _, err := RunStage(firstCtx, first, "tally"); !errors.Is(err, context.Canceled) {
		t.Fatalf("the first tally worker should have been stopped mid-stream, got %v", err)
	}
	if _, err := RunStage(ctx, run, "tally"); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if g := got.all(); len(g) != 1 || g[0] != want.all()[0] {
		t.Errorf("reports written: %q, want exactly %q", g, want.all()[0])
	}
}

func TestReportMsgRoundTrip(t *testing.T) {
	for _, m := range []reportMsg{
		{kind: reportData, step: "decontaminate", id: identity{batch: 1 << 33, part: 2, of: 3}, data: []byte(`{"records":1}`)},
		{kind: reportData, step: "x", id: identity{of: 1}},
		{kind: reportEnd, step: "decontaminate"},
	} {
		got, err := decodeReportMsg(appendReportMsg(nil, m))
		if err != nil {
			t.Fatal(err)
		}
		if got.kind != m.kind || got.step != m.step || got.id != m.id || string(got.data) != string(m.data) {
			t.Errorf("round trip: got %+v, want %+v", got, m)
		}
	}
	for name, b := range map[string][]byte{
		"empty":     nil,
		"magic":     []byte("CF\x01\x01"),
		"version":   {'C', 'R', 9, reportEnd, 0},
		"kind":      {'C', 'R', wireVersion, 7, 0},
		"part":      {'C', 'R', wireVersion, reportData, 1, 'x', 0, 3, 3, 0},
		"trailing":  {'C', 'R', wireVersion, reportEnd, 1, 'x', 0},
		"truncated": {'C', 'R', wireVersion, reportData, 1, 'x', 0, 0, 1, 9, 'a'},
	} {
		if _, err := decodeReportMsg(b); !errors.Is(err, errCorrupt) {
			t.Errorf("%s: %v, want a corrupt-frame error", name, err)
		}
	}
}

func FuzzDecodeReportMsg(f *testing.F) {
	f.Add(appendReportMsg(nil, reportMsg{kind: reportData, step: "s", id: identity{batch: 3, part: 1, of: 2}, data: []byte("{}")}))
	f.Add(appendReportMsg(nil, reportMsg{kind: reportEnd, step: "s"}))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := decodeReportMsg(b)
		if err != nil {
			return
		}
		again, err := decodeReportMsg(appendReportMsg(nil, m))
		if err != nil || again.kind != m.kind || again.step != m.step || again.id != m.id || string(again.data) != string(m.data) {
			t.Fatalf("round trip changed %+v into %+v (%v)", m, again, err)
		}
	})
}

// TestMergeReportsKeepsOnePartPerBatch: the report topic holds a batch's
// part twice (a worker died after sending it, before committing, and its
// successor sent it again) and parts of two batches with equal numbers but
// other parts; the merged report counts each batch once.
func TestMergeReportsKeepsOnePartPerBatch(t *testing.T) {
	broker := startBroker(t)
	box := &reportBox{}
	tr := NewTransport(Config{Brokers: []string{broker}, TopicPrefix: "merge-reports", Partitions: 2}, "test", nil)
	run := &Run{Transport: tr, Stages: tallySteps(box, 0, nil)}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := tr.CreateTopics(ctx, run.Steps()); err != nil {
		t.Fatal(err)
	}
	part := func(seen int, id identity, sevens ...string) []byte {
		data, _ := json.Marshal(tallyPart{Seen: seen, Sevens: sevens})
		return appendReportMsg(nil, reportMsg{kind: reportData, step: "tally", id: id, data: data})
	}
	w := tr.writer(nil)
	defer w.Close()
	var msgs []kgo.Message
	for _, v := range [][]byte{
		part(3, identity{batch: 0, part: 0, of: 2}, "a"),
		part(4, identity{batch: 0, part: 1, of: 2}, "b"),
		part(3, identity{batch: 0, part: 0, of: 2}, "a"), // sent again
		part(5, identity{batch: 1, part: 0, of: 1}),
		appendReportMsg(nil, reportMsg{kind: reportEnd, step: "tally"}),
		appendReportMsg(nil, reportMsg{kind: reportEnd, step: "tally"}), // every worker ends
	} {
		msgs = append(msgs, kgo.Message{Topic: tr.ReportTopic(), Value: v, WriterData: &outMessage{partition: 0}})
	}
	if err := w.WriteMessages(ctx, msgs...); err != nil {
		t.Fatal(err)
	}
	if err := mergeReports(ctx, run); err != nil {
		t.Fatal(err)
	}
	if got, want := box.all(), []string{"seen 12 rejected 0 sevens [a b]"}; len(got) != 1 || got[0] != want[0] {
		t.Errorf("reports %q, want %q", got, want)
	}
	// Parts of a stage that never ended mean the run did not complete.
	if err := w.WriteMessages(ctx, kgo.Message{Topic: tr.ReportTopic(), Value: appendReportMsg(nil, reportMsg{kind: reportData, step: "ghost", id: identity{of: 1}}), WriterData: &outMessage{partition: 0}}); err != nil {
		t.Fatal(err)
	}
	if err := mergeReports(ctx, run); err == nil || !strings.Contains(err.Error(), "ghost") {
		t.Errorf("a part of an unknown stage: %v", err)
	}
}
