package pack

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/corpusflow/corpusflow/flow"
)

func TestWriteAndReadBackEveryFormatAndCodec(t *testing.T) {
	l := testLayout(8)
	recs := testRecords(l, 1000)
	for _, format := range []string{FormatFile, FormatStream} {
		for _, codec := range []string{"none", "lz4", "zstd"} {
			t.Run(format+"/"+codec, func(t *testing.T) {
				dir := t.TempDir()
				m := writeAll(t, WriterOptions{Dir: dir, Format: format, Compression: codec, BatchRows: 64, MaxRows: 300}, recs)
				if !m.Complete || m.Rows != 1000 || len(m.Shards) != 4 || m.Shards[3].Rows != 100 {
					t.Fatalf("manifest: complete=%v rows=%d shards=%+v", m.Complete, m.Rows, m.Shards)
				}
				if m.Format != format || m.Compression != codec {
					t.Fatalf("manifest says %s/%s", m.Format, m.Compression)
				}
				got := readAll(t, dir, ReaderOptions{})
				if len(got) != len(recs) {
					t.Fatalf("read %d rows, wrote %d", len(got), len(recs))
				}
				for i, ex := range got {
					r := recs[i]
					if ex.ID != r.ID || ex.DocID != r.Fields[ColDocID] || ex.Length != int(r.Fields[ColLength].(int32)) ||
						!reflect.DeepEqual(ex.InputIDs, r.Fields[ColInputIDs]) || len(ex.Labels) != len(r.Fields[ColLabels].([]int32)) {
						t.Fatalf("row %d: got %+v, wrote %+v", i, ex, r.Fields)
					}
					if want := (Position{Shard: i / 300, Row: i % 300}); ex.Position != want || ex.Shard != ShardName(i/300) {
						t.Fatalf("row %d: position %+v, want %+v", i, ex.Position, want)
					}
				}
				for name := range dirFiles(t, dir) {
					if isTemp(name) {
						t.Fatalf("temporary file %s left behind", name)
					}
				}
			})
		}
	}
}

func TestShardsAreByteIdenticalRunToRun(t *testing.T) {
	l := testLayout(16)
	recs := testRecords(l, 3000)
	for _, codec := range []string{"none", "lz4", "zstd"} {
		a, b := t.TempDir(), t.TempDir()
		writeAll(t, WriterOptions{Dir: a, Compression: codec, BatchRows: 100, MaxShardBytes: 40_000}, recs)
		writeAll(t, WriterOptions{Dir: b, Compression: codec, BatchRows: 100, MaxShardBytes: 40_000}, recs)
		sameFiles(t, dirFiles(t, a), dirFiles(t, b))
	}
}

func TestMaxShardBytesCutsShards(t *testing.T) {
	dir := t.TempDir()
	m := writeAll(t, WriterOptions{Dir: dir, BatchRows: 50, MaxShardBytes: 20_000}, testRecords(testLayout(32), 2000))
	if len(m.Shards) < 5 {
		t.Fatalf("only %d shards for ~280 KB of data with 20 KB shards", len(m.Shards))
	}
	for i, s := range m.Shards {
		if s.File != ShardName(i) {
			t.Fatalf("shard %d is called %s", i, s.File)
		}
		// A shard closes at the first batch boundary past the limit.
		if i < len(m.Shards)-1 && (s.Bytes < 20_000 || s.Bytes > 20_000+50*32*4+4096) {
			t.Fatalf("shard %s has %d bytes, limit 20000 + one batch", s.File, s.Bytes)
		}
	}
}

func TestWriterRefusesRowsThatDoNotFitTheLayout(t *testing.T) {
	l := testLayout(4)
	cases := map[string]func(r *flow.Record){
		"has 3 values, the layout says 4": func(r *flow.Record) { r.Fields[ColInputIDs] = []int32{1, 2, 3} },
		`no "doc_id" column`:              func(r *flow.Record) { delete(r.Fields, ColDocID) },
		"is string, want []int32":         func(r *flow.Record) { r.Fields[ColLabels] = "x" },
		"does not fit in int32":           func(r *flow.Record) { r.Fields[ColLength] = int64(1 << 40) },
	}
	for want, spoil := range cases {
		recs := testRecords(l, 2)
		spoil(recs[1])
		w, err := NewShardWriter(WriterOptions{Dir: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Write(recs[0]); err != nil {
			t.Fatal(err)
		}
		err = w.Write(recs[1])
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "ex-1") {
			t.Errorf("want an error naming ex-1 and %q, got %v", want, err)
		}
		w.Close()
	}
}

func TestDocumentsWithoutLayoutGetTheDocumentSchema(t *testing.T) {
	dir := t.TempDir()
	recs := []*flow.Record{
		{ID: "a", Text: "hello", URL: "http://x", Source: "f.jsonl", Tokens: []int32{7, 8}},
		{ID: "b", Text: "world", Tokens: []int32{9}},
	}
	m := writeAll(t, WriterOptions{Dir: dir}, recs)
	if m.Schema.Metadata[MetaMode] != "documents" || len(m.Schema.Fields) != 6 {
		t.Fatalf("schema: %+v", m.Schema)
	}
	got := readAll(t, dir, ReaderOptions{})
	if len(got) != 2 || got[1].ID != "b" || !reflect.DeepEqual(got[0].InputIDs, []int32{7, 8}) {
		t.Fatalf("read %+v", got)
	}
}

func TestFreshRunClearsAPreviousRunsShards(t *testing.T) {
	dir := t.TempDir()
	writeAll(t, WriterOptions{Dir: dir, MaxRows: 10}, testRecords(testLayout(4), 100))
	os.WriteFile(filepath.Join(dir, tempPrefix+"shard-00003.arrow-123"), []byte("junk"), 0o644)
	os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("mine"), 0o644)
	m := writeAll(t, WriterOptions{Dir: dir, MaxRows: 10}, testRecords(testLayout(4), 15))
	files := dirFiles(t, dir)
	if len(m.Shards) != 2 || len(files) != 4 || files["notes.txt"] == nil {
		var names []string
		for n := range files {
			names = append(names, n)
		}
		t.Fatalf("after a second, smaller run: %d shards, files %v", len(m.Shards), names)
	}
}

func TestSchemaCarriesMetadataAndHuggingFaceFeatures(t *testing.T) {
	s := testLayout(8).Schema()
	md := s.Metadata()
	if v, _ := md.GetValue(MetaVocabSHA256); v != "abc" {
		t.Fatalf("vocab checksum missing: %v", md)
	}
	hf, _ := md.GetValue(MetaHuggingFace)
	want := `"input_ids":{"feature":{"dtype":"int32","_type":"Value"},"length":8,"_type":"Sequence"}`
	if !strings.Contains(hf, want) || !strings.Contains(hf, `"labels":{"feature":{"dtype":"int32","_type":"Value"},"length":-1`) {
		t.Fatalf("huggingface metadata %s", hf)
	}
	if got := fmt.Sprint(s.Field(2).Type); got != "fixed_size_list<item: int32, nullable>[8]" {
		t.Fatalf("input_ids type %s", got)
	}
	if got := fmt.Sprint(s.Field(3).Type); got != "list<item: int32, nullable>" {
		t.Fatalf("labels type %s", got)
	}
}

func TestWriterAcceptsCopiesOfTheLayoutAndRefusesAnother(t *testing.T) {
	l := testLayout(4)
	recs := testRecords(l, 3)
	copied := *l
	AttachLayout(recs[1], &copied) // as after a transport between processes
	other := testLayout(4)
	other.Metadata[MetaVocabSHA256] = "other"
	AttachLayout(recs[2], other)
	w, err := NewShardWriter(WriterOptions{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if err := w.Write(recs[0]); err != nil {
		t.Fatal(err)
	}
	if err := w.Write(recs[1]); err != nil {
		t.Fatalf("a copy of the layout: %v", err)
	}
	if err := w.Write(recs[2]); err == nil || !strings.Contains(err.Error(), "another layout") {
		t.Fatalf("another layout: %v", err)
	}
}
