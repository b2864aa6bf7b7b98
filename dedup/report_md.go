package dedup

import (
	"bytes"
	"fmt"
	"strings"
)

// renderMarkdown is report.md: the summary a person reads in a terminal or
// a pull request.
func renderMarkdown(rep *LeakReport) []byte {
	var b bytes.Buffer
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	w("# Test-set leakage audit\n\n")
	if rep.Pipeline != "" {
		w("Pipeline `%s`", rep.Pipeline)
		if rep.PipelineSHA256 != "" {
			w(" (sha256 `%.12s`)", rep.PipelineSHA256)
		}
		w(".\n\n")
	}
	if len(rep.TestSets) > 0 || rep.ImageParameters == nil {
		renderTextMarkdown(&b, rep)
	}
	if rep.ImageParameters != nil {
		renderImageMarkdown(&b, rep)
	}
	return b.Bytes()
}

// renderTextMarkdown writes the sections of the decontaminate stage.
func renderTextMarkdown(b *bytes.Buffer, rep *LeakReport) {
	w := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }
	t := rep.Train
	w("Training corpus: **%d records** (%s), **%d contaminated** (action `%s`: %d dropped, %d cut).\n\n",
		t.Records, humanBytes(t.Bytes), t.Contaminated, t.Action, t.Dropped, t.Cut)
	w("| test set | file | items | checked | contaminated | %% | n-gram |\n|---|---|---:|---:|---:|---:|---:|\n")
	for _, s := range rep.TestSets {
		w("| %s | %s | %d | %d | %d | %.2f | %d |\n", s.Name, s.File, s.Items, s.CheckedItems, s.ContaminatedItems, s.ContaminatedPercent, s.NGram)
	}
	p := rep.Parameters
	w("\nParameters: n-gram %s, min containment %.2f, items under %d tokens unchecked; MinHash %v (threshold %.2f, items ≥ %d tokens, %d bands × %d rows). Tokens: %s.\n",
		p.NGram, p.MinContainment, p.MinItemTokens, p.MinHash, p.MinHashThreshold, p.MinHashMinTokens, p.MinHashBands, p.MinHashRows, p.Tokenization)
	w("Up to %d matching records are listed per item, the earliest in input order; the match counts include all of them.\n", p.MaxExamplesPerItem)
	if len(p.SkippedLines) > 0 {
		w("\nTest set lines skipped because they could not be read:\n\n")
		for _, l := range p.SkippedLines {
			w("- %s: `%s:%d`: %s\n", l.TestSet, l.File, l.Line, l.Error)
		}
	}
	for _, s := range rep.TestSets {
		w("\n## %s\n\n", s.Name)
		w("%d of %d checked items contaminated (%.2f %%); %d unchecked (too short)", s.ContaminatedItems, s.CheckedItems, s.ContaminatedPercent, len(s.UncheckedIDs))
		if s.SkippedRecords > 0 {
			w("; %d records skipped (no text, or a line that could not be read)", s.SkippedRecords)
		}
		w(".\n\n")
		if s.Histogram.empty() {
			w("Best score per item: no matches (no item came near any document).\n\n")
		} else {
			w("Best score per item: %d items untouched", s.Histogram.Zero)
			for i, n := range s.Histogram.Bins {
				if n > 0 {
					w(", %d in (%.1f, %.1f]", n, float64(i)/10, float64(i+1)/10)
				}
			}
			w(".\n\n")
		}
		for _, it := range s.Contaminated {
			w("### %s/%s (score %.2f, %d matching records)\n\n", s.Name, it.TestID, it.Score, it.MatchCount)
			w("> %s\n\n", oneLine(it.Text, 400))
			for _, m := range it.Matches {
				w("- `%s`", m.TrainID)
				if m.TrainURL != "" {
					w(" <%s>", m.TrainURL)
				}
				w(" — %s, score %.4f\n", m.Method, m.Score)
			}
			if it.MoreMatches > 0 {
				w("- … and %d more (only the first %d are listed)\n", it.MoreMatches, p.MaxExamplesPerItem)
			}
			w("\n")
		}
		w("Clean ids (%d): %s\n", len(s.CleanIDs), strings.Join(s.CleanIDs, ", "))
	}
}

func oneLine(s string, limit int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > limit {
		return string(r[:limit]) + " …"
	}
	return s
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
