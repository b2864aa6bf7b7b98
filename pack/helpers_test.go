package pack

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/corpusflow/corpusflow/flow"
)

// testLayout is a small example layout: fixed-width input_ids and a
// variable-width labels column.
func testLayout(width int) *Layout {
	return &Layout{
		Columns: []Column{
			{Name: ColID, Kind: KindString},
			{Name: ColDocID, Kind: KindString},
			{Name: ColInputIDs, Kind: KindInt32List, Width: width},
			{Name: ColLabels, Kind: KindInt32List},
			{Name: ColLength, Kind: KindInt32},
		},
		Metadata: map[string]string{MetaMode: "test", MetaSeqLen: fmt.Sprint(width), MetaVocabSHA256: "abc"},
	}
}

// testRecords makes n example records of layout l; row i's values derive
// from i, so a reader can check every value.
func testRecords(l *Layout, n int) []*flow.Record {
	width := l.Columns[2].Width
	recs := make([]*flow.Record, n)
	for i := range recs {
		ids := make([]int32, width)
		for j := range ids {
			ids[j] = int32(i*7 + j)
		}
		labels := make([]int32, i%5)
		for j := range labels {
			labels[j] = int32(-i)
		}
		r := &flow.Record{ID: fmt.Sprintf("ex-%d", i), Fields: map[string]any{
			ColDocID:    fmt.Sprintf("doc-%d", i/3),
			ColInputIDs: ids,
			ColLabels:   labels,
			ColLength:   int32(width - i%3),
		}}
		AttachLayout(r, l)
		recs[i] = r
	}
	return recs
}

func writeAll(t testing.TB, opts WriterOptions, recs []*flow.Record) *Manifest {
	t.Helper()
	w, err := NewShardWriter(opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if err := w.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	m, err := ReadManifest(opts.Dir)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func readAll(t testing.TB, dir string, opts ReaderOptions) []Example {
	t.Helper()
	r, err := OpenReader(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	var out []Example
	for {
		ex, err := r.Next()
		if err != nil {
			if err.Error() == "EOF" {
				return out
			}
			t.Fatal(err)
		}
		out = append(out, ex)
	}
}

// dirFiles maps the names of dir's files to their bytes.
func dirFiles(t testing.TB, dir string) map[string][]byte {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		files[e.Name()] = data
	}
	return files
}

func sameFiles(t testing.TB, a, b map[string][]byte) {
	t.Helper()
	var names []string
	for n := range a {
		names = append(names, n)
	}
	sort.Strings(names)
	if len(a) != len(b) {
		t.Fatalf("file sets differ: %d vs %d files", len(a), len(b))
	}
	for _, n := range names {
		if !bytes.Equal(a[n], b[n]) {
			t.Fatalf("%s differs (%d vs %d bytes)", n, len(a[n]), len(b[n]))
		}
	}
}
