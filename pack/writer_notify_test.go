package pack

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// OnShardClosed hears of every shard once the manifest on disk lists it,
// with the manifest's entry, and of the end: the last notice is complete.
func TestOnShardClosedFollowsTheManifest(t *testing.T) {
	l := testLayout(8)
	for _, tc := range []struct {
		rows, maxRows int
		lastHasShard  bool
	}{
		{1000, 300, true}, // Close closes the fourth shard
		{900, 300, false}, // the third shard closed in Write; Close only completes
		{0, 300, false},   // nothing written: one notice, complete, no shard
	} {
		dir := t.TempDir()
		var got []ShardClosed
		opts := WriterOptions{Dir: dir, BatchRows: 64, MaxRows: int64(tc.maxRows), OnShardClosed: func(ev ShardClosed) error {
			m, err := ReadManifest(dir)
			if err != nil {
				t.Fatal(err)
			}
			if len(m.Shards) != ev.Shards || m.Complete != ev.Complete {
				t.Errorf("notice %+v while the manifest on disk has %d shards, complete=%v", ev, len(m.Shards), m.Complete)
			}
			if ev.Shard.File != "" {
				if _, err := os.Stat(filepath.Join(dir, ev.Shard.File)); err != nil {
					t.Errorf("notice for %s before the file is there: %v", ev.Shard.File, err)
				}
			}
			got = append(got, ev)
			return nil
		}}
		m := writeAll(t, opts, testRecords(l, tc.rows))
		var shards []ShardInfo
		for i, ev := range got {
			if ev.Complete != (i == len(got)-1) {
				t.Errorf("%d rows: notice %d complete=%v", tc.rows, i, ev.Complete)
			}
			if ev.Shard.File != "" {
				if ev.Index != len(shards) {
					t.Errorf("notice %d: index %d, want %d", i, ev.Index, len(shards))
				}
				shards = append(shards, ev.Shard)
			}
		}
		if len(shards) != len(m.Shards) {
			t.Fatalf("%d rows: %d shard notices for %d shards", tc.rows, len(shards), len(m.Shards))
		}
		for i := range shards {
			if shards[i] != m.Shards[i] {
				t.Errorf("notice %+v, manifest %+v", shards[i], m.Shards[i])
			}
		}
		last := got[len(got)-1]
		if (last.Shard.File != "") != tc.lastHasShard || last.Rows != m.Rows || last.Dir != dir {
			t.Errorf("%d rows: last notice %+v", tc.rows, last)
		}
	}
}

// A notice that cannot be delivered fails the write that closed the shard.
func TestOnShardClosedErrorFailsTheWrite(t *testing.T) {
	l := testLayout(8)
	w, err := NewShardWriter(WriterOptions{Dir: t.TempDir(), MaxRows: 10, OnShardClosed: func(ShardClosed) error { return errors.New("broker down") }})
	if err != nil {
		t.Fatal(err)
	}
	var werr error
	for _, r := range testRecords(l, 20) {
		if werr = w.Write(r); werr != nil {
			break
		}
	}
	if werr == nil || !strings.Contains(werr.Error(), "broker down") || !strings.Contains(werr.Error(), "shard-00000.arrow") {
		t.Errorf("write error %v, want the notice's failure naming the shard", werr)
	}
}
