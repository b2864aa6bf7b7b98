package ingest

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/corpusflow/corpusflow/flow"
)

func TestExpandInput(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"b.warc.gz", "a.warc.gz", "sub/c.warc.gz", "sub/deep/d.WARC.GZ", "notes.md", ".hidden/e.warc.gz", "sub/.f.warc.gz"} {
		writeFile(t, dir, name, []byte("x"))
	}
	rels := func(files []inputFile) []string {
		var out []string
		for _, f := range files {
			out = append(out, f.Rel)
		}
		return out
	}
	tests := []struct {
		name    string
		path    string
		want    []string
		wantErr string
	}{
		{"file", filepath.Join(dir, "sub", "c.warc.gz"), []string{"c.warc.gz"}, ""},
		{"directory, by extension, hidden skipped, sorted", dir, []string{"a.warc.gz", "b.warc.gz", "sub/c.warc.gz", "sub/deep/d.WARC.GZ"}, ""},
		{"glob", filepath.Join(dir, "*.warc.gz"), []string{"a.warc.gz", "b.warc.gz"}, ""},
		{"doublestar glob", filepath.Join(dir, "**", "*.gz"), []string{"a.warc.gz", "b.warc.gz", "sub/c.warc.gz"}, ""},
		{"glob picks any name", filepath.Join(dir, "*.md"), []string{"notes.md"}, ""},
		{"glob matching nothing", filepath.Join(dir, "*.jsonl"), nil, "matches no file"},
		{"missing file", filepath.Join(dir, "nope.warc"), nil, "no such file"},
		{"directory without inputs", filepath.Join(dir, ".hidden", "none"), nil, "no such file"},
		{"bad pattern", filepath.Join(dir, "[.warc"), nil, "bad glob pattern"},
	}
	for _, tt := range tests {
		files, err := expandInput(tt.path, warcExtensions)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%s: error %v, want %q", tt.name, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if got := rels(files); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
	}
	empty := filepath.Join(dir, "empty")
	os.Mkdir(empty, 0o755)
	if _, err := expandInput(empty, warcExtensions); err == nil || !strings.Contains(err.Error(), "holds no file ending in .warc") {
		t.Errorf("empty directory: %v", err)
	}
}

func TestPartsErrorWhenNothingMatches(t *testing.T) {
	src := warcSource(t, filepath.Join(t.TempDir(), "*.warc.gz"))
	if _, err := src.Parts(); err == nil || !strings.Contains(err.Error(), "matches no file") {
		t.Errorf("Parts: %v", err)
	}
}

// A file that cannot be read is counted by the engine; the other files are
// read all the same.
func TestUnreadablePartDoesNotStopOthers(t *testing.T) {
	dir := t.TempDir()
	wet := mustRead(t, testdata("warc", "whirlwind.warc.wet.gz"))
	writeFile(t, dir, "1.warc.wet.gz", wet)
	gone := writeFile(t, dir, "2.warc.wet.gz", wet)
	writeFile(t, dir, "3.warc.wet.gz", wet)
	src := warcSource(t, dir)
	parts, err := src.Parts()
	if err != nil || len(parts) != 3 {
		t.Fatalf("%d parts, %v", len(parts), err)
	}
	os.Remove(gone)
	stats, err := flow.Run(context.Background(), flow.Plan{
		Sources: []flow.NamedSource{{Name: "w", Source: fixedParts(parts)}},
		Sinks:   []flow.NamedSink{{Name: "m", Sink: &collectSink{}}},
		Workers: 2,
	})
	if err != nil {
		t.Fatal(err)
	}
	s := stats.Sources[0]
	if s.Records != 2 || s.Errors["unreadable"] != 1 {
		t.Errorf("records %d, errors %v", s.Records, s.Errors)
	}
}

type fixedParts []flow.Part

func (f fixedParts) Parts() ([]flow.Part, error) { return f, nil }

func TestRelativePathsResolveAgainstBaseDir(t *testing.T) {
	cfg := DefaultWARCConfig()
	cfg.Path = "whirlwind.warc.wet.gz"
	src, err := NewWARCSource(cfg, &flow.Env{BaseDir: testdata("warc")})
	if err != nil {
		t.Fatal(err)
	}
	recs, _ := readAllParts(t, src)
	if len(recs) != 1 {
		t.Errorf("%d records", len(recs))
	}
}

func TestRegistered(t *testing.T) {
	for _, name := range []string{"warc", "jsonl", "text"} {
		c, ok := flow.Lookup(flow.KindSource, name)
		if !ok {
			t.Fatalf("source %q not registered", name)
		}
		var path *flow.Param
		for _, p := range c.Params() {
			if p.Help == "" {
				t.Errorf("%s.%s has no help", name, p.Name)
			}
			if p.Name == "path" {
				p := p
				path = &p
			}
		}
		if path == nil || path.Path != "input" || !path.Required {
			t.Errorf("%s: path parameter %+v", name, path)
		}
	}
}
