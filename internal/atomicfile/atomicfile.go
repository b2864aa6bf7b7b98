// Package atomicfile writes files that appear under their final name only
// when they are complete: the bytes go to a temporary file in the same
// directory, which is synced, renamed over the final name, and the directory
// synced, so after a crash a file is either absent or whole. Every output of
// corpusflow (JSONL, shards, manifests, reports, checkpoints, vocabularies)
// is written this way.
package atomicfile

import (
	"os"
	"path/filepath"
	"strings"
)

// TempPrefix starts every temporary file's name, so readers can ignore them
// and a resumed run can sweep up what a crash left behind.
const TempPrefix = ".tmp-"

// IsTemp reports whether a file name is one of this package's temporaries.
func IsTemp(name string) bool { return strings.HasPrefix(filepath.Base(name), TempPrefix) }

// File is an output being written.
type File struct {
	final string
	tmp   *os.File
	done  bool
}

// Create starts writing path, creating its directory.
func Create(path string) (*File, error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	tmp, err := os.CreateTemp(dir, TempPrefix+filepath.Base(path)+"-*")
	if err != nil {
		return nil, err
	}
	return &File{final: path, tmp: tmp}, nil
}

// Write writes to the temporary file.
func (f *File) Write(p []byte) (int, error) { return f.tmp.Write(p) }

// Name is the final path.
func (f *File) Name() string { return f.final }

// TempName is the temporary path being written.
func (f *File) TempName() string { return f.tmp.Name() }

// Commit syncs and closes the file, makes it readable like any file the user
// creates (CreateTemp makes it 0600), renames it to its final name and syncs
// the directory so the rename survives a crash too.
func (f *File) Commit() error {
	if f.done {
		return os.ErrClosed
	}
	f.done = true
	err := f.tmp.Sync()
	if err == nil {
		err = f.tmp.Chmod(0o644)
	}
	if cerr := f.tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.tmp.Name(), f.final)
	}
	if err != nil {
		os.Remove(f.tmp.Name())
		return err
	}
	return SyncDir(filepath.Dir(f.final))
}

// Abort discards the temporary file; a no-op after Commit.
func (f *File) Abort() {
	if f.done {
		return
	}
	f.done = true
	f.tmp.Close()
	os.Remove(f.tmp.Name())
}

// WriteFile writes data to path atomically.
func WriteFile(path string, data []byte) error {
	f, err := Create(path)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Abort()
		return err
	}
	return f.Commit()
}

// SyncDir makes renames and removals in dir durable.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
