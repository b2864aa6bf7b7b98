// Package samples gives tests, benchmarks and generators the real sample
// text bundled in testdata/corpus, wherever in the repository they run, so
// that nothing depends on files outside the repository.
package samples

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/klauspost/compress/gzip"
)

// Names of the bundled files, without the .gz suffix.
const (
	WikiText2Test  = "wikitext-2-test.txt"
	WikiText2Valid = "wikitext-2-valid.txt"
	ZhWiki         = "zhwiki-AA-wiki_00.txt"
	DolmaCC0091    = "dolma-cc_en_head-0091.jsonl"
	DolmaCC0174    = "dolma-cc_en_head-0174.jsonl"
)

// Dir returns the repository's testdata/corpus directory, found by walking up
// from the working directory to go.mod.
func Dir() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "testdata", "corpus"), nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("samples: no go.mod above the working directory")
		}
		dir = parent
	}
}

// ReadFile returns the decompressed content of a bundled file (a name above).
func ReadFile(name string) ([]byte, error) {
	dir, err := Dir()
	if err != nil {
		return nil, err
	}
	path := filepath.Join(dir, name+".gz")
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("samples: %w", err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, fmt.Errorf("samples: %s: %w", path, err)
	}
	return io.ReadAll(zr)
}

// Lines returns a bundled file's lines (without line ends).
func Lines(name string) ([]string, error) {
	data, err := ReadFile(name)
	if err != nil {
		return nil, err
	}
	data = bytes.TrimSuffix(data, []byte("\n"))
	return strings.Split(string(data), "\n"), nil
}
