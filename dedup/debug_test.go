package dedup

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/corpusflow/corpusflow/flow"
)

func TestDebugReport(t *testing.T) {
	dir := os.Getenv("DEBUG_REPORT_DIR")
	if dir == "" {
		t.Skip()
	}
	items := loadItems(t, xquadSpec())
	zh := loadItems(t, TestSetSpec{Name: "xquad_zh", Type: "squad", Path: filepath.Join(testsetDir, "xquad.zh.json")})
	para := items[10].Text
	words := strings.Fields(para)
	for i := 5; i < len(words); i += 10 {
		words[i] = "zzword"
	}
	recs := []*flow.Record{
		{ID: "clean", Text: filler(t, 3000, 0)},
		{ID: "verbatim", URL: "http://example.com/v", Text: filler(t, 1500, 5000) + "\n" + para + "\n" + filler(t, 1500, 9000)},
		{ID: "edited10", Text: filler(t, 1000, 20000) + " " + strings.Join(words, " ") + " " + filler(t, 1000, 30000)},
		{ID: "zh", Text: "这是一个无关的中文页面，讨论天气和交通。" + zh[7].Text + "以上内容来自维基百科。"},
	}
	cfg := DefaultDecontaminateConfig
	cfg.TestSets = []TestSetSpec{xquadSpec(), {Name: "xquad_zh", Type: "squad", Path: filepath.Join(testsetDir, "xquad.zh.json")},
		{Name: "sst2_dev", Type: "tsv", Path: filepath.Join(testsetDir, "SST-2.dev.tsv"), Column: "sentence"}}
	runDecontaminate(t, cfg, dir, 2, recs)
}
