package filter

import (
	"strings"
	"testing"

	"github.com/corpusflow/corpusflow/internal/samples"
)

// The language-id evaluation set, built the same way by
// scripts/bench_langdetect.py so both tools see the same documents:
//   - English: every WikiText-2 test paragraph (lines not starting with "=")
//     and the 20 Dolma Common Crawl pages;
//   - Chinese: every zhwiki paragraph (lines that are not a <doc> tag or the
//     title line after it);
//
// each at least langEvalMinBytes long once trimmed: shorter lines are list
// items like "<unk> ( 2007 )" that no detector can label.
const langEvalMinBytes = 100

type labelledDoc struct {
	lang, text string
}

func langEvalDocs(tb testing.TB) []labelledDoc {
	tb.Helper()
	var docs []labelledDoc
	wiki, err := samples.ReadFile(samples.WikiText2Test)
	if err != nil {
		tb.Fatal(err)
	}
	for _, line := range strings.Split(string(wiki), "\n") {
		line = strings.TrimSpace(line)
		if len(line) >= langEvalMinBytes && !strings.HasPrefix(line, "=") {
			docs = append(docs, labelledDoc{"en", line})
		}
	}
	for _, p := range englishWebPages(tb) {
		docs = append(docs, labelledDoc{"en", p})
	}
	zh, err := samples.ReadFile(samples.ZhWiki)
	if err != nil {
		tb.Fatal(err)
	}
	title := false
	for _, line := range strings.Split(string(zh), "\n") {
		line = strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(line, "<doc"):
			title = true
		case line == "" || strings.HasPrefix(line, "</doc>"):
		case title:
			title = false
		case len(line) >= langEvalMinBytes:
			docs = append(docs, labelledDoc{"zh", line})
		}
	}
	return docs
}
