package main

import (
	"bufio"
	"compress/gzip"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// End-to-end tests of `corpusflow tokenize` through dispatch: the ids it
// prints for the golden corpus are Hugging Face's, --special wraps them,
// --decode gives Hugging Face's text back, --input reads a file, and a bad
// id line is reported by number while the output stays line-aligned.

const (
	goldenDir       = "../../testdata/tokenize/golden/"
	testChineseJSON = "../../testdata/tokenize/vocab/bert-base-chinese-tokenizer.json"
	testGPT2Vocab   = "../../testdata/tokenize/gpt2/vocab.json"
	testGPT2Merges  = "../../testdata/tokenize/gpt2/merges.txt"
)

// gzLines returns the lines of a gzip file.
func gzLines(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	sc := bufio.NewScanner(zr)
	sc.Buffer(make([]byte, 1<<20), 1<<26)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return lines
}

// cliGolden is the part of a golden that a line-based CLI can reproduce:
// texts without line breaks, with Hugging Face's ids and decoded text.
type cliGolden struct {
	texts, ids, decoded []string
}

func loadCLIGolden(t *testing.T, name string) cliGolden {
	t.Helper()
	corpus := gzLines(t, goldenDir+"corpus.jsonl.gz")
	ids := gzLines(t, goldenDir+name+".ids.gz")
	decodes := gzLines(t, goldenDir+name+".decode.jsonl.gz")
	if len(ids) != len(corpus) || len(decodes) != len(corpus) {
		t.Fatalf("%s: %d texts, %d id lines, %d decodes", name, len(corpus), len(ids), len(decodes))
	}
	var g cliGolden
	for i, line := range corpus {
		var rec struct{ Text string }
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatal(err)
		}
		if ids[i] == "-" || strings.ContainsAny(rec.Text, "\r\n") {
			continue // not in this golden, or not one line
		}
		var dec struct{ Full string }
		if err := json.Unmarshal([]byte(decodes[i]), &dec); err != nil {
			t.Fatal(err)
		}
		g.texts = append(g.texts, rec.Text)
		g.ids = append(g.ids, ids[i])
		g.decoded = append(g.decoded, dec.Full)
	}
	if len(g.texts) < 1000 {
		t.Fatalf("%s: only %d one-line texts", name, len(g.texts))
	}
	return g
}

// compareLines fails on the first line that differs.
func compareLines(t *testing.T, what, got string, want []string) {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(got, "\n"), "\n")
	if len(lines) != len(want) {
		t.Fatalf("%s: %d output lines, want %d", what, len(lines), len(want))
	}
	for i := range want {
		if lines[i] != want[i] {
			t.Fatalf("%s: line %d = %q, want %q", what, i+1, lines[i], want[i])
		}
	}
}

// TestTokenizeCLIMatchesHuggingFace: every one-line golden text, through
// the CLI, for WordPiece (uncased, --cased, Chinese via tokenizer.json) and
// byte-level BPE (--merges); then --decode of Hugging Face's ids.
func TestTokenizeCLIMatchesHuggingFace(t *testing.T) {
	cases := []struct {
		golden string
		args   []string
	}{
		{"bert-base-uncased", []string{"--vocab", testUncasedVocab}},
		{"uncased-vocab-cased", []string{"--vocab", testUncasedVocab, "--cased"}},
		{"bert-base-chinese", []string{"--vocab", testChineseJSON}},
		{"gpt2", []string{"--vocab", testGPT2Vocab, "--merges", testGPT2Merges}},
	}
	for _, c := range cases {
		t.Run(c.golden, func(t *testing.T) {
			g := loadCLIGolden(t, c.golden)
			input := filepath.Join(t.TempDir(), "texts.txt")
			if err := os.WriteFile(input, []byte(strings.Join(g.texts, "\n")+"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			args := append([]string{"tokenize"}, c.args...)
			code, out, stderr := runCLI(t, "", append(args, "--input", input)...)
			if code != exitOK {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			compareLines(t, "ids", out, g.ids)

			// The same lines on standard input, one worker: same output.
			code, again, _ := runCLI(t, strings.Join(g.texts, "\n")+"\n", append(args, "--workers", "1")...)
			if code != exitOK || again != out {
				t.Fatalf("standard input with 1 worker: exit %d, output differs: %v", code, again != out)
			}

			ids := filepath.Join(t.TempDir(), "ids.txt")
			if err := os.WriteFile(ids, []byte(strings.Join(g.ids, "\n")+"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			code, text, stderr := runCLI(t, "", append(args, "--decode", "--input", ids)...)
			if code != exitOK {
				t.Fatalf("--decode: exit %d: %s", code, stderr)
			}
			compareLines(t, "--decode", text, g.decoded)
		})
	}
}

// TestTokenizeCLISpecialAndRoundTrip: --special adds [CLS]/[SEP] (BERT) or
// <|endoftext|> (GPT-2); byte-level BPE gives any text back exactly.
func TestTokenizeCLISpecialAndRoundTrip(t *testing.T) {
	code, out, _ := runCLI(t, "Hello, world!\n\nnaïve café\n", "tokenize", "--vocab", testUncasedVocab)
	if code != exitOK || out != "7592 1010 2088 999\n\n15743 7668\n" {
		t.Fatalf("exit %d, ids %q", code, out)
	}
	code, out, _ = runCLI(t, "Hello, world!\n\n", "tokenize", "--vocab", testUncasedVocab, "--special")
	if code != exitOK || out != "101 7592 1010 2088 999 102\n101 102\n" {
		t.Fatalf("--special: exit %d, ids %q", code, out)
	}
	code, out, _ = runCLI(t, out, "tokenize", "--vocab", testUncasedVocab, "--decode")
	if code != exitOK || out != "[CLS] hello, world! [SEP]\n[CLS] [SEP]\n" {
		t.Fatalf("--decode of --special ids: exit %d, %q", code, out)
	}

	texts := "Hello, world!\n  leading spaces, tabs\tand   runs  \nnaïve café 👍🏽 中文文本。\n\n<|endoftext|> in text\n"
	code, ids, _ := runCLI(t, texts, "tokenize", "--vocab", testGPT2Vocab, "--merges", testGPT2Merges)
	if code != exitOK {
		t.Fatalf("gpt2: exit %d", code)
	}
	code, back, _ := runCLI(t, ids, "tokenize", "--vocab", testGPT2Vocab, "--merges", testGPT2Merges, "--decode")
	if code != exitOK || back != texts {
		t.Fatalf("gpt2 round trip: exit %d\n got %q\nwant %q", code, back, texts)
	}
	code, special, _ := runCLI(t, "Hello\n", "tokenize", "--vocab", testGPT2Vocab, "--merges", testGPT2Merges, "--special")
	if code != exitOK || special != "15496 50256\n" {
		t.Fatalf("gpt2 --special: exit %d, %q", code, special)
	}
}

// TestTokenizeCLIBadInput: a line of --decode input that is not ids is
// named by its number on stderr and printed empty; the other lines are
// decoded in place and the exit code says something failed. Usage errors
// exit 2.
func TestTokenizeCLIBadInput(t *testing.T) {
	code, out, stderr := runCLI(t, "7592 1010\n7592 x\n2088\n-1\n30522\n999\n", "tokenize", "--vocab", testUncasedVocab, "--decode")
	if code != exitFailure {
		t.Errorf("exit %d, want %d", code, exitFailure)
	}
	if out != "hello,\n\nworld\n\n\n!\n" {
		t.Errorf("output %q", out)
	}
	for _, want := range []string{"standard input line 2", `"x" is not a token id`, "line 4", "line 5", "3 lines could not be read"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	for _, c := range []struct {
		name string
		args []string
	}{
		{"no --vocab", []string{"tokenize"}},
		{"missing vocab file", []string{"tokenize", "--vocab", "no/such/vocab.txt"}},
		{"unknown flag", []string{"tokenize", "--vocab", testUncasedVocab, "--nosuch"}},
	} {
		if code, _, _ := runCLI(t, "x\n", c.args...); code != exitUsage {
			t.Errorf("%s: exit %d, want %d", c.name, code, exitUsage)
		}
	}
	if code, _, stderr := runCLI(t, "", "tokenize", "--vocab", testUncasedVocab, "--input", "no/such/file.txt"); code != exitUsage || !strings.Contains(stderr, "no/such/file.txt") {
		t.Errorf("missing input: exit %d, %q", code, stderr)
	}
}
