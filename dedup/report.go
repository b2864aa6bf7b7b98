package dedup

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/corpusflow/corpusflow/internal/atomicfile"
)

// LeakReport is report.json: what the decontaminate stage (text) or the
// image_dedup stage (images) found.
type LeakReport struct {
	Pipeline       string `json:"pipeline,omitempty"`
	PipelineSHA256 string `json:"pipeline_sha256,omitempty"`
	// The text sections, written by decontaminate. omitzero keeps them out
	// of a report that has image sections only; a text report always has
	// them, so its JSON is what it was before images existed.
	Parameters ReportParams    `json:"parameters,omitzero"`
	Train      TrainTotals     `json:"train,omitzero"`
	TestSets   []TestSetReport `json:"test_sets,omitzero"`
	// The image sections, written by image_dedup (image_report.go).
	ImageParameters *ImageReportParams   `json:"image_parameters,omitempty"`
	ImageTrain      *ImageTotals         `json:"image_train,omitempty"`
	ImageTestSets   []ImageTestSetReport `json:"image_test_sets,omitempty"`
}

// ReportParams records the thresholds a report was made with.
type ReportParams struct {
	Action           string  `json:"action"`
	NGram            string  `json:"ngram"`
	MinContainment   float64 `json:"min_containment"`
	MinItemTokens    int     `json:"min_item_tokens"`
	MinHash          bool    `json:"minhash"`
	MinHashThreshold float64 `json:"minhash_threshold"`
	MinHashMinTokens int     `json:"minhash_min_tokens"`
	MinHashBands     int     `json:"minhash_bands"`
	MinHashRows      int     `json:"minhash_rows"`
	Tokenization     string  `json:"tokenization"`
	// MaxExamplesPerItem caps the matches listed per item (the earliest in
	// input order); match_count still counts them all.
	MaxExamplesPerItem int `json:"max_examples_per_item"`
	// SkippedLines are the test set lines that could not be read and were
	// left out (at most maxSkippedLinesListed per set; SkippedRecords of
	// the set counts them all).
	SkippedLines []SkippedLine `json:"skipped_lines,omitempty"`
}

// SkippedLine is one unreadable test set line.
type SkippedLine struct {
	TestSet string `json:"test_set"`
	File    string `json:"file"`
	Line    int    `json:"line"`
	Error   string `json:"error"`
}

// maxSkippedLinesListed bounds the report's list for a file that is not
// JSONL at all.
const maxSkippedLinesListed = 100

// TrainTotals are corpus-wide counts.
type TrainTotals struct {
	Records      int64  `json:"records"`
	Bytes        int64  `json:"bytes"`
	Contaminated int64  `json:"contaminated"`
	Action       string `json:"action"`
	Dropped      int64  `json:"dropped"`
	Cut          int64  `json:"cut"`
}

// TestSetReport is one test set's result.
type TestSetReport struct {
	Name                string         `json:"name"`
	Type                string         `json:"type"`
	File                string         `json:"file"`
	NGram               int            `json:"ngram"`
	Items               int            `json:"items"`
	SkippedRecords      int            `json:"skipped_records"`
	CheckedItems        int            `json:"checked_items"`
	ContaminatedItems   int            `json:"contaminated_items"`
	ContaminatedPercent float64        `json:"contaminated_percent"`
	Histogram           ScoreHistogram `json:"score_histogram"`
	Matches             []MatchSummary `json:"matches"`
	Contaminated        []ItemReport   `json:"contaminated"`
	CleanIDs            []string       `json:"clean_ids"`
	UncheckedIDs        []string       `json:"unchecked_ids"`
}

// ScoreHistogram counts items by their best score against any document:
// Bins[i] holds scores in (i/10, (i+1)/10]; Zero the items nothing touched.
type ScoreHistogram struct {
	Zero int   `json:"zero"`
	Bins []int `json:"bins"`
}

// empty is true when no item scored above zero.
func (h ScoreHistogram) empty() bool {
	for _, n := range h.Bins {
		if n > 0 {
			return false
		}
	}
	return true
}

// MatchSummary is one (test item, training record) pair.
type MatchSummary struct {
	TestID   string  `json:"test_id"`
	TrainID  string  `json:"train_id"`
	TrainURL string  `json:"train_url"`
	Method   string  `json:"method"`
	Score    float64 `json:"score"`
}

// ItemReport is one contaminated item with its matching records.
type ItemReport struct {
	TestID      string        `json:"test_id"`
	Text        string        `json:"text"`
	Score       float64       `json:"score"`
	MatchCount  int           `json:"match_count"`
	Matches     []matchRecord `json:"matches"`
	MoreMatches int           `json:"more_matches"`
}

// Report assembles the report from what Process collected.
func (d *Decontaminator) Report() *LeakReport {
	d.mu.Lock()
	defer d.mu.Unlock()
	ngram := "adaptive (5th percentile of item length, clamped to [8, 13])"
	if d.cfg.NGram > 0 {
		ngram = fmt.Sprint(d.cfg.NGram)
	}
	rep := &LeakReport{
		Pipeline: d.env.PipelineName, PipelineSHA256: d.env.PipelineSHA256,
		Parameters: ReportParams{
			Action: d.cfg.Action, NGram: ngram, MinContainment: d.cfg.MinContainment, MinItemTokens: d.cfg.MinItemTokens,
			MinHash: d.cfg.MinHash, MinHashThreshold: d.cfg.MinHashThreshold, MinHashMinTokens: d.cfg.MinHashMinTokens,
			MinHashBands: d.cfg.MinHashBands, MinHashRows: d.cfg.MinHashRows, MaxExamplesPerItem: d.cfg.MaxExamples,
			Tokenization: "words lowercased without diacritics, punctuation separates, apostrophes join; one token per CJK character; MinHash over word pairs",
		},
		Train: TrainTotals{
			Records: d.records.Load(), Bytes: d.bytes.Load(), Contaminated: d.contaminated.Load(),
			Action: d.cfg.Action, Dropped: d.dropped.Load(), Cut: d.cut.Load(),
		},
	}
	for _, set := range d.index.Sets {
		for _, b := range set.BadLines[:min(len(set.BadLines), maxSkippedLinesListed)] {
			rep.Parameters.SkippedLines = append(rep.Parameters.SkippedLines, SkippedLine{
				TestSet: set.Spec.Name, File: filepath.Base(set.Spec.Path), Line: b.Line, Error: b.Err,
			})
		}
	}
	for _, set := range d.index.Sets {
		tr := TestSetReport{
			Name: set.Spec.Name, Type: set.Spec.Type, File: filepath.Base(set.Spec.Path), NGram: set.NGram,
			Items: len(set.Items), SkippedRecords: set.Skipped,
			Histogram: ScoreHistogram{Bins: make([]int, 10)},
			Matches:   []MatchSummary{}, Contaminated: []ItemReport{}, CleanIDs: []string{}, UncheckedIDs: []string{},
		}
		for i := range set.Items {
			g := set.first + i
			it := d.index.items[g]
			item := set.Items[i]
			score := d.maxScore[g]
			if score <= 0 {
				tr.Histogram.Zero++
			} else {
				tr.Histogram.Bins[min(9, int((score-1e-9)*10))]++
			}
			if it.n == 0 {
				tr.UncheckedIDs = append(tr.UncheckedIDs, item.ID)
				continue
			}
			tr.CheckedItems++
			ms := d.matches[g]
			if len(ms) == 0 {
				tr.CleanIDs = append(tr.CleanIDs, item.ID)
				continue
			}
			tr.ContaminatedItems++
			best := 0.0
			for _, m := range ms {
				best = max(best, m.Score)
				tr.Matches = append(tr.Matches, MatchSummary{TestID: item.ID, TrainID: m.TrainID, TrainURL: m.TrainURL, Method: m.Method, Score: m.Score})
			}
			tr.Contaminated = append(tr.Contaminated, ItemReport{
				TestID: item.ID, Text: item.Text, Score: best, MatchCount: d.counts[g],
				Matches: ms, MoreMatches: d.counts[g] - len(ms),
			})
		}
		if tr.CheckedItems > 0 {
			tr.ContaminatedPercent = round4(100 * float64(tr.ContaminatedItems) / float64(tr.CheckedItems))
		}
		// Items are in file order and an item's matches in input order, so
		// the report does not depend on scheduling.
		rep.TestSets = append(rep.TestSets, tr)
	}
	return rep
}

// WriteReport writes report.json, report.md and report.html into dir, each
// to a temporary name first and then renamed, so a reader never sees half a
// report.
func WriteReport(dir string, rep *LeakReport) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("audit report: %w", err)
	}
	var js bytes.Buffer
	enc := json.NewEncoder(&js)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(rep); err != nil {
		return fmt.Errorf("audit report: %w", err)
	}
	html, err := renderHTML(rep)
	if err != nil {
		return fmt.Errorf("audit report: %w", err)
	}
	for name, data := range map[string][]byte{
		"report.json": js.Bytes(),
		"report.md":   renderMarkdown(rep),
		"report.html": html,
	} {
		if err := writeAtomic(filepath.Join(dir, name), data); err != nil {
			return fmt.Errorf("audit report: %w", err)
		}
	}
	return nil
}

func writeAtomic(path string, data []byte) error { return atomicfile.WriteFile(path, data) }
