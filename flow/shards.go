package flow

import (
	"path/filepath"
	"sync"
)

// Shard notices: a sink that writes files a consumer can follow (the Arrow
// shard sink) announces each file once it is final, and another sink of
// the same run (Kafka) can publish the announcements. The two only share
// the directory's path, so they meet here.

// ShardNotice says a shard file is final (or, with Complete, that its
// directory is).
type ShardNotice struct {
	Dir      string // the shard directory, absolute
	File     string // the shard's name in Dir; empty in a Complete notice that closed no shard
	Index    int    // the shard's position in the manifest; -1 without a shard
	Rows     int64
	Bytes    int64
	XXHash64 string // of the file's bytes, 16 hex digits
	// Complete says no shard follows: the manifest is final.
	Complete bool
	// Shards, TotalRows and TotalBytes are the directory's totals so far.
	Shards     int
	TotalRows  int64
	TotalBytes int64
}

var shardWatchers = struct {
	sync.Mutex
	byDir map[string][]*shardWatcher
}{byDir: map[string][]*shardWatcher{}}

type shardWatcher struct{ fn func(ShardNotice) error }

func shardKey(dir string) string {
	if abs, err := filepath.Abs(dir); err == nil {
		return abs
	}
	return filepath.Clean(dir)
}

// WatchShards calls fn with every notice about dir until stop is called.
func WatchShards(dir string, fn func(ShardNotice) error) (stop func()) {
	key := shardKey(dir)
	w := &shardWatcher{fn: fn}
	shardWatchers.Lock()
	shardWatchers.byDir[key] = append(shardWatchers.byDir[key], w)
	shardWatchers.Unlock()
	return func() {
		shardWatchers.Lock()
		defer shardWatchers.Unlock()
		ws := shardWatchers.byDir[key]
		for i, x := range ws {
			if x == w {
				ws = append(ws[:i:i], ws[i+1:]...)
				break
			}
		}
		if len(ws) == 0 {
			delete(shardWatchers.byDir, key)
		} else {
			shardWatchers.byDir[key] = ws
		}
	}
}

// AnnounceShard gives n to the watchers of its directory; the first error
// is returned (the sink that closed the shard fails with it).
func AnnounceShard(n ShardNotice) error {
	n.Dir = shardKey(n.Dir)
	shardWatchers.Lock()
	ws := append([]*shardWatcher(nil), shardWatchers.byDir[n.Dir]...)
	shardWatchers.Unlock()
	for _, w := range ws {
		if err := w.fn(n); err != nil {
			return err
		}
	}
	return nil
}
