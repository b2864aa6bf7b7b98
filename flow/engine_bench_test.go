package flow

import (
	"context"
	"fmt"
	"testing"
)

// countingPart emits n small records, reusing one text, so the benchmark
// measures the engine rather than a parser.
type countingPart struct{ n int }

func (p countingPart) Name() string { return "bench" }
func (p countingPart) Size() int64  { return -1 }
func (p countingPart) Read(ctx context.Context, emit func(*Record) error, rep *SourceReport) error {
	for i := 0; i < p.n; i++ {
		if err := emit(&Record{ID: "x", Text: "a small record of some forty bytes ....."}); err != nil {
			return err
		}
	}
	return nil
}

type countingSource struct{ parts, perPart int }

func (s countingSource) Parts() ([]Part, error) {
	ps := make([]Part, s.parts)
	for i := range ps {
		ps[i] = countingPart{s.perPart}
	}
	return ps, nil
}

type discardSink struct{ n int }

func (d *discardSink) Write(*Record) error { d.n++; return nil }
func (d *discardSink) Close() error        { return nil }

type noopSequential struct{}

func (noopSequential) Process(*Record) string { return "" }
func (noopSequential) Sequential()            {}

// BenchmarkEngineNoop measures records/s through a chain of 4 no-op stages:
// the engine's own overhead, which must stay far below any real stage's cost.
// "parallel" chains are fused onto the workers; "sequential" stages each run
// on their own goroutine (the dedup case).
func BenchmarkEngineNoop(b *testing.B) {
	for _, kind := range []string{"parallel", "sequential"} {
		for _, workers := range []int{1, 2} {
			b.Run(fmt.Sprintf("%s/workers=%d", kind, workers), func(b *testing.B) {
				const perPart = 100_000
				parts := max(1, b.N/perPart)
				var stages []NamedStage
				for i := 0; i < 4; i++ {
					var st Stage = stageFunc(func(*Record) string { return "" })
					if kind == "sequential" {
						st = noopSequential{}
					}
					stages = append(stages, NamedStage{Name: fmt.Sprint("noop", i), Stage: st})
				}
				sink := &discardSink{}
				b.ResetTimer()
				_, err := Run(context.Background(), Plan{
					Sources: []NamedSource{{Name: "bench", Source: countingSource{parts, perPart}}},
					Stages:  stages,
					Sinks:   []NamedSink{{Name: "discard", Sink: sink}},
					Workers: workers,
				})
				if err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(float64(sink.n)/b.Elapsed().Seconds(), "records/s")
				b.ReportMetric(0, "ns/op")
			})
		}
	}
}
