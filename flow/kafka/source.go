package kafka

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	kgo "github.com/segmentio/kafka-go"

	"github.com/corpusflow/corpusflow/flow"
)

// SourceConfig is `sources: [{type: kafka, ...}]`: documents that any Kafka
// client produced.
type SourceConfig struct {
	Brokers        []string `yaml:"brokers" help:"bootstrap brokers, host:port" required:"true"`
	Topic          string   `yaml:"topic" help:"topic to read" required:"true"`
	Format         string   `yaml:"format" help:"message values: JSON objects, or raw text (one document each)" choices:"json,text"`
	TextField      string   `yaml:"text_field" help:"JSON: field with the text (dots reach into objects: doc.body)"`
	IDField        string   `yaml:"id_field" help:"JSON: field with the id; without it, or in text format, the id is TOPIC/PARTITION/OFFSET"`
	URLField       string   `yaml:"url_field" help:"JSON: field with the URL"`
	TimestampField string   `yaml:"timestamp_field" help:"JSON: field with the timestamp"`
	MetaFields     []string `yaml:"meta_fields" help:"JSON: fields copied into the record's metadata"`
}

// Validate checks what a broker cannot.
func (c *SourceConfig) Validate() error {
	for i, b := range c.Brokers {
		if !strings.Contains(b, ":") {
			return &flow.FieldError{Field: fmt.Sprintf("brokers.%d", i), Err: fmt.Errorf("%q is not host:port", b)}
		}
	}
	if c.Format == "json" && c.TextField == "" {
		return &flow.FieldError{Field: "text_field", Err: errors.New("must name the field holding the text")}
	}
	return nil
}

func init() {
	flow.RegisterSource("kafka", "documents from a Kafka topic (JSON objects or raw text), every partition from its start to its end when the run starts",
		SourceConfig{Format: "json", TextField: "text", IDField: "id", URLField: "url", TimestampField: "timestamp"},
		func(c *SourceConfig, env *flow.Env) (flow.Source, error) { return &topicSource{cfg: *c}, nil })
}

type topicSource struct{ cfg SourceConfig }

// Parts are the topic's partitions, each read up to the end it has now: a
// batch pipeline needs an end, and what is produced later belongs to the
// next run.
func (s *topicSource) Parts() ([]flow.Part, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var conn *kgo.Conn
	var err error
	for _, b := range s.cfg.Brokers {
		if conn, err = kgo.DialContext(ctx, "tcp", b); err == nil {
			break
		}
	}
	if err != nil {
		return nil, fmt.Errorf("kafka source: no broker of %v answers: %w", s.cfg.Brokers, err)
	}
	defer conn.Close()
	parts, err := conn.ReadPartitions(s.cfg.Topic)
	if err != nil {
		return nil, fmt.Errorf("kafka source: topic %s: %w", s.cfg.Topic, err)
	}
	out := make([]flow.Part, len(parts))
	for _, p := range parts {
		lc, err := kgo.DialLeader(ctx, "tcp", s.cfg.Brokers[0], s.cfg.Topic, p.ID)
		if err != nil {
			return nil, fmt.Errorf("kafka source: topic %s partition %d: %w", s.cfg.Topic, p.ID, err)
		}
		first, last, err := lc.ReadOffsets()
		lc.Close()
		if err != nil {
			return nil, fmt.Errorf("kafka source: topic %s partition %d offsets: %w", s.cfg.Topic, p.ID, err)
		}
		if p.ID < 0 || p.ID >= len(parts) {
			return nil, fmt.Errorf("kafka source: topic %s: partition ids are not 0..%d", s.cfg.Topic, len(parts)-1)
		}
		out[p.ID] = &topicPart{cfg: &s.cfg, partition: p.ID, first: first, end: last}
	}
	return out, nil
}

type topicPart struct {
	cfg        *SourceConfig
	partition  int
	first, end int64 // read [first, end)
}

func (p *topicPart) Name() string { return fmt.Sprintf("%s/%d", p.cfg.Topic, p.partition) }
func (p *topicPart) Size() int64  { return -1 }

func (p *topicPart) Read(ctx context.Context, emit func(*flow.Record) error, report *flow.SourceReport) error {
	if p.end <= p.first {
		return nil
	}
	r := kgo.NewReader(kgo.ReaderConfig{Brokers: p.cfg.Brokers, Topic: p.cfg.Topic, Partition: p.partition,
		MinBytes: 1, MaxBytes: 16 << 20, MaxWait: 100 * time.Millisecond})
	defer r.Close()
	if err := r.SetOffset(p.first); err != nil {
		return err
	}
	for {
		m, err := r.FetchMessage(ctx)
		if err != nil {
			return err
		}
		if m.Offset >= p.end {
			return nil
		}
		report.AddBytes(int64(len(m.Value)))
		where := fmt.Sprintf("%s/%d/%d", p.cfg.Topic, p.partition, m.Offset)
		rec, problem, err := p.decode(m.Value, where)
		if err != nil {
			report.Problem(problem, where, err)
		} else if err := emit(rec); err != nil {
			return err
		}
		if m.Offset >= p.end-1 {
			return nil
		}
	}
}

// decode turns a message value into a record, or says what is wrong.
func (p *topicPart) decode(value []byte, where string) (*flow.Record, string, error) {
	r := &flow.Record{ID: where}
	if p.cfg.Format == "text" {
		r.Text = string(value)
		return r, "", nil
	}
	var obj map[string]any
	if err := json.Unmarshal(value, &obj); err != nil {
		return nil, "bad_json", err
	}
	text, ok := lookup(obj, p.cfg.TextField).(string)
	if !ok {
		return nil, "no_text", fmt.Errorf("no string field %q", p.cfg.TextField)
	}
	r.Text = text
	if id := scalarString(lookup(obj, p.cfg.IDField)); id != "" {
		r.ID = id
	}
	r.URL = scalarString(lookup(obj, p.cfg.URLField))
	r.Timestamp = scalarString(lookup(obj, p.cfg.TimestampField))
	for _, f := range p.cfg.MetaFields {
		if v := lookup(obj, f); v != nil {
			r.SetMeta(f, v)
		}
	}
	return r, "", nil
}

// lookup follows a dotted path into nested objects.
func lookup(obj map[string]any, path string) any {
	if path == "" {
		return nil
	}
	var cur any = obj
	for _, k := range strings.Split(path, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[k]
	}
	return cur
}

func scalarString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case float64, bool:
		b, _ := json.Marshal(x)
		return string(b)
	}
	return ""
}
