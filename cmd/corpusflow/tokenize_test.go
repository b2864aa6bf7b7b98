package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/corpusflow/corpusflow/tokenize"
)

const testUncasedVocab = "../../testdata/tokenize/vocab/bert-base-uncased-vocab.txt"

// TestMapLinesOrderAndErrors: output lines follow input lines whatever the
// worker count, and a failing line is reported, counted and left empty.
func TestMapLinesOrderAndErrors(t *testing.T) {
	var in strings.Builder
	for i := range 2000 {
		fmt.Fprintf(&in, "line %d\r\n", i)
	}
	in.WriteString("last line without newline")
	fn := func(l string, dst []byte) ([]byte, error) {
		if strings.HasSuffix(l, "7") {
			return dst, errors.New("ends in 7")
		}
		return append(dst, strings.ToUpper(l)...), nil
	}
	for _, workers := range []int{1, 4} {
		var out bytes.Buffer
		var reported []int
		bad, err := mapLines(strings.NewReader(in.String()), &out, workers, fn, func(n int, _ error) { reported = append(reported, n) })
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
		if len(lines) != 2001 || bad != 200 || len(reported) != 200 {
			t.Fatalf("workers=%d: %d lines, %d bad, %d reported", workers, len(lines), bad, len(reported))
		}
		for i, l := range lines[:2000] {
			want := fmt.Sprintf("LINE %d", i)
			if i%10 == 7 {
				want = ""
			}
			if l != want {
				t.Fatalf("workers=%d: line %d = %q, want %q", workers, i+1, l, want)
			}
		}
		if lines[2000] != "LAST LINE WITHOUT NEWLINE" {
			t.Errorf("last line %q", lines[2000])
		}
	}
}

func TestDecodeLineRoundTrip(t *testing.T) {
	tok, err := tokenize.Load(testUncasedVocab)
	if err != nil {
		t.Fatal(err)
	}
	out, err := decodeLine(tok, "101 7592 1010 2088 999 102", nil)
	if err != nil || string(out) != "[CLS] hello, world! [SEP]" {
		t.Errorf("decode = %q, %v", out, err)
	}
	for _, bad := range []string{"1 x", "-1", "30522", "99999999999"} {
		if _, err := decodeLine(tok, bad, nil); err == nil {
			t.Errorf("%q decoded without error", bad)
		}
	}
}

func TestCountFileJSONL(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "docs.jsonl")
	if err := os.WriteFile(p, []byte("{\"text\":\"a b\"}\nnot json\n{\"text\":\"c\"}"), 0o644); err != nil {
		t.Fatal(err)
	}
	var got []string
	if _, err := countFile(p, func(s string) { got = append(got, s) }); err != nil {
		t.Fatal(err)
	}
	if strings.Join(got, "|") != "a b|c" {
		t.Errorf("texts %q", got)
	}
}
