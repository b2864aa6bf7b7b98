package pack

import (
	"os"
	"path/filepath"
	"strings"
)

// Temporary files start with this prefix, so a reader never mistakes one for
// a shard and a fresh or resumed run can sweep up what a crash left behind.
const tempPrefix = ".tmp-"

// createTemp opens a temporary file in dir for what will become name.
func createTemp(dir, name string) (*os.File, error) {
	return os.CreateTemp(dir, tempPrefix+name+"-*")
}

// commitTemp syncs and closes f, renames it to dir/name and syncs dir, so
// that after a crash the file is either absent or complete.
func commitTemp(f *os.File, dir, name string) error {
	if err := f.Sync(); err != nil {
		f.Close()
		os.Remove(f.Name())
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(f.Name())
		return err
	}
	if err := os.Rename(f.Name(), filepath.Join(dir, name)); err != nil {
		os.Remove(f.Name())
		return err
	}
	return syncDir(dir)
}

// syncDir makes renames and removals in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// writeFileAtomic writes data to path through a synced temporary file.
func writeFileAtomic(path string, data []byte) error {
	dir, name := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := createTemp(dir, name)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(f.Name())
		return err
	}
	return commitTemp(f, dir, name)
}

// isTemp reports whether a directory entry is one of our temporary files.
func isTemp(name string) bool { return strings.HasPrefix(name, tempPrefix) }
