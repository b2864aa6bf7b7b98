package pack

import (
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/corpusflow/corpusflow/flow"
	"github.com/corpusflow/corpusflow/internal/samples"
	"github.com/corpusflow/corpusflow/tokenize"
)

// The figures of BENCHMARKS.md ("Packing and shards") come from these
// benchmarks, run on the bundled corpus (testdata/corpus) tokenized with
// bert-base-uncased:
//
//	go test -run '^$' -bench . -benchtime 5x -count 1 ./pack

var (
	corpusOnce sync.Once
	corpusDocs []doc
	corpusErr  error
)

func bertVocab() string {
	return filepath.Join("..", "testdata", "tokenize", "vocab", "bert-base-uncased-vocab.txt")
}

// wikiArticle matches WikiText's top-level headings (" = Title = ").
var wikiArticle = regexp.MustCompile(`^ = [^=].* = $`)

// bundledCorpus is every document of the bundled corpus, tokenized:
// WikiText-2 test and valid articles, zhwiki <doc> articles and the Common
// Crawl pages of the two Dolma files.
func bundledCorpus(b testing.TB) []doc {
	corpusOnce.Do(func() {
		tok, err := tokenize.Load(bertVocab())
		if err != nil {
			corpusErr = err
			return
		}
		var texts []string
		for _, name := range []string{samples.WikiText2Test, samples.WikiText2Valid} {
			lines, err := samples.Lines(name)
			if err != nil {
				corpusErr = err
				return
			}
			var cur []string
			for _, l := range lines {
				if wikiArticle.MatchString(l) && len(cur) > 0 {
					texts = append(texts, strings.Join(cur, "\n"))
					cur = nil
				}
				cur = append(cur, l)
			}
			texts = append(texts, strings.Join(cur, "\n"))
		}
		zh, err := samples.ReadFile(samples.ZhWiki)
		if err != nil {
			corpusErr = err
			return
		}
		for _, part := range strings.Split(string(zh), "</doc>") {
			if i := strings.Index(part, ">"); i >= 0 && strings.TrimSpace(part[i+1:]) != "" {
				texts = append(texts, part[i+1:])
			}
		}
		for _, name := range []string{samples.DolmaCC0091, samples.DolmaCC0174} {
			lines, err := samples.Lines(name)
			if err != nil {
				corpusErr = err
				return
			}
			for _, l := range lines {
				var rec struct{ Text string }
				if json.Unmarshal([]byte(l), &rec) == nil && rec.Text != "" {
					texts = append(texts, rec.Text)
				}
			}
		}
		for i, t := range texts {
			if ids := tok.Encode(t, nil); len(ids) > 0 {
				corpusDocs = append(corpusDocs, doc{fmt.Sprintf("doc-%d", i), ids})
			}
		}
	})
	if corpusErr != nil {
		b.Fatal(corpusErr)
	}
	return corpusDocs
}

func packCorpus(b testing.TB, cfg func(*Config)) ([]*flow.Record, *flow.Counters) {
	b.Helper()
	c := DefaultConfig()
	c.Vocab = bertVocab()
	c.SeqLen = 512
	if cfg != nil {
		cfg(&c)
	}
	counters := &flow.Counters{}
	s, err := New(&c, &flow.Env{Counters: counters})
	if err != nil {
		b.Fatal(err)
	}
	return packDocs(b, s, bundledCorpus(b)), counters
}

// BenchmarkPackPadding reports the fraction of padding tokens when the
// bundled corpus is packed at seq_len 512 (and 128) with and without
// crossing document boundaries, and the packing speed.
func BenchmarkPackPadding(b *testing.B) {
	for _, seqLen := range []int{128, 512} {
		for _, boundary := range []string{BoundaryStrict, BoundaryCross} {
			b.Run(fmt.Sprintf("seq%d/%s", seqLen, boundary), func(b *testing.B) {
				docs := bundledCorpus(b)
				var tokens int64
				for _, d := range docs {
					tokens += int64(len(d.tokens))
				}
				var counters *flow.Counters
				b.ResetTimer()
				cpu := cpuSeconds()
				for i := 0; i < b.N; i++ {
					_, counters = packCorpus(b, func(c *Config) { c.DocBoundary = boundary; c.SeqLen = seqLen })
				}
				b.StopTimer()
				pad, used := counters.Get("pad_tokens"), counters.Get("example_tokens")
				b.ReportMetric(100*float64(pad)/float64(pad+used), "pad%")
				b.ReportMetric(float64(counters.Get("examples")), "examples")
				b.ReportMetric(float64(tokens)*float64(b.N)/b.Elapsed().Seconds(), "tokens/s")
				b.ReportMetric(float64(tokens)*float64(b.N)/(cpuSeconds()-cpu), "tokens/cpu-s")
			})
		}
	}
}

// BenchmarkShardWrite writes the packed corpus (mlm, seq_len 512) as one
// Arrow IPC file per iteration, fsync and rename included. Throughput is MB
// of uncompressed Arrow data; ratio is the uncompressed size over the
// written size.
func BenchmarkShardWrite(b *testing.B) {
	recs, _ := packCorpus(b, nil)
	plain := writeAll(b, WriterOptions{Dir: b.TempDir(), Compression: "none"}, recs).Bytes
	// arrow/go v15 makes a new compressor for every record batch, so the
	// batch size matters for zstd; 1024 is the sink's default.
	for _, c := range []struct {
		codec string
		batch int
	}{{"none", 1024}, {"lz4", 1024}, {"zstd", 1024}, {"lz4", 4096}, {"zstd", 4096}} {
		codec := c.codec
		b.Run(fmt.Sprintf("%s/batch%d", codec, c.batch), func(b *testing.B) {
			b.SetBytes(plain)
			var written int64
			cpu := cpuSeconds()
			for i := 0; i < b.N; i++ {
				written = writeAll(b, WriterOptions{Dir: b.TempDir(), Compression: codec, BatchRows: c.batch}, recs).Bytes
			}
			b.ReportMetric(float64(plain)*float64(b.N)/1e6/(cpuSeconds()-cpu), "MB/cpu-s")
			b.ReportMetric(float64(plain)/float64(written), "ratio")
			b.ReportMetric(float64(len(recs))*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}

// BenchmarkReader reads the packed corpus back through the Reader, with the
// default xxhash64 verification of every shard and without it.
func BenchmarkReader(b *testing.B) {
	recs, _ := packCorpus(b, nil)
	for _, codec := range []string{"none", "lz4", "zstd"} {
		dir := b.TempDir()
		m := writeAll(b, WriterOptions{Dir: dir, Compression: codec, MaxRows: 256}, recs)
		for _, verify := range []bool{true, false} {
			name := codec + "/verified"
			if !verify {
				name = codec + "/unverified"
			}
			b.Run(name, func(b *testing.B) {
				rows := 0
				cpu := cpuSeconds()
				for i := 0; i < b.N; i++ {
					r, err := OpenReader(dir, ReaderOptions{SkipVerify: !verify})
					if err != nil {
						b.Fatal(err)
					}
					for {
						_, err := r.Next()
						if err == io.EOF {
							break
						}
						if err != nil {
							b.Fatal(err)
						}
						rows++
					}
				}
				if rows != int(m.Rows)*b.N {
					b.Fatalf("read %d rows, want %d", rows, int(m.Rows)*b.N)
				}
				b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
				b.ReportMetric(float64(rows)/(cpuSeconds()-cpu), "rows/cpu-s")
				b.ReportMetric(float64(rows)*512/b.Elapsed().Seconds()/1e6, "Mtokens/s")
			})
		}
	}
}
