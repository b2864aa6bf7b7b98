package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	kgo "github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/corpusflow/corpusflow/flow/kafka"
	"github.com/corpusflow/corpusflow/pack"
	"github.com/corpusflow/corpusflow/pipelines"
)

// asBinary makes the test binary act as corpusflow itself when a test starts
// it as a worker process, so the Kafka tests run real processes (which a
// kill can end) without building the binary first.
const asBinary = "CORPUSFLOW_TEST_AS_BINARY"

func TestMain(m *testing.M) {
	if os.Getenv(asBinary) == "1" {
		os.Exit(dispatch(os.Args[1:]))
	}
	os.Exit(m.Run())
}

// startKfake runs an in-process Kafka-protocol broker on a TCP port.
func startKfake(t *testing.T) string {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.Ports(0), kfake.GroupMinSessionTimeout(100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c.ListenAddrs()[0]
}

// worker is one `corpusflow stage` process.
type worker struct {
	name   string
	cmd    *exec.Cmd
	stderr *syncWriter
	done   chan error
}

// log is what the worker wrote to stderr so far.
func (w *worker) log() string {
	w.stderr.mu.Lock()
	defer w.stderr.mu.Unlock()
	return w.stderr.w.String()
}

// cluster is the set of worker processes of one distributed run.
type cluster struct {
	t       *testing.T
	yaml    string
	out     string
	broker  string
	prefix  string
	extra   []string // more arguments for every worker
	mu      sync.Mutex
	workers []*worker
}

func (c *cluster) start(step string, n int) []*worker {
	var ws []*worker
	for i := 0; i < n; i++ {
		args := []string{"stage", c.yaml, "--stage", step, "--output", c.out, "--brokers", c.broker,
			"--topic-prefix", c.prefix, "--workers", "2", "--log-level", "info"}
		args = append(args, c.extra...)
		cmd := exec.Command(os.Args[0], args...)
		cmd.Env = append(os.Environ(), asBinary+"=1")
		w := &worker{name: fmt.Sprintf("%s#%d", step, i), cmd: cmd, stderr: &syncWriter{w: &bytes.Buffer{}}, done: make(chan error, 1)}
		cmd.Stderr = w.stderr
		if err := cmd.Start(); err != nil {
			c.t.Fatal(err)
		}
		go func() { w.done <- cmd.Wait() }()
		c.mu.Lock()
		c.workers = append(c.workers, w)
		c.mu.Unlock()
		ws = append(ws, w)
	}
	return ws
}

// startAll starts the sinks, n workers per stage, then the sources.
func (c *cluster) startAll(p *pipelines.Pipeline, n int) map[string][]*worker {
	byStep := map[string][]*worker{}
	byStep[kafka.SinksStep] = c.start(kafka.SinksStep, 1)
	for _, st := range p.Stages {
		byStep[st.Name] = c.start(st.Name, n)
	}
	byStep[kafka.SourcesStep] = c.start(kafka.SourcesStep, 1)
	return byStep
}

// startChained starts, with --chain, the sinks, n workers for every step
// that needs them, then the sources; it returns the workers by step and the
// steps.
func (c *cluster) startChained(p *pipelines.Pipeline, n int) (map[string][]*worker, []string) {
	c.extra = append(c.extra, "--chain")
	run, err := kafkaRun(p, stageFlags{brokers: c.broker, chain: true}, slog.New(slog.DiscardHandler))
	if err != nil {
		c.t.Fatal(err)
	}
	steps, err := run.WorkerSteps()
	if err != nil {
		c.t.Fatal(err)
	}
	byStep := map[string][]*worker{kafka.SinksStep: c.start(kafka.SinksStep, 1)}
	for _, step := range steps[1 : len(steps)-1] {
		byStep[step] = c.start(step, n)
	}
	byStep[kafka.SourcesStep] = c.start(kafka.SourcesStep, 1)
	return byStep, steps
}

// wait waits for every worker not killed; a failure prints every log.
func (c *cluster) wait(timeout time.Duration, killed map[*worker]bool) {
	deadline := time.After(timeout)
	var failed []string
	for _, w := range c.workers {
		select {
		case err := <-w.done:
			if err != nil && !killed[w] {
				failed = append(failed, fmt.Sprintf("%s: %v", w.name, err))
			}
		case <-deadline:
			failed = append(failed, w.name+": still running after "+timeout.String())
			for _, w := range c.workers {
				_ = w.cmd.Process.Kill()
			}
		}
	}
	if len(failed) > 0 {
		for _, w := range c.workers {
			c.t.Logf("---- %s stderr (last 3000 bytes):\n%s", w.name, tail(w.log(), 3000))
		}
		c.t.Fatalf("workers failed: %s", strings.Join(failed, "; "))
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

type syncWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

// shardRows reads every example of a shard directory as text, sorted: a
// multiset of rows.
func shardRows(t *testing.T, dir string) []string {
	t.Helper()
	r, err := pack.OpenReader(dir, pack.ReaderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var rows []string
	for {
		ex, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		ex.Position, ex.Shard = pack.Position{}, ""
		rows = append(rows, fmt.Sprintf("%+v", ex))
	}
	sort.Strings(rows)
	return rows
}

// compareOutputs checks that a distributed run wrote what the in-process
// run wrote: the same shard rows as a multiset, and in fact the same bytes
// in the shard directory and the rejects file.
func compareOutputs(t *testing.T, want, got string, files ...string) {
	t.Helper()
	wantRows, gotRows := shardRows(t, filepath.Join(want, "shards")), shardRows(t, filepath.Join(got, "shards"))
	if len(wantRows) == 0 {
		t.Fatal("the in-process run wrote no rows; the comparison would prove nothing")
	}
	if len(gotRows) != len(wantRows) {
		t.Errorf("distributed run: %d rows, in-process: %d", len(gotRows), len(wantRows))
	}
	for i := range min(len(gotRows), len(wantRows)) {
		if gotRows[i] != wantRows[i] {
			t.Errorf("row multisets differ first at sorted row %d:\n got %.300s\nwant %.300s", i, gotRows[i], wantRows[i])
			break
		}
	}
	wantFiles, gotFiles := outputFiles(t, want), outputFiles(t, got)
	for name, data := range wantFiles {
		keep := strings.HasPrefix(name, "shards"+string(filepath.Separator))
		for _, f := range files {
			keep = keep || name == f
		}
		if !keep {
			continue
		}
		if !bytes.Equal(gotFiles[name], data) {
			t.Errorf("%s differs from the in-process run's (%d bytes vs %d)", name, len(gotFiles[name]), len(data))
		}
	}
}

// TestQuickstartOverKafka runs the quickstart through a broker over TCP with
// two worker processes per stage: the shards hold the same rows as the
// in-process run's (and the same bytes: the order is restored too).
func TestQuickstartOverKafka(t *testing.T) {
	broker := startKfake(t)
	want := runQuickstart(t, "2")
	p, err := pipelines.Load(quickstart)
	if err != nil {
		t.Fatal(err)
	}
	c := &cluster{t: t, yaml: quickstart, out: t.TempDir(), broker: broker, prefix: "quickstart-test"}
	start := time.Now()
	c.startAll(p, 2)
	c.wait(4*time.Minute, nil)
	t.Logf("distributed quickstart: %v for %d worker processes", time.Since(start), len(c.workers))
	compareOutputs(t, want, c.out, "rejects.jsonl.gz")
	// The sinks worker writes stats.json: what reached the sinks, which is
	// what the in-process run's sinks got.
	got, wantStats := readStats(t, c.out), readStats(t, want)
	if len(got.Sinks) != len(wantStats.Sinks) || len(got.Sinks) == 0 || got.Sinks[0] != wantStats.Sinks[0] {
		t.Errorf("distributed stats.json sinks %+v, in-process %+v", got.Sinks, wantStats.Sinks)
	}
}

// TestQuickstartOverKafkaChained runs the quickstart with --chain: c4 and
// lang run in the sources worker and tokenize in decontaminate's, so only
// five steps have workers (two each), and the outputs are still the
// in-process run's, byte for byte.
func TestQuickstartOverKafkaChained(t *testing.T) {
	broker := startKfake(t)
	want := runQuickstart(t, "2")
	p, err := pipelines.Load(quickstart)
	if err != nil {
		t.Fatal(err)
	}
	c := &cluster{t: t, yaml: quickstart, out: t.TempDir(), broker: broker, prefix: "quickstart-chained"}
	_, steps := c.startChained(p, 2)
	if got, wantSteps := strings.Join(steps, " "), "sources exact_dedup minhash_dedup decontaminate pack sinks"; got != wantSteps {
		t.Fatalf("steps with chain: %s, want %s", got, wantSteps)
	}
	c.wait(4*time.Minute, nil)
	compareOutputs(t, want, c.out, "rejects.jsonl.gz")
	// A chained stage has no worker of its own: asking for one is an error
	// that says where it runs.
	w := c.start("tokenize", 1)[0]
	select {
	case err := <-w.done:
		if err == nil || !strings.Contains(w.log(), "runs in the worker of the step before it") {
			t.Errorf("a worker for the chained tokenize stage: %v, log %s", err, tail(w.log(), 500))
		}
	case <-time.After(time.Minute):
		_ = w.cmd.Process.Kill()
		t.Errorf("a worker for the chained tokenize stage still runs after a minute; log %s", tail(w.log(), 500))
	}
}

const killPipeline = `name: kafka-kill-test
output: out
workers: 2
sources:
  - type: text
    path: corpus
    split: blank_line
stages:
  - use: exact_dedup
  - use: tokenize
    vocab: %[1]s
  - use: pack
    vocab: %[1]s
    mode: mlm
    seq_len: 128
sinks:
  - type: arrow
    path: shards
    max_rows: 256
transport:
  type: kafka
  brokers: ["127.0.0.1:1"]
  partitions: 4
  session_timeout_ms: 1000
`

// killCorpus is the repository's sample text repeated, with every fifth
// document left without its copy number so that exact_dedup has work.
func killCorpus(t *testing.T, dir string) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "testdata", "text", "wikitext-2-test-head.txt"))
	if err != nil {
		t.Fatal(err)
	}
	var docs []string
	for _, block := range strings.Split(string(data), "\n\n") {
		if s := strings.TrimSpace(block); s != "" {
			docs = append(docs, s)
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for part := 0; part < 4; part++ {
		var b strings.Builder
		for copyNo := 0; copyNo < 200; copyNo++ {
			for i, d := range docs {
				if i%5 == 0 {
					fmt.Fprintf(&b, "%s\n\n", d)
				} else {
					fmt.Fprintf(&b, "copy %d part %d doc %d. %s\n\n", copyNo, part, i, d)
				}
			}
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("part-%d.txt", part)), []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// topicMessages is how many messages a topic holds in all partitions.
func topicMessages(broker, topic string) int64 {
	conn, err := kgo.Dial("tcp", broker)
	if err != nil {
		return 0
	}
	defer conn.Close()
	parts, err := conn.ReadPartitions(topic)
	if err != nil {
		return 0
	}
	var n int64
	for _, p := range parts {
		lc, err := kgo.DialLeader(context.Background(), "tcp", broker, topic, p.ID)
		if err != nil {
			continue
		}
		if last, err := lc.ReadLastOffset(); err == nil {
			n += last
		}
		lc.Close()
	}
	return n
}

// TestKillWorkerMidStream kills (SIGKILL, no clean shutdown) one worker of
// the keyed exact_dedup stage and one of the stateless tokenize stage while
// records stream through them. The run still completes, and the shards hold
// exactly the examples of an uninterrupted in-process run: nothing lost,
// nothing doubled.
func TestKillWorkerMidStream(t *testing.T) {
	killTest(t, false, [][2]string{{"exact_dedup", "tokenize"}, {"tokenize", "pack"}})
}

// TestKillChainedWorkerMidStream is the kill test with --chain: tokenize
// runs in exact_dedup's workers, so killing one of them also kills a
// tokenizer mid-batch, and a survivor that takes a partition over replays
// its history through both stages.
func TestKillChainedWorkerMidStream(t *testing.T) {
	killTest(t, true, [][2]string{{"exact_dedup", "pack"}})
}

// killTest runs killPipeline with two workers per step, SIGKILLs one worker
// of each victim step (step, the topic its output goes to) once it is busy,
// and checks the outputs against the in-process run's.
func killTest(t *testing.T, chain bool, victims [][2]string) {
	broker := startKfake(t)
	work := t.TempDir()
	killCorpus(t, filepath.Join(work, "corpus"))
	yaml := filepath.Join(work, "pipeline.yaml")
	if err := os.WriteFile(yaml, []byte(fmt.Sprintf(killPipeline, testVocabPath(t))), 0o644); err != nil {
		t.Fatal(err)
	}
	want := filepath.Join(work, "inproc")
	start := time.Now()
	if code := dispatch([]string{"run", yaml, "--output", want, "--quiet", "--log-level", "error"}); code != exitOK {
		t.Fatalf("in-process run exited %d", code)
	}
	t.Logf("in-process run: %v", time.Since(start))
	start = time.Now()
	p, err := pipelines.Load(yaml)
	if err != nil {
		t.Fatal(err)
	}
	c := &cluster{t: t, yaml: yaml, out: filepath.Join(work, "dist"), broker: broker, prefix: "kill-test"}
	var byStep map[string][]*worker
	if chain {
		byStep, _ = c.startChained(p, 2)
	} else {
		byStep = c.startAll(p, 2)
	}
	killed := map[*worker]bool{}
	sinksDone := byStep[kafka.SinksStep][0].done
	// Kill a worker of a stage once it owns partitions and its output topic
	// shows it is working, long before the input ends.
	killWhenBusy := func(step, outTopic string) (*worker, *worker) {
		deadline := time.Now().Add(2 * time.Minute)
		for {
			if time.Now().After(deadline) {
				t.Fatalf("%s produced nothing in 2 minutes", step)
			}
			if topicMessages(broker, "kill-test."+outTopic) >= 20 {
				for i, w := range byStep[step] {
					if len(ownedPartitions(w)) > 0 {
						if err := w.cmd.Process.Signal(syscall.SIGKILL); err != nil {
							t.Fatalf("killing %s: %v", w.name, err)
						}
						killed[w] = true
						t.Logf("killed %s owning partitions %v after %d messages in %s", w.name, ownedPartitions(w), topicMessages(broker, "kill-test."+outTopic), outTopic)
						return w, byStep[step][1-i]
					}
				}
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	var pairs [][2]*worker
	for _, v := range victims {
		victim, survivor := killWhenBusy(v[0], v[1])
		pairs = append(pairs, [2]*worker{victim, survivor})
	}
	select {
	case <-sinksDone:
		t.Fatal("the run had already finished when the workers were killed; the test needs more input")
	default:
	}
	c.wait(4*time.Minute, killed)
	t.Logf("distributed run with two kills: %v", time.Since(start))
	compareOutputs(t, want, c.out)
	// Whether the survivor had to replay committed history depends on when
	// the kill fell; flow/kafka's TestTakeOverRebuildsOrderedState forces it.
	for _, line := range strings.Split(pairs[0][1].log(), "\n") {
		if strings.Contains(line, "taking over") {
			t.Logf("%s: %.200s", pairs[0][1].name, line)
		}
	}
	// The survivors took over every partition the killed workers owned.
	for _, pair := range pairs {
		had, has := ownedPartitions(pair[0]), ownedPartitions(pair[1])
		for p := range had {
			if !has[p] {
				t.Errorf("partition %s of killed %s was never taken over by %s (it owns %v)", p, pair[0].name, pair[1].name, has)
			}
		}
	}
}

// ownedPartitions lists the partitions a worker's log says it owned.
func ownedPartitions(w *worker) map[string]bool {
	owned := map[string]bool{}
	for _, line := range strings.Split(w.log(), "\n") {
		if !strings.Contains(line, `msg="owning partition"`) {
			continue
		}
		for _, f := range strings.Fields(line) {
			if p, ok := strings.CutPrefix(f, "partition="); ok {
				owned[p] = true
			}
		}
	}
	return owned
}

func TestStageUsageErrors(t *testing.T) {
	cases := [][]string{
		{"stage", quickstart},                                                  // no --stage
		{"stage", quickstart, "--stage", "c4"},                                 // no brokers anywhere
		{"stage", quickstart, "--stage", "nope", "--brokers", "127.0.0.1:1"},   // no such step
		{"stage", quickstart, "--stage", "c4", "--brokers", "no-port"},         // not host:port
		{"stage", "missing.yaml", "--stage", "c4", "--brokers", "127.0.0.1:1"}, // no file
	}
	for _, args := range cases {
		if code := dispatch(args); code != exitUsage {
			t.Errorf("%v: exit %d, want %d", args, code, exitUsage)
		}
	}
}
