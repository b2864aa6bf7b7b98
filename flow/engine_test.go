package flow

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
)

// sliceSource yields n records split across parts of the given size.
type sliceSource struct {
	n, perPart int
}

func (s sliceSource) Parts() ([]Part, error) {
	var ps []Part
	for start := 0; start < s.n; start += s.perPart {
		end := min(start+s.perPart, s.n)
		ps = append(ps, slicePart{start, end})
	}
	return ps, nil
}

type slicePart struct{ start, end int }

func (p slicePart) Name() string { return fmt.Sprintf("part-%d", p.start) }
func (p slicePart) Size() int64  { return -1 }
func (p slicePart) Read(ctx context.Context, emit func(*Record) error, rep *SourceReport) error {
	for i := p.start; i < p.end; i++ {
		if err := emit(&Record{ID: fmt.Sprint(i), Text: fmt.Sprintf("doc %d", i)}); err != nil {
			return err
		}
	}
	return nil
}

type stageFunc func(*Record) string

func (f stageFunc) Process(r *Record) string { return f(r) }

type seqStage struct {
	stageFunc
	seen []string
}

func (s *seqStage) Sequential() {}
func (s *seqStage) Process(r *Record) string {
	s.seen = append(s.seen, r.ID)
	return s.stageFunc(r)
}

type memorySink struct {
	mu     sync.Mutex
	ids    []string
	closed bool
}

func (m *memorySink) Write(r *Record) error { m.ids = append(m.ids, r.ID+":"+r.Text); return nil }
func (m *memorySink) Close() error          { m.closed = true; return nil }

type memoryRejects struct{ got []string }

func (m *memoryRejects) WriteRejection(r Rejection) error {
	m.got = append(m.got, r.Stage+"/"+r.Reason+"/"+r.Record.ID)
	return nil
}
func (m *memoryRejects) Close() error { return nil }

func runPlan(t *testing.T, workers int) (*RunStats, *memorySink, *memoryRejects, *seqStage) {
	t.Helper()
	seq := &seqStage{stageFunc: func(r *Record) string {
		if strings.HasSuffix(r.ID, "7") {
			return "ends_in_7"
		}
		return ""
	}}
	sink, rejects := &memorySink{}, &memoryRejects{}
	plan := Plan{
		Sources: []NamedSource{{Name: "a", Source: sliceSource{n: 1000, perPart: 97}}, {Name: "b", Source: sliceSource{n: 50, perPart: 50}}},
		Stages: []NamedStage{
			{Name: "upper", Stage: stageFunc(func(r *Record) string { r.Text = strings.ToUpper(r.Text); return "" })},
			{Name: "odd", Stage: stageFunc(func(r *Record) string {
				var n int
				fmt.Sscan(r.ID, &n)
				if n%2 == 1 {
					return "odd"
				}
				return ""
			})},
			{Name: "seq", Stage: seq},
			{Name: "boom", Stage: stageFunc(func(r *Record) string {
				if r.ID == "500" {
					panic("bad record")
				}
				return ""
			})},
		},
		Sinks:        []NamedSink{{Name: "mem", Sink: sink}},
		Rejects:      rejects,
		Workers:      workers,
		BatchRecords: 16,
	}
	stats, err := Run(context.Background(), plan)
	if err != nil {
		t.Fatal(err)
	}
	return stats, sink, rejects, seq
}

func TestRunOrderAndAccounting(t *testing.T) {
	s1, sink1, rej1, seq1 := runPlan(t, 1)
	for _, w := range []int{2, 4, 8} {
		sw, sinkW, rejW, seqW := runPlan(t, w)
		if strings.Join(sinkW.ids, ",") != strings.Join(sink1.ids, ",") {
			t.Fatalf("workers=%d: sink order differs from workers=1", w)
		}
		if strings.Join(rejW.got, ",") != strings.Join(rej1.got, ",") {
			t.Fatalf("workers=%d: rejects differ", w)
		}
		if strings.Join(seqW.seen, ",") != strings.Join(seq1.seen, ",") {
			t.Fatalf("workers=%d: sequential stage saw another order", w)
		}
		if fmt.Sprint(sw.Stages) != fmt.Sprint(s1.Stages) {
			t.Fatalf("workers=%d: stats differ:\n%v\n%v", w, sw.Stages, s1.Stages)
		}
	}
	// 1000 + 50 records; the "b" source restarts ids at 0, so ids repeat.
	if s1.Sources[0].Records != 1000 || s1.Sources[1].Records != 50 || s1.Sources[0].Parts != 11 {
		t.Fatalf("source stats: %+v", s1.Sources)
	}
	for _, st := range s1.Stages {
		if st.In != st.Kept+st.RejectedTotal() {
			t.Errorf("stage %s: in %d != kept %d + rejected %d", st.Name, st.In, st.Kept, st.RejectedTotal())
		}
	}
	want := map[string][3]int64{ // in, kept, rejected
		"upper": {1050, 1050, 0},
		"odd":   {1050, 525, 525},
		"seq":   {525, 525, 0}, // even ids never end in 7
		"boom":  {525, 524, 1},
	}
	for _, st := range s1.Stages {
		w := want[st.Name]
		if st.In != w[0] || st.Kept != w[1] || st.RejectedTotal() != w[2] {
			t.Errorf("stage %s: got in=%d kept=%d rejected=%v, want %v", st.Name, st.In, st.Kept, st.Rejected, w)
		}
	}
	if s1.Stages[3].Rejected["stage_panic"] != 1 {
		t.Errorf("panic not counted: %v", s1.Stages[3].Rejected)
	}
	if len(sink1.ids) != 524 || sink1.ids[0] != "0:DOC 0" || !sink1.closed {
		t.Fatalf("sink got %d records, first %q", len(sink1.ids), sink1.ids[0])
	}
	if len(rej1.got) != 526 {
		t.Fatalf("rejects sink got %d, want 526", len(rej1.got))
	}
}

// blockingSource emits records until its context is cancelled.
type endlessSource struct{}

func (endlessSource) Parts() ([]Part, error) { return []Part{endlessPart{}}, nil }

type endlessPart struct{}

func (endlessPart) Name() string { return "endless" }
func (endlessPart) Size() int64  { return -1 }
func (endlessPart) Read(ctx context.Context, emit func(*Record) error, rep *SourceReport) error {
	for i := 0; ; i++ {
		if err := emit(&Record{ID: fmt.Sprint(i)}); err != nil {
			return err
		}
	}
}

func TestInterruptDrainsAndCloses(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	sink := &memorySink{}
	n := 0
	stage := stageFunc(func(r *Record) string {
		return ""
	})
	counting := &seqStage{stageFunc: func(r *Record) string {
		n++
		if n == 5000 {
			cancel()
		}
		return ""
	}}
	stats, err := Run(ctx, Plan{
		Sources: []NamedSource{{Name: "endless", Source: endlessSource{}}},
		Stages:  []NamedStage{{Name: "noop", Stage: stage}, {Name: "count", Stage: counting}},
		Sinks:   []NamedSink{{Name: "mem", Sink: sink}},
		Workers: 2,
	})
	if err != nil {
		t.Fatal(err)
	}
	if !stats.Interrupted || !sink.closed {
		t.Fatalf("interrupted=%v closed=%v", stats.Interrupted, sink.closed)
	}
	// Everything the source emitted reached the sink: nothing in flight lost.
	if int64(len(sink.ids)) != stats.Sources[0].Records || stats.Stages[1].In != stats.Sources[0].Records {
		t.Fatalf("source emitted %d, sink got %d, count stage saw %d", stats.Sources[0].Records, len(sink.ids), stats.Stages[1].In)
	}
}
