package ingest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// warcHeader holds a record's named fields in file order. Field names are
// case-insensitive (WARC 1.1 §4); a repeated field keeps its first value.
type warcHeader struct {
	fields [][2]string
}

// Get returns the value of the first field called name, or "".
func (h *warcHeader) Get(name string) string {
	for _, f := range h.fields {
		if strings.EqualFold(f[0], name) {
			return f[1]
		}
	}
	return ""
}

// warcRecord is one WARC record as stored: its header and content block.
type warcRecord struct {
	Index   int    // 1-based position in the file, counting every record
	Version string // "1.0", "1.1", "0.17", "0.18"
	Header  warcHeader
	Block   []byte
}

// Limits a scanner applies to what it holds in memory.
const (
	defaultMaxRecordBytes = 64 << 20
	maxWARCHeaderBytes    = 1 << 20
	maxWARCHeaderLine     = 64 << 10
)

// warcScanner splits a decompressed WARC stream into records. It trusts
// Content-Length but checks it: a record is handed out only once the bytes
// after its block are a blank line and the next record's version line (or
// the end of the input), which also makes the gzip member that held it
// finish and pass its CRC check. A record whose length turns out wrong is
// recovered from the real record boundary; bytes that belong to no record
// are skipped up to the next version line. Every such case is counted.
type warcScanner struct {
	s        *stream
	file     string // for messages
	maxBlock int64
	want     func(*warcHeader) bool
	problem  func(kind, where string, err error)

	index int
	carry []byte // a version line read while looking for a block's end
	done  bool

	// pending is the last record read by its Content-Length, not yet handed
	// out: the bytes after it decide whether its length was right.
	pending       *warcRecord
	pendingWanted bool
	pendingEnd    int64  // stream offset just after its block
	trail         []byte // blank lines read since its block ended
	trailLines    int    // how many

	inGarbage bool // skipping bytes between records; counted once per run
	quiet     bool // the current garbage is what is left of a dropped record
	blockBuf  []byte
	headerBuf []byte
	ready     []*warcRecord // complete records waiting for Next
}

func newWARCScanner(s *stream, file string, maxBlock int64, want func(*warcHeader) bool, problem func(kind, where string, err error)) *warcScanner {
	if maxBlock <= 0 {
		maxBlock = defaultMaxRecordBytes
	}
	return &warcScanner{s: s, file: file, maxBlock: maxBlock, want: want, problem: problem}
}

func (w *warcScanner) where(index int, h *warcHeader) string {
	if h != nil {
		if id := h.Get("WARC-Record-ID"); id != "" {
			return fmt.Sprintf("%s record %d (%s)", w.file, index, id)
		}
	}
	return fmt.Sprintf("%s record %d", w.file, index)
}

// Next returns the next wanted record, io.EOF at the end of the input, or an
// error when the input itself cannot be read.
func (w *warcScanner) Next() (*warcRecord, error) {
	for {
		if len(w.ready) > 0 {
			rec := w.ready[0]
			w.ready = w.ready[1:]
			return rec, nil
		}
		if w.done {
			return nil, io.EOF
		}
		line, tooLong, err := w.nextLine()
		if err != nil {
			if fatal := w.lineError(err); fatal != nil {
				return nil, fatal
			}
			continue
		}
		if !tooLong {
			if isBlankLine(line) {
				if w.pending != nil && len(w.trail) < 4096 {
					w.trail = append(w.trail, line...)
					w.trailLines++
				}
				continue
			}
			if version, ok := parseVersionLine(line); ok {
				if w.pending != nil && w.trailLines < 2 {
					w.lengthTakesTrailer()
				}
				w.release(w.takePending())
				w.inGarbage, w.quiet = false, false
				w.readRecord(version)
				continue
			}
		}
		if w.pending != nil {
			w.recoverLength(line, tooLong)
			continue
		}
		if !w.inGarbage {
			w.inGarbage = true
			if !w.quiet {
				w.problem("garbage_between_records", fmt.Sprintf("%s after record %d", w.file, w.index),
					errors.New("bytes that are not a WARC record were skipped up to the next record"))
			}
		}
	}
}

// lengthTakesTrailer handles a version line after a pending block with
// fewer than the two blank lines (CRLF CRLF) that end a record: the
// Content-Length counted some of them. They come off the block again.
func (w *warcScanner) lengthTakesTrailer() {
	rec := w.pending
	w.problem("wrong_content_length", w.where(rec.Index, &rec.Header),
		fmt.Errorf("Content-Length %d includes blank lines that end the record", len(rec.Block)))
	for i := w.trailLines; i < 2; i++ {
		rec.Block = trimOneLineEnd(rec.Block)
	}
}

// release queues a complete record for Next when it is wanted.
func (w *warcScanner) release(rec *warcRecord, wanted bool) {
	if rec != nil && wanted {
		w.ready = append(w.ready, rec)
	}
}

// nextLine reads the next line between records. While a record is pending
// the line may be the rest of its block (a Content-Length too short), so it
// may be as long as a block.
func (w *warcScanner) nextLine() ([]byte, bool, error) {
	if w.carry != nil {
		line := w.carry
		w.carry = nil
		return line, false, nil
	}
	limit := maxWARCHeaderLine
	if w.pending != nil {
		limit = int(w.maxBlock)
	}
	return w.s.readLine(limit)
}

// lineError handles the end of input, a gap or a read error met between
// records; it may release the pending record.
func (w *warcScanner) lineError(err error) (fatal error) {
	if gap, ok := asGap(err); ok {
		w.inGarbage, w.quiet = true, true
		if w.pending == nil {
			return nil
		}
		damagedFrom := w.s.offset() - gap.Delivered
		rec, wanted := w.takePending()
		if damagedFrom < w.pendingEnd {
			w.problem(recordKindForGap(gap), w.where(rec.Index, &rec.Header), gap)
			return nil
		}
		w.release(rec, wanted)
		return nil
	}
	w.done = true
	if !errors.Is(err, io.EOF) {
		w.takePending()
		return err
	}
	w.release(w.takePending())
	return nil
}

func (w *warcScanner) takePending() (*warcRecord, bool) {
	rec, wanted := w.pending, w.pendingWanted
	w.pending, w.trail, w.trailLines = nil, w.trail[:0], 0
	return rec, wanted
}

// readRecord reads the header and block of the record whose version line was
// just read, leaving it pending, or counts why it was dropped.
func (w *warcScanner) readRecord(version string) {
	w.index++
	rec := &warcRecord{Index: w.index, Version: version}
	if err := w.readHeader(&rec.Header); err != nil {
		w.drop(rec, err, "bad_header")
		return
	}
	wanted := w.want(&rec.Header)
	length, lengthErr := parseContentLength(rec.Header.Get("Content-Length"))
	if lengthErr != nil {
		w.problem("bad_content_length", w.where(rec.Index, &rec.Header), lengthErr)
		kept, _ := w.scanBlock(rec, wanted, nil)
		w.release(kept, true)
		return
	}
	if length > w.maxBlock {
		// Too large to hold, or a damaged length: either way the record
		// ends at the next boundary, which scanning finds without holding
		// more than the limit (and without skipping good records after a
		// length that is merely wrong).
		kept, found := w.scanBlock(rec, wanted, nil)
		if found {
			w.problem("wrong_content_length", w.where(rec.Index, &rec.Header),
				fmt.Errorf("Content-Length %d, but the record ends after %d bytes", length, len(rec.Block)))
		}
		w.release(kept, true)
		return
	}
	var buf []byte
	if wanted {
		buf = make([]byte, 0, length)
	} else {
		buf = w.blockBuf[:0]
	}
	block, err := w.s.readN(buf, length)
	if !wanted {
		w.blockBuf = block[:0]
	}
	rec.Block = block
	if err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			// A Content-Length too long for the last records of a file
			// reads past the end: the real boundaries may be in the block.
			if end, ok := findRecordBoundary(block); ok {
				w.problem("wrong_content_length", w.where(rec.Index, &rec.Header),
					fmt.Errorf("Content-Length %d runs past the next record", length))
				// Give back the trailer too, so the next record is read as
				// if the length had been right.
				w.s.unread(append([]byte(nil), block[end:]...))
				rec.Block = block[:end]
				w.setPending(rec, wanted, true)
				return
			}
		}
		w.drop(rec, err, "")
		return
	}
	w.setPending(rec, wanted, false)
}

func (w *warcScanner) setPending(rec *warcRecord, wanted, recovered bool) {
	w.pending, w.pendingWanted, w.pendingEnd = rec, wanted, w.s.offset()
	w.trail, w.trailLines = w.trail[:0], 0
	if recovered {
		// Its end was found from the boundary itself: nothing left to check.
		w.pendingEnd = -1 << 62
	}
}

// drop counts a record lost to the end of input, a gap, or a bad header.
func (w *warcScanner) drop(rec *warcRecord, err error, fallback string) {
	w.inGarbage, w.quiet = true, true
	kind := fallback
	switch gap, isGap := asGap(err); {
	case isGap:
		kind = recordKindForGap(gap)
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		kind = "truncated_record"
		w.done = true
	case kind == "":
		kind = "unreadable_record"
	}
	w.problem(kind, w.where(rec.Index, &rec.Header), err)
}

// recordKindForGap names what happened to a record that a gap damaged.
func recordKindForGap(gap *gapError) string {
	if strings.HasPrefix(gap.Kind, "truncated_") {
		return "truncated_record"
	}
	return "corrupt_record"
}

// readHeader reads named fields up to the blank line that ends them. The
// header's bytes become one string that every field slices, rather than two
// strings per field: WET records are small and many.
func (w *warcScanner) readHeader(h *warcHeader) error {
	raw := w.headerBuf[:0]
	for {
		line, tooLong, err := w.s.readLine(maxWARCHeaderLine)
		if err != nil {
			return err
		}
		if tooLong {
			return fmt.Errorf("header line longer than %d bytes", maxWARCHeaderLine)
		}
		if len(raw)+len(line) > maxWARCHeaderBytes {
			return fmt.Errorf("header longer than %d bytes", maxWARCHeaderBytes)
		}
		if isBlankLine(line) {
			break
		}
		raw = append(raw, line...)
	}
	w.headerBuf = raw
	parseFields(string(raw), h)
	return nil
}

// parseFields appends the "Name: value" lines of text to h; a line that
// starts with white space continues the previous value, and a line without
// a colon is skipped (lenient, like other readers).
func parseFields(text string, h *warcHeader) {
	for len(text) > 0 {
		line, rest, _ := strings.Cut(text, "\n")
		text = rest
		line = strings.TrimSuffix(line, "\r")
		if line == "" {
			continue
		}
		if (line[0] == ' ' || line[0] == '\t') && len(h.fields) > 0 {
			last := &h.fields[len(h.fields)-1]
			last[1] += " " + strings.TrimSpace(line)
			continue
		}
		name, value, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		h.fields = append(h.fields, [2]string{strings.TrimSpace(name), strings.TrimSpace(value)})
	}
}

// recoverLength handles a line that follows a pending record's block but is
// neither blank nor a version line: the record's Content-Length was wrong.
// When too long, the next record starts inside the block; when too short,
// the block goes on up to the next boundary. It returns the recovered record
// when it is wanted.
func (w *warcScanner) recoverLength(line []byte, lineTooLong bool) {
	rec, wanted := w.pending, w.pendingWanted
	declared := len(rec.Block)
	if end, ok := findRecordBoundary(rec.Block); ok {
		w.problem("wrong_content_length", w.where(rec.Index, &rec.Header),
			fmt.Errorf("Content-Length %d runs %d bytes into the next record", declared, declared-end))
		rest := append([]byte(nil), rec.Block[end:]...) // from the trailer on
		rest = append(rest, w.trail...)
		if !lineTooLong {
			rest = append(rest, line...)
		}
		w.takePending()
		w.s.unread(rest)
		rec.Block = rec.Block[:end:end]
		w.release(rec, wanted)
		return
	}
	w.problem("wrong_content_length", w.where(rec.Index, &rec.Header),
		fmt.Errorf("Content-Length %d ends before the record does", declared))
	head := append(append([]byte(nil), rec.Block...), w.trail...)
	if lineTooLong {
		// A line too long to hold makes the record too large to recover.
		head = nil
	} else {
		head = append(head, line...)
	}
	w.takePending()
	if head == nil {
		w.problem("record_too_large", w.where(rec.Index, &rec.Header), errors.New("could not find its end within the size limit"))
		w.inGarbage, w.quiet = true, true
		return
	}
	kept, _ := w.scanBlock(rec, wanted, head)
	w.release(kept, true)
}

// scanBlock finds a block's end without a usable Content-Length: it reads
// lines up to a blank line followed by a version line (kept for the next
// record) or the end of the input. head is what is already known to belong
// to the block. A found record is complete, so it is returned (when wanted)
// rather than left pending; found says whether its end was found within the
// size limit.
func (w *warcScanner) scanBlock(rec *warcRecord, wanted bool, head []byte) (kept *warcRecord, found bool) {
	block := head
	afterBlank := head == nil || endsWithBlankLine(head)
	tooLarge := false
	for {
		limit := maxWARCHeaderLine
		if !tooLarge {
			limit = max(limit, int(w.maxBlock)-len(block))
		}
		line, tooLong, err := w.s.readLine(limit)
		if err != nil {
			if errors.Is(err, io.EOF) {
				w.done = true
				break
			}
			w.drop(rec, err, "")
			return nil, false
		}
		if !tooLong && afterBlank {
			if _, ok := parseVersionLine(line); ok {
				w.carry = append([]byte(nil), line...)
				break
			}
		}
		afterBlank = !tooLong && isBlankLine(line)
		if tooLarge {
			continue
		}
		if tooLong || int64(len(block)+len(line)) > w.maxBlock {
			tooLarge, block = true, nil
			continue
		}
		block = append(block, line...)
	}
	if tooLarge {
		w.problem("record_too_large", w.where(rec.Index, &rec.Header), fmt.Errorf("content block over the limit of %d bytes", w.maxBlock))
		w.quiet = true
		return nil, false
	}
	rec.Block = trimRecordTrailer(block)
	if wanted {
		return rec, true
	}
	return nil, true
}

// findRecordBoundary looks in block for the end of a record followed by the
// start of the next: a blank line, then a WARC version line. end is where
// the first record's block ends (its trailer stripped).
func findRecordBoundary(block []byte) (end int, ok bool) {
	from := 0
	for {
		i := bytes.Index(block[from:], []byte("\nWARC/"))
		if i < 0 {
			return 0, false
		}
		nl := from + i // the '\n' before "WARC/"
		from = nl + 1
		lineEnd := bytes.IndexByte(block[nl+1:], '\n')
		var line []byte
		if lineEnd < 0 {
			line = block[nl+1:]
		} else {
			line = block[nl+1 : nl+1+lineEnd+1]
		}
		if _, isVersion := parseVersionLine(line); !isVersion && !(lineEnd < 0 && isVersionPrefix(line)) {
			continue
		}
		before := block[:nl+1]
		if !endsWithBlankLine(before) {
			continue
		}
		return len(trimRecordTrailer(before)), true
	}
}

// parseVersionLine recognises "WARC/1.0", "WARC/1.1", "WARC/0.17" and the
// like, with or without CR before the LF.
func parseVersionLine(line []byte) (string, bool) {
	line = trimEOL(line)
	rest, ok := bytes.CutPrefix(line, []byte("WARC/"))
	if !ok || len(rest) < 3 || len(rest) > 8 {
		return "", false
	}
	major, minor, ok := bytes.Cut(rest, []byte{'.'})
	if !ok || !allDigits(major) || !allDigits(minor) {
		return "", false
	}
	return string(rest), true
}

// isVersionPrefix accepts a version line cut off at the end of a block
// ("WARC/1."), so a boundary right at the end of a short read still counts.
func isVersionPrefix(line []byte) bool {
	rest, ok := bytes.CutPrefix(line, []byte("WARC/"))
	if !ok {
		return false
	}
	for _, c := range rest {
		if (c < '0' || c > '9') && c != '.' {
			return false
		}
	}
	return true
}

func allDigits(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func parseContentLength(v string) (int64, error) {
	if v == "" {
		return 0, errors.New("no Content-Length")
	}
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("Content-Length %q is not a byte count", v)
	}
	return n, nil
}

func trimEOL(line []byte) []byte {
	line = bytes.TrimSuffix(line, []byte{'\n'})
	return bytes.TrimSuffix(line, []byte{'\r'})
}

func isBlankLine(line []byte) bool { return len(trimEOL(line)) == 0 }

// endsWithBlankLine tells whether the last line in b is empty: b ends in
// "\n\n" or "\n\r\n", or b is itself one empty line.
func endsWithBlankLine(b []byte) bool {
	return bytes.HasSuffix(b, []byte("\n\n")) || bytes.HasSuffix(b, []byte("\n\r\n")) ||
		bytes.Equal(b, []byte("\r\n")) || bytes.Equal(b, []byte("\n"))
}

// trimOneLineEnd removes a final "\r\n" or "\n".
func trimOneLineEnd(b []byte) []byte {
	if bytes.HasSuffix(b, []byte("\r\n")) {
		return b[:len(b)-2]
	}
	return bytes.TrimSuffix(b, []byte("\n"))
}

// trimRecordTrailer removes the blank line pair (CRLF CRLF) that ends a
// record, when present.
func trimRecordTrailer(b []byte) []byte {
	for _, t := range [][]byte{[]byte("\r\n\r\n"), []byte("\n\n"), []byte("\r\n"), []byte("\n")} {
		if bytes.HasSuffix(b, t) {
			return b[:len(b)-len(t)]
		}
	}
	return b
}
