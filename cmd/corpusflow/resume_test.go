package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/corpusflow/corpusflow/pack"
)

// buildBinary builds corpusflow once per test binary.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "corpusflow")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// resumeCorpus writes a corpus big enough that a run takes a few seconds:
// the repository's sample texts, repeated with a copy number so that no two
// documents are the same.
func resumeCorpus(t *testing.T, dir string) {
	t.Helper()
	var docs []string
	for _, name := range []string{"wikitext-2-test-head.txt", "zhwiki-AA-wiki_00-head.txt"} {
		data, err := os.ReadFile(filepath.Join("..", "..", "testdata", "text", name))
		if err != nil {
			t.Fatal(err)
		}
		for _, block := range strings.Split(string(data), "\n\n") {
			if strings.TrimSpace(block) != "" {
				docs = append(docs, strings.TrimSpace(block))
			}
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for part := 0; part < 4; part++ {
		var b strings.Builder
		for copyNo := 0; copyNo < 8; copyNo++ {
			for i, d := range docs {
				fmt.Fprintf(&b, "copy %d part %d doc %d. %s\n\n", copyNo, part, i, d)
			}
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("part-%d.txt", part)), []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

const resumePipeline = `name: resume-test
output: out
workers: 2
sources:
  - type: text
    path: corpus
    split: blank_line
stages:
  - use: tokenize
    vocab: %[1]s
  - use: pack
    vocab: %[1]s
    mode: mlm
    seq_len: 128
    static_mask: true
    dupe_factor: 2
    shuffle:
      buffer: 300
      seed: 7
sinks:
  - type: arrow
    path: shards
    compression: zstd
    batch_rows: 16
    max_rows: 256
`

func testVocabPath(t *testing.T) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join("..", "..", "testdata", "tokenize", "vocab", "bert-base-uncased-vocab.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("the resume test needs the BERT vocabulary: %v", err)
	}
	return p
}

// TestKillAndResumeGivesTheSameShards kills real runs with SIGKILL at two
// points, resumes each time, and compares every byte of the shard directory
// with an uninterrupted run.
func TestKillAndResumeGivesTheSameShards(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs four pipelines")
	}
	bin := buildBinary(t)
	work := t.TempDir()
	resumeCorpus(t, filepath.Join(work, "corpus"))
	yaml := filepath.Join(work, "pipeline.yaml")
	if err := os.WriteFile(yaml, []byte(fmt.Sprintf(resumePipeline, testVocabPath(t))), 0o644); err != nil {
		t.Fatal(err)
	}

	run := func(out string, resume bool) *exec.Cmd {
		args := []string{"run", yaml, "--output", out, "--quiet"}
		if resume {
			args = append(args, "--resume")
		}
		cmd := exec.Command(bin, args...)
		cmd.Stderr = &bytes.Buffer{}
		return cmd
	}

	whole := filepath.Join(work, "whole")
	start := time.Now()
	if cmd := run(whole, false); cmd.Run() != nil {
		t.Fatalf("uninterrupted run failed:\n%s", cmd.Stderr)
	}
	t.Logf("uninterrupted run: %v", time.Since(start))
	want, err := pack.ReadManifest(filepath.Join(whole, "shards"))
	if err != nil {
		t.Fatal(err)
	}
	if !want.Complete || len(want.Shards) < 20 {
		t.Fatalf("uninterrupted run: complete=%v with %d shards; the test needs a longer run", want.Complete, len(want.Shards))
	}

	cut := filepath.Join(work, "cut")
	shards := filepath.Join(cut, "shards")
	// Kill at a quarter and again at about two thirds of the shards.
	for i, at := range []int{len(want.Shards) / 4, 2 * len(want.Shards) / 3} {
		cmd := run(cut, i > 0)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		killed := killWhen(t, cmd, func() bool {
			m, err := pack.ReadManifest(shards)
			return err == nil && len(m.Shards) >= at
		})
		if !killed {
			t.Fatalf("run %d finished before it could be killed at shard %d:\n%s", i, at, cmd.Stderr)
		}
		m, err := pack.ReadManifest(shards)
		if err != nil {
			t.Fatalf("after kill -9: %v", err)
		}
		if m.Complete || len(m.Shards) >= len(want.Shards) {
			t.Fatalf("killed run %d already wrote %d of %d shards (complete=%v)", i, len(m.Shards), len(want.Shards), m.Complete)
		}
		t.Logf("killed run %d with %d of %d shards complete", i, len(m.Shards), len(want.Shards))
	}
	if cmd := run(cut, true); cmd.Run() != nil {
		t.Fatalf("resumed run failed:\n%s", cmd.Stderr)
	}
	compareDirs(t, filepath.Join(whole, "shards"), shards)

	// Ctrl-C: the run drains, drops its unfinished shard, and leaves an
	// incomplete manifest that --resume finishes.
	sig := filepath.Join(work, "sigint")
	cmd := run(sig, false)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	interrupted := signalWhen(t, cmd, syscall.SIGINT, func() bool {
		m, err := pack.ReadManifest(filepath.Join(sig, "shards"))
		return err == nil && len(m.Shards) >= len(want.Shards)/2
	})
	if !interrupted {
		t.Fatal("run finished before SIGINT")
	}
	if code := cmd.ProcessState.ExitCode(); code != exitInterrupted {
		t.Fatalf("SIGINT: exit code %d, want %d:\n%s", code, exitInterrupted, cmd.Stderr)
	}
	if m, _ := pack.ReadManifest(filepath.Join(sig, "shards")); m == nil || m.Complete {
		t.Fatalf("an interrupted run's manifest says complete:\n%s", cmd.Stderr)
	}
	if cmd := run(sig, true); cmd.Run() != nil {
		t.Fatalf("resume after SIGINT failed:\n%s", cmd.Stderr)
	}
	compareDirs(t, filepath.Join(whole, "shards"), filepath.Join(sig, "shards"))
}

// killWhen SIGKILLs the started cmd as soon as cond holds and waits for it
// to end; it returns false when cmd ended on its own first.
func killWhen(t *testing.T, cmd *exec.Cmd, cond func() bool) bool {
	return signalWhen(t, cmd, syscall.SIGKILL, cond)
}

func signalWhen(t *testing.T, cmd *exec.Cmd, sig syscall.Signal, cond func() bool) bool {
	t.Helper()
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	deadline := time.After(2 * time.Minute)
	for {
		select {
		case <-exited:
			return false
		case <-deadline:
			cmd.Process.Kill()
			<-exited
			t.Fatal("the run did not reach the signal point within 2 minutes")
		default:
		}
		if cond() {
			if err := cmd.Process.Signal(sig); err != nil {
				<-exited
				return false
			}
			<-exited
			return true
		}
		time.Sleep(time.Millisecond)
	}
}

func compareDirs(t *testing.T, want, got string) {
	t.Helper()
	list := func(dir string) []string {
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		return names
	}
	wantNames, gotNames := list(want), list(got)
	if strings.Join(wantNames, ",") != strings.Join(gotNames, ",") {
		t.Fatalf("files differ:\nwant %v\n got %v", wantNames, gotNames)
	}
	for _, n := range wantNames {
		a, _ := os.ReadFile(filepath.Join(want, n))
		b, _ := os.ReadFile(filepath.Join(got, n))
		if !bytes.Equal(a, b) {
			t.Fatalf("%s differs after resume (%d vs %d bytes)", n, len(a), len(b))
		}
	}
}
