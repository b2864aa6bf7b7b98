package main

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/corpusflow/corpusflow/flow"
)

const quickstart = "../../pipelines/quickstart.yaml"

// runQuickstart runs the quickstart into a fresh directory and returns it.
func runQuickstart(t *testing.T, workers string) string {
	t.Helper()
	out := t.TempDir()
	if code := dispatch([]string{"run", quickstart, "--output", out, "--workers", workers, "--quiet", "--log-level", "error"}); code != exitOK {
		t.Fatalf("run --workers %s exited %d", workers, code)
	}
	return out
}

// outputFiles maps every file under dir (relative path) to its bytes.
func outputFiles(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		data, err := os.ReadFile(path)
		files[rel] = data
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func readStats(t *testing.T, dir string) flow.RunStats {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "stats.json"))
	if err != nil {
		t.Fatal(err)
	}
	var s flow.RunStats
	if err := json.Unmarshal(data, &s); err != nil {
		t.Fatal(err)
	}
	return s
}

// TestQuickstartIdenticalForAnyWorkerCount is the engine's promise: the same
// input and pipeline give byte-identical outputs whatever the worker count.
func TestQuickstartIdenticalForAnyWorkerCount(t *testing.T) {
	one := runQuickstart(t, "1")
	four := runQuickstart(t, "4")
	a, b := outputFiles(t, one), outputFiles(t, four)
	if len(a) < 4 {
		t.Fatalf("quickstart wrote too little: %v", keys(a))
	}
	for name, data := range a {
		switch {
		case name == "stats.json":
			continue // holds elapsed time and the worker count; compared below
		case timedTrainingFiles[filepath.Base(name)]:
			continue // speeds, wall times and the output path; metrics compared below
		}
		if !bytes.Equal(data, b[name]) {
			t.Errorf("%s differs between --workers 1 and --workers 4", name)
		}
	}
	if m1, m4 := untimedMetrics(t, a["train/metrics.jsonl"]), untimedMetrics(t, b["train/metrics.jsonl"]); len(m1) == 0 || m1 != m4 {
		t.Errorf("training metrics differ (or are missing):\n%s\n%s", m1, m4)
	}
	if len(a) != len(b) {
		t.Errorf("file sets differ: %v vs %v", keys(a), keys(b))
	}
	s1, s4 := readStats(t, one), readStats(t, four)
	s1.ElapsedS, s4.ElapsedS, s1.Workers, s4.Workers = 0, 0, 0, 0
	j1, _ := json.Marshal(s1)
	j4, _ := json.Marshal(s4)
	if !bytes.Equal(j1, j4) {
		t.Errorf("stats differ:\n%s\n%s", j1, j4)
	}
}

// TestQuickstartStatsAddUp checks stats.json's balance for every stage and
// that records flow from stage to stage without loss.
func TestQuickstartStatsAddUp(t *testing.T) {
	s := readStats(t, runQuickstart(t, "2"))
	var read int64
	for _, src := range s.Sources {
		read += src.Records
	}
	if read == 0 || len(s.Stages) == 0 {
		t.Fatalf("nothing read: %+v", s)
	}
	prevKept := read
	for _, st := range s.Stages {
		if st.In != st.Kept+st.RejectedTotal() {
			t.Errorf("stage %s: in %d != kept %d + rejected %d", st.Name, st.In, st.Kept, st.RejectedTotal())
		}
		if st.In != prevKept {
			t.Errorf("stage %s got %d records, the stage before kept %d", st.Name, st.In, prevKept)
		}
		prevKept = st.Kept
		if st.Emitted > 0 {
			prevKept = st.Emitted
		}
	}
	if s.Sinks[0].Records != prevKept {
		t.Errorf("sink got %d records, the last stage passed on %d", s.Sinks[0].Records, prevKept)
	}
}

func TestValidateExitCodes(t *testing.T) {
	if code := dispatch([]string{"validate", quickstart}); code != exitOK {
		t.Errorf("valid quickstart: exit %d", code)
	}
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(bad, []byte("name: x\nsources:\n  - type: nosuch\n"), 0o644)
	if code := dispatch([]string{"validate", bad}); code != exitUsage {
		t.Errorf("invalid pipeline: exit %d, want %d", code, exitUsage)
	}
	if code := dispatch([]string{"run", bad}); code != exitUsage {
		t.Errorf("run of an invalid pipeline: exit %d, want %d", code, exitUsage)
	}
	if code := dispatch([]string{"nosuchcommand"}); code != exitUsage {
		t.Errorf("unknown command: exit %d", code)
	}
}

// TestShippedPipelinesValidate keeps every pipeline users run valid.
func TestShippedPipelinesValidate(t *testing.T) {
	files, _ := filepath.Glob("../../pipelines/*.yaml")
	if len(files) == 0 {
		t.Fatal("no pipelines found")
	}
	for _, f := range files {
		if code := dispatch([]string{"validate", f}); code != exitOK {
			t.Errorf("%s does not validate", f)
		}
	}
}

// timedTrainingFiles hold wall-clock figures, so they differ run to run; the
// weights, optimizer state and losses must not.
var timedTrainingFiles = map[string]bool{
	"metrics.jsonl": true, "train_summary.json": true, "train_summary.md": true, "trainer_state.json": true,
}

// untimedMetrics returns metrics.jsonl without its wall-clock fields.
func untimedMetrics(t *testing.T, data []byte) string {
	t.Helper()
	var out []string
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("metrics line %q: %v", line, err)
		}
		for k := range m {
			if strings.HasSuffix(k, "_per_s") || strings.HasSuffix(k, "elapsed_s") || k == "seconds" {
				delete(m, k)
			}
		}
		j, _ := json.Marshal(m)
		out = append(out, string(j))
	}
	return strings.Join(out, "\n")
}

func keys(m map[string][]byte) string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	return strings.Join(ks, ", ")
}
