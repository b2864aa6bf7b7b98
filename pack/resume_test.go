package pack

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/corpusflow/corpusflow/flow"
)

// interruptAfter writes recs until n are written, then stops the way the
// engine does on Ctrl-C (Interrupted, Close).
func interruptAfter(t *testing.T, opts WriterOptions, recs []*flow.Record, n int) {
	t.Helper()
	w, err := NewShardWriter(opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs[:n] {
		if err := w.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	w.Interrupted()
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

func resumeAll(t *testing.T, opts WriterOptions, recs []*flow.Record) error {
	t.Helper()
	w, err := NewShardWriter(opts)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Resume(); err != nil {
		return err
	}
	for _, r := range recs {
		if err := w.Write(r); err != nil {
			w.Close()
			return err
		}
	}
	return w.Close()
}

func TestResumeAfterInterruptionIsByteIdentical(t *testing.T) {
	recs := testRecords(testLayout(8), 500)
	opts := func(dir string) WriterOptions {
		return WriterOptions{Dir: dir, Compression: "zstd", BatchRows: 16, MaxRows: 40}
	}
	whole := t.TempDir()
	writeAll(t, opts(whole), recs)
	for _, cut := range []int{0, 1, 39, 40, 41, 250, 499, 500} {
		dir := t.TempDir()
		interruptAfter(t, opts(dir), recs, cut)
		m, err := ReadManifest(dir)
		switch {
		case cut == 0 && errors.Is(err, ErrNoManifest):
			// Interrupted before the first record: nothing was started.
		case err != nil:
			t.Fatal(err)
		case m.Complete || m.Rows != int64(cut/40*40):
			t.Fatalf("cut at %d: manifest complete=%v rows=%d", cut, m.Complete, m.Rows)
		}
		if err := resumeAll(t, opts(dir), recs); err != nil {
			t.Fatalf("cut at %d: %v", cut, err)
		}
		sameFiles(t, dirFiles(t, whole), dirFiles(t, dir))
	}
}

func TestResumeCleansWhatACrashLeft(t *testing.T) {
	recs := testRecords(testLayout(8), 200)
	opts := WriterOptions{Dir: t.TempDir(), MaxRows: 50}
	interruptAfter(t, opts, recs, 120)
	// A crash between renaming shard 2 and rewriting the manifest, and one
	// in the middle of writing a shard.
	os.WriteFile(filepath.Join(opts.Dir, ShardName(2)), []byte("renamed, not listed"), 0o644)
	os.WriteFile(filepath.Join(opts.Dir, tempPrefix+ShardName(3)+"-99"), []byte("half"), 0o644)
	if err := resumeAll(t, opts, recs); err != nil {
		t.Fatal(err)
	}
	whole := t.TempDir()
	writeAll(t, WriterOptions{Dir: whole, MaxRows: 50}, recs)
	sameFiles(t, dirFiles(t, whole), dirFiles(t, opts.Dir))
}

func TestResumeRefusesOtherInputOrSettings(t *testing.T) {
	recs := testRecords(testLayout(8), 200)
	base := WriterOptions{MaxRows: 50}
	cases := []struct {
		name   string
		opts   func(*WriterOptions)
		change func([]*flow.Record) []*flow.Record
		want   string
	}{
		{"changed input", nil, func(r []*flow.Record) []*flow.Record {
			c := testRecords(testLayout(8), 200)
			c[10].Fields[ColDocID] = "other"
			return c
		}, "input or the pipeline changed"},
		{"shorter input", nil, func(r []*flow.Record) []*flow.Record { return r[:60] }, "fewer than the 100"},
		{"other shard size", func(o *WriterOptions) { o.MaxRows = 60 }, nil, "shards would not line up"},
		{"other codec", func(o *WriterOptions) { o.Compression = "lz4" }, nil, "shards would not line up"},
		{"other metadata", nil, func(r []*flow.Record) []*flow.Record {
			l := testLayout(8)
			l.Metadata[MetaVocabSHA256] = "another"
			return testRecords(l, 200)
		}, "another schema or metadata"},
	}
	for _, c := range cases {
		opts := base
		opts.Dir = t.TempDir()
		interruptAfter(t, opts, recs, 120)
		if c.opts != nil {
			c.opts(&opts)
		}
		again := recs
		if c.change != nil {
			again = c.change(recs)
		}
		err := resumeAll(t, opts, again)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want an error with %q", c.name, err, c.want)
		}
	}
}

func TestResumeRefusesACorruptShard(t *testing.T) {
	opts := WriterOptions{Dir: t.TempDir(), MaxRows: 50}
	recs := testRecords(testLayout(8), 200)
	interruptAfter(t, opts, recs, 120)
	path := filepath.Join(opts.Dir, ShardName(1))
	data, _ := os.ReadFile(path)
	data[100] ^= 1
	os.WriteFile(path, data, 0o644)
	if err := resumeAll(t, opts, recs); err == nil || !strings.Contains(err.Error(), "corrupt") {
		t.Fatalf("got %v", err)
	}
}

func TestResumeWithoutManifestStartsAfresh(t *testing.T) {
	opts := WriterOptions{Dir: filepath.Join(t.TempDir(), "new"), MaxRows: 50}
	recs := testRecords(testLayout(8), 120)
	if err := resumeAll(t, opts, recs); err != nil {
		t.Fatal(err)
	}
	if m, err := ReadManifest(opts.Dir); err != nil || !m.Complete || m.Rows != 120 {
		t.Fatalf("manifest %+v, %v", m, err)
	}
}
