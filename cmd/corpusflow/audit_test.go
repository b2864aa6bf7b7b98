package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// TestAuditShippedPipeline runs `corpusflow audit pipelines/leakage-audit.yaml`
// twice with different worker counts: the planted and real leaks are found
// and the three report files are byte-identical.
func TestAuditShippedPipeline(t *testing.T) {
	yaml := filepath.Join("..", "..", "pipelines", "leakage-audit.yaml")
	var outs []string
	for _, workers := range []string{"1", "2"} {
		out := t.TempDir()
		if code := dispatch([]string{"audit", yaml, "--output", out, "--workers", workers, "--quiet", "--log-level", "error"}); code != exitOK {
			t.Fatalf("audit exited %d", code)
		}
		outs = append(outs, out)
	}
	for _, f := range []string{"report.json", "report.md", "report.html"} {
		a, err := os.ReadFile(filepath.Join(outs[0], "audit", f))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := os.ReadFile(filepath.Join(outs[1], "audit", f))
		if !bytes.Equal(a, b) {
			t.Errorf("%s differs between runs", f)
		}
	}
	if _, err := os.Stat(filepath.Join(outs[0], "clean.jsonl")); err == nil {
		t.Error("audit wrote the pipeline's sink; it should write the report only")
	}
	var rep struct {
		Train    struct{ Contaminated int } `json:"train"`
		TestSets []struct {
			Name              string   `json:"name"`
			ContaminatedItems int      `json:"contaminated_items"`
			CleanIDs          []string `json:"clean_ids"`
		} `json:"test_sets"`
	}
	raw, _ := os.ReadFile(filepath.Join(outs[0], "audit", "report.json"))
	if err := json.Unmarshal(raw, &rep); err != nil {
		t.Fatal(err)
	}
	want := map[string]int{"xquad_en": 2, "xquad_zh": 1, "sst2_dev": 1, "cmrc2018_dev": 0, "drcd_dev": 0}
	for _, s := range rep.TestSets {
		if s.ContaminatedItems != want[s.Name] {
			t.Errorf("%s: %d contaminated items, want %d", s.Name, s.ContaminatedItems, want[s.Name])
		}
		if len(s.CleanIDs) == 0 {
			t.Errorf("%s: no clean ids", s.Name)
		}
	}
	if rep.Train.Contaminated != 4 {
		t.Errorf("%d contaminated records, want 4", rep.Train.Contaminated)
	}
}

func TestAuditNeedsDecontaminateStage(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "p.yaml")
	src := "name: x\noutput: out\nsources:\n  - type: text\n    path: in.txt\nstages:\n  - use: exact_dedup\nsinks:\n  - type: jsonl\n    path: o.jsonl\n"
	if err := os.WriteFile(filepath.Join(dir, "in.txt"), []byte("hello"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	if code := dispatch([]string{"audit", p, "--quiet"}); code != exitUsage {
		t.Fatalf("audit without a decontaminate stage exited %d, want %d", code, exitUsage)
	}
}

// TestAuditImagePipeline: auditing the image–text pipeline keeps the image
// stages the BiT check needs and finds the held-out photo in the corpus.
func TestAuditImagePipeline(t *testing.T) {
	out := t.TempDir()
	yaml := filepath.Join("..", "..", "pipelines", "image-text.yaml")
	if code := dispatch([]string{"audit", yaml, "--output", out, "--quiet", "--log-level", "error"}); code != exitOK {
		t.Fatalf("audit exited %d", code)
	}
	data, err := os.ReadFile(filepath.Join(out, "audit", "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	var rep struct {
		TestSets []struct {
			Name               string `json:"name"`
			ContaminatedImages int    `json:"contaminated_images"`
		} `json:"image_test_sets"`
	}
	if err := json.Unmarshal(data, &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.TestSets) == 0 || rep.TestSets[0].ContaminatedImages == 0 {
		t.Fatalf("the held-out photo planted in the corpus was not found: %s", data[:min(len(data), 400)])
	}
}
