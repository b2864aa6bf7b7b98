package sinks

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"

	"github.com/corpusflow/corpusflow/internal/atomicfile"
)

// WriteFileAtomic writes data to path atomically (see internal/atomicfile).
func WriteFileAtomic(path string, data []byte) error { return atomicfile.WriteFile(path, data) }

// compressedWriter is an atomic file with compression chosen by its
// extension (.gz, .zst, or none) and a buffer in front.
type compressedWriter struct {
	file  *atomicfile.File
	codec io.WriteCloser // nil when uncompressed
	buf   *bufio.Writer
}

func createCompressed(path string) (*compressedWriter, error) {
	f, err := atomicfile.Create(path)
	if err != nil {
		return nil, err
	}
	w := &compressedWriter{file: f}
	var under io.Writer = f
	switch {
	case strings.HasSuffix(path, ".gz"):
		gz, _ := gzip.NewWriterLevel(f, gzip.DefaultCompression)
		w.codec, under = gz, gz
	case strings.HasSuffix(path, ".zst"):
		// One encoder goroutine keeps the output byte-identical run to run.
		zw, err := zstd.NewWriter(f, zstd.WithEncoderConcurrency(1), zstd.WithEncoderLevel(zstd.SpeedDefault))
		if err != nil {
			f.Abort()
			return nil, err
		}
		w.codec, under = zw, zw
	}
	w.buf = bufio.NewWriterSize(under, 256<<10)
	return w, nil
}

func (w *compressedWriter) Write(p []byte) (int, error) { return w.buf.Write(p) }

func (w *compressedWriter) Close() error {
	if err := w.buf.Flush(); err != nil {
		w.file.Abort()
		return fmt.Errorf("%s: %w", w.file.Name(), err)
	}
	if w.codec != nil {
		if err := w.codec.Close(); err != nil {
			w.file.Abort()
			return fmt.Errorf("%s: %w", w.file.Name(), err)
		}
	}
	if err := w.file.Commit(); err != nil {
		return fmt.Errorf("%s: %w", w.file.Name(), err)
	}
	return nil
}
