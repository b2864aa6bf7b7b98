package ingest

import (
	"bytes"
	"io"
)

// stream is a buffered reader over decompressed input that keeps *gapError
// in its place: bytes before a gap are all handed out before the gap is
// reported, exactly once, and reading then goes on with the bytes after it.
// It reads lines of bounded length without failing the whole input on a long
// one (unlike bufio.Scanner), and counts every byte it takes from below.
type stream struct {
	r          io.Reader
	buf        []byte
	start, end int
	pending    error // from r; gaps are one-shot, anything else is sticky
	total      int64 // bytes taken from r
	onBytes    func(n int64)
	scratch    []byte // a line longer than what is buffered is gathered here
	// cut is how many bytes of a line were lost when readLine last returned
	// a gap (0: the gap fell between lines).
	cut int
}

const streamBufferSize = 256 << 10

func newStream(r io.Reader, onBytes func(int64)) *stream {
	return &stream{r: r, buf: make([]byte, streamBufferSize), onBytes: onBytes}
}

// fill adds bytes to the buffer. It returns an error only when nothing was
// added: a gap is returned (and forgotten) only once the bytes before it have
// all been consumed.
func (s *stream) fill() error {
	if s.start == s.end {
		s.start, s.end = 0, 0
		if len(s.buf) > streamBufferSize { // grown by unread: give it back
			s.buf = make([]byte, streamBufferSize)
		}
	}
	if s.pending != nil {
		if s.start != s.end {
			return errMoreBeforeGap
		}
		err := s.pending
		if _, isGap := asGap(err); isGap {
			s.pending = nil
		}
		return err
	}
	if s.start > 0 {
		s.end = copy(s.buf, s.buf[s.start:s.end])
		s.start = 0
	}
	for tries := 0; tries < 100; tries++ {
		n, err := s.r.Read(s.buf[s.end:])
		s.total += int64(n)
		if n > 0 && s.onBytes != nil {
			s.onBytes(int64(n))
		}
		s.end += n
		if err != nil {
			s.pending = err
		}
		if n > 0 {
			return nil
		}
		if err != nil {
			return s.fill()
		}
	}
	s.pending = io.ErrNoProgress
	return s.fill()
}

// errMoreBeforeGap is internal to fill: callers consume what is buffered
// first, then call fill again to see the gap.
var errMoreBeforeGap = &gapError{Kind: "internal", Err: io.ErrNoProgress}

// offset is the position of the next byte to be consumed, counted in bytes
// taken from below (bytes given back by unread are counted again). When a
// gap has just been returned, offset minus the gap's Delivered is where the
// damaged member's bytes began.
func (s *stream) offset() int64 { return s.total - int64(s.end-s.start) }

// readLine returns the next line including its '\n' (the last line of the
// input may lack it). The slice is valid until the next call. A line longer
// than max is skipped to its end and reported with tooLong set. A gap inside
// a line loses the line: err is the gap. At the end of input err is io.EOF.
func (s *stream) readLine(max int) (line []byte, tooLong bool, err error) {
	s.scratch = s.scratch[:0]
	gathered := 0
	for {
		if i := bytes.IndexByte(s.buf[s.start:s.end], '\n'); i >= 0 {
			seg := s.buf[s.start : s.start+i+1]
			s.start += i + 1
			gathered += len(seg)
			if tooLong || gathered > max {
				return nil, true, nil
			}
			if len(s.scratch) == 0 {
				return seg, false, nil
			}
			s.scratch = append(s.scratch, seg...)
			return s.scratch, false, nil
		}
		seg := s.buf[s.start:s.end]
		gathered += len(seg)
		if gathered > max {
			tooLong = true
			s.scratch = s.scratch[:0]
		} else {
			s.scratch = append(s.scratch, seg...)
		}
		s.start = s.end
		if err := s.fill(); err != nil {
			if err == errMoreBeforeGap {
				continue
			}
			if err == io.EOF && gathered > 0 {
				if tooLong {
					return nil, true, nil
				}
				return s.scratch, false, nil
			}
			s.cut = gathered
			return nil, false, err
		}
	}
}

// readN appends the next n bytes to dst. When the input ends or a gap comes
// first it returns what it got with io.EOF (or io.ErrUnexpectedEOF after
// some bytes) or the gap.
func (s *stream) readN(dst []byte, n int64) ([]byte, error) {
	for n > 0 {
		if s.start == s.end {
			if err := s.fill(); err != nil {
				if err == errMoreBeforeGap {
					continue
				}
				return dst, err
			}
		}
		take := min(int64(s.end-s.start), n)
		dst = append(dst, s.buf[s.start:s.start+int(take)]...)
		s.start += int(take)
		n -= take
	}
	return dst, nil
}

// discard skips n bytes, like readN without keeping them.
func (s *stream) discard(n int64) (int64, error) {
	var skipped int64
	for n > 0 {
		if s.start == s.end {
			if err := s.fill(); err != nil {
				if err == errMoreBeforeGap {
					continue
				}
				return skipped, err
			}
		}
		take := min(int64(s.end-s.start), n)
		s.start += int(take)
		n -= take
		skipped += take
	}
	return skipped, nil
}

// unread puts b back in front of what is still to be read. It serves the rare
// recovery from a wrong Content-Length, when bytes read as one record turn
// out to start the next.
func (s *stream) unread(b []byte) {
	if len(b) == 0 {
		return
	}
	rest := s.buf[s.start:s.end]
	buf := make([]byte, max(len(b)+len(rest), streamBufferSize))
	n := copy(buf, b)
	n += copy(buf[n:], rest)
	s.buf, s.start, s.end = buf, 0, n
}
