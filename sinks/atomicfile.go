package sinks

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// AtomicFile is a file that becomes visible under its final name only when
// Commit succeeds: it is written to a temporary name in the same directory,
// synced, and renamed. A crash leaves at most a temporary file, never a half
// file under the real name.
type AtomicFile struct {
	final string
	tmp   *os.File
}

// CreateAtomic starts writing path (creating its directory).
func CreateAtomic(path string) (*AtomicFile, error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return nil, err
	}
	return &AtomicFile{final: path, tmp: tmp}, nil
}

// Write writes to the temporary file.
func (f *AtomicFile) Write(p []byte) (int, error) { return f.tmp.Write(p) }

// Name is the final path.
func (f *AtomicFile) Name() string { return f.final }

// Commit syncs, closes and renames the file to its final name, then syncs
// the directory so the rename itself survives a crash.
func (f *AtomicFile) Commit() error {
	if err := f.tmp.Sync(); err != nil {
		f.Abort()
		return err
	}
	// CreateTemp makes the file private (0600); outputs are meant to be read
	// by other users and tools, like any file the user creates.
	if err := f.tmp.Chmod(0o644); err != nil {
		f.Abort()
		return err
	}
	if err := f.tmp.Close(); err != nil {
		os.Remove(f.tmp.Name())
		return err
	}
	if err := os.Rename(f.tmp.Name(), f.final); err != nil {
		os.Remove(f.tmp.Name())
		return err
	}
	if d, err := os.Open(filepath.Dir(f.final)); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// Abort discards the temporary file.
func (f *AtomicFile) Abort() {
	f.tmp.Close()
	os.Remove(f.tmp.Name())
}

// WriteFileAtomic writes data to path atomically.
func WriteFileAtomic(path string, data []byte) error {
	f, err := CreateAtomic(path)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Abort()
		return err
	}
	return f.Commit()
}

// compressedWriter is an atomic file with compression chosen by its
// extension (.gz, .zst, or none) and a buffer in front.
type compressedWriter struct {
	file  *AtomicFile
	codec io.WriteCloser // nil when uncompressed
	buf   *bufio.Writer
}

func createCompressed(path string) (*compressedWriter, error) {
	f, err := CreateAtomic(path)
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
