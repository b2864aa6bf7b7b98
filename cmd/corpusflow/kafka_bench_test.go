package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/corpusflow/corpusflow/flow"
	"github.com/corpusflow/corpusflow/flow/kafka"
	"github.com/corpusflow/corpusflow/internal/samples"
	"github.com/corpusflow/corpusflow/pipelines"
)

// The benchmark pipeline: real text (WikiText-2 test and valid paragraphs,
// repeated with a copy number) through the stages of a variant. The sink
// only counts, so what differs between the runs is the transport: memory
// channels, or Kafka topics on a broker over TCP. TESTDATA in the stages is
// the repository's testdata directory.
const kafkaBenchPipeline = `name: kafka-bench
output: out
sources:
  - type: text
    path: corpus
    split: blank_line
stages:
%s`

const kafkaBenchTokenize = "  - use: tokenize\n    vocab: TESTDATA/tokenize/vocab/bert-base-uncased-vocab.txt\n"

// kafkaBenchVariants: tokenize alone (the cheapest stage, where the
// transport weighs most), with a keyed exact_dedup before it, with c4 too,
// and the quickstart's stages (the main job: C4 rules, language id, exact
// and MinHash dedup, decontamination against XQuAD and SST-2, tokenize,
// pack). MinHash removes the copies of a paragraph as near-duplicates, so
// the stages after it see an eighth of the input, in both paths alike.
var kafkaBenchVariants = []struct{ name, stages string }{
	{"tokenize", kafkaBenchTokenize},
	{"dedup+tokenize", "  - use: exact_dedup\n" + kafkaBenchTokenize},
	{"c4+dedup+tokenize", "  - use: c4\n  - use: exact_dedup\n" + kafkaBenchTokenize},
	{"quickstart-stages", `  - use: c4
  - use: lang
    languages: [en]
    min_score: 0.99
  - use: exact_dedup
  - use: minhash_dedup
  - use: decontaminate
    action: drop
    test_sets:
      - {name: xquad_en, type: squad, path: TESTDATA/testsets/xquad.en.json}
      - {name: sst2_dev, type: tsv, path: TESTDATA/testsets/SST-2.dev.tsv, column: sentence}
` + kafkaBenchTokenize + `  - use: pack
    vocab: TESTDATA/tokenize/vocab/bert-base-uncased-vocab.txt
    mode: mlm
    seq_len: 128
`},
}

type benchCountSink struct{ n *atomic.Int64 }

func (s benchCountSink) Write(r *flow.Record) error { s.n.Add(1); return nil }
func (s benchCountSink) Close() error               { return nil }

func kafkaBenchSetup(b *testing.B, stages string) (p *pipelines.Pipeline, textBytes, inputRecords int64) {
	b.Helper()
	dir := b.TempDir()
	docs := benchParagraphs(b)
	if err := os.MkdirAll(filepath.Join(dir, "corpus"), 0o755); err != nil {
		b.Fatal(err)
	}
	for part := 0; part < 4; part++ {
		var sb strings.Builder
		for c := 0; c < benchCopies; c++ {
			for i, d := range docs {
				n, _ := fmt.Fprintf(&sb, "copy %d part %d doc %d. %s\n\n", c, part, i, d)
				textBytes += int64(n - 2)
				inputRecords++
			}
		}
		if err := os.WriteFile(filepath.Join(dir, "corpus", fmt.Sprintf("p%d.txt", part)), []byte(sb.String()), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	testdata, _ := filepath.Abs(filepath.Join("..", "..", "testdata"))
	yaml := filepath.Join(dir, "p.yaml")
	if err := os.WriteFile(yaml, []byte(fmt.Sprintf(kafkaBenchPipeline, strings.ReplaceAll(stages, "TESTDATA", testdata))), 0o644); err != nil {
		b.Fatal(err)
	}
	p, err := pipelines.Load(yaml)
	if err != nil {
		b.Fatal(err)
	}
	return p, textBytes, inputRecords
}

// benchCopies: how many times the corpus repeats (with a copy number, so
// that exact_dedup keeps every copy), for ~20 MB of input.
const benchCopies = 2

// benchParagraphs are the paragraphs of WikiText-2 test and valid (about
// 3,800 distinct paragraphs, 2.3 MB): a frame of 256 of them holds no
// repeated text, as a frame of a real corpus does not, so compression
// costs what it costs on real text.
func benchParagraphs(b *testing.B) []string {
	var docs []string
	for _, name := range []string{samples.WikiText2Test, samples.WikiText2Valid} {
		data, err := samples.ReadFile(name)
		if err != nil {
			b.Fatal(err)
		}
		// WikiText separates paragraphs with lines holding one space: make
		// them empty so that a block here is a block for the text source.
		lines := strings.Split(string(data), "\n")
		for i, l := range lines {
			if strings.TrimSpace(l) == "" {
				lines[i] = ""
			}
		}
		for _, block := range strings.Split(strings.Join(lines, "\n"), "\n\n") {
			if s := strings.TrimSpace(block); s != "" {
				docs = append(docs, s)
			}
		}
	}
	return docs
}

func benchBuildParts(b *testing.B, p *pipelines.Pipeline, keep func(q *pipelines.Pipeline)) flow.Plan {
	q := *p
	q.Sources, q.Stages, q.Sinks, q.Rejects, q.Transport = nil, nil, nil, nil, nil
	keep(&q)
	built, err := q.Build(pipelines.BuildOptions{Output: b.TempDir(), Workers: 2})
	if err != nil {
		b.Fatal(err)
	}
	return built.Plan
}

// cpuTime is the CPU time this process (workers and broker alike) has used.
func benchCPUTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// report gives throughput of the input: records read and MB of their text,
// per second of the whole run, and MB per CPU-second, which a machine shared
// with other work disturbs less.
func benchReport(b *testing.B, records, textBytes int64, elapsed, cpu time.Duration) {
	b.ReportMetric(float64(textBytes)/1e6/cpu.Seconds(), "MB/cpu-s")
	b.ReportMetric(float64(records)/elapsed.Seconds(), "records/s")
	b.ReportMetric(float64(textBytes)/1e6/elapsed.Seconds(), "MB/s")
}

func BenchmarkKafkaBaselineInProcess(b *testing.B) {
	for _, v := range kafkaBenchVariants {
		b.Run(v.name, func(b *testing.B) { kafkaBenchInProcess(b, v.stages) })
	}
}

func kafkaBenchInProcess(b *testing.B, stages string) {
	p, textBytes, inputRecords := kafkaBenchSetup(b, stages)
	var total, cpu time.Duration
	for i := 0; i < b.N; i++ {
		plan := benchBuildParts(b, p, func(q *pipelines.Pipeline) { q.Sources, q.Stages = p.Sources, p.Stages })
		n := &atomic.Int64{}
		plan.Sinks = []flow.NamedSink{{Name: "count", Sink: benchCountSink{n}}}
		runtime.GC() // both paths start without the garbage of building stages
		start, cpu0 := time.Now(), benchCPUTime()
		stats, err := flow.Run(context.Background(), plan)
		if err != nil {
			b.Fatal(err)
		}
		cpu += benchCPUTime() - cpu0
		if stats.Sources[0].Records != inputRecords {
			b.Fatalf("the source read %d records, the corpus has %d", stats.Sources[0].Records, inputRecords)
		}
		last, out := stats.Stages[len(stats.Stages)-1], int64(0)
		if out = last.Kept; last.Emitted > 0 {
			out = last.Emitted // an Emitter (pack) sends on what it emits
		}
		if out != n.Load() || n.Load() == 0 {
			b.Fatalf("the last stage sent on %d records, the sink got %d", out, n.Load())
		}
		total += time.Since(start)
	}
	benchReport(b, inputRecords, textBytes, total/time.Duration(b.N), cpu/time.Duration(b.N))
}

// kafkaBenchInProcessKept is what the in-process run keeps, to check the Kafka runs.
func kafkaBenchInProcessKept(b *testing.B, p *pipelines.Pipeline) int64 {
	plan := benchBuildParts(b, p, func(q *pipelines.Pipeline) { q.Sources, q.Stages = p.Sources, p.Stages })
	n := &atomic.Int64{}
	plan.Sinks = []flow.NamedSink{{Name: "count", Sink: benchCountSink{n}}}
	if _, err := flow.Run(context.Background(), plan); err != nil {
		b.Fatal(err)
	}
	return n.Load()
}

// kafkaBenchSettle is how long the workers of a run get to join their groups before
// the sources start and the clock runs.
const kafkaBenchSettle = 2 * time.Second

// kafkaBenchPartitions: partitions per topic.
const kafkaBenchPartitions = 4

func kafkaBenchRun(b *testing.B, stages string, replicas int, compression string, chain bool) {
	p, textBytes, inputRecords := kafkaBenchSetup(b, stages)
	brokers, brokerCPU := benchBroker(b)
	var total, cpu, workersCPU time.Duration
	var records int64
	for i := 0; i < b.N; i++ {
		tr := kafka.NewTransport(kafka.Config{Brokers: brokers, TopicPrefix: fmt.Sprintf("bench%d-%d", replicas, i), Partitions: kafkaBenchPartitions, SessionTimeoutMS: 2000, Compression: compression, Chain: chain}, p.Name, nil)
		run := &kafka.Run{Transport: tr, Workers: 2}
		b.StopTimer()
		var pools []chan flow.NamedStage
		var chained []bool // the stage runs in the worker of the step before it
		for _, st := range p.Stages {
			build := func() flow.NamedStage {
				return benchBuildParts(b, p, func(q *pipelines.Pipeline) { q.Stages = []*pipelines.Component{st} }).Stages[0]
			}
			// Stage instances are built before the clock starts, as the
			// in-process run's are: building one is a worker's start-up
			// (the tokenizer reads its vocabulary), not throughput. Each
			// worker takes one per lane (an exact_dedup worker one per
			// partition) and the worker before it one to learn the route;
			// past these, New builds inside the clock.
			built := make(chan flow.NamedStage, replicas*(kafkaBenchPartitions+1)+1)
			for len(built) < cap(built) {
				built <- build()
			}
			pools = append(pools, built)
			probe := build()
			chained = append(chained, chain && kafka.Chainable(probe.Stage))
			run.Stages = append(run.Stages, kafka.Step{Name: st.Name, New: func() (flow.NamedStage, error) {
				select {
				case s := <-built:
					return s, nil
				default:
					return build(), nil
				}
			}})
		}
		sources := benchBuildParts(b, p, func(q *pipelines.Pipeline) { q.Sources = p.Sources })
		n := &atomic.Int64{}
		sinks := flow.Plan{Sinks: []flow.NamedSink{{Name: "count", Sink: benchCountSink{n}}}}
		ctx := context.Background()
		var wg sync.WaitGroup
		errs := make(chan error, 20)
		start := time.Now()
		goRun := func(f func() (*kafka.WorkerStats, error)) {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ws, err := f()
				if err != nil {
					errs <- err
				}
				if os.Getenv("BENCH_DEBUG") != "" && ws != nil {
					b.Logf("%s done at %v (frames in %d out %d, produce wait %.3fs)", ws.Step, time.Since(start), ws.FramesIn, ws.FramesOut, ws.ProduceWaitS)
				}
			}()
		}
		goRun(func() (*kafka.WorkerStats, error) { return kafka.RunSinks(ctx, run, sinks) })
		for i, st := range run.Stages {
			if chained[i] {
				continue
			}
			for r := 0; r < replicas; r++ {
				name := st.Name
				goRun(func() (*kafka.WorkerStats, error) { return kafka.RunStage(ctx, run, name) })
			}
		}
		// Measure the stream, not start-up: let every consumer group settle
		// (members join, partitions are assigned) before the sources start.
		time.Sleep(kafkaBenchSettle)
		// What is left after start-up: enough for the route probe of the
		// sources worker and the lanes of a keyed stage's partitions; the
		// rest is dropped so that it does not swell the heap the GC sees.
		for _, built := range pools {
			for len(built) > kafkaBenchPartitions {
				<-built
			}
		}
		runtime.GC() // both paths start without the garbage of building stages
		b.StartTimer()
		start = time.Now()
		cpu0, broker0 := benchCPUTime(), brokerCPU()
		goRun(func() (*kafka.WorkerStats, error) { return kafka.RunSources(ctx, run, sources) })
		wg.Wait()
		total += time.Since(start)
		workers := benchCPUTime() - cpu0
		workersCPU += workers
		cpu += workers + brokerCPU() - broker0
		close(errs)
		for err := range errs {
			b.Fatal(err)
		}
		records = n.Load()
	}
	if want := kafkaBenchInProcessKept(b, p); records != want {
		b.Fatalf("kept %d records, the in-process run keeps %d", records, want)
	}
	benchReport(b, inputRecords, textBytes, total/time.Duration(b.N), cpu/time.Duration(b.N))
	b.ReportMetric(float64(textBytes)/1e6/(workersCPU/time.Duration(b.N)).Seconds(), "workers-MB/cpu-s")
	b.ReportMetric(float64(cpu-workersCPU)/float64(cpu), "broker-cpu-share")
}

// benchBroker starts `corpusflow broker` (kfake) as a child process, so that
// the CPU time of the broker, which in a real deployment is Apache Kafka on
// its own machines, is measured apart from the workers' (this process). It
// returns the broker's address and a function giving the CPU time the
// broker has used so far.
func benchBroker(b *testing.B) (brokers []string, cpu func() time.Duration) {
	b.Helper()
	cmd := exec.Command(os.Args[0], "broker", "--port", "0")
	cmd.Env = append(os.Environ(), asBinary+"=1")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		b.Fatalf("the broker printed no address: %v", err)
	}
	pid := cmd.Process.Pid
	return []string{strings.TrimSpace(line)}, func() time.Duration { return threadsCPUTime(b, pid) }
}

// threadsCPUTime sums the time every thread of process pid has run on a CPU
// (first field of /proc/PID/task/TID/schedstat, in nanoseconds; the
// process-wide /proc/PID/stat counts in 10 ms ticks, too coarse for a run
// of half a second).
func threadsCPUTime(b *testing.B, pid int) time.Duration {
	tasks, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/schedstat", pid))
	if err != nil || len(tasks) == 0 {
		b.Fatalf("no threads of process %d in /proc: %v", pid, err)
	}
	var ns int64
	for _, t := range tasks {
		data, err := os.ReadFile(t)
		if err != nil {
			continue // a thread that ended between the glob and the read
		}
		f := strings.Fields(string(data))
		if len(f) == 0 {
			b.Fatalf("%s: empty", t)
		}
		v, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			b.Fatalf("%s: %v", t, err)
		}
		ns += v
	}
	return time.Duration(ns)
}

// BenchmarkKafkaPath: 1 and 2 workers per stage with the default frame
// compression (zstd), and 1 worker with s2 and with none; then 1 worker per
// step with the stateless stages chained (Config.Chain).
func BenchmarkKafkaPath(b *testing.B) {
	for _, v := range kafkaBenchVariants {
		for _, c := range []struct {
			workers int
			codec   string
			chain   bool
		}{{1, "zstd", false}, {2, "zstd", false}, {1, "s2", false}, {1, "none", false}, {1, "zstd", true}, {1, "s2", true}, {1, "none", true}} {
			name := fmt.Sprintf("%s/workers=%d/%s", v.name, c.workers, c.codec)
			if c.chain {
				name += "/chain"
			}
			b.Run(name, func(b *testing.B) { kafkaBenchRun(b, v.stages, c.workers, c.codec, c.chain) })
		}
	}
}
