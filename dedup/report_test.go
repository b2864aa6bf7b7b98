package dedup

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/corpusflow/corpusflow/flow"
)

// TestReportReadsWell checks what a person sees: item headings carry the
// set name (SST-2 ids are bare row numbers), a set nothing came near says
// "no matches" in its histogram, and an item with more matches than are
// listed says that only the first ones are shown. The report stays
// byte-identical across worker counts.
func TestReportReadsWell(t *testing.T) {
	sst := TestSetSpec{Name: "sst2_dev", Type: "tsv", Path: filepath.Join(testsetDir, "SST-2.dev.tsv"), Column: "sentence"}
	zh := TestSetSpec{Name: "xquad_zh", Type: "squad", Path: filepath.Join(testsetDir, "xquad.zh.json")}
	var sentence TestItem
	for _, it := range loadItems(t, sst) {
		if len(strings.Fields(it.Text)) >= 25 {
			sentence = it
			break
		}
	}
	if sentence.ID == "" {
		t.Fatal("no long SST-2 sentence")
	}
	var recs []*flow.Record
	for i := range 3 {
		recs = append(recs, &flow.Record{ID: "page" + string(rune('a'+i)), Text: filler(t, 300, 1000*i) + " " + sentence.Text + " " + filler(t, 300, 5000+1000*i)})
	}
	cfg := DefaultDecontaminateConfig
	cfg.TestSets = []TestSetSpec{sst, zh}
	cfg.Action = "flag"
	cfg.MaxExamples = 2
	out := t.TempDir()
	var reports [2][3][]byte
	for k, workers := range []int{1, 3} {
		dir := filepath.Join(out, string(rune('0'+workers)))
		runDecontaminate(t, cfg, dir, workers, recs)
		for j, f := range []string{"report.json", "report.md", "report.html"} {
			data, err := os.ReadFile(filepath.Join(dir, f))
			if err != nil {
				t.Fatal(err)
			}
			reports[k][j] = data
		}
	}
	for j, f := range []string{"report.json", "report.md", "report.html"} {
		if !bytes.Equal(reports[0][j], reports[1][j]) {
			t.Errorf("%s differs between 1 and 3 workers", f)
		}
	}
	js, md, html := reports[0][0], string(reports[0][1]), string(reports[0][2])

	var rep LeakReport
	if err := json.Unmarshal(js, &rep); err != nil {
		t.Fatal(err)
	}
	set := rep.TestSets[0]
	if len(set.Contaminated) != 1 || set.Contaminated[0].TestID != sentence.ID {
		t.Fatalf("contaminated %+v, want item %s", set.Contaminated, sentence.ID)
	}
	it := set.Contaminated[0]
	if it.MatchCount != 3 || len(it.Matches) != 2 || it.MoreMatches != 1 || rep.Parameters.MaxExamplesPerItem != 2 {
		t.Errorf("match_count %d, listed %d, more %d, max %d; want 3, 2, 1, 2", it.MatchCount, len(it.Matches), it.MoreMatches, rep.Parameters.MaxExamplesPerItem)
	}
	if !rep.TestSets[1].Histogram.empty() {
		t.Fatalf("xquad_zh histogram %+v, want empty", rep.TestSets[1].Histogram)
	}

	heading := "sst2_dev/" + sentence.ID
	for _, want := range []string{
		"### " + heading + " (score",
		"- … and 1 more (only the first 2 are listed)",
		"Up to 2 matching records are listed per item",
		"Best score per item: no matches",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("report.md lacks %q", want)
		}
	}
	for _, want := range []string{
		"<h3>" + heading + "</h3>",
		"test item " + heading + "</div>",
		"only the first 2 in input order are listed",
		"Up to 2 matching records are listed per item",
		`class="empty">no matches</text>`,
	} {
		if !strings.Contains(html, want) {
			t.Errorf("report.html lacks %q", want)
		}
	}
	// The SST-2 set did match, so its histogram must not claim otherwise.
	if n := strings.Count(html, `class="empty">no matches</text>`); n != 1 {
		t.Errorf("the \"no matches\" note appears %d times, want once (xquad_zh only)", n)
	}
}
