package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"unicode/utf8"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// Input files of `vocab train` are plain, gzip or zstd text, told apart by
// their first bytes as the ingest package does (a renamed crawl file should
// be read as what it is); a ".gz" that is not gzip is read as plain text.
var (
	gzipMagic = []byte{0x1f, 0x8b}
	zstdMagic = []byte{0x28, 0xb5, 0x2f, 0xfd}
)

// maxVocabZstdWindow bounds the memory one zstd frame may ask for.
const maxVocabZstdWindow = 128 << 20

// maxUTF8Reports is how many bad lines per file are named on stderr; the
// rest are only counted.
const maxUTF8Reports = 5

// openVocabInput opens path and returns its decompressed bytes and the
// format it found ("plain", "gzip" or "zstd").
func openVocabInput(path string) (io.ReadCloser, string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, "", err
	}
	br := bufio.NewReaderSize(f, 1<<16)
	magic, _ := br.Peek(4)
	switch {
	case bytes.HasPrefix(magic, gzipMagic):
		zr, err := gzip.NewReader(br) // multi-member, as gzip files may be
		if err != nil {
			f.Close()
			return nil, "", fmt.Errorf("%s: gzip: %w", path, err)
		}
		return readCloser{zr, func() { zr.Close(); f.Close() }}, "gzip", nil
	case bytes.HasPrefix(magic, zstdMagic):
		zr, err := zstd.NewReader(br, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxWindow(maxVocabZstdWindow))
		if err != nil {
			f.Close()
			return nil, "", fmt.Errorf("%s: zstd: %w", path, err)
		}
		return readCloser{zr, func() { zr.Close(); f.Close() }}, "zstd", nil
	}
	return readCloser{br, func() { f.Close() }}, "plain", nil
}

type readCloser struct {
	io.Reader
	close func()
}

func (r readCloser) Close() error { r.close(); return nil }

// isJSONLName reports whether a file holds JSON lines: name.jsonl, also
// compressed (name.jsonl.gz, name.jsonl.zst).
func isJSONLName(path string) bool {
	name := strings.TrimSuffix(strings.TrimSuffix(path, ".gz"), ".zst")
	return strings.HasSuffix(name, ".jsonl")
}

// fileCount says what countFile did with one file.
type fileCount struct {
	texts, badUTF8, badJSON int
}

// countFile reads one text per line, decompressing gzip and zstd; in a
// .jsonl file, the "text" field of each object. A line that is not valid
// UTF-8 or not a JSON object is reported (the first few by file and line),
// counted and skipped. A file with lines but no usable text at all is an
// error: it is binary, or compressed in a format not read here.
func countFile(path string, add func(string)) (fileCount, error) {
	var c fileCount
	in, format, err := openVocabInput(path)
	if err != nil {
		return c, err
	}
	defer in.Close()
	jsonl := isJSONLName(path)
	r := bufio.NewReaderSize(in, 1<<16)
	lines := 0
	for lineNo := 1; ; lineNo++ {
		line, err := r.ReadString('\n')
		if line != "" {
			lines++
			line = strings.TrimRight(line, "\r\n")
			switch {
			case !utf8.ValidString(line):
				if c.badUTF8++; c.badUTF8 <= maxUTF8Reports {
					fmt.Fprintf(os.Stderr, "corpusflow vocab train: %s line %d: not valid UTF-8, skipped\n", path, lineNo)
				}
			case jsonl:
				var doc struct {
					Text string `json:"text"`
				}
				if jerr := json.Unmarshal([]byte(line), &doc); jerr != nil {
					c.badJSON++
					fmt.Fprintf(os.Stderr, "corpusflow vocab train: %s line %d: not a JSON object, skipped: %v\n", path, lineNo, jerr)
				} else {
					c.texts++
					add(doc.Text)
				}
			default:
				c.texts++
				add(line)
			}
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return c, fmt.Errorf("%s (%s) line %d: %w", path, format, lineNo, err)
		}
	}
	if c.badUTF8 > maxUTF8Reports {
		fmt.Fprintf(os.Stderr, "corpusflow vocab train: %s: %d lines in all are not valid UTF-8 and were skipped\n", path, c.badUTF8)
	}
	if lines > 0 && c.texts == 0 {
		if c.badUTF8 == lines {
			return c, fmt.Errorf("%s: none of its %d lines is valid UTF-8 text (read as %s; only plain, gzip and zstd files are decompressed)", path, lines, format)
		}
		return c, fmt.Errorf("%s: no usable text in its %d lines", path, lines)
	}
	return c, nil
}
