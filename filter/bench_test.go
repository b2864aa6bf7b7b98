package filter

import (
	"encoding/json"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/corpusflow/corpusflow/internal/samples"
)

// cpuTime is the CPU time this process has used (user + system). The
// benchmark machine is shared and often loaded, so wall-clock MB/s swings by
// 5x between runs; MB per CPU-second ("MB/cpu-s") is the per-core figure and
// holds steady. Run with -cpu 1 so one core does the work.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// cpuMeter reports MB/cpu-s for a benchmark that processes bytesPerOp per
// iteration.
type cpuMeter struct {
	b     *testing.B
	bytes int64
	docs  int // documents per op, for docs/cpu-s; 0: not reported
	start time.Duration
}

func startCPUMeter(b *testing.B, bytesPerOp int64) *cpuMeter {
	b.SetBytes(bytesPerOp)
	b.ReportAllocs()
	b.ResetTimer()
	return &cpuMeter{b: b, bytes: bytesPerOp, start: cpuTime()}
}

func (m *cpuMeter) stop() {
	used := cpuTime() - m.start
	if used > 0 {
		m.b.ReportMetric(float64(m.bytes)*float64(m.b.N)/1e6/used.Seconds(), "MB/cpu-s")
		if m.docs > 0 {
			m.b.ReportMetric(float64(m.docs)*float64(m.b.N)/used.Seconds(), "docs/cpu-s")
		}
	}
}

// englishWebPages are the Dolma Common Crawl documents (real English web
// text, one page per JSONL row).
func englishWebPages(tb testing.TB) []string {
	tb.Helper()
	var pages []string
	for _, f := range []string{samples.DolmaCC0091, samples.DolmaCC0174} {
		lines, err := samples.Lines(f)
		if err != nil {
			tb.Fatal(err)
		}
		for _, line := range lines {
			var row struct{ Text string }
			if err := json.Unmarshal([]byte(line), &row); err != nil {
				tb.Fatal(err)
			}
			pages = append(pages, row.Text)
		}
	}
	return pages
}

// chineseWikiPages are the articles of the zhwiki sample, markup removed.
func chineseWikiPages(tb testing.TB) []string {
	tb.Helper()
	data, err := samples.ReadFile(samples.ZhWiki)
	if err != nil {
		tb.Fatal(err)
	}
	var pages []string
	for _, doc := range strings.Split(string(data), "</doc>") {
		if i := strings.Index(doc, ">\n"); i >= 0 {
			doc = doc[i+2:]
		}
		if strings.TrimSpace(doc) != "" {
			pages = append(pages, doc)
		}
	}
	return pages
}

func totalBytes(pages []string) int64 {
	var n int64
	for _, p := range pages {
		n += int64(len(p))
	}
	return n
}

func benchmarkC4(b *testing.B, pages []string, chinese bool) {
	c, _ := newTestC4(b, DefaultC4Config())
	meter := startCPUMeter(b, totalBytes(pages))
	for i := 0; i < b.N; i++ {
		for _, p := range pages {
			c.Clean(p, chinese)
		}
	}
	meter.stop()
}

// BenchmarkC4English: MB/s on one core over real Common Crawl English pages.
func BenchmarkC4English(b *testing.B) { benchmarkC4(b, englishWebPages(b), false) }

// BenchmarkC4Chinese: MB/s on one core over Chinese Wikipedia articles.
func BenchmarkC4Chinese(b *testing.B) { benchmarkC4(b, chineseWikiPages(b), true) }

func langDocsOf(tb testing.TB, lang string) []string {
	var out []string
	for _, d := range langEvalDocs(tb) {
		if d.lang == lang {
			out = append(out, d.text)
		}
	}
	return out
}

// BenchmarkLang: docs/s and MB per CPU-second of lingua on the language-id
// evaluation documents, in high-accuracy and low-accuracy mode, with the
// models already loaded. Compare with scripts/bench_langdetect.py.
func BenchmarkLang(b *testing.B) {
	for _, mode := range []struct {
		name string
		low  bool
	}{{"high", false}, {"low", true}} {
		cfg := DefaultLangConfig()
		cfg.Languages = []string{"en", "zh"}
		cfg.LowAccuracy = mode.low
		l, err := NewLang(cfg, nil)
		if err != nil {
			b.Fatal(err)
		}
		for _, lang := range []string{"en", "zh"} {
			docs := langDocsOf(b, lang)
			b.Run(mode.name+"/"+lang, func(b *testing.B) {
				meter := startCPUMeter(b, totalBytes(docs))
				meter.docs = len(docs)
				for i := 0; i < b.N; i++ {
					for _, d := range docs {
						l.Detect(d)
					}
				}
				meter.stop()
			})
		}
	}
}

// BenchmarkLangStartup: time and heap to build a detector with every model
// of the default candidate languages preloaded. lingua caches models per
// process, so run each mode in its own process:
// go test -bench 'LangStartup/high' -benchtime 1x, then .../low.
func BenchmarkLangStartup(b *testing.B) {
	for _, low := range []bool{false, true} {
		name := "high"
		if low {
			name = "low"
		}
		b.Run(name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				var before, after runtime.MemStats
				runtime.GC()
				runtime.ReadMemStats(&before)
				start := time.Now()
				cfg := DefaultLangConfig()
				cfg.Languages = []string{"en"}
				cfg.LowAccuracy = low
				l, err := NewLang(cfg, nil)
				if err != nil {
					b.Fatal(err)
				}
				took := time.Since(start)
				runtime.GC()
				runtime.ReadMemStats(&after)
				b.ReportMetric(took.Seconds(), "s-load")
				b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/(1<<20), "MB-heap")
				runtime.KeepAlive(l)
			}
		})
	}
}

// BenchmarkBadWords: MB per CPU-second of the C4 English list over the Dolma
// CC pages, and of the Chinese list over zhwiki articles.
func BenchmarkBadWords(b *testing.B) {
	for _, c := range []struct {
		name, list, lang string
		pages            func(testing.TB) []string
	}{
		{"en", "../testdata/badwords/en.c4-25e679f0", "en", englishWebPages},
		{"zh", "../testdata/badwords/zh", "zh", chineseWikiPages},
	} {
		bw, err := NewBadWords(BadWordsConfig{List: c.list, Language: c.lang}, nil)
		if err != nil {
			b.Fatal(err)
		}
		pages := c.pages(b)
		b.Run(c.name, func(b *testing.B) {
			meter := startCPUMeter(b, totalBytes(pages))
			for i := 0; i < b.N; i++ {
				for _, p := range pages {
					bw.Find(p)
				}
			}
			meter.stop()
		})
	}
}

// BenchmarkQuality: MB per CPU-second of gopher_quality, gopher_repetition
// and fineweb_quality over the Dolma CC pages and the zhwiki articles.
func BenchmarkQuality(b *testing.B) {
	gq, _ := NewGopherQuality(DefaultGopherQualityConfig())
	gr, _ := NewGopherRepetition(DefaultGopherRepetitionConfig())
	fw, _ := NewFineWebQuality(DefaultFineWebQualityConfig())
	checks := []struct {
		name  string
		check func(string, bool) string
	}{{"gopher_quality", gq.Check}, {"gopher_repetition", gr.Check}, {"fineweb_quality", fw.Check}}
	for _, set := range []struct {
		lang    string
		chinese bool
		pages   []string
	}{{"en", false, englishWebPages(b)}, {"zh", true, chineseWikiPages(b)}} {
		for _, c := range checks {
			b.Run(c.name+"/"+set.lang, func(b *testing.B) {
				meter := startCPUMeter(b, totalBytes(set.pages))
				for i := 0; i < b.N; i++ {
					for _, p := range set.pages {
						c.check(p, set.chinese)
					}
				}
				meter.stop()
			})
		}
	}
}

// BenchmarkC4ReferencePages: the c4 stage over the 97 pages that
// TestC4MatchesTFDSReference compares with TFDS (scripts/tfds_clean_page.py
// prints TFDS's own speed on the same pages).
func BenchmarkC4ReferencePages(b *testing.B) {
	var pages []string
	for _, p := range c4ReferencePages(b) {
		pages = append(pages, p.text)
	}
	benchmarkC4(b, pages, false)
}
