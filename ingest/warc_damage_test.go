package ingest

import (
	"bytes"
	"fmt"
	"io"
	"math/rand"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/corpusflow/corpusflow/flow"
)

// rawRecords splits a decompressed WARC into the exact bytes of each record
// (header, block and CRLF CRLF trailer). It relies on every record starting
// with "WARC/1.0\r\n" after the previous one's trailer, which holds for the
// file it is used on (record counts checked in TestScanRealFiles).
func rawRecords(t testing.TB, path string) [][]byte {
	t.Helper()
	in, err := openInput(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	all, err := io.ReadAll(in.R)
	if err != nil {
		t.Fatal(err)
	}
	sep := []byte("\r\n\r\nWARC/1.0\r\n")
	var recs [][]byte
	for {
		i := bytes.Index(all[1:], sep)
		if i < 0 {
			return append(recs, all)
		}
		end := 1 + i + 4
		recs = append(recs, all[:end])
		all = all[end:]
	}
}

// damageCorpus is a real Common Crawl WARC excerpt (50 records, 16 HTML
// responses) and the documents (pages as HTML) the warc source makes of it
// undamaged.
type damageCorpus struct {
	records [][]byte          // raw bytes of each record
	docs    map[string]string // WARC-Record-ID -> text, for the documents
	index   map[string]int    // WARC-Record-ID -> record index
}

var recordIDPattern = regexp.MustCompile(`WARC-Record-ID: (<[^>]+>)`)

func loadDamageCorpus(t *testing.T) *damageCorpus {
	t.Helper()
	path := testdata("warc", "resiliparse-cc-2020-34-warcfile.warc.gz")
	c := &damageCorpus{records: rawRecords(t, path), docs: map[string]string{}, index: map[string]int{}}
	if len(c.records) != 50 {
		t.Fatalf("split into %d records, want 50", len(c.records))
	}
	for i, r := range c.records {
		c.index[string(recordIDPattern.FindSubmatch(r)[1])] = i
	}
	recs, report := readAllParts(t, rawHTMLSource(t, path))
	for _, r := range recs {
		c.docs[r.ID] = r.Text
	}
	if len(c.docs) != 16 || len(problems(report)) != 0 {
		t.Fatalf("%d documents from the undamaged file, want 16; problems %v", len(c.docs), problems(report))
	}
	return c
}

// readDamaged writes data to a temporary file and reads it with the warc
// source. Any panic fails the test (the test binary dies).
func readDamaged(t *testing.T, name string, data []byte) ([]*flow.Record, map[string]int64) {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	recs, report := readAllParts(t, rawHTMLSource(t, path))
	return recs, problems(report)
}

// rawHTMLSource reads responses without main-text extraction: the damage
// tests then compare every byte of every page, and run fast.
func rawHTMLSource(t testing.TB, path string) *WARCSource {
	src := warcSource(t, path)
	src.html = newHTMLToText(extractNone, "", false)
	return src
}

// checkDocs compares what came out of a damaged file with the undamaged
// documents: nothing new, nothing changed, and every document whose record
// is in keep present. It returns the ids missing from keep... none allowed.
func (c *damageCorpus) checkDocs(t *testing.T, label string, got []*flow.Record, mustKeep func(recordIndex int) bool) {
	t.Helper()
	seen := map[string]bool{}
	for _, r := range got {
		want, ok := c.docs[r.ID]
		switch {
		case !ok:
			t.Errorf("%s: document %s is not in the undamaged output", label, r.ID)
		case r.Text != want:
			t.Errorf("%s: document %s changed (%d bytes, was %d)", label, r.ID, len(r.Text), len(want))
		}
		seen[r.ID] = true
	}
	for id := range c.docs {
		if mustKeep(c.index[id]) && !seen[id] {
			t.Errorf("%s: document %s (record %d) lost", label, id, c.index[id]+1)
		}
	}
}

func sumProblems(p map[string]int64) int64 {
	var n int64
	for _, v := range p {
		n += v
	}
	return n
}

// memberOf returns the index of the member that byte offset x falls in.
func memberOf(starts []int, x int) int {
	return sort.Search(len(starts), func(i int) bool { return starts[i] > x }) - 1
}

func TestTruncatedMultiMemberGzip(t *testing.T) {
	c := loadDamageCorpus(t)
	file, starts := gzipMembersOf(t, c.records)
	rng := rand.New(rand.NewSource(1))
	offsets := []int{0, 1, 5, 9, 10, starts[1], starts[20] - 1, starts[20] - 8, starts[20] + 3, len(file) - 1, len(file) - 4}
	for len(offsets) < 60 {
		offsets = append(offsets, 1+rng.Intn(len(file)-1))
	}
	for _, x := range offsets {
		label := fmt.Sprintf("cut at %d", x)
		got, probs := readDamaged(t, "cut.warc.gz", file[:x])
		k := memberOf(starts, x)
		atBoundary := x == starts[k]
		// Everything in members before the cut is intact and must come
		// through; the member that was cut loses its record.
		c.checkDocs(t, label, got, func(i int) bool { return i < k })
		for _, r := range got {
			if c.index[r.ID] >= k {
				t.Errorf("%s: record %d from the cut member (or after) came through", label, c.index[r.ID]+1)
			}
		}
		switch {
		case x == 0:
			if probs["empty_file"] != 1 {
				t.Errorf("%s: problems %v, want empty_file", label, probs)
			}
		case atBoundary:
			if len(probs) != 0 {
				t.Errorf("%s: a cut between members is a shorter, valid file; problems %v", label, probs)
			}
		default:
			if probs["truncated_gzip"] != 1 {
				t.Errorf("%s: problems %v, want one truncated_gzip", label, probs)
			}
		}
	}
}

func TestCorruptGzipMember(t *testing.T) {
	c := loadDamageCorpus(t)
	file, starts := gzipMembersOf(t, c.records)
	rng := rand.New(rand.NewSource(2))
	for trial := 0; trial < 80; trial++ {
		damaged := append([]byte(nil), file...)
		k := rng.Intn(len(starts))
		end := len(file)
		if k+1 < len(starts) {
			end = starts[k+1]
		}
		flips := 1 + rng.Intn(3)
		for i := 0; i < flips; i++ {
			at := starts[k] + rng.Intn(end-starts[k])
			damaged[at] ^= byte(1 + rng.Intn(255))
		}
		label := fmt.Sprintf("trial %d: member %d damaged", trial, k)
		got, probs := readDamaged(t, "flipped.warc.gz", damaged)
		// Other members are untouched: all their documents come through,
		// unchanged; the damaged one's document is either intact (the flip
		// hit a header field nobody checks) or gone with a counted problem.
		c.checkDocs(t, label, got, func(i int) bool { return i != k })
		lost := true
		for _, r := range got {
			if c.index[r.ID] == k {
				lost = false
			}
		}
		_, wasDoc := c.docs[string(recordIDPattern.FindSubmatch(c.records[k])[1])]
		if wasDoc && lost && sumProblems(probs) == 0 {
			t.Errorf("%s: its document was lost without a counted problem", label)
		}
	}
}

func TestTruncatedPlainWARC(t *testing.T) {
	c := loadDamageCorpus(t)
	file := bytes.Join(c.records, nil)
	var ends []int
	pos := 0
	for _, r := range c.records {
		pos += len(r)
		ends = append(ends, pos)
	}
	rng := rand.New(rand.NewSource(3))
	for trial := 0; trial < 60; trial++ {
		x := 1 + rng.Intn(len(file)-1)
		got, probs := readDamaged(t, "cut.warc", file[:x])
		label := fmt.Sprintf("cut at %d", x)
		// Records that end before the cut are whole; the record cut (if
		// its block is incomplete) is dropped and counted.
		c.checkDocs(t, label, got, func(i int) bool { return ends[i] <= x })
		k := sort.SearchInts(ends, x+1) // record the cut falls in
		if k < len(ends) && ends[k] != x {
			start := 0
			if k > 0 {
				start = ends[k-1]
			}
			blockEnd := ends[k] - 4 // before CRLF CRLF
			if x > start && x < blockEnd && probs["truncated_record"] != 1 && probs["bad_header"] == 0 {
				// A cut inside the header or block must be counted.
				t.Errorf("%s (inside record %d): problems %v", label, k+1, probs)
			}
		}
	}
}

// TestWrongContentLength edits one response's Content-Length in a plain
// WARC: shorter, longer, far longer, past the end, not a number. The record
// is recovered from the real boundary (identical text) and counted; every
// other record is untouched.
func TestWrongContentLength(t *testing.T) {
	c := loadDamageCorpus(t)
	clPattern := regexp.MustCompile(`(?m)^Content-Length: (\d+)\r$`)
	// Record 3 is the first response; 26 is in the middle of the file; the
	// last response is near the end.
	var responses []int
	for i, r := range c.records {
		if bytes.Contains(r, []byte("WARC-Type: response\r\n")) {
			responses = append(responses, i)
		}
	}
	targets := []int{responses[0], responses[len(responses)/2], responses[len(responses)-1]}
	edits := []struct {
		name string
		edit func(n int) string
	}{
		{"2 short", func(n int) string { return strconv.Itoa(n - 2) }},
		{"500 short", func(n int) string { return strconv.Itoa(n - 500) }},
		{"2 long", func(n int) string { return strconv.Itoa(n + 2) }},
		{"4 long", func(n int) string { return strconv.Itoa(n + 4) }},
		{"5000 long", func(n int) string { return strconv.Itoa(n + 5000) }},
		{"past the end", func(n int) string { return strconv.Itoa(n + 10_000_000) }},
		{"over the size limit", func(n int) string { return "99999999999" }},
		{"not a number", func(n int) string { return "lots" }},
		{"zero", func(n int) string { return "0" }},
	}
	for _, k := range targets {
		id := string(recordIDPattern.FindSubmatch(c.records[k])[1])
		for _, e := range edits {
			label := fmt.Sprintf("record %d, Content-Length %s", k+1, e.name)
			recs := append([][]byte(nil), c.records...)
			m := clPattern.FindSubmatchIndex(recs[k])
			n, _ := strconv.Atoi(string(recs[k][m[2]:m[3]]))
			edited := append(append(append([]byte(nil), recs[k][:m[2]]...), e.edit(n)...), recs[k][m[3]:]...)
			recs[k] = edited
			got, probs := readDamaged(t, "cl.warc", bytes.Join(recs, nil))
			c.checkDocs(t, label, got, func(i int) bool { return i != k })
			if _, wasDoc := c.docs[id]; !wasDoc {
				continue
			}
			found := false
			for _, r := range got {
				found = found || r.ID == id
			}
			if !found {
				t.Errorf("%s: record not recovered; problems %v", label, probs)
			}
			if probs["wrong_content_length"]+probs["bad_content_length"] != 1 {
				t.Errorf("%s: problems %v, want the length counted once", label, probs)
			}
		}
	}
}

func TestGarbageBetweenRecords(t *testing.T) {
	c := loadDamageCorpus(t)
	recs := append([][]byte(nil), c.records...)
	recs = append(recs[:10], append([][]byte{[]byte("this is not a record\r\n\x00\x01\x02 binary junk\r\n\r\n")}, recs[10:]...)...)
	got, probs := readDamaged(t, "junk.warc", bytes.Join(recs, nil))
	c.checkDocs(t, "junk after record 10", got, func(int) bool { return true })
	// The junk follows record 10 directly, so it reads as the rest of
	// record 10's block: a wrong length, recovered at the next boundary.
	if probs["wrong_content_length"] != 1 || len(probs) != 1 {
		t.Errorf("problems %v", probs)
	}
	// Junk at the start of a file is skipped up to the first record.
	got, probs = readDamaged(t, "junk-first.warc", append([]byte("GARBAGE\n\n"), bytes.Join(c.records, nil)...))
	c.checkDocs(t, "junk first", got, func(int) bool { return true })
	if probs["garbage_between_records"] != 1 || len(probs) != 1 {
		t.Errorf("problems %v", probs)
	}
}

func TestSingleMemberGzipTruncated(t *testing.T) {
	c := loadDamageCorpus(t)
	plain := bytes.Join(c.records, nil)
	file := gzipBytes(t, plain)
	rng := rand.New(rand.NewSource(4))
	for trial := 0; trial < 30; trial++ {
		x := 20 + rng.Intn(len(file)-20)
		got, probs := readDamaged(t, "one-member.warc.gz", file[:x])
		// Without member boundaries the reader cannot tell how much of the
		// last decoded bytes to trust, so it keeps only what it can verify;
		// what it keeps is intact, and the cut is counted.
		c.checkDocs(t, fmt.Sprintf("cut at %d", x), got, func(int) bool { return false })
		if probs["truncated_gzip"] != 1 {
			t.Errorf("cut at %d: problems %v", x, probs)
		}
	}
}

func TestEmptyAndNonWARCFiles(t *testing.T) {
	tests := []struct {
		name string
		data []byte
		want map[string]int64
	}{
		{"empty.warc", nil, map[string]int64{"empty_file": 1}},
		{"empty.warc.gz", gzipBytes(t, nil), map[string]int64{"empty_file": 1}},
		{"text.warc", []byte("hello\nworld\n"), map[string]int64{"garbage_between_records": 1}},
		{"zeros.warc.gz", make([]byte, 100), map[string]int64{"garbage_between_records": 1}},
		{"header-only.warc", []byte("WARC/1.0\r\nWARC-Type: conversion\r\n"), map[string]int64{"bad_header": 0, "truncated_record": 1}},
	}
	for _, tt := range tests {
		_, probs := readDamaged(t, tt.name, tt.data)
		for k, v := range tt.want {
			if probs[k] != v {
				t.Errorf("%s: problems %v, want %v", tt.name, probs, tt.want)
			}
		}
	}
}

func conversionRecord(id, text string) string {
	return fmt.Sprintf("WARC/1.0\r\nWARC-Type: conversion\r\nWARC-Record-ID: <%s>\r\nWARC-Date: 2024-01-01T00:00:00Z\r\n"+
		"WARC-Target-URI: http://x.test/%s\r\nContent-Length: %d\r\n\r\n%s\r\n\r\n", id, id, len(text), text)
}

func TestRecordsOverLimits(t *testing.T) {
	big := strings.Repeat("0123456789abcdef", (2<<20)/16) // 2 MiB, over a 1 MiB limit
	hugeHeader := "WARC/1.0\r\nWARC-Type: conversion\r\nX-Junk: " + strings.Repeat("j", 2<<20) + "\r\nContent-Length: 3\r\n\r\nabc\r\n\r\n"
	manyFields := "WARC/1.0\r\nWARC-Type: conversion\r\n" + strings.Repeat("X-Field: 0123456789012345678901234567890123456789\r\n", 30000) + "Content-Length: 3\r\n\r\nabc\r\n\r\n"
	tests := []struct {
		name   string
		middle string
		kind   string
	}{
		{"block over max_record_mb", conversionRecord("big", big), "record_too_large"},
		{"header line over 64 KiB", hugeHeader, "bad_header"},
		{"header over 1 MiB", manyFields, "bad_header"},
	}
	for _, tt := range tests {
		for _, compress := range []bool{false, true} {
			data := []byte(conversionRecord("a", "first") + tt.middle + conversionRecord("b", "last"))
			name := "limits.warc"
			if compress {
				data, _ = gzipMembersOf(t, [][]byte{[]byte(conversionRecord("a", "first")), []byte(tt.middle), []byte(conversionRecord("b", "last"))})
				name += ".gz"
			}
			path := filepath.Join(t.TempDir(), name)
			if err := os.WriteFile(path, data, 0o644); err != nil {
				t.Fatal(err)
			}
			cfg := DefaultWARCConfig()
			cfg.Path, cfg.MaxRecordMB = path, 1
			src, err := NewWARCSource(cfg, nil)
			if err != nil {
				t.Fatal(err)
			}
			recs, report := readAllParts(t, src)
			got := problems(report)
			if len(recs) != 2 || recs[0].Text != "first" || recs[1].Text != "last" || got[tt.kind] != 1 || len(got) != 1 {
				t.Errorf("%s (%s): %d records, problems %v", tt.name, name, len(recs), got)
			}
		}
	}
}
