package pack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func ids(exs []Example) []string {
	out := make([]string, len(exs))
	for i, ex := range exs {
		out[i] = ex.ID
	}
	return out
}

func TestRanksSplitShardsAndCoverEverythingOnce(t *testing.T) {
	dir := t.TempDir()
	writeAll(t, WriterOptions{Dir: dir, MaxRows: 10, BatchRows: 4}, testRecords(testLayout(4), 95))
	for _, shuffle := range []bool{false, true} {
		seen := map[string]int{}
		for rank := 0; rank < 3; rank++ {
			got := readAll(t, dir, ReaderOptions{Rank: rank, WorldSize: 3, Shuffle: shuffle, Seed: 42, Epoch: 1})
			for _, ex := range got {
				seen[ex.ID]++
				if n := shardNumber(ex.Shard); !shuffle && n%3 != rank {
					t.Fatalf("rank %d got shard %d", rank, n)
				}
				if ex.Position.Epoch != 1 {
					t.Fatalf("epoch %d in position", ex.Position.Epoch)
				}
			}
		}
		if len(seen) != 95 {
			t.Fatalf("shuffle=%v: ranks together read %d distinct rows of 95", shuffle, len(seen))
		}
		for id, n := range seen {
			if n != 1 {
				t.Fatalf("shuffle=%v: %s read %d times", shuffle, id, n)
			}
		}
	}
}

func shardOrderOf(exs []Example) []int {
	var order []int
	for _, ex := range exs {
		if n := shardNumber(ex.Shard); len(order) == 0 || order[len(order)-1] != n {
			order = append(order, n)
		}
	}
	return order
}

func TestShuffleIsSeededPerEpoch(t *testing.T) {
	dir := t.TempDir()
	writeAll(t, WriterOptions{Dir: dir, MaxRows: 5}, testRecords(testLayout(4), 100))
	order := func(shuffle bool, seed uint64, epoch int) []int {
		return shardOrderOf(readAll(t, dir, ReaderOptions{Shuffle: shuffle, Seed: seed, Epoch: epoch}))
	}
	a := order(true, 1, 0)
	if !slices.Equal(a, order(true, 1, 0)) {
		t.Fatal("same seed and epoch gave different orders")
	}
	if slices.Equal(a, order(true, 2, 0)) || slices.Equal(a, order(true, 1, 1)) {
		t.Fatal("another seed or epoch gave the same order")
	}
	plain := order(false, 1, 0)
	if !slices.IsSorted(plain) || slices.Equal(a, plain) {
		t.Fatalf("unshuffled %v, shuffled %v", plain, a)
	}
	sorted := slices.Clone(a)
	slices.Sort(sorted)
	if !slices.Equal(sorted, plain) {
		t.Fatalf("shuffled order %v is not a permutation of the 20 shards", a)
	}
}

func TestResumeFromAnyPositionContinuesExactly(t *testing.T) {
	dir := t.TempDir()
	writeAll(t, WriterOptions{Dir: dir, MaxRows: 7, BatchRows: 3}, testRecords(testLayout(4), 50))
	opts := ReaderOptions{Rank: 1, WorldSize: 2, Shuffle: true, Seed: 9, Epoch: 3}
	all := readAll(t, dir, opts)
	r, err := OpenReader(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	for i := range all {
		// Stop after i examples, save the position, resume from it.
		saved := r.Position()
		resumed := opts
		resumed.Start = saved
		rest := readAll(t, dir, resumed)
		if got, want := strings.Join(ids(rest), ","), strings.Join(ids(all[i:]), ","); got != want {
			t.Fatalf("resumed at %+v after %d examples:\n got %s\nwant %s", saved, i, got, want)
		}
		if _, err := r.Next(); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := r.Next(); err != io.EOF {
		t.Fatalf("after the last example: %v, want EOF", err)
	}
}

func TestReaderRefusesBadPositionsAndVocabulary(t *testing.T) {
	dir := t.TempDir()
	writeAll(t, WriterOptions{Dir: dir, MaxRows: 10}, testRecords(testLayout(4), 30))
	cases := map[string]ReaderOptions{
		"reads only 2 shards":     {WorldSize: 2, Start: Position{Shard: 3}},
		"is in epoch 2":           {Epoch: 1, Start: Position{Epoch: 2, Shard: 1}},
		"rank 2 of world size 2":  {Rank: 2, WorldSize: 2},
		"with the vocabulary abc": {VocabSHA256: "def"},
	}
	for want, opts := range cases {
		if _, err := OpenReader(dir, opts); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%+v: want error with %q, got %v", opts, want, err)
		}
	}
	r, err := OpenReader(dir, ReaderOptions{Start: Position{Shard: 1, Row: 11}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Next(); err == nil || !strings.Contains(err.Error(), "past the 10 rows") {
		t.Fatalf("row past the end: %v", err)
	}
}

func TestReaderDetectsACorruptShard(t *testing.T) {
	dir := t.TempDir()
	writeAll(t, WriterOptions{Dir: dir, MaxRows: 10, Compression: "zstd"}, testRecords(testLayout(4), 30))
	path := filepath.Join(dir, ShardName(1))
	data, _ := os.ReadFile(path)
	data[len(data)/2] ^= 0x40
	os.WriteFile(path, data, 0o644)
	r, err := OpenReader(dir, ReaderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for ; ; n++ {
		_, err = r.Next()
		if err != nil {
			break
		}
	}
	if n != 10 || !strings.Contains(err.Error(), "shard-00001.arrow: xxhash64") || !strings.Contains(err.Error(), "corrupt") {
		t.Fatalf("read %d rows, then %v", n, err)
	}
	// Without verification the Arrow decoder sees the damage; it must be an
	// error, never a crash.
	r, _ = OpenReader(dir, ReaderOptions{SkipVerify: true})
	for err = nil; err == nil; _, err = r.Next() {
	}
	if err == io.EOF {
		t.Log("the flipped bit landed in data bytes: decoded without complaint, which is why verification is on by default")
	}
}

func TestFollowReadsShardsAsTheyAreWrittenAndStopsAtComplete(t *testing.T) {
	dir := t.TempDir()
	recs := testRecords(testLayout(4), 60)
	w, err := NewShardWriter(WriterOptions{Dir: dir, MaxRows: 10})
	if err != nil {
		t.Fatal(err)
	}
	// Write the first two shards before the reader starts.
	for _, r := range recs[:25] {
		if err := w.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	rd, err := OpenReader(dir, ReaderOptions{Follow: true, PollInterval: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		for _, r := range recs[25:] {
			time.Sleep(100 * time.Microsecond)
			if err := w.Write(r); err != nil {
				done <- err
				return
			}
		}
		done <- w.Close()
	}()
	var got []Example
	for {
		ex, err := rd.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, ex)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if len(got) != 60 || got[59].ID != "ex-59" {
		t.Fatalf("follower read %d rows", len(got))
	}
}

func TestFollowGivesUpWhenContextEnds(t *testing.T) {
	dir := t.TempDir()
	w, _ := NewShardWriter(WriterOptions{Dir: dir, MaxRows: 10})
	for _, r := range testRecords(testLayout(4), 5) {
		w.Write(r)
	}
	rd, err := OpenReader(dir, ReaderOptions{Follow: true, PollInterval: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := rd.NextContext(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v, want the context's error", err)
	}
	ctx2, cancel2 := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel2()
	if _, err := OpenReaderContext(ctx2, filepath.Join(dir, "not-yet"), ReaderOptions{Follow: true, PollInterval: time.Millisecond}); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("waiting for a directory that never comes: %v", err)
	}
	if _, err := OpenReader(dir, ReaderOptions{Shuffle: true}); err == nil || !strings.Contains(err.Error(), "still being written") {
		t.Fatalf("shuffling an incomplete directory: %v", err)
	}
}

func shardNumber(file string) int {
	var n int
	fmt.Sscanf(file, "shard-%05d.arrow", &n)
	return n
}
