package flow

import (
	"errors"
	"path/filepath"
	"testing"
)

func TestShardWatchersHearTheirDirectoryOnly(t *testing.T) {
	dir := t.TempDir()
	var got []string
	stop := WatchShards(filepath.Join(dir, "shards", "..", "shards"), func(n ShardNotice) error {
		got = append(got, n.File)
		return nil
	})
	other := WatchShards(filepath.Join(dir, "other"), func(n ShardNotice) error { return errors.New("wrong directory") })
	defer other()
	if err := AnnounceShard(ShardNotice{Dir: filepath.Join(dir, "shards"), File: "shard-00000.arrow"}); err != nil {
		t.Fatal(err)
	}
	stop()
	if err := AnnounceShard(ShardNotice{Dir: filepath.Join(dir, "shards"), File: "shard-00001.arrow"}); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0] != "shard-00000.arrow" {
		t.Errorf("watcher heard %v, want the one notice before stop", got)
	}
	if err := AnnounceShard(ShardNotice{Dir: filepath.Join(dir, "other")}); err == nil {
		t.Error("a watcher's error was not returned")
	}
}
