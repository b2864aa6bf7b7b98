package ingest

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"

	kgzip "github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"

	"github.com/corpusflow/corpusflow/flow"
)

// testdata is the repository's sample data directory.
func testdata(parts ...string) string {
	return filepath.Join(append([]string{"..", "testdata"}, parts...)...)
}

// collectSink keeps what reaches it.
type collectSink struct{ recs []*flow.Record }

func (s *collectSink) Write(r *flow.Record) error { s.recs = append(s.recs, r); return nil }
func (s *collectSink) Close() error               { return nil }

// runSource reads a source through the engine, as a pipeline would.
func runSource(t testing.TB, src flow.Source, workers int) ([]*flow.Record, flow.SourceStats) {
	t.Helper()
	sink := &collectSink{}
	stats, err := flow.Run(context.Background(), flow.Plan{
		Sources: []flow.NamedSource{{Name: "in", Source: src}},
		Sinks:   []flow.NamedSink{{Name: "mem", Sink: sink}},
		Workers: workers,
	})
	if err != nil {
		t.Fatal(err)
	}
	return sink.recs, stats.Sources[0]
}

// readAllParts reads every part directly (no engine), returning the records
// and the report, and failing the test on an error a part returns.
func readAllParts(t testing.TB, src flow.Source) ([]*flow.Record, *flow.SourceReport) {
	t.Helper()
	parts, err := src.Parts()
	if err != nil {
		t.Fatal(err)
	}
	report := flow.NewSourceReport("test", nil)
	var recs []*flow.Record
	for _, p := range parts {
		err := p.Read(context.Background(), func(r *flow.Record) error { recs = append(recs, r); return nil }, report)
		if err != nil {
			t.Fatalf("%s: %v", p.Name(), err)
		}
	}
	return recs, report
}

// problems returns a report's problem and skip counts together: everything
// read that did not become a record.
func problems(r *flow.SourceReport) map[string]int64 {
	s := r.Stats()
	all := s.Errors
	for k, v := range s.Skipped {
		all[k] += v
	}
	return all
}

// gzipMembersOf compresses each chunk as its own gzip member, the way
// Common Crawl writes one record per member. It returns the file and where
// each member starts.
func gzipMembersOf(t testing.TB, chunks [][]byte) ([]byte, []int) {
	t.Helper()
	var out bytes.Buffer
	var starts []int
	for _, c := range chunks {
		starts = append(starts, out.Len())
		zw := kgzip.NewWriter(&out)
		if _, err := zw.Write(c); err != nil {
			t.Fatal(err)
		}
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return out.Bytes(), starts
}

func gzipBytes(t testing.TB, b []byte) []byte {
	t.Helper()
	out, _ := gzipMembersOf(t, [][]byte{b})
	return out
}

func zstdBytes(t testing.TB, b []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	zw, err := zstd.NewWriter(&out)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}
