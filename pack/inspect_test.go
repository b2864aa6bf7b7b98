package pack

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/corpusflow/corpusflow/tokenize"
)

func packedDir(t *testing.T, mutate func(*Config)) (string, *Stage) {
	t.Helper()
	s, _ := newTestStage(t, mutate)
	dir := t.TempDir()
	writeAll(t, WriterOptions{Dir: dir, MaxRows: 20}, packDocs(t, s, testDocs(30)))
	return dir, s
}

func TestInspectDecodesExamplesAndCounts(t *testing.T) {
	dir, s := packedDir(t, func(c *Config) { c.Mode = ModeNSP; c.StaticMask = true })
	tok, err := tokenize.Load(s.cfg.Vocab)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := Inspect(&out, dir, InspectOptions{Vocab: tok, Examples: 2}); err != nil {
		t.Fatal(err)
	}
	text := out.String()
	m, _ := ReadManifest(dir)
	for _, want := range []string{
		"format arrow-file, compression none",
		"token_type_ids       fixed_size_list<item: int32, nullable>[32]",
		"corpusflow.vocab_sha256", tok.VocabSHA256(),
		"rows                 " + strconv.FormatInt(m.Rows, 10),
		"random next segment",
		"masked (labels)",
		"example ex-0 (document doc-",
		"input_ids  [CLS] w",
		"unmasked   [CLS] w",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("inspect output lacks %q:\n%s", want, text)
		}
	}
	// One shard file on its own.
	out.Reset()
	if err := Inspect(&out, filepath.Join(dir, ShardName(1)), InspectOptions{Examples: 1}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "1 shards, 20 rows") || !strings.Contains(out.String(), "input_ids  [102,") {
		t.Errorf("single shard:\n%s", out.String())
	}
}

func TestInspectRefusesAnotherVocabulary(t *testing.T) {
	dir, _ := packedDir(t, nil)
	other := filepath.Join(t.TempDir(), "other-vocab.txt")
	os.WriteFile(other, []byte("[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nhello\n"), 0o644)
	tok, err := tokenize.Load(other)
	if err != nil {
		t.Fatal(err)
	}
	err = Inspect(&bytes.Buffer{}, dir, InspectOptions{Vocab: tok})
	if err == nil || !strings.Contains(err.Error(), "packed with vocabulary") {
		t.Fatalf("got %v", err)
	}
}
