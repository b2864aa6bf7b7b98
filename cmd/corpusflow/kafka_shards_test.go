package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	kgo "github.com/segmentio/kafka-go"

	"github.com/corpusflow/corpusflow/pack"
)

// The kafka sink is listed before the arrow sink on purpose: sinks close in
// pipeline order, so the directory's completion comes after the kafka sink
// closed, and must still be announced.
const shardNoticesPipeline = `name: shard-notices-test
output: out
workers: 2
sources:
  - type: text
    path: %[1]s
    split: blank_line
stages:
  - use: tokenize
    vocab: %[2]s
  - use: pack
    vocab: %[2]s
    mode: mlm
    seq_len: 64
sinks:
  - type: kafka
    brokers: ["%[3]s"]
    topic: shard-notices-%[4]d
    publish: shards
    shards: shards
  - type: arrow
    path: shards
    max_rows: %[4]d
`

type shardNotice struct {
	Event      string `json:"event"`
	Pipeline   string `json:"pipeline"`
	Dir        string `json:"dir"`
	File       string `json:"file"`
	Shard      *int   `json:"shard"`
	Rows       int64  `json:"rows"`
	Bytes      int64  `json:"bytes"`
	XXHash64   string `json:"xxhash64"`
	Complete   bool   `json:"complete"`
	Shards     int    `json:"shards"`
	TotalRows  int64  `json:"total_rows"`
	TotalBytes int64  `json:"total_bytes"`
}

// TestKafkaSinkAnnouncesShards: a trainer following the notice topic hears
// of every shard of manifest.json in order, with its file, rows, bytes and
// xxhash64, and of the directory's completion last.
func TestKafkaSinkAnnouncesShards(t *testing.T) {
	broker := startKfake(t)
	corpus, _ := filepath.Abs(filepath.Join("..", "..", "testdata", "text", "wikitext-2-test-head.txt"))
	// Several shards, the last closed by Close; one shard; 121 rows in 11
	// shards, the last closed by a write, so the complete notice names none.
	for _, maxRows := range []int{25, 1_000_000, 11} {
		t.Run(fmt.Sprint("max_rows=", maxRows), func(t *testing.T) {
			work := t.TempDir()
			yaml := filepath.Join(work, "p.yaml")
			if err := os.WriteFile(yaml, []byte(fmt.Sprintf(shardNoticesPipeline, corpus, testVocabPath(t), broker, maxRows)), 0o644); err != nil {
				t.Fatal(err)
			}
			out := filepath.Join(work, "out")
			if code := dispatch([]string{"run", yaml, "--output", out, "--quiet", "--log-level", "error"}); code != exitOK {
				t.Fatalf("run exited %d", code)
			}
			m, err := pack.ReadManifest(filepath.Join(out, "shards"))
			if err != nil {
				t.Fatal(err)
			}
			if maxRows == 25 && len(m.Shards) < 3 {
				t.Fatalf("%d shards; the test needs several", len(m.Shards))
			}
			notices := readNotices(t, broker, fmt.Sprint("shard-notices-", maxRows))
			var files int
			for i, n := range notices {
				if n.Complete != (i == len(notices)-1) {
					t.Errorf("notice %d: complete=%v", i, n.Complete)
				}
				if n.Pipeline != "shard-notices-test" || n.Dir != filepath.Join(out, "shards") {
					t.Errorf("notice %d names %q, %q", i, n.Pipeline, n.Dir)
				}
				if n.File == "" {
					continue
				}
				s := m.Shards[files]
				if n.File != s.File || n.Rows != s.Rows || n.Bytes != s.Bytes || n.XXHash64 != s.XXHash64 || n.Shard == nil || *n.Shard != files {
					t.Errorf("notice %+v, manifest entry %d %+v", n, files, s)
				}
				files++
			}
			if files != len(m.Shards) {
				t.Errorf("%d shards announced, the manifest has %d", files, len(m.Shards))
			}
			last := notices[len(notices)-1]
			if closedByWrite := m.Rows%int64(maxRows) == 0; closedByWrite != (last.File == "") || closedByWrite != (last.Event == "complete") {
				t.Errorf("%d rows in shards of %d: last notice %+v", m.Rows, maxRows, last)
			}
			if last.TotalRows != m.Rows || last.TotalBytes != m.Bytes || last.Shards != len(m.Shards) {
				t.Errorf("last notice %+v, manifest %d rows %d bytes %d shards", last, m.Rows, m.Bytes, len(m.Shards))
			}
		})
	}
}

// readNotices reads a topic's notices up to the complete one.
func readNotices(t *testing.T, broker, topic string) []shardNotice {
	t.Helper()
	r := kgo.NewReader(kgo.ReaderConfig{Brokers: []string{broker}, Topic: topic, Partition: 0, MaxWait: 100 * time.Millisecond})
	defer r.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var all []shardNotice
	for {
		msg, err := r.ReadMessage(ctx)
		if err != nil {
			t.Fatalf("reading notices (%d so far): %v", len(all), err)
		}
		var n shardNotice
		if err := json.Unmarshal(msg.Value, &n); err != nil {
			t.Fatal(err)
		}
		if string(msg.Key) != n.Dir {
			t.Errorf("notice keyed %q, for %q", msg.Key, n.Dir)
		}
		all = append(all, n)
		if n.Complete {
			return all
		}
	}
}
