package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// End-to-end tests of `corpusflow vocab train` through dispatch.

// vocabTrainText is real English: the WikiText-2 head bundled in testdata.
func vocabTrainText(t *testing.T) []byte {
	t.Helper()
	data, err := os.ReadFile("../../testdata/text/wikitext-2-test-head.txt")
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func writeFile(t *testing.T, path string, data []byte) string {
	t.Helper()
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func gzipBytes(t *testing.T, data []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	w.Write(data)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func zstdBytes(t *testing.T, data []byte) []byte {
	t.Helper()
	w, err := zstd.NewWriter(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	return w.EncodeAll(data, nil)
}

// trainVocab runs vocab train into a fresh directory and returns the
// directory, the exit code and the output.
func trainVocab(t *testing.T, kind string, extra ...string) (dir string, code int, stdout, stderr string) {
	t.Helper()
	dir = t.TempDir()
	args := append([]string{"vocab", "train", "--kind", kind, "--size", "600", "--out", dir}, extra...)
	code, stdout, stderr = runCLI(t, "", args...)
	return dir, code, stdout, stderr
}

// vocabFiles returns the files a training run wrote, by name.
func vocabFiles(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		files[e.Name()] = data
	}
	return files
}

func sameFiles(t *testing.T, what string, a, b map[string][]byte) {
	t.Helper()
	if len(a) == 0 || len(a) != len(b) {
		t.Fatalf("%s: %d files vs %d", what, len(a), len(b))
	}
	for name, data := range a {
		if !bytes.Equal(data, b[name]) {
			t.Fatalf("%s: %s differs", what, name)
		}
	}
}

// TestVocabTrainCLI: WordPiece and BPE from a small real text, twice with
// identical files, the sizes asked for, and --compare's report.
func TestVocabTrainCLI(t *testing.T) {
	in := writeFile(t, filepath.Join(t.TempDir(), "wiki.txt"), vocabTrainText(t))
	for _, c := range []struct {
		kind  string
		files []string
	}{{"wordpiece", []string{"vocab.txt"}}, {"bpe", []string{"vocab.json", "merges.txt"}}} {
		t.Run(c.kind, func(t *testing.T) {
			dir, code, stdout, stderr := trainVocab(t, c.kind, in)
			if code != exitOK {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			first := vocabFiles(t, dir)
			for _, f := range c.files {
				if len(first[f]) == 0 {
					t.Fatalf("no %s written (files: %v)", f, keysOf(first))
				}
			}
			if !strings.Contains(stdout, "counted 120 texts") || !strings.Contains(stdout, ": 600 tokens") {
				t.Errorf("summary:\n%s", stdout)
			}
			if c.kind == "wordpiece" {
				if n := strings.Count(string(first["vocab.txt"]), "\n"); n != 600 {
					t.Errorf("vocab.txt has %d lines, want 600", n)
				}
				if !bytes.HasPrefix(first["vocab.txt"], []byte("[PAD]\n")) {
					t.Errorf("vocab.txt starts %q", first["vocab.txt"][:20])
				}
			}
			dir2, code, _, _ := trainVocab(t, c.kind, in)
			if code != exitOK {
				t.Fatalf("second run: exit %d", code)
			}
			sameFiles(t, "two runs", first, vocabFiles(t, dir2))
		})
	}

	_, code, stdout, stderr := trainVocab(t, "wordpiece", "--compare", testUncasedVocab, in)
	if code != exitOK {
		t.Fatalf("--compare: exit %d: %s", code, stderr)
	}
	m := regexp.MustCompile(`tokens per word on (\d+) texts of the training input: trained ([0-9.]+), \S+bert-base-uncased-vocab.txt ([0-9.]+)`).FindStringSubmatch(stdout)
	if m == nil || m[1] != "120" {
		t.Fatalf("--compare report missing:\n%s", stdout)
	}
	trained, _ := strconv.ParseFloat(m[2], 64)
	ref, _ := strconv.ParseFloat(m[3], 64)
	if trained < 1 || ref < 1 || trained < ref {
		t.Errorf("tokens per word: trained %s, reference %s; each word is at least one token, and 600 tokens cannot beat 30522", m[2], m[3])
	}

	for _, bad := range [][]string{
		{"vocab", "train", "--kind", "wordpiece", in},                    // no --out
		{"vocab", "train", "--kind", "nosuch", "--out", t.TempDir(), in}, // bad kind
		{"vocab", "list"},
	} {
		if code, _, _ := runCLI(t, "", bad...); code != exitUsage {
			t.Errorf("%v: exit %d, want %d", bad, code, exitUsage)
		}
	}
}

func keysOf(m map[string][]byte) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	return ks
}

// TestVocabTrainCompressedInput: gzip and zstd input (text and JSONL) train
// exactly the vocabulary the plain text does; a .gz name is not needed, the
// content decides. (vocab train once counted a .gz file's compressed bytes
// and exited 0.)
func TestVocabTrainCompressedInput(t *testing.T) {
	text := vocabTrainText(t)
	dir := t.TempDir()
	var jsonl bytes.Buffer
	for _, line := range strings.SplitAfter(string(text), "\n") {
		if line == "" {
			continue
		}
		jsonl.WriteString(`{"text":` + jsonString(strings.TrimSuffix(line, "\n")) + "}\n")
	}
	plainDir, code, _, stderr := trainVocab(t, "wordpiece", writeFile(t, filepath.Join(dir, "wiki.txt"), text))
	if code != exitOK {
		t.Fatalf("plain: exit %d: %s", code, stderr)
	}
	plain := vocabFiles(t, plainDir)
	for name, data := range map[string][]byte{
		"wiki.txt.gz":    gzipBytes(t, text),
		"wiki.txt.zst":   zstdBytes(t, text),
		"wiki.gzip-data": gzipBytes(t, text),
		"wiki.jsonl.gz":  gzipBytes(t, jsonl.Bytes()),
		"wiki.jsonl.zst": zstdBytes(t, jsonl.Bytes()),
		"two-members.gz": append(gzipBytes(t, text[:len(text)/2]), gzipBytes(t, text[len(text)/2:])...),
	} {
		out, code, _, stderr := trainVocab(t, "wordpiece", writeFile(t, filepath.Join(dir, name), data))
		if code != exitOK {
			t.Fatalf("%s: exit %d: %s", name, code, stderr)
		}
		sameFiles(t, name+" vs plain text", plain, vocabFiles(t, out))
	}
}

func jsonString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r < 0x20:
			b.WriteString(`\u00`)
			b.WriteByte("0123456789abcdef"[r>>4])
			b.WriteByte("0123456789abcdef"[r&15])
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// TestVocabTrainInvalidUTF8: lines that are not UTF-8 are named, counted and
// skipped (the vocabulary is the one the valid lines give); a file with no
// valid line at all (binary, or compressed as something else) fails clearly.
func TestVocabTrainInvalidUTF8(t *testing.T) {
	text := vocabTrainText(t)
	dir := t.TempDir()
	lines := strings.SplitAfter(string(text), "\n")
	var mixed []byte
	for i, l := range lines {
		mixed = append(mixed, l...)
		if i == 3 || i == 50 {
			mixed = append(mixed, "caf\xe9 latin-1 line\n"...)
		}
	}
	cleanDir, _, _, _ := trainVocab(t, "wordpiece", writeFile(t, filepath.Join(dir, "clean.txt"), text))
	out, code, _, stderr := trainVocab(t, "wordpiece", writeFile(t, filepath.Join(dir, "mixed.txt"), mixed))
	if code != exitOK {
		t.Fatalf("mixed: exit %d: %s", code, stderr)
	}
	for _, want := range []string{"mixed.txt line 5: not valid UTF-8, skipped", "mixed.txt line 53: not valid UTF-8", "skipped 2 lines that are not valid UTF-8"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	sameFiles(t, "mixed vs clean", vocabFiles(t, cleanDir), vocabFiles(t, out))

	// bzip2 is not decompressed: its bytes are not text.
	bz := append([]byte("BZh91AY&SY"), bytes.Repeat([]byte{0xff, 0x80, 0x0a, 0xfe}, 500)...)
	_, code, _, stderr = trainVocab(t, "wordpiece", writeFile(t, filepath.Join(dir, "wiki.txt.bz2"), bz))
	if code != exitFailure || !strings.Contains(stderr, "wiki.txt.bz2: none of its 501 lines is valid UTF-8 text (read as plain") {
		t.Errorf("bzip2 input: exit %d, stderr:\n%s", code, stderr)
	}
	// A gzip file cut short is an error naming the file, not a vocabulary.
	gz := gzipBytes(t, text)
	_, code, _, stderr = trainVocab(t, "wordpiece", writeFile(t, filepath.Join(dir, "cut.txt.gz"), gz[:len(gz)/2]))
	if code != exitFailure || !strings.Contains(stderr, "cut.txt.gz (gzip)") {
		t.Errorf("truncated gzip: exit %d, stderr:\n%s", code, stderr)
	}
}
