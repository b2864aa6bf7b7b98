package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/corpusflow/corpusflow/flow/kafka"
	"github.com/corpusflow/corpusflow/pipelines"
)

const minhashPipeline = `name: kafka-minhash-test
output: out
workers: 2
sources:
  - type: text
    path: corpus
    split: blank_line
stages:
  - use: exact_dedup
  - use: minhash_dedup
sinks:
  - type: jsonl
    path: kept.jsonl
rejects:
  path: rejects.jsonl
transport:
  type: kafka
  brokers: ["127.0.0.1:1"]
  partitions: 4
  session_timeout_ms: 1000
`

// nearDuplicateCorpus writes WikiText paragraphs, each followed (later in the
// stream) by a chain of near-copies: every copy rewrites a fresh 15 % run of
// the copy before it, so a copy may be near the previous copy but not the
// original. Those chains are where MinHash's "first seen wins" decisions
// depend on which earlier documents were kept.
func nearDuplicateCorpus(t *testing.T, dir string) (docs int) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "testdata", "text", "wikitext-2-test-head.txt"))
	if err != nil {
		t.Fatal(err)
	}
	var paras []string
	for _, block := range strings.Split(strings.ReplaceAll(string(data), "\n \n", "\n\n"), "\n\n") {
		if s := strings.Join(strings.Fields(block), " "); len(strings.Fields(s)) >= 40 {
			paras = append(paras, s)
		}
	}
	if len(paras) < 10 {
		t.Fatalf("%d paragraphs of 40+ words in the sample", len(paras))
	}
	rng := rand.New(rand.NewPCG(3, 5))
	var texts []string
	for round := 0; round < 30; round++ {
		for _, p := range paras {
			words := strings.Fields(p)
			// Each round starts from a different version of the paragraph,
			// so rounds are distinct documents, not exact copies.
			words = append([]string{fmt.Sprintf("round%d", round)}, words...)
			for c := 0; c < 4; c++ {
				texts = append(texts, strings.Join(words, " "))
				n := len(words) * 15 / 100
				at := rng.IntN(len(words) - n)
				next := append([]string(nil), words...)
				for i := at; i < at+n; i++ {
					next[i] = fmt.Sprintf("w%d", rng.IntN(500))
				}
				words = next
			}
		}
	}
	rng.Shuffle(len(texts), func(i, j int) { texts[i], texts[j] = texts[j], texts[i] })
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for part := 0; part < 3; part++ {
		var b strings.Builder
		for i := part; i < len(texts); i += 3 {
			b.WriteString(texts[i])
			b.WriteString("\n\n")
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("part-%d.txt", part)), []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return len(texts)
}

// jsonlIDs reads the "id" of every line of a JSONL file, with dup_of for
// rejected records.
func jsonlLines(t *testing.T, path string) (ids []string, dupOf map[string]string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dupOf = map[string]string{}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<24)
	for sc.Scan() {
		var line struct {
			ID       string         `json:"id"`
			Reason   string         `json:"reason"`
			Metadata map[string]any `json:"metadata"`
		}
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		ids = append(ids, line.ID)
		if d, ok := line.Metadata["dup_of"].(string); ok {
			dupOf[line.ID] = d
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return ids, dupOf
}

// TestMinHashDedupOverKafka runs minhash_dedup over a broker with two worker
// processes (each owning part of the LSH buckets; one of them joins the
// answers) on a corpus of near-duplicate chains. The distributed run keeps
// exactly the documents one process keeps — the same set, and in fact the
// same survivor of every duplicate group — and rejects the rest with the
// same dup_of: kept.jsonl and rejects.jsonl are byte-identical.
func TestMinHashDedupOverKafka(t *testing.T) {
	broker := startKfake(t)
	work := t.TempDir()
	docs := nearDuplicateCorpus(t, filepath.Join(work, "corpus"))
	yaml := filepath.Join(work, "pipeline.yaml")
	if err := os.WriteFile(yaml, []byte(minhashPipeline), 0o644); err != nil {
		t.Fatal(err)
	}
	want := filepath.Join(work, "inproc")
	if code := dispatch([]string{"run", yaml, "--output", want, "--quiet", "--log-level", "error"}); code != exitOK {
		t.Fatalf("in-process run exited %d", code)
	}
	p, err := pipelines.Load(yaml)
	if err != nil {
		t.Fatal(err)
	}
	c := &cluster{t: t, yaml: yaml, out: filepath.Join(work, "dist"), broker: broker, prefix: "minhash-test"}
	start := time.Now()
	c.startAll(p, 2)
	c.wait(3*time.Minute, nil)
	t.Logf("distributed run: %v", time.Since(start))

	wantKept, _ := jsonlLines(t, filepath.Join(want, "kept.jsonl"))
	_, wantDup := jsonlLines(t, filepath.Join(want, "rejects.jsonl"))
	gotKept, _ := jsonlLines(t, filepath.Join(c.out, "kept.jsonl"))
	_, gotDup := jsonlLines(t, filepath.Join(c.out, "rejects.jsonl"))
	if len(wantDup) < docs/3 || len(wantKept) < docs/10 {
		t.Fatalf("one process kept %d and marked %d near-duplicates of %d documents; the corpus does not test dedup", len(wantKept), len(wantDup), docs)
	}
	sort.Strings(wantKept)
	sort.Strings(gotKept)
	if strings.Join(gotKept, "\n") != strings.Join(wantKept, "\n") {
		t.Errorf("kept sets differ: distributed %d documents, one process %d", len(gotKept), len(wantKept))
	}
	for id, d := range wantDup {
		if gotDup[id] != d {
			t.Errorf("%s: dup_of %q distributed, %q in one process", id, gotDup[id], d)
			break
		}
	}
	for _, f := range []string{"kept.jsonl", "rejects.jsonl"} {
		a, _ := os.ReadFile(filepath.Join(want, f))
		b, _ := os.ReadFile(filepath.Join(c.out, f))
		if !bytes.Equal(a, b) {
			t.Errorf("%s differs from the in-process run's (%d bytes vs %d)", f, len(b), len(a))
		}
	}
	// Both workers owned buckets; the joiner role decided every document.
	var probes, joined int64
	for _, w := range c.workers {
		if !strings.Contains(w.name, "minhash_dedup") {
			continue
		}
		ws := readWorkerStats(t, c.out, w)
		if ws.Run != nil {
			for _, st := range ws.Run.Stages {
				if st.Name == "minhash_dedup.buckets" && st.In > 0 {
					probes++
				}
			}
		}
		if ws.Join != nil && ws.Join.Run != nil {
			for _, st := range ws.Join.Run.Stages {
				joined += st.In
			}
		}
	}
	if probes != 2 {
		t.Errorf("%d of the 2 minhash_dedup workers answered probes; both should own buckets", probes)
	}
	if joined < int64(len(wantKept)+len(wantDup)) {
		t.Errorf("the joiners decided %d documents, fewer than the %d minhash_dedup saw", joined, len(wantKept)+len(wantDup))
	}
	t.Logf("%d documents: %d kept, %d near-duplicates, identical in both runs", docs, len(wantKept), len(wantDup))
}

// readWorkerStats reads the stats JSON a worker process wrote when it ended.
func readWorkerStats(t *testing.T, out string, w *worker) *kafka.WorkerStats {
	t.Helper()
	pid := w.cmd.Process.Pid
	matches, _ := filepath.Glob(filepath.Join(out, "workers", fmt.Sprintf("*-%d.json", pid)))
	if len(matches) != 1 {
		t.Fatalf("%s: stats files %v", w.name, matches)
	}
	data, err := os.ReadFile(matches[0])
	if err != nil {
		t.Fatal(err)
	}
	var ws kafka.WorkerStats
	if err := json.Unmarshal(data, &ws); err != nil {
		t.Fatal(err)
	}
	return &ws
}
