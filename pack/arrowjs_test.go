package pack

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
)

// arrowJSReport is what tools/arrowjs/check.mjs prints.
type arrowJSReport struct {
	Rows   int64 `json:"rows"`
	Schema []struct {
		Name string `json:"name"`
		Type string `json:"type"`
	} `json:"schema"`
	Metadata map[string]string `json:"metadata"`
	Shards   []struct {
		File          string   `json:"file"`
		Rows          int64    `json:"rows"`
		IDs           []string `json:"ids"`
		FirstInputIDs []int32  `json:"first_input_ids"`
	} `json:"shards"`
}

// arrowJS runs the Arrow JS check on dir. It fails, never skips, when node
// or the npm packages are missing: the interoperability claim is only as
// good as this test.
func arrowJS(t *testing.T, dir string) arrowJSReport {
	t.Helper()
	tool, err := filepath.Abs(filepath.Join("..", "tools", "arrowjs"))
	if err != nil {
		t.Fatal(err)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatal("the Arrow JS interoperability test needs node (Node.js 18 or newer) on PATH")
	}
	if _, err := os.Stat(filepath.Join(tool, "node_modules", "apache-arrow", "package.json")); err != nil {
		t.Fatalf("Arrow JS is not installed: run tools/arrowjs/install.sh (npm ci) first (%v)", err)
	}
	cmd := exec.Command(node, filepath.Join(tool, "check.mjs"), dir, "--ids", "5")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("Arrow JS check of %s failed: %v\n%s", dir, err, stderr.String())
	}
	var rep arrowJSReport
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		t.Fatalf("Arrow JS check printed no JSON: %v\n%s", err, stdout.String())
	}
	return rep
}

func TestArrowJSReadsEveryFormatAndCodec(t *testing.T) {
	for _, mode := range []string{ModeMLM, ModeNSP, ModeSpanCorruption} {
		s, _ := newTestStage(t, func(c *Config) { c.Mode = mode; c.StaticMask = mode != ModeSpanCorruption; c.SeqLen = 64 })
		recs := packDocs(t, s, testDocs(120))
		for _, format := range []string{FormatFile, FormatStream} {
			for _, codec := range []string{"none", "lz4", "zstd"} {
				t.Run(mode+"/"+format+"/"+codec, func(t *testing.T) {
					dir := t.TempDir()
					m := writeAll(t, WriterOptions{Dir: dir, Format: format, Compression: codec, BatchRows: 16, MaxRows: 40}, recs)
					rep := compareWithArrowJS(t, dir)
					if rep.Metadata[MetaVocabSHA256] != s.Layout().Metadata[MetaVocabSHA256] || rep.Metadata[MetaHuggingFace] == "" {
						t.Fatalf("Arrow JS sees metadata %v", rep.Metadata)
					}
					if want := len(s.Layout().Columns); len(rep.Schema) != want || rep.Schema[2].Type != "FixedSizeList[64]<Int32>" {
						t.Fatalf("Arrow JS schema %+v", rep.Schema)
					}
					if rep.Rows != m.Rows {
						t.Fatalf("Arrow JS: %d rows; manifest: %d", rep.Rows, m.Rows)
					}
				})
			}
		}
	}
}

// compareWithArrowJS reads dir with Arrow JS and with the Go reader and
// checks that they agree: rows per shard, the first ids of every shard and
// every shard's first input_ids.
func compareWithArrowJS(t *testing.T, dir string) arrowJSReport {
	t.Helper()
	m, err := ReadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	rep := arrowJS(t, dir)
	if rep.Rows != m.Rows || len(rep.Shards) != len(m.Shards) {
		t.Fatalf("Arrow JS: %d rows in %d shards; manifest: %d in %d", rep.Rows, len(rep.Shards), m.Rows, len(m.Shards))
	}
	goRows := readAll(t, dir, ReaderOptions{})
	row := 0
	for i, sh := range rep.Shards {
		if sh.Rows != m.Shards[i].Rows {
			t.Fatalf("%s: Arrow JS reads %d rows, manifest says %d", sh.File, sh.Rows, m.Shards[i].Rows)
		}
		var want []string
		for k := 0; k < len(sh.IDs); k++ {
			want = append(want, goRows[row+k].ID)
		}
		if len(want) == 0 || !slices.Equal(sh.IDs, want) || !slices.Equal(sh.FirstInputIDs, goRows[row].InputIDs) {
			t.Fatalf("shard %d: Arrow JS ids %v first row %v; Go %v %v", i, sh.IDs, sh.FirstInputIDs, want, goRows[row].InputIDs)
		}
		row += int(m.Shards[i].Rows)
	}
	return rep
}
