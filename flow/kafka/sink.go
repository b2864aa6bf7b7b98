package kafka

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	kgo "github.com/segmentio/kafka-go"

	"github.com/corpusflow/corpusflow/flow"
)

// SinkConfig is `sinks: [{type: kafka, ...}]`: kept records published for
// other consumers (a trainer, an indexer), keyed by record id; or notices
// of the Arrow shards another sink of the run closes, for a trainer that
// follows them (see shardnotice.go).
type SinkConfig struct {
	Brokers     []string `yaml:"brokers" help:"bootstrap brokers, host:port" required:"true"`
	Topic       string   `yaml:"topic" help:"topic to publish to; created if missing" required:"true"`
	Partitions  int      `yaml:"partitions" help:"partitions of the topic when the sink creates it"`
	Metadata    bool     `yaml:"metadata" help:"include each record's metadata under \"metadata\""`
	Tokens      bool     `yaml:"tokens" help:"include token ids under \"input_ids\""`
	Compression string   `yaml:"compression" help:"compression of produced message batches" choices:"none,gzip,snappy,lz4,zstd"`
	Publish     string   `yaml:"publish" help:"records: kept records; shards: a notice per Arrow shard closed in the shards directory (file, rows, bytes, xxhash64, complete); both" choices:"records,shards,both"`
	Shards      string   `yaml:"shards" path:"output" reads:"true" help:"with publish shards or both: the directory of the run's arrow sink whose shards are announced"`
}

// Validate checks the broker addresses.
func (c *SinkConfig) Validate() error {
	if c.Publish != "records" && c.Shards == "" {
		return &flow.FieldError{Field: "shards", Err: fmt.Errorf("publish %s needs the arrow sink's directory", c.Publish)}
	}
	if c.Partitions < 1 {
		return &flow.FieldError{Field: "partitions", Err: fmt.Errorf("must be at least 1, got %d", c.Partitions)}
	}
	for i, b := range c.Brokers {
		if !strings.Contains(b, ":") {
			return &flow.FieldError{Field: fmt.Sprintf("brokers.%d", i), Err: fmt.Errorf("%q is not host:port", b)}
		}
	}
	return nil
}

func init() {
	flow.RegisterSink("kafka", "kept records as JSON messages (text, url, timestamp, id, metadata) to a Kafka topic, keyed by id; or a notice per closed Arrow shard, for trainers that follow the shards",
		SinkConfig{Metadata: true, Compression: "zstd", Partitions: 1, Publish: "records", Shards: "shards"},
		func(c *SinkConfig, env *flow.Env) (flow.Sink, error) { return newTopicSink(*c, env), nil })
}

// sinkBatch is how many messages are sent in one synchronous write.
const sinkBatch = 512

type topicSink struct {
	cfg     SinkConfig
	w       *kgo.Writer
	pending []kgo.Message
	line    bytes.Buffer
	created bool
	notices *shardNotices // publish shards or both
}

type sinkRecord struct {
	Text      string         `json:"text"`
	URL       string         `json:"url,omitempty"`
	Timestamp string         `json:"timestamp,omitempty"`
	ID        string         `json:"id"`
	Metadata  map[string]any `json:"metadata,omitempty"`
	InputIDs  []int32        `json:"input_ids,omitempty"`
}

func newTopicSink(c SinkConfig, env *flow.Env) *topicSink {
	t := &Transport{Config: Config{Compression: c.Compression}}
	s := &topicSink{cfg: c}
	if c.Publish == "shards" || c.Publish == "both" {
		pipeline := ""
		if env != nil {
			pipeline = env.PipelineName
		}
		s.notices = watchShardNotices(c, pipeline)
	}
	s.w = &kgo.Writer{
		Addr:         kgo.TCP(c.Brokers...),
		Transport:    t.clientTransport(),
		Topic:        c.Topic,
		Balancer:     &kgo.Hash{},
		BatchTimeout: 5 * time.Millisecond,
		RequiredAcks: kgo.RequireAll,
		Compression:  t.compression(),
		MaxAttempts:  10,
	}
	return s
}

func (s *topicSink) Write(r *flow.Record) error {
	if s.cfg.Publish == "shards" {
		return nil
	}
	rec := sinkRecord{Text: r.Text, URL: r.URL, Timestamp: r.Timestamp, ID: r.ID}
	if s.cfg.Metadata {
		rec.Metadata = r.Meta
	}
	if s.cfg.Tokens {
		rec.InputIDs = r.Tokens
	}
	s.line.Reset()
	enc := json.NewEncoder(&s.line)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(rec); err != nil {
		return err
	}
	value := bytes.TrimSuffix(s.line.Bytes(), []byte("\n"))
	s.pending = append(s.pending, kgo.Message{Key: []byte(r.ID), Value: append([]byte(nil), value...)})
	if len(s.pending) >= sinkBatch {
		return s.flush()
	}
	return nil
}

func (s *topicSink) flush() error {
	if len(s.pending) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if !s.created {
		if err := createSinkTopic(ctx, s.cfg); err != nil {
			return err
		}
		s.created = true
	}
	if err := s.w.WriteMessages(ctx, s.pending...); err != nil {
		return fmt.Errorf("kafka sink %s: %w", s.cfg.Topic, err)
	}
	s.pending = s.pending[:0]
	return nil
}

func createSinkTopic(ctx context.Context, c SinkConfig) error {
	err := createTopics(ctx, c.Brokers, []kgo.TopicConfig{{Topic: c.Topic, NumPartitions: max(c.Partitions, 1), ReplicationFactor: 1}}, false)
	if err != nil {
		return fmt.Errorf("kafka sink %s: %w", c.Topic, err)
	}
	return nil
}

// Close sends what is buffered; the records are visible to consumers as
// soon as each write is acknowledged (a topic has no atomic rename). Shard
// notices go on until the arrow sink completes its directory, which may
// close after this sink (sinks close in pipeline order).
func (s *topicSink) Close() error {
	err := s.flush()
	if cerr := s.w.Close(); err == nil {
		err = cerr
	}
	return err
}
