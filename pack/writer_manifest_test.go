package pack

import (
	"testing"
)

// TestFirstManifestCarriesTheSchema: a follower that reads the manifest
// after the first record and before any shard closes must learn the
// shards' schema and metadata (mode, vocabulary), not see an empty one.
func TestFirstManifestCarriesTheSchema(t *testing.T) {
	dir := t.TempDir()
	l := testLayout(4)
	w, err := NewShardWriter(WriterOptions{Dir: dir, MaxRows: 100})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if err := w.Write(testRecords(l, 1)[0]); err != nil {
		t.Fatal(err)
	}
	m, err := ReadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	if m.Complete || len(m.Shards) != 0 {
		t.Fatalf("after one record of a 100-row shard: complete=%v shards=%v", m.Complete, m.Shards)
	}
	if m.Schema.Metadata[MetaMode] != "test" || m.Schema.Metadata[MetaVocabSHA256] != "abc" || len(m.Schema.Fields) != len(l.Columns) {
		t.Fatalf("the first manifest's schema: %+v", m.Schema)
	}
	r, err := OpenReader(dir, ReaderOptions{Follow: true})
	if err != nil {
		t.Fatal(err)
	}
	if r.Metadata()[MetaMode] != "test" {
		t.Fatalf("a follower sees metadata %v", r.Metadata())
	}
}
