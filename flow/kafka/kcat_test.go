package kafka

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	kgo "github.com/segmentio/kafka-go"

	"github.com/corpusflow/corpusflow/flow"
)

// kcat is Debian's kcat (librdkafka): a Kafka client written by other
// people. scripts/test-deps.sh installs it; without it this test fails, it
// does not skip.
func kcat(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("kcat")
	if err != nil {
		t.Fatal("kcat is not installed: run scripts/test-deps.sh (Debian package kcat); the Kafka interoperability test needs an independent client")
	}
	return path
}

func createTopic(t *testing.T, broker, topic string, partitions int) {
	t.Helper()
	conn, err := kgo.Dial("tcp", broker)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := conn.CreateTopics(kgo.TopicConfig{Topic: topic, NumPartitions: partitions, ReplicationFactor: 1}); err != nil {
		t.Fatal(err)
	}
}

// sampleDocuments are real Common Crawl documents (Dolma's CC sample) from
// the repository's test data: JSON lines with id, text and metadata.url.
func sampleDocuments(t *testing.T) (path string, byID map[string]string) {
	t.Helper()
	matches, err := filepath.Glob(filepath.Join("..", "..", "testdata", "text", "dolma-cc_en_head-*.jsonl"))
	if err != nil || len(matches) == 0 {
		t.Fatalf("sample documents missing: %v", err)
	}
	var all bytes.Buffer
	byID = map[string]string{}
	for _, m := range matches {
		data, err := os.ReadFile(m)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(bytes.NewReader(data))
		sc.Buffer(nil, 16<<20)
		for sc.Scan() {
			var doc struct{ ID, Text string }
			if err := json.Unmarshal(sc.Bytes(), &doc); err != nil {
				t.Fatal(err)
			}
			byID[doc.ID] = doc.Text
			all.Write(sc.Bytes())
			all.WriteByte('\n')
		}
	}
	path = filepath.Join(t.TempDir(), "docs.jsonl")
	if err := os.WriteFile(path, all.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path, byID
}

// TestKcatProducesThePipelineConsumes: kcat produces the sample documents
// into a broker over TCP; a pipeline reads them with the kafka source,
// filters them and publishes the kept ones with the kafka sink; kcat reads
// those back. Both directions work with a client that is not ours.
func TestKcatProducesThePipelineConsumes(t *testing.T) {
	bin := kcat(t)
	broker := startBroker(t)
	docs, byID := sampleDocuments(t)
	createTopic(t, broker, "crawl", 3)
	produce := exec.Command(bin, "-P", "-b", broker, "-t", "crawl", "-l", docs)
	if out, err := produce.CombinedOutput(); err != nil {
		t.Fatalf("kcat -P: %v\n%s", err, out)
	}

	src, _ := flow.Lookup(flow.KindSource, "kafka")
	scfg := src.NewConfig().(*SourceConfig)
	scfg.Brokers, scfg.Topic, scfg.URLField = []string{broker}, "crawl", "metadata.url"
	scfg.MetaFields = []string{"metadata.language"}
	if err := scfg.Validate(); err != nil {
		t.Fatal(err)
	}
	source, err := src.Build(scfg, &flow.Env{})
	if err != nil {
		t.Fatal(err)
	}
	snk, _ := flow.Lookup(flow.KindSink, "kafka")
	kcfg := snk.NewConfig().(*SinkConfig)
	kcfg.Brokers, kcfg.Topic = []string{broker}, "kept"
	sink, err := snk.Build(kcfg, &flow.Env{})
	if err != nil {
		t.Fatal(err)
	}
	const minChars = 1000
	mem := &memorySink{}
	plan := flow.Plan{
		Sources: []flow.NamedSource{{Name: "crawl", Source: source.(flow.Source)}},
		Stages: []flow.NamedStage{{Name: "long", Use: "long", Stage: stageFunc(func(r *flow.Record) string {
			if len(r.Text) < minChars {
				return "short"
			}
			return ""
		})}},
		Sinks: []flow.NamedSink{{Name: "kafka", Sink: sink.(flow.Sink)}, {Name: "mem", Sink: mem}},
	}
	stats, err := flow.Run(context.Background(), plan)
	if err != nil {
		t.Fatal(err)
	}
	if got := stats.Sources[0].Records; got != int64(len(byID)) {
		t.Fatalf("the pipeline read %d documents, kcat produced %d", got, len(byID))
	}

	var wantKept []string
	for id, text := range byID {
		if len(text) >= minChars {
			wantKept = append(wantKept, id)
		}
	}
	sort.Strings(wantKept)
	if len(wantKept) == 0 || len(wantKept) == len(byID) {
		t.Fatalf("the filter keeps %d of %d; pick a threshold that splits the sample", len(wantKept), len(byID))
	}

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	consume := exec.CommandContext(ctx, bin, "-C", "-b", broker, "-t", "kept", "-e", "-q", "-f", "%k\t%s\n")
	out, err := consume.Output()
	if err != nil {
		t.Fatalf("kcat -C: %v", err)
	}
	var gotKept []string
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		key, value, ok := strings.Cut(line, "\t")
		if !ok {
			t.Fatalf("kcat printed %q", line)
		}
		var rec struct {
			ID, Text, URL string
			Metadata      map[string]any
		}
		if err := json.Unmarshal([]byte(value), &rec); err != nil {
			t.Fatalf("message %s is not JSON: %v", key, err)
		}
		if key != rec.ID || rec.Text != byID[rec.ID] || rec.URL == "" || rec.Metadata["metadata.language"] != "en" {
			t.Errorf("message %s: id %q, url %q, metadata %v, text matches: %v", key, rec.ID, rec.URL, rec.Metadata, rec.Text == byID[rec.ID])
		}
		gotKept = append(gotKept, rec.ID)
	}
	sort.Strings(gotKept)
	if strings.Join(gotKept, "\n") != strings.Join(wantKept, "\n") {
		t.Errorf("kcat read back %d kept documents, want %d:\n got %v\nwant %v", len(gotKept), len(wantKept), gotKept, wantKept)
	}
}

type stageFunc func(*flow.Record) string

func (f stageFunc) Process(r *flow.Record) string { return f(r) }
