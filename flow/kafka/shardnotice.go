package kafka

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	kgo "github.com/segmentio/kafka-go"

	"github.com/corpusflow/corpusflow/flow"
)

// Shard notices: with `publish: shards` (or both) the kafka sink publishes
// one JSON message per Arrow shard the run's arrow sink closes in the
// `shards` directory, keyed by that directory (so all of a directory's
// notices are on one partition, in order), after the shard is final under
// its name and listed in manifest.json:
//
//	{"event":"shard_closed","pipeline":"quickstart","dir":"/out/quickstart/shards",
//	 "file":"shard-00003.arrow","shard":3,"rows":1024,"bytes":3170304,
//	 "xxhash64":"9c2f...","complete":false,"shards":4,"total_rows":4096,"total_bytes":12681216}
//
// The last notice has "complete": true: no shard follows and the manifest is
// final. When the run's last shard was already closed before the end, that
// notice names no shard ("event":"complete", no "file"). A follower reads
// each file as it is announced and checks it against xxhash64; rows and
// bytes match the manifest entry. Notices of a resumed run start at the
// first shard it writes.

type shardNoticeMsg struct {
	Event      string `json:"event"`
	Pipeline   string `json:"pipeline,omitempty"`
	Dir        string `json:"dir"`
	File       string `json:"file,omitempty"`
	Shard      *int   `json:"shard,omitempty"`
	Rows       int64  `json:"rows,omitempty"`
	Bytes      int64  `json:"bytes,omitempty"`
	XXHash64   string `json:"xxhash64,omitempty"`
	Complete   bool   `json:"complete"`
	Shards     int    `json:"shards"`
	TotalRows  int64  `json:"total_rows"`
	TotalBytes int64  `json:"total_bytes"`
}

// shardNotices publishes the notices of one directory. It outlives the
// sink's Close when the arrow sink closes after it (sinks close in pipeline
// order), and stops after the complete notice.
type shardNotices struct {
	cfg      SinkConfig
	pipeline string
	w        *kgo.Writer
	stop     func()

	mu       sync.Mutex
	created  bool
	complete bool
}

func watchShardNotices(c SinkConfig, pipeline string) *shardNotices {
	t := &Transport{Config: Config{Compression: c.Compression}}
	n := &shardNotices{cfg: c, pipeline: pipeline, w: &kgo.Writer{
		Addr:         kgo.TCP(c.Brokers...),
		Transport:    t.clientTransport(),
		Topic:        c.Topic,
		Balancer:     &kgo.Hash{},
		BatchTimeout: time.Millisecond,
		RequiredAcks: kgo.RequireAll,
		Compression:  t.compression(),
		MaxAttempts:  10,
	}}
	n.stop = flow.WatchShards(c.Shards, n.publish)
	return n
}

// publish sends one notice and waits for the brokers to have it.
func (n *shardNotices) publish(ev flow.ShardNotice) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.complete {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if !n.created {
		if err := createSinkTopic(ctx, n.cfg); err != nil {
			return err
		}
		n.created = true
	}
	msg := shardNoticeMsg{Event: "shard_closed", Pipeline: n.pipeline, Dir: ev.Dir, File: ev.File, Rows: ev.Rows, Bytes: ev.Bytes,
		XXHash64: ev.XXHash64, Complete: ev.Complete, Shards: ev.Shards, TotalRows: ev.TotalRows, TotalBytes: ev.TotalBytes}
	if ev.File == "" {
		msg.Event = "complete"
	} else {
		idx := ev.Index
		msg.Shard = &idx
	}
	value, err := json.Marshal(msg)
	if err != nil {
		return err
	}
	if err := n.w.WriteMessages(ctx, kgo.Message{Key: []byte(ev.Dir), Value: value}); err != nil {
		return fmt.Errorf("kafka sink %s: shard notice for %s: %w", n.cfg.Topic, ev.File, err)
	}
	if ev.Complete {
		n.complete = true
		n.finish()
	}
	return nil
}

func (n *shardNotices) finish() {
	if n.stop != nil {
		n.stop()
		n.stop = nil
		n.w.Close()
	}
}
