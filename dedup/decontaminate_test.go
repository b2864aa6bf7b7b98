package dedup

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/corpusflow/corpusflow/flow"
	"github.com/corpusflow/corpusflow/internal/samples"
)

const testsetDir = "../testdata/testsets"

func xquadSpec() TestSetSpec {
	return TestSetSpec{Name: "xquad_en", Type: "squad", Path: filepath.Join(testsetDir, "xquad.en.json")}
}

func loadItems(t *testing.T, spec TestSetSpec) []TestItem {
	t.Helper()
	items, _, err := LoadTestSet(spec)
	if err != nil {
		t.Fatal(err)
	}
	return items
}

// filler returns n words of real English text that is not in XQuAD.
func filler(t *testing.T, n, offset int) string {
	t.Helper()
	raw, err := samples.ReadFile(samples.WikiText2Valid)
	if err != nil {
		t.Fatal(err)
	}
	words := strings.Fields(string(raw))
	offset %= len(words) - n
	return strings.Join(words[offset:offset+n], " ")
}

func TestDecontaminateFindsEmbeddedPassages(t *testing.T) {
	items := loadItems(t, xquadSpec())
	pick := 0 // a real XQuAD context paragraph of well over 50 words
	for i, it := range items[:20] {
		if len(strings.Fields(it.Text)) > len(strings.Fields(items[pick].Text)) {
			pick = i
		}
	}
	para := items[pick].Text
	words := strings.Fields(para)
	edited := append([]string(nil), words...)
	for i := 5; i < len(edited); i += 10 {
		edited[i] = "zzword"
	}
	zh := loadItems(t, TestSetSpec{Name: "xquad_zh", Type: "squad", Path: filepath.Join(testsetDir, "xquad.zh.json")})
	recs := []*flow.Record{
		{ID: "clean", Text: filler(t, 3000, 0)},
		{ID: "verbatim", URL: "http://example.com/v", Text: filler(t, 1500, 5000) + "\n" + para + "\n" + filler(t, 1500, 9000)},
		{ID: "edited10", Text: filler(t, 1000, 20000) + " " + strings.Join(edited, " ") + " " + filler(t, 1000, 30000)},
		{ID: "shouting", Text: filler(t, 500, 40000) + " " + strings.ToUpper(strings.ReplaceAll(para, ",", " ;")) + " " + filler(t, 500, 41000)},
		{ID: "zh", Text: "这是一个无关的中文页面，讨论天气和交通。" + zh[7].Text + "以上内容来自维基百科。"},
	}
	out := t.TempDir()
	cfg := DefaultDecontaminateConfig
	cfg.TestSets = []TestSetSpec{xquadSpec(), {Name: "xquad_zh", Type: "squad", Path: filepath.Join(testsetDir, "xquad.zh.json")}}
	cfg.Action = "flag"
	for _, workers := range []int{1, 3} {
		dir := filepath.Join(out, "w"+string(rune('0'+workers)))
		sink, _ := runDecontaminate(t, cfg, dir, workers, recs)
		got := map[string]string{}
		for _, r := range sink.got {
			if l, ok := r.Meta["leak_of"].([]string); ok {
				got[r.ID] = strings.Join(l, ";")
			}
		}
		want := map[string]string{
			"verbatim": "xquad_en/" + items[pick].ID,
			"edited10": "xquad_en/" + items[pick].ID,
			"shouting": "xquad_en/" + items[pick].ID,
			"zh":       "xquad_zh/" + zh[7].ID,
		}
		for id, w := range want {
			if got[id] != w {
				t.Errorf("workers=%d: %s leak_of = %q, want %q", workers, id, got[id], w)
			}
		}
		if got["clean"] != "" {
			t.Errorf("clean document flagged: %s", got["clean"])
		}
	}
	a, _ := os.ReadFile(filepath.Join(out, "w1", "report.json"))
	b, _ := os.ReadFile(filepath.Join(out, "w3", "report.json"))
	if len(a) == 0 || !bytes.Equal(a, b) {
		t.Fatal("report.json differs between 1 and 3 workers")
	}
	for _, f := range []string{"report.md", "report.html"} {
		a, _ := os.ReadFile(filepath.Join(out, "w1", f))
		b, _ := os.ReadFile(filepath.Join(out, "w3", f))
		if len(a) == 0 || !bytes.Equal(a, b) {
			t.Fatalf("%s differs between runs", f)
		}
	}
	var rep LeakReport
	if err := json.Unmarshal(a, &rep); err != nil {
		t.Fatal(err)
	}
	en := rep.TestSets[0]
	if en.Items != 240 || en.ContaminatedItems != 1 || len(en.CleanIDs)+len(en.UncheckedIDs)+en.ContaminatedItems != 240 {
		t.Errorf("xquad_en: items %d contaminated %d clean %d", en.Items, en.ContaminatedItems, len(en.CleanIDs))
	}
	methods := map[string]bool{}
	for _, m := range en.Matches {
		methods[m.Method] = true
	}
	if !methods["ngram"] || !methods["minhash"] {
		t.Errorf("methods used: %v, want both", methods)
	}
	if rep.Train.Records != 5 || rep.Train.Contaminated != 4 {
		t.Errorf("train totals %+v", rep.Train)
	}
}

func runDecontaminate(t *testing.T, cfg DecontaminateConfig, out string, workers int, recs []*flow.Record) (*collectSink, *collectRejects) {
	t.Helper()
	env := &flow.Env{Counters: &flow.Counters{}, OutputDir: out, PipelineName: "test"}
	cfg.Report = out
	st, err := NewDecontaminator(cfg, env)
	if err != nil {
		t.Fatal(err)
	}
	sink, rej := &collectSink{}, &collectRejects{}
	if _, err := flow.Run(t.Context(), flow.Plan{
		Sources: []flow.NamedSource{{Name: "test", Source: recordsSource(recs)}},
		Stages:  []flow.NamedStage{{Name: "decontaminate", Use: "decontaminate", Stage: st, Counters: env.Counters}},
		Sinks:   []flow.NamedSink{{Name: "mem", Sink: sink}},
		Rejects: rej, Workers: workers, BatchRecords: 1,
	}); err != nil {
		t.Fatal(err)
	}
	return sink, rej
}
