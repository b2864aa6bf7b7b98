package dedup

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/corpusflow/corpusflow/flow"
	"github.com/corpusflow/corpusflow/internal/samples"
)

// englishDocs cuts WikiText into documents of about size bytes.
func englishDocs(b *testing.B, size int) []string {
	raw, err := samples.ReadFile(samples.WikiText2Test)
	if err != nil {
		b.Fatal(err)
	}
	words := strings.Fields(string(raw))
	var docs []string
	var cur strings.Builder
	for _, w := range words {
		cur.WriteString(w)
		cur.WriteByte(' ')
		if cur.Len() >= size {
			docs = append(docs, cur.String())
			cur.Reset()
		}
	}
	return docs
}

// BenchmarkMinHashSignature: signatures of ~2 KB English documents, 112
// hashes (14×8), 5-gram shingles, on one goroutine. Besides docs/s of wall
// time it reports docs per CPU-second of the whole process (getrusage: user
// + system), which other jobs on a shared machine disturb less; compare the
// two families by the ratio within one run.
func BenchmarkMinHashSignature(b *testing.B) {
	docs := englishDocs(b, 2048)
	for _, fam := range []string{FamilyDatatrove, FamilyMultiplyShift} {
		b.Run(fam, func(b *testing.B) {
			h, err := NewMinHasher(fam, 112, 1)
			if err != nil {
				b.Fatal(err)
			}
			sig := make([]uint64, 112)
			var s simplifier
			b.ReportAllocs()
			cpu0, _ := processCPU()
			start := time.Now()
			for i := 0; i < b.N; i++ {
				h.signature(&s, docs[i%len(docs)], 5, sig)
			}
			wall := time.Since(start).Seconds()
			cpu1, _ := processCPU()
			b.ReportMetric(float64(b.N)/wall, "docs/s")
			b.ReportMetric(float64(b.N)/(cpu1-cpu0), "docs/cpu-s")
		})
	}
}

// BenchmarkIndexBytesPerDoc reports the memory of the exact and MinHash
// indexes per distinct document (b.N is ignored beyond one pass).
func BenchmarkIndexBytesPerDoc(b *testing.B) {
	const n = 200000
	b.Run("exact_dedup", func(b *testing.B) {
		for range b.N {
			d := NewExactDedup(ExactConfig{Key: "text"}, nil)
			for i := 0; i < n; i++ {
				d.Process(&flow.Record{Text: fmt.Sprintf("document number %d", i)})
			}
			b.ReportMetric(float64(d.IndexBytes())/n, "bytes/doc")
		}
	})
	b.Run("minhash_dedup_14x8", func(b *testing.B) {
		for range b.N {
			d, err := NewMinHashDedup(DefaultMinHashConfig, nil)
			if err != nil {
				b.Fatal(err)
			}
			words := strings.Fields(wikiParagraph + " " + otherParagraph)
			for i := 0; i < n; i++ {
				// Unique short documents: the index cost does not depend on length.
				text := fmt.Sprintf("%s %s %s %s %s %s", words[i%len(words)], letterName(i), letterName(i/7), letterName(i*13), words[(i/3)%len(words)], letterName(i/11))
				d.Process(&flow.Record{ID: fmt.Sprintf("doc-%07d", i), Text: text})
			}
			bands, ids, _ := d.IndexBytes()
			b.ReportMetric(float64(bands)/float64(d.Indexed()), "band-bytes/doc")
			b.ReportMetric(float64(ids)/float64(d.Indexed()), "id-bytes/doc")
			b.ReportMetric(float64(d.Indexed()), "indexed")
		}
	})
}

func letterName(i int) string {
	var b []byte
	for {
		b = append(b, byte('a'+i%26))
		i /= 26
		if i == 0 {
			return string(b)
		}
	}
}

// BenchmarkDecontaminate: matching throughput against all five bundled test
// sets at once (n-grams + MinHash windows), on one goroutine, over the
// planted corpus's text: "reference" is the matcher as it was before it was
// made fast (leakref_test.go), "fast" the current one; run together they
// give a ratio measured under the same load. Besides MB/s of wall time it
// reports MB per CPU-second of the whole process (user + system, garbage
// collection included), which other jobs on a shared machine disturb less.
func BenchmarkDecontaminate(b *testing.B) {
	docs := plantedCorpus(b)
	var total int64
	for _, d := range docs {
		total += int64(len(d.Text))
	}
	fast, err := BuildLeakIndex(bundledTestSets(), DefaultLeakParams)
	if err != nil {
		b.Fatal(err)
	}
	ref, err := buildRefLeakIndex(bundledTestSets(), DefaultLeakParams)
	if err != nil {
		b.Fatal(err)
	}
	for _, m := range []struct {
		name  string
		match func(string, func(int, float64)) ([]LeakHit, []leakToken)
	}{{"reference", ref.Match}, {"fast", fast.Match}} {
		b.Run(m.name, func(b *testing.B) {
			b.SetBytes(total)
			b.ReportAllocs()
			cpu0, _ := processCPU()
			start := time.Now()
			for range b.N {
				for _, d := range docs {
					m.match(d.Text, nil)
				}
			}
			wall := time.Since(start).Seconds()
			mb := float64(total) * float64(b.N) / 1e6
			cpu1, _ := processCPU()
			b.ReportMetric(mb/(cpu1-cpu0), "MB/cpu-s")
			b.ReportMetric(mb/wall, "MB/wall-s")
		})
	}
}

// BenchmarkDecontaminateLongDocument: one 2 MB page of planted documents,
// leak pages among them; the fast probe works through it in segments.
func BenchmarkDecontaminateLongDocument(b *testing.B) {
	text := joinedDocument(plantedCorpus(b), 2<<20)
	fast, err := BuildLeakIndex(bundledTestSets(), DefaultLeakParams)
	if err != nil {
		b.Fatal(err)
	}
	ref, err := buildRefLeakIndex(bundledTestSets(), DefaultLeakParams)
	if err != nil {
		b.Fatal(err)
	}
	for _, m := range []struct {
		name  string
		match func(string, func(int, float64)) ([]LeakHit, []leakToken)
	}{{"reference", ref.Match}, {"fast", fast.Match}} {
		b.Run(m.name, func(b *testing.B) {
			b.SetBytes(int64(len(text)))
			b.ReportAllocs()
			for range b.N {
				m.match(text, nil)
			}
		})
	}
}

// BenchmarkExactKey: exact_dedup's text key (NFKC, case fold, whitespace
// collapsed, xxhash64) of ~1 KB English documents and of Chinese ones, on one
// goroutine; MB/s of text.
//
//	go test -run XXX -bench ExactKey -benchtime 2s -count 2 ./dedup
func BenchmarkExactKey(b *testing.B) {
	zhRaw, err := samples.ReadFile(samples.ZhWiki)
	if err != nil {
		b.Fatal(err)
	}
	var zh []string
	for _, l := range strings.Split(string(zhRaw), "\n") {
		if len(l) > 300 {
			zh = append(zh, l)
		}
	}
	for _, c := range []struct {
		name string
		docs []string
	}{{"en", englishDocs(b, 1024)}, {"zh", zh}} {
		b.Run(c.name, func(b *testing.B) {
			k := newTextKeyer(TextKeyOptions{})
			var n int64
			for _, d := range c.docs {
				n += int64(len(d))
			}
			b.SetBytes(n)
			for i := 0; i < b.N; i++ {
				for _, d := range c.docs {
					k.key(d)
				}
			}
		})
	}
}
