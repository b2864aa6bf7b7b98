package ingest

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"

	kgzip "github.com/klauspost/compress/gzip"
)

// gapError marks a place in a decompressed stream where bytes are missing: a
// gzip member was corrupt or cut short. Reading goes on after it (at the next
// member that decodes), so a reader above can drop what the gap damaged and
// resynchronise instead of giving up on the file.
type gapError struct {
	// Kind is the problem kind that was counted: "corrupt_gzip" or
	// "truncated_gzip".
	Kind string
	// Delivered is how many bytes of the damaged member were handed out
	// before the damage was found: they may be wrong or incomplete, so
	// whatever they belong to must be dropped. Bytes before them came from
	// members that decoded and passed their CRC check.
	Delivered int64
	Err       error
}

func (g *gapError) Error() string { return g.Kind + ": " + g.Err.Error() }
func (g *gapError) Unwrap() error { return g.Err }

func asGap(err error) (*gapError, bool) {
	var g *gapError
	ok := errors.As(err, &g)
	return g, ok
}

// gzipDecoder is what both klauspost/compress/gzip and compress/gzip readers
// offer; the standard one is only used to benchmark against.
type gzipDecoder interface {
	io.Reader
	Reset(r io.Reader) error
	Multistream(ok bool)
}

// gzipMembers decompresses a file of concatenated gzip members (Common Crawl
// writes one WARC record per member) one member at a time, so that damage is
// confined to the member it is in. After a corrupt member it seeks back to
// just past that member's start and scans for the next gzip header; after a
// truncated one the file is over. Each damage is counted once (through
// problem) and surfaces once as a *gapError from Read.
type gzipMembers struct {
	src     io.ReadSeeker
	counted *countingReader // under br: its count minus br.Buffered() is the raw offset
	br      *bufio.Reader
	z       gzipDecoder
	problem func(kind string, err error)

	inMember    bool
	memberStart int64
	delivered   int64 // bytes handed out from the current member
	members     int64
	heldErr     error // a gap seen along with data; returned on the next Read
	done        bool
	readErr     error // the file itself failed to read; returned once done
}

// gzipMagic starts every gzip member: ID1, ID2 and CM=8 (deflate).
var gzipMagic = []byte{0x1f, 0x8b, 0x08}

func newGzipMembers(src io.ReadSeeker, z gzipDecoder, problem func(kind string, err error)) *gzipMembers {
	if z == nil {
		z = new(kgzip.Reader)
	}
	c := &countingReader{r: src}
	return &gzipMembers{src: src, counted: c, br: bufio.NewReaderSize(c, 256<<10), z: z, problem: problem}
}

func (g *gzipMembers) offset() int64 { return g.counted.n - int64(g.br.Buffered()) }

func (g *gzipMembers) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	for {
		if g.heldErr != nil {
			err := g.heldErr
			g.heldErr = nil
			return 0, err
		}
		if g.done {
			if g.readErr != nil {
				return 0, g.readErr
			}
			return 0, io.EOF
		}
		if !g.inMember {
			if err := g.startMember(); err != nil {
				return 0, err
			}
			continue
		}
		n, err := g.z.Read(p)
		g.delivered += int64(n)
		switch {
		case err == nil:
			return n, nil
		case err == io.EOF: // member complete and its CRC checked
			g.inMember = false
			if n > 0 {
				return n, nil
			}
			continue
		}
		gap := g.damaged(err)
		if n > 0 {
			g.heldErr = gap
			return n, nil
		}
		return 0, gap
	}
}

// startMember reads the next member's header; at the clean end of the file
// it marks the stream done.
func (g *gzipMembers) startMember() error {
	start := g.offset()
	if _, err := g.br.Peek(1); err != nil {
		g.done = true
		if err != io.EOF {
			g.readErr = err // a read error from the file itself
		}
		return nil
	}
	if err := g.z.Reset(g.br); err != nil {
		return g.damagedAt(start, 0, fmt.Errorf("no valid gzip header at byte %d: %w", start, err))
	}
	g.z.Multistream(false)
	g.inMember = true
	g.memberStart = start
	g.delivered = 0
	g.members++
	return nil
}

// damaged handles an error inside a member and returns the gap to report.
func (g *gzipMembers) damaged(err error) error {
	return g.damagedAt(g.memberStart, g.delivered, fmt.Errorf("gzip member at byte %d: %w", g.memberStart, err))
}

// damagedAt looks for the next member after a damaged one that started at
// start. Running out of input is a truncation only when no member follows:
// a corrupt header or block can make the decoder read on to the end of the
// file, and the members it ran over must not be lost.
func (g *gzipMembers) damagedAt(start, delivered int64, err error) error {
	g.inMember = false
	g.resync(start + 1)
	kind := "corrupt_gzip"
	if g.done && (errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)) {
		kind = "truncated_gzip"
	}
	return g.count(kind, err, delivered)
}

func (g *gzipMembers) count(kind string, err error, delivered int64) error {
	if g.problem != nil {
		g.problem(kind, err)
	}
	return &gapError{Kind: kind, Delivered: delivered, Err: err}
}

// resync positions the reader on the next gzip magic at or after offset
// from. Going back to just after the damaged member's start (rather than
// scanning on from wherever the decoder stopped) means a damaged member
// never swallows the good member after it. When no header follows, the
// stream is done.
func (g *gzipMembers) resync(from int64) {
	if _, err := g.src.Seek(from, io.SeekStart); err != nil {
		g.done, g.readErr = true, err
		return
	}
	g.counted.n = from
	g.br.Reset(g.counted)
	for {
		buf, err := g.br.Peek(g.br.Size())
		if i := bytes.Index(buf, gzipMagic); i >= 0 {
			_, _ = g.br.Discard(i)
			return
		}
		if err != nil { // EOF or a read error: no further member
			g.done = true
			if err != io.EOF {
				g.readErr = err
			}
			return
		}
		// Keep the last bytes: the magic may straddle the buffer's end.
		_, _ = g.br.Discard(len(buf) - len(gzipMagic) + 1)
	}
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
