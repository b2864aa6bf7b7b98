package ingest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/klauspost/compress/zstd"
)

// Compression formats, recognised by their magic bytes rather than the file
// name: crawls get renamed, and a ".gz" that is not gzip should be read as
// what it is.
const (
	formatPlain = "plain"
	formatGzip  = "gzip"
	formatZstd  = "zstd"
)

var zstdMagic = []byte{0x28, 0xb5, 0x2f, 0xfd}

// maxZstdWindow bounds the memory a zstd frame may ask for (zstd --long=27);
// a file that needs more is reported as corrupt_zstd instead of taking
// gigabytes.
const maxZstdWindow = 128 << 20

// openedInput is an input opened for reading its decompressed bytes.
type openedInput struct {
	Format string
	// R yields decompressed bytes. Damage in compressed input surfaces as a
	// *gapError (after being counted); reading goes on after it where the
	// format allows (gzip members), else the input ends.
	R      io.Reader
	closer []func()
}

func (o *openedInput) Close() {
	for _, c := range o.closer {
		c()
	}
}

// openInput opens path and picks its decompressor from the first bytes.
// problem counts damage to the compressed stream. An empty file yields an
// empty reader; callers report that as empty_file.
func openInput(path string, problem func(kind string, err error)) (*openedInput, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	in, err := openReader(f, problem)
	if err != nil {
		f.Close()
		return nil, err
	}
	in.closer = append(in.closer, func() { f.Close() })
	return in, nil
}

// openReader is openInput for anything seekable (a file; bytes in tests).
func openReader(rs io.ReadSeeker, problem func(kind string, err error)) (*openedInput, error) {
	var magic [4]byte
	n, err := io.ReadFull(rs, magic[:])
	if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
		return nil, err
	}
	if _, err := rs.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	in := &openedInput{Format: sniffFormat(magic[:n]), R: rs}
	switch in.Format {
	case formatGzip:
		in.R = newGzipMembers(rs, nil, problem)
	case formatZstd:
		d, err := zstd.NewReader(rs, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxWindow(maxZstdWindow), zstd.WithDecoderLowmem(true))
		if err != nil {
			return nil, fmt.Errorf("zstd: %w", err)
		}
		in.R = &endOnDamage{r: d, kind: "corrupt_zstd", problem: problem}
		in.closer = append(in.closer, d.Close)
	}
	return in, nil
}

func sniffFormat(magic []byte) string {
	switch {
	case len(magic) > 0 && bytes.HasPrefix(gzipMagic, magic[:min(len(magic), 3)]):
		// Also a file cut inside the gzip magic itself: read as the
		// truncated gzip it is.
		return formatGzip
	case len(magic) >= 4 && string(magic[:4]) == string(zstdMagic):
		return formatZstd
	}
	return formatPlain
}

// endOnDamage turns a decompressor's error into a counted gap followed by
// the end of the input, for formats whose streams cannot be resumed after
// damage (a zstd frame has no resync point a reader can trust).
type endOnDamage struct {
	r         io.Reader
	kind      string
	problem   func(kind string, err error)
	delivered int64
	held      error // a gap found along with data, returned next
	ended     bool
}

func (e *endOnDamage) Read(p []byte) (int, error) {
	if e.held != nil {
		err := e.held
		e.held, e.ended = nil, true
		return 0, err
	}
	if e.ended {
		return 0, io.EOF
	}
	n, err := e.r.Read(p)
	e.delivered += int64(n)
	if err == nil || err == io.EOF {
		return n, err
	}
	gap := &gapError{Kind: e.kind, Delivered: e.delivered, Err: err}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		// Cut short: what came before decoded fine; only what was in
		// progress is lost.
		gap.Kind, gap.Delivered = "truncated_"+e.kind[len("corrupt_"):], 0
	}
	if e.problem != nil {
		e.problem(gap.Kind, err)
	}
	if n > 0 {
		e.held = gap
		return n, nil
	}
	e.ended = true
	return 0, gap
}
