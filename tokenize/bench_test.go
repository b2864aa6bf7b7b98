package tokenize

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// The benchmarks encode the golden corpus's real text, the same lines that
// tools/golden/bench.js gives Hugging Face tokenizers, so the two sets of
// figures in BENCHMARKS.md compare like with like:
//
//	en: WikiText-2 test, XQuAD English, CCNet Common Crawl documents
//	zh: Chinese Wikipedia, XQuAD Chinese
var benchSources = map[string][]string{
	"en": {"wikitext", "xquad.en", "commoncrawl"},
	"zh": {"zhwiki", "xquad.zh"},
}

func benchLines(b *testing.B, lang string) ([]string, int64) {
	b.Helper()
	corpus, err := loadGoldenCorpus()
	if err != nil {
		b.Fatal(err)
	}
	want := map[string]bool{}
	for _, s := range benchSources[lang] {
		want[s] = true
	}
	var lines []string
	var n int64
	for _, t := range corpus {
		if want[t.Src] {
			lines = append(lines, t.Text)
			n += int64(len(t.Text))
		}
	}
	return lines, n
}

var benchTokenizers = []struct{ name, path string }{
	{"wordpiece-uncased", uncasedVocab},
	{"wordpiece-chinese", chineseVocab},
	{"bpe-gpt2", gpt2Vocab},
}

// BenchmarkEncode runs on one goroutine: one core's throughput.
func BenchmarkEncode(b *testing.B) {
	for _, bt := range benchTokenizers {
		tok, err := Load(bt.path)
		if err != nil {
			b.Fatal(err)
		}
		for _, lang := range []string{"en", "zh"} {
			lines, size := benchLines(b, lang)
			b.Run(fmt.Sprintf("%s/%s", bt.name, lang), func(b *testing.B) {
				b.SetBytes(size)
				b.ReportAllocs()
				var ids []int32
				tokens := 0
				cpu := startCPUClock()
				for b.Loop() {
					tokens = 0
					for _, l := range lines {
						ids = tok.Encode(l, ids[:0])
						tokens += len(ids)
					}
				}
				cpu.report(b, size, int64(tokens))
				b.ReportMetric(float64(tokens)*float64(b.N)/b.Elapsed().Seconds(), "tokens/s")
			})
		}
	}
}

// BenchmarkEncodeParallel encodes the corpus with GOMAXPROCS goroutines
// taking lines from a shared counter (run with -cpu 1,2); one op is the
// whole corpus. Besides MB/s it reports tokens/s (wall clock) and MB and
// tokens per CPU-second.
func BenchmarkEncodeParallel(b *testing.B) {
	for _, bt := range benchTokenizers {
		tok, err := Load(bt.path)
		if err != nil {
			b.Fatal(err)
		}
		for _, lang := range []string{"en", "zh"} {
			lines, size := benchLines(b, lang)
			b.Run(fmt.Sprintf("%s/%s", bt.name, lang), func(b *testing.B) {
				b.SetBytes(size)
				workers := runtime.GOMAXPROCS(0)
				var tokens atomic.Int64 // per pass over the corpus
				cpu := startCPUClock()
				for b.Loop() {
					var next atomic.Int64
					var wg sync.WaitGroup
					tokens.Store(0)
					for range workers {
						wg.Add(1)
						go func() {
							defer wg.Done()
							var ids []int32
							n := 0
							for i := next.Add(1) - 1; i < int64(len(lines)); i = next.Add(1) - 1 {
								ids = tok.Encode(lines[i], ids[:0])
								n += len(ids)
							}
							tokens.Add(int64(n))
						}()
					}
					wg.Wait()
				}
				cpu.report(b, size, tokens.Load())
				b.ReportMetric(float64(tokens.Load())*float64(b.N)/b.Elapsed().Seconds(), "tokens/s")
			})
		}
	}
}

// cpuClock measures the CPU time the process spends, so that throughput per
// CPU-second can be reported next to wall-clock MB/s: on a shared, loaded
// machine the wall clock also counts time spent waiting for a core.
type cpuClock struct{ start time.Duration }

func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func startCPUClock() cpuClock { return cpuClock{processCPU()} }

// report adds "cpuMB/s" and "tokens/cpu-s": megabytes of text and tokens
// per CPU-second.
func (c cpuClock) report(b *testing.B, bytesPerOp, tokensPerOp int64) {
	if spent := processCPU() - c.start; spent > 0 {
		b.ReportMetric(float64(bytesPerOp)*float64(b.N)/spent.Seconds()/1e6, "cpuMB/s")
		b.ReportMetric(float64(tokensPerOp)*float64(b.N)/spent.Seconds(), "tokens/cpu-s")
	}
}
