package ingest

import (
	"bufio"
	"bytes"
	stdgzip "compress/gzip"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"

	kgzip "github.com/klauspost/compress/gzip"
	"golang.org/x/net/html"

	"github.com/corpusflow/corpusflow/flow"
)

// Benchmarks for the ingest figures in BENCHMARKS.md. Inputs are built once
// per test binary from the real samples in testdata/, repeated:
//
//	wet   Common Crawl-style WET: one conversion record per gzip member,
//	      texts from the dolma (CC English), WikiText and zhwiki samples
//	warc  the Common Crawl 2020 WARC excerpt (HTML responses in utf-8, gbk,
//	      windows-1251, with their request and metadata records)
//	jsonl the dolma JSONL lines, zstd-compressed
//
// Each is split into benchFiles files so the engine can read parts at once.
// MB/s counts decompressed bytes (b.SetBytes), the work a reader does.

const benchFiles = 4

var benchInputs = struct {
	once sync.Once
	dir  string
	err  error
}{}

// TestMain removes the benchmark inputs (about 20 MB) when the run ends.
func TestMain(m *testing.M) {
	code := m.Run()
	if benchInputs.dir != "" {
		os.RemoveAll(benchInputs.dir)
	}
	os.Exit(code)
}

func benchDir(b *testing.B) string {
	benchInputs.once.Do(func() {
		benchInputs.dir, benchInputs.err = os.MkdirTemp("", "corpusflow-ingest-bench-")
		if benchInputs.err == nil {
			benchInputs.err = buildBenchInputs(b, benchInputs.dir)
		}
	})
	if benchInputs.err != nil {
		b.Fatal(benchInputs.err)
	}
	return benchInputs.dir
}

func buildBenchInputs(b *testing.B, dir string) error {
	// WET: real texts as conversion records, ~8 MiB per file.
	var texts []string
	for _, name := range []string{"dolma-cc_en_head-0091.jsonl", "dolma-cc_en_head-0174.jsonl"} {
		recs, _ := readAllParts(b, jsonlSource(b, testdata("text", name), nil))
		for _, r := range recs {
			texts = append(texts, r.Text)
		}
	}
	for _, name := range []string{"wikitext-2-test-head.txt", "zhwiki-AA-wiki_00-head.txt"} {
		recs, _ := readAllParts(b, textSource(b, testdata("text", name), splitBlankLine))
		for _, r := range recs {
			texts = append(texts, r.Text)
		}
	}
	for f := 0; f < benchFiles; f++ {
		var members [][]byte
		size := 0
		for i := 0; size < 8<<20; i++ {
			text := texts[i%len(texts)]
			rec := fmt.Sprintf("WARC/1.0\r\nWARC-Type: conversion\r\nWARC-Target-URI: http://bench.test/%d/%d\r\n"+
				"WARC-Date: 2024-05-18T01:58:10Z\r\nWARC-Record-ID: <urn:uuid:bench-%d-%d>\r\n"+
				"WARC-Identified-Content-Language: eng\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n%s\r\n\r\n",
				f, i, f, i, len(text), text)
			members = append(members, []byte(rec))
			size += len(rec)
		}
		data, _ := gzipMembersOf(b, members)
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("wet-%d.warc.wet.gz", f)), data, 0o644); err != nil {
			return err
		}
	}
	// WARC: the CC excerpt's 50 records, twice per file, one per member.
	records := rawRecords(b, testdata("warc", "resiliparse-cc-2020-34-warcfile.warc.gz"))
	for f := 0; f < benchFiles; f++ {
		var members [][]byte
		for copy := 0; copy < 2; copy++ {
			members = append(members, records...)
		}
		data, _ := gzipMembersOf(b, members)
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("cc-%d.warc.gz", f)), data, 0o644); err != nil {
			return err
		}
	}
	// JSONL: dolma lines repeated to ~8 MiB per file, zstd.
	var lines []byte
	for _, name := range []string{"dolma-cc_en_head-0091.jsonl", "dolma-cc_en_head-0174.jsonl"} {
		lines = append(lines, mustRead(b, testdata("text", name))...)
	}
	for f := 0; f < benchFiles; f++ {
		var buf bytes.Buffer
		for buf.Len() < 8<<20 {
			buf.Write(lines)
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("dolma-%d.jsonl.zst", f)), zstdBytes(b, buf.Bytes()), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// cpuSeconds is the CPU time this process has used (all threads, user and
// system). The machine is shared, so wall-clock MB/s swings with other
// people's builds; MB per CPU-second measures the work itself.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Utime.Sec+ru.Stime.Sec) + float64(ru.Utime.Usec+ru.Stime.Usec)/1e6
}

// reportCPU adds the MB/cpu-s metric for total bytes processed since
// cpuStart.
func reportCPU(b *testing.B, cpuStart float64, total int64) {
	if used := cpuSeconds() - cpuStart; used > 0 {
		b.ReportMetric(float64(total)/1e6/used, "MB/cpu-s")
	}
}

type countingSink struct{ n int }

func (s *countingSink) Write(*flow.Record) error { s.n++; return nil }
func (s *countingSink) Close() error             { return nil }

// benchRun reads src through the engine b.N times.
func benchRun(b *testing.B, workers int, newSource func() flow.Source) {
	b.ReportAllocs()
	var bytesRead, records int64
	cpuStart := cpuSeconds()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		stats, err := flow.Run(context.Background(), flow.Plan{
			Sources: []flow.NamedSource{{Name: "bench", Source: newSource()}},
			Sinks:   []flow.NamedSink{{Name: "count", Sink: &countingSink{}}},
			Workers: workers,
		})
		if err != nil {
			b.Fatal(err)
		}
		s := stats.Sources[0]
		for kind := range s.Errors {
			if !strings.HasPrefix(kind, "skipped_") {
				b.Fatalf("problems reading the benchmark input: %v", s.Errors)
			}
		}
		bytesRead, records = s.Bytes, s.Records
	}
	b.SetBytes(bytesRead)
	b.ReportMetric(float64(records), "records/op")
	reportCPU(b, cpuStart, bytesRead*int64(b.N))
}

func BenchmarkIngest(b *testing.B) {
	dir := benchDir(b)
	warc := func(pattern, extractor string, workers int) func() flow.Source {
		return func() flow.Source {
			cfg := DefaultWARCConfig()
			cfg.Path = filepath.Join(dir, pattern)
			cfg.Extractor = extractor
			src, err := NewWARCSource(cfg, &flow.Env{Workers: workers})
			if err != nil {
				b.Fatal(err)
			}
			return src
		}
	}
	jsonl := func() flow.Source {
		cfg := DefaultJSONLConfig()
		cfg.Path = filepath.Join(dir, "dolma-*.jsonl.zst")
		cfg.URLField, cfg.TimestampField = "metadata.url", "created"
		src, err := NewJSONLSource(cfg, nil)
		if err != nil {
			b.Fatal(err)
		}
		return src
	}
	for _, workers := range []int{1, 2} {
		b.Run(fmt.Sprintf("wet-gzip/workers=%d", workers), func(b *testing.B) {
			benchRun(b, workers, warc("wet-*.warc.wet.gz", extractTrafilatura, workers))
		})
		b.Run(fmt.Sprintf("warc-gzip-html/workers=%d", workers), func(b *testing.B) {
			benchRun(b, workers, warc("cc-*.warc.gz", extractNone, workers))
		})
		b.Run(fmt.Sprintf("warc-gzip-trafilatura/workers=%d", workers), func(b *testing.B) {
			benchRun(b, workers, warc("cc-*.warc.gz", extractTrafilatura, workers))
		})
		b.Run(fmt.Sprintf("jsonl-zstd/workers=%d", workers), func(b *testing.B) {
			benchRun(b, workers, jsonl)
		})
	}
}

// BenchmarkGunzip decompresses the same multi-member WET file with
// klauspost/compress and with the standard library, both member by member
// (as the WARC reader does, to confine damage) and as one multistream.
func BenchmarkGunzip(b *testing.B) {
	path := filepath.Join(benchDir(b), "wet-0.warc.wet.gz")
	data, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	decoders := []struct {
		name string
		open func(r *bytes.Reader) io.Reader
	}{
		{"klauspost/members", func(r *bytes.Reader) io.Reader { return newGzipMembers(r, new(kgzip.Reader), nil) }},
		{"stdlib/members", func(r *bytes.Reader) io.Reader { return newGzipMembers(r, new(stdgzip.Reader), nil) }},
		{"klauspost/multistream", func(r *bytes.Reader) io.Reader {
			z, err := kgzip.NewReader(bufio.NewReader(r))
			if err != nil {
				b.Fatal(err)
			}
			return z
		}},
		{"stdlib/multistream", func(r *bytes.Reader) io.Reader {
			z, err := stdgzip.NewReader(bufio.NewReader(r))
			if err != nil {
				b.Fatal(err)
			}
			return z
		}},
	}
	buf := make([]byte, 256<<10)
	for _, d := range decoders {
		b.Run(d.name, func(b *testing.B) {
			var n int64
			cpuStart := cpuSeconds()
			for i := 0; i < b.N; i++ {
				n = 0
				r := d.open(bytes.NewReader(data))
				for {
					m, err := r.Read(buf)
					n += int64(m)
					if err == io.EOF {
						break
					}
					if err != nil {
						b.Fatal(err)
					}
				}
			}
			if n < 8<<20 {
				b.Fatalf("decompressed only %d bytes", n)
			}
			b.SetBytes(n)
			reportCPU(b, cpuStart, n*int64(b.N))
		})
	}
}

// BenchmarkHTMLText prices turning a page's content tree into lines against
// the extraction itself, on the 36 real HTML pages of the two WARC samples
// (decoded once, outside the timer): "extract" is go-trafilatura alone,
// "extract+render" is what the warc source does per page, "render" is the
// line renderer alone on trees extracted beforehand.
func BenchmarkHTMLText(b *testing.B) {
	h := newHTMLToText(extractTrafilatura, "precision", false)
	type page struct {
		html []byte
		url  string
	}
	var pages []page
	var pageBytes int64
	for _, file := range []string{"resiliparse-cc-2020-34-warcfile.warc.gz", "dolma-sample-0000.warc.gz"} {
		src := warcSource(b, testdata("warc", file))
		src.html = newHTMLToText(extractNone, "", false)
		recs, _ := readAllParts(b, src)
		for _, r := range recs {
			if _, err := h.extract([]byte(r.Text), r.URL); err == nil {
				pages = append(pages, page{[]byte(r.Text), r.URL})
				pageBytes += int64(len(r.Text))
			}
		}
	}
	run := func(b *testing.B, perPage func(p page)) {
		b.SetBytes(pageBytes)
		cpuStart := cpuSeconds()
		for i := 0; i < b.N; i++ {
			for _, p := range pages {
				perPage(p)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*len(pages)), "µs/page")
		if used := cpuSeconds() - cpuStart; used > 0 {
			b.ReportMetric(float64(b.N*len(pages))/used, "pages/cpu-s")
		}
		reportCPU(b, cpuStart, pageBytes*int64(b.N))
	}
	b.Run("extract", func(b *testing.B) {
		run(b, func(p page) {
			if _, err := h.extract(p.html, p.url); err != nil {
				b.Fatal(err)
			}
		})
	})
	b.Run("extract+render", func(b *testing.B) {
		run(b, func(p page) {
			if _, err := h.text(p.html, p.url); err != nil {
				b.Fatal(err)
			}
		})
	})
	trees := make(map[string]*html.Node, len(pages))
	for _, p := range pages {
		res, _ := h.extract(p.html, p.url)
		trees[p.url] = res.ContentNode
	}
	b.Run("render", func(b *testing.B) {
		run(b, func(p page) { renderText(trees[p.url]) })
	})
}
