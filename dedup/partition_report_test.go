package dedup

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/corpusflow/corpusflow/flow"
)

// leakCorpus is filler pages, some with an XQuAD passage planted (the same
// passages several times, more than the report shows per item), edited
// copies, a page full of passages (cut drops it) and Chinese pages.
func leakCorpus(t *testing.T) []*flow.Record {
	t.Helper()
	en := loadItems(t, xquadSpec())
	zh := loadItems(t, TestSetSpec{Name: "xquad_zh", Type: "squad", Path: filepath.Join(testsetDir, "xquad.zh.json")})
	var recs []*flow.Record
	add := func(text string) {
		r := &flow.Record{ID: fmt.Sprintf("page-%03d", len(recs)), URL: fmt.Sprintf("https://example.org/%d", len(recs)), Text: text}
		r.SetSeq(uint64(len(recs)))
		recs = append(recs, r)
	}
	for i := 0; i < 60; i++ {
		switch i % 6 {
		case 0, 1:
			add(filler(t, 800, i*997))
		case 2:
			add(filler(t, 600, i*991) + "\n" + en[(i/6)%4].Text + "\n" + filler(t, 600, i*983))
		case 3:
			words := strings.Fields(en[4+(i/6)%3].Text)
			for w := 3; w < len(words); w += 9 {
				words[w] = "zzword"
			}
			add(filler(t, 300, i*977) + " " + strings.Join(words, " ") + " " + filler(t, 300, i*971))
		case 4:
			add("无关的中文页面。" + zh[(i/6)%5].Text + "以上内容来自维基百科。")
		case 5:
			var b strings.Builder
			for k := 0; k < 12; k++ {
				b.WriteString(en[10+k].Text + "\n")
			}
			add(b.String())
		}
	}
	return recs
}

func leakConfig(dir string) DecontaminateConfig {
	cfg := DefaultDecontaminateConfig
	cfg.TestSets = []TestSetSpec{xquadSpec(), {Name: "xquad_zh", Type: "squad", Path: filepath.Join(testsetDir, "xquad.zh.json")}}
	cfg.Action = "cut"
	cfg.MaxExamples = 3
	cfg.Report = dir
	return cfg
}

func copyRecords(recs []*flow.Record) []*flow.Record {
	out := make([]*flow.Record, len(recs))
	for i, r := range recs {
		c := *r
		c.Meta = nil
		out[i] = &c
	}
	return out
}

// TestReportPartsMergeToTheSameReport: records checked by three instances
// in random batches, their parts added in shuffled order to a fourth, give
// byte for byte the report one instance writes after checking them all.
func TestReportPartsMergeToTheSameReport(t *testing.T) {
	recs := leakCorpus(t)
	dir := t.TempDir()
	env := &flow.Env{Counters: &flow.Counters{}, PipelineName: "leak-test", PipelineSHA256: "abc"}

	one, err := NewDecontaminator(leakConfig(filepath.Join(dir, "one")), env)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range copyRecords(recs) {
		one.Process(r)
	}
	if err := one.Finish(t.Context()); err != nil {
		t.Fatal(err)
	}
	rep := one.Report()
	more := 0
	for _, set := range rep.TestSets {
		for _, it := range set.Contaminated {
			more += it.MoreMatches
		}
	}
	if rep.Train.Contaminated < 20 || rep.Train.Cut == 0 || rep.Train.Dropped == 0 || more == 0 {
		t.Fatalf("the corpus does not exercise the report: %+v, %d matches beyond those shown", rep.Train, more)
	}

	rng := rand.New(rand.NewPCG(1, 2))
	workers := make([]*Decontaminator, 3)
	for i := range workers {
		if workers[i], err = NewDecontaminator(leakConfig(filepath.Join(dir, "worker")), env); err != nil {
			t.Fatal(err)
		}
		workers[i].KeepReportParts()
	}
	var parts [][]byte
	mine := copyRecords(recs)
	for start := 0; start < len(mine); {
		n := 1 + rng.IntN(7)
		batch := mine[start:min(start+n, len(mine))]
		start += n
		w := workers[rng.IntN(len(workers))]
		for _, r := range batch {
			w.Process(r)
		}
		part, err := w.ReportPart(batch)
		if err != nil {
			t.Fatal(err)
		}
		parts = append(parts, part)
		// A part is taken once: asking again gives an empty part.
		again, _ := w.ReportPart(batch)
		if bytes.Equal(again, part) {
			t.Fatal("ReportPart returned the same findings twice")
		}
	}
	for _, w := range workers {
		if err := w.Finish(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "worker")); !os.IsNotExist(err) {
		t.Error("an instance that keeps parts wrote a report")
	}
	rng.Shuffle(len(parts), func(i, j int) { parts[i], parts[j] = parts[j], parts[i] })
	merged, err := NewDecontaminator(leakConfig(filepath.Join(dir, "merged")), env)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range parts {
		if err := merged.AddReportPart(p); err != nil {
			t.Fatal(err)
		}
	}
	if err := merged.Finish(t.Context()); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"report.json", "report.md", "report.html"} {
		a, _ := os.ReadFile(filepath.Join(dir, "one", f))
		b, _ := os.ReadFile(filepath.Join(dir, "merged", f))
		if len(a) == 0 || !bytes.Equal(a, b) {
			t.Errorf("%s: merged report differs from one instance's (%d vs %d bytes)", f, len(b), len(a))
		}
	}
}

func TestAddReportPartRejectsForeignParts(t *testing.T) {
	d, err := NewDecontaminator(leakConfig(t.TempDir()), &flow.Env{})
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{
		`not json`,
		`{"items": 3, "records": 1}`,
		fmt.Sprintf(`{"items": %d, "near": [{"item": -1, "score": 1}]}`, len(d.maxScore)),
		fmt.Sprintf(`{"items": %d, "matches": [{"item": 0, "count": 1, "seqs": [1, 2], "shown": []}]}`, len(d.maxScore)),
	} {
		if err := d.AddReportPart([]byte(bad)); err == nil {
			t.Errorf("%s: accepted", bad)
		}
	}
}
