package ingest

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/bmatcuk/doublestar/v4"
)

// inputFile is one file an input path expanded to.
type inputFile struct {
	// Path is the file as opened (absolute once the pipeline parser has
	// resolved it); messages name it.
	Path string
	// Rel is the file relative to the input's root (the directory given, the
	// fixed prefix of a glob, or the file's own directory). Record ids and
	// Record.Source use it, so outputs do not depend on where a checkout lives.
	Rel  string
	Size int64
}

// expandInput turns a file, a directory or a glob (with ** for any depth)
// into files, sorted by their relative name so every run reads them in the
// same order. A directory contributes the files below it whose names end in
// one of exts (any file when exts is empty); a glob or a file name is taken
// as the user wrote it. Matching nothing is an error: an empty input is
// almost always a typo, not an intent.
func expandInput(path string, exts []string) ([]inputFile, error) {
	if path == "" {
		return nil, errors.New("no input path given")
	}
	if strings.ContainsAny(path, "*?[") {
		return expandGlob(path)
	}
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !st.IsDir() {
		return []inputFile{{Path: path, Rel: filepath.Base(path), Size: st.Size()}}, nil
	}
	return expandDir(path, exts)
}

func expandGlob(pattern string) ([]inputFile, error) {
	base, rest := doublestar.SplitPattern(filepath.ToSlash(pattern))
	if !doublestar.ValidatePattern(rest) {
		return nil, fmt.Errorf("%q: bad glob pattern", pattern)
	}
	base = filepath.FromSlash(base)
	names, err := doublestar.Glob(os.DirFS(base), rest, doublestar.WithFilesOnly(), doublestar.WithNoHidden())
	if err != nil {
		return nil, fmt.Errorf("%q: %w", pattern, err)
	}
	var files []inputFile
	for _, rel := range names {
		p := filepath.Join(base, filepath.FromSlash(rel))
		st, err := os.Stat(p)
		if err != nil || !st.Mode().IsRegular() {
			continue
		}
		files = append(files, inputFile{Path: p, Rel: rel, Size: st.Size()})
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("%q matches no file", pattern)
	}
	sortFiles(files)
	return files, nil
}

func expandDir(dir string, exts []string) ([]inputFile, error) {
	var files []inputFile
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if p != dir && strings.HasPrefix(d.Name(), ".") {
				return filepath.SkipDir // .git, .cache: never corpus input
			}
			return nil
		}
		if strings.HasPrefix(d.Name(), ".") || !hasAnySuffix(d.Name(), exts) {
			return nil
		}
		info, err := d.Info()
		if err != nil || !info.Mode().IsRegular() {
			return nil
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		files = append(files, inputFile{Path: p, Rel: filepath.ToSlash(rel), Size: info.Size()})
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("directory %s holds no file ending in %s", dir, strings.Join(exts, ", "))
	}
	sortFiles(files)
	return files, nil
}

func sortFiles(files []inputFile) {
	sort.Slice(files, func(i, j int) bool { return files[i].Rel < files[j].Rel })
}

func hasAnySuffix(name string, suffixes []string) bool {
	if len(suffixes) == 0 {
		return true
	}
	lower := strings.ToLower(name)
	for _, s := range suffixes {
		if strings.HasSuffix(lower, s) {
			return true
		}
	}
	return false
}

// resolveInput makes a relative path relative to the pipeline's directory.
// The pipeline parser already does this; sources built directly (tests,
// other programs) get the same behaviour.
func resolveInput(path, baseDir string) string {
	if path == "" || filepath.IsAbs(path) || baseDir == "" {
		return path
	}
	return filepath.Join(baseDir, path)
}
