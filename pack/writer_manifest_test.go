package pack

import (
	"os"
	"path/filepath"
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

// TestStartFreshHidesThePreviousRun: a run that starts afresh replaces the
// previous run's complete manifest and shards before its first record, so
// a follower started beside it cannot take the old shards for its own.
func TestStartFreshHidesThePreviousRun(t *testing.T) {
	dir := t.TempDir()
	l := testLayout(4)
	if m := writeAll(t, WriterOptions{Dir: dir, MaxRows: 10}, testRecords(l, 25)); !m.Complete || len(m.Shards) != 3 {
		t.Fatalf("previous run: %+v", m)
	}
	w, err := NewShardWriter(WriterOptions{Dir: dir, MaxRows: 10})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.StartFresh(); err != nil {
		t.Fatal(err)
	}
	m, err := ReadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	if m.Complete || len(m.Shards) != 0 || m.Rows != 0 {
		t.Fatalf("manifest after StartFresh: %+v", m)
	}
	for name := range dirFiles(t, dir) {
		if name != ManifestName {
			t.Fatalf("%s of the previous run is still there", name)
		}
	}
	if _, err := w.Resume(); err == nil {
		t.Fatal("Resume after StartFresh accepted")
	}
	if err := w.StartFresh(); err == nil {
		t.Fatal("a second StartFresh accepted")
	}
	for _, r := range testRecords(l, 5) {
		if err := w.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	if m, _ := ReadManifest(dir); m.Schema.Metadata[MetaMode] != "test" || m.Complete {
		t.Fatalf("after 5 records: %+v", m)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if m, _ := ReadManifest(dir); !m.Complete || m.Rows != 5 {
		t.Fatalf("closed: %+v", m)
	}
}

// TestShardsAndManifestAreReadableByOthers: shards are a product other
// people's trainers read; they and the manifest are 0644 like any file the
// user writes, not the 0600 of a temporary file.
func TestShardsAndManifestAreReadableByOthers(t *testing.T) {
	dir := t.TempDir()
	m := writeAll(t, WriterOptions{Dir: dir, MaxRows: 10}, testRecords(testLayout(4), 25))
	names := []string{ManifestName}
	for _, s := range m.Shards {
		names = append(names, s.File)
	}
	for _, name := range names {
		st, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != 0o644 {
			t.Errorf("%s has mode %v, want 0644", name, st.Mode().Perm())
		}
	}
}
