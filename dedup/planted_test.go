package dedup

import (
	"fmt"
	"math"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/corpusflow/corpusflow/dedup/internal/plant"
	"github.com/corpusflow/corpusflow/flow"
	"github.com/corpusflow/corpusflow/internal/samples"
)

func bundledTestSets() []TestSetSpec {
	return []TestSetSpec{
		{Name: "xquad_en", Type: "squad", Path: filepath.Join(testsetDir, "xquad.en.json")},
		{Name: "xquad_zh", Type: "squad", Path: filepath.Join(testsetDir, "xquad.zh.json")},
		{Name: "cmrc2018_dev", Type: "squad", Path: filepath.Join(testsetDir, "cmrc2018_dev.first200.json")},
		{Name: "drcd_dev", Type: "squad", Path: filepath.Join(testsetDir, "DRCD_dev.first80.json")},
		{Name: "sst2_dev", Type: "tsv", Path: filepath.Join(testsetDir, "SST-2.dev.tsv"), Column: "sentence"},
	}
}

func passages(t testing.TB, spec TestSetSpec) []plant.Passage {
	items, _, err := LoadTestSet(spec)
	if err != nil {
		t.Fatal(err)
	}
	var out []plant.Passage
	for _, it := range items {
		out = append(out, plant.Passage{Set: spec.Name, ID: it.ID, Text: it.Text})
	}
	return out
}

func plantedCorpus(t testing.TB) []plant.Doc {
	sets := bundledTestSets()
	docs, err := plant.Build(plant.Options{
		TextDir:      corpusDir(t),
		PassagesEN:   passages(t, sets[0]),
		PassagesZH:   append(passages(t, sets[1]), passages(t, sets[2])...),
		PerCase:      150,
		DupLevels:    []float64{0.9, 0.8, 0.7, 0.6, 0.5, 0.3},
		DupsPerLevel: 60,
		Seed:         2024,
	})
	if err != nil {
		t.Fatal(err)
	}
	return docs
}

type caseCount struct{ total, found, wrong int }

// TestPlantedCorpusPrecisionRecall measures decontamination and MinHash
// dedup on the generated corpus and holds them to the targets of the issue:
// recall ≥ 0.99 for verbatim passages of ≥ 50 words in pages 20× longer,
// ≥ 0.95 with 10 % of words replaced, false positives ≤ 0.1 % of unrelated
// documents. The table it logs is the one in BENCHMARKS.md.
func TestPlantedCorpusPrecisionRecall(t *testing.T) {
	docs := plantedCorpus(t)
	if len(docs) < 10000 {
		t.Fatalf("corpus has %d documents, want ≥ 10,000", len(docs))
	}
	recs := make([]*flow.Record, len(docs))
	truth := map[string]plant.Doc{}
	for i, d := range docs {
		recs[i] = &flow.Record{ID: d.ID, Text: d.Text}
		truth[d.ID] = d
	}
	cfg := DefaultDecontaminateConfig
	cfg.TestSets = bundledTestSets()
	cfg.Action = "flag"
	sink, _ := runDecontaminate(t, cfg, t.TempDir(), 2, recs)

	leak := map[string]*caseCount{}
	var falsePositives []string
	for _, r := range sink.got {
		d := truth[r.ID]
		c := leak[d.Case]
		if c == nil {
			c = &caseCount{}
			leak[d.Case] = c
		}
		c.total++
		got, _ := r.Meta["leak_of"].([]string)
		right := false
		for _, g := range got {
			if g == d.LeakOf {
				right = true
			}
		}
		if right {
			c.found++
		}
		if len(got) > 0 && !right || len(got) > 1 {
			c.wrong++
			if d.LeakOf == "" {
				falsePositives = append(falsePositives, r.ID+" → "+strings.Join(got, ","))
			}
		}
	}
	var table strings.Builder
	fmt.Fprintf(&table, "| decontamination case | documents | found | recall | wrong flags | precision |\n|---|---:|---:|---:|---:|---:|\n")
	cases := []string{plant.CaseVerbatim, plant.CaseEdit10, plant.CaseEdit20, plant.CaseFormat, plant.CaseChinese, plant.CaseUnrelated, plant.CaseDedupBase, plant.CaseDedupCopy}
	for _, name := range cases {
		c := leak[name]
		if c == nil {
			t.Fatalf("case %s missing", name)
		}
		recall, precision := "–", "–"
		if truthHasLeak(name) {
			recall = fmt.Sprintf("%.3f", float64(c.found)/float64(c.total))
			precision = fmt.Sprintf("%.3f", float64(c.found)/math.Max(1, float64(c.found+c.wrong)))
		}
		fmt.Fprintf(&table, "| %s | %d | %d | %s | %d | %s |\n", name, c.total, c.found, recall, c.wrong, precision)
	}
	negatives := leak[plant.CaseUnrelated].total + leak[plant.CaseDedupBase].total + leak[plant.CaseDedupCopy].total
	fpWrong := leak[plant.CaseUnrelated].wrong + leak[plant.CaseDedupBase].wrong + leak[plant.CaseDedupCopy].wrong
	fmt.Fprintf(&table, "\nfalse-positive rate on documents with nothing planted: %d / %d = %.4f %%\n", fpWrong, negatives, 100*float64(fpWrong)/float64(negatives))
	sort.Strings(falsePositives)
	for _, fp := range falsePositives {
		fmt.Fprintf(&table, "false positive: %s\n", fp)
	}

	rate := func(c string) float64 { return float64(leak[c].found) / float64(leak[c].total) }
	if r := rate(plant.CaseVerbatim); r < 0.99 {
		t.Errorf("verbatim recall %.3f < 0.99", r)
	}
	if r := rate(plant.CaseEdit10); r < 0.95 {
		t.Errorf("10%% replaced recall %.3f < 0.95", r)
	}
	if r := rate(plant.CaseChinese); r < 0.99 {
		t.Errorf("Chinese verbatim recall %.3f < 0.99", r)
	}
	if r := rate(plant.CaseFormat); r < 0.99 {
		t.Errorf("case/punctuation/space recall %.3f < 0.99", r)
	}
	if fp := float64(fpWrong) / float64(negatives); fp > 0.001 {
		t.Errorf("false-positive rate %.4f > 0.001", fp)
	}

	// MinHash dedup: detection per similarity level, with the exact 5-gram
	// Jaccard of each copy and the LSH curve 1−(1−J^8)^14 for comparison.
	dd, err := NewMinHashDedup(DefaultMinHashConfig, nil)
	if err != nil {
		t.Fatal(err)
	}
	type level struct {
		n, found, right int
		jaccard         float64
	}
	levels := map[float64]*level{}
	falseDups := 0
	for _, d := range docs {
		r := &flow.Record{ID: d.ID, Text: d.Text}
		dup := dd.Process(r) != ""
		if d.Case != plant.CaseDedupCopy {
			if dup {
				falseDups++
			}
			continue
		}
		l := levels[d.TargetJaccard]
		if l == nil {
			l = &level{}
			levels[d.TargetJaccard] = l
		}
		l.n++
		l.jaccard += exactJaccard(truth[d.DupOf].Text, d.Text, 5)
		if dup {
			l.found++
			if r.MetaString("dup_of") == d.DupOf {
				l.right++
			}
		}
	}
	fmt.Fprintf(&table, "\n| near-duplicate level | copies | mean exact 5-gram Jaccard | LSH theory 1−(1−J⁸)¹⁴ | detected | dup_of right |\n|---:|---:|---:|---:|---:|---:|\n")
	var keys []float64
	for k := range levels {
		keys = append(keys, k)
	}
	sort.Sort(sort.Reverse(sort.Float64Slice(keys)))
	for _, k := range keys {
		l := levels[k]
		j := l.jaccard / float64(l.n)
		fmt.Fprintf(&table, "| %.1f | %d | %.3f | %.3f | %.3f | %d |\n", k, l.n, j, 1-math.Pow(1-math.Pow(j, 8), 14), float64(l.found)/float64(l.n), l.right)
		if l.right != l.found {
			t.Errorf("level %.1f: %d duplicates found but only %d point at their base", k, l.found, l.right)
		}
	}
	fmt.Fprintf(&table, "\nnear-duplicate false positives among the %d other documents: %d\n", len(docs)-countCase(docs, plant.CaseDedupCopy), falseDups)
	if levels[0.9].found < levels[0.9].n*95/100 {
		t.Errorf("near-duplicates at J≈0.9: only %d of %d found", levels[0.9].found, levels[0.9].n)
	}
	if levels[0.3].found > levels[0.3].n/10 {
		t.Errorf("documents at J≈0.3 called duplicates: %d of %d", levels[0.3].found, levels[0.3].n)
	}
	t.Logf("planted corpus: %d documents\n%s", len(docs), table.String())
}

func truthHasLeak(c string) bool {
	switch c {
	case plant.CaseUnrelated, plant.CaseDedupBase, plant.CaseDedupCopy:
		return false
	}
	return true
}

func countCase(docs []plant.Doc, c string) int {
	n := 0
	for _, d := range docs {
		if d.Case == c {
			n++
		}
	}
	return n
}

// exactJaccard is the true Jaccard similarity of two texts' n-token shingle
// sets under the minhash_dedup normalization.
func exactJaccard(a, b string, n int) float64 {
	set := func(text string) map[string]bool {
		var s simplifier
		s.simplify(text)
		m := map[string]bool{}
		for i := 0; i+n <= s.tokens(); i++ {
			m[string(s.span(i, i+n-1))] = true
		}
		return m
	}
	x, y := set(a), set(b)
	inter := 0
	for k := range x {
		if y[k] {
			inter++
		}
	}
	return float64(inter) / float64(len(x)+len(y)-inter)
}

// corpusDir is the bundled real text the generator builds from.
func corpusDir(t testing.TB) string {
	t.Helper()
	dir, err := samples.Dir()
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestPlantedCorpusCut runs the cut action over the planted leak pages (a
// passage inside unrelated text 20× its length): such a page should lose
// the passage and keep the rest, not be dropped; and what is kept must not
// leak the planted item any more (checked by matching the kept text again).
// The table it logs is the one in BENCHMARKS.md.
func TestPlantedCorpusCut(t *testing.T) {
	var recs []*flow.Record
	truth := map[string]plant.Doc{}
	for _, d := range plantedCorpus(t) {
		if truthHasLeak(d.Case) {
			recs = append(recs, &flow.Record{ID: d.ID, Text: d.Text})
			truth[d.ID] = d
		}
	}
	cfg := DefaultDecontaminateConfig
	cfg.TestSets = bundledTestSets()
	cfg.Action = "cut"
	env := &flow.Env{Counters: &flow.Counters{}, OutputDir: t.TempDir()}
	cfg.Report = env.OutputDir
	st, err := NewDecontaminator(cfg, env)
	if err != nil {
		t.Fatal(err)
	}
	type outcome struct {
		pages, cut, dropped, missed, residual int
		keptBytes, cutPageBytes               int64
		reasons                               map[string]int
	}
	byCase := map[string]*outcome{}
	for _, r := range recs {
		d := truth[r.ID]
		o := byCase[d.Case]
		if o == nil {
			o = &outcome{reasons: map[string]int{}}
			byCase[d.Case] = o
		}
		o.pages++
		before := int64(len(r.Text))
		reason := st.Process(r)
		leakOf, _ := r.Meta["leak_of"].([]string)
		switch {
		case len(leakOf) == 0:
			o.missed++
		case reason != "":
			o.dropped++
			o.reasons[reason]++
		default:
			o.cut++
			o.cutPageBytes += before
			o.keptBytes += int64(len(r.Text))
			hits, _ := st.Index().Match(r.Text, nil)
			for _, h := range hits {
				if itemName(st.Index(), h.Item) == d.LeakOf {
					o.residual++
					t.Errorf("%s (%s): %s still found after the cut (%s, score %.2f)", r.ID, d.Case, d.LeakOf, h.Method, h.Score)
				}
			}
		}
	}
	var table strings.Builder
	fmt.Fprintf(&table, "| leak case | pages | found | cut | dropped | kept of a cut page | still leaking after the cut |\n|---|---:|---:|---:|---:|---:|---:|\n")
	for _, c := range []string{plant.CaseVerbatim, plant.CaseEdit10, plant.CaseEdit20, plant.CaseFormat, plant.CaseChinese} {
		o := byCase[c]
		kept := "–"
		if o.cut > 0 {
			kept = fmt.Sprintf("%.1f %%", 100*float64(o.keptBytes)/float64(o.cutPageBytes))
		}
		dropped := fmt.Sprint(o.dropped)
		if o.dropped > 0 {
			var rs []string
			for r, n := range o.reasons {
				rs = append(rs, fmt.Sprintf("%s %d", r, n))
			}
			sort.Strings(rs)
			dropped += " (" + strings.Join(rs, ", ") + ")"
		}
		fmt.Fprintf(&table, "| %s | %d | %d | %d | %s | %s | %d |\n", c, o.pages, o.pages-o.missed, o.cut, dropped, kept, o.residual)
		if c != plant.CaseEdit20 && o.dropped > o.pages/20 {
			t.Errorf("%s: %d of %d pages dropped; a passage in a page 20× its length should be cut out", c, o.dropped, o.pages)
		}
	}
	t.Logf("cut on the planted leak pages\n%s", table.String())
}

// itemName is an item's "set/id", as leak_of names it.
func itemName(ix *LeakIndex, item int) string {
	it := ix.items[item]
	set := ix.Sets[it.set]
	return set.Spec.Name + "/" + set.Items[it.item].ID
}
