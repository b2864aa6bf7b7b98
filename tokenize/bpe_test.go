package tokenize

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestGPT2Pieces(t *testing.T) {
	initCharTables()
	cases := map[string][]string{
		"Hello world":  {"Hello", " world"},
		"it's they'll": {"it", "'s", " they", "'ll"},
		"a  b":         {"a", " ", " b"},
		"a \n b":       {"a", " \n", " b"},
		"x   ":         {"x", "   "},
		"123abc":       {"123", "abc"},
		"?!'s":         {"?!'", "s"},
		"'S":           {"'", "S"}, // contractions are lowercase only
		"naïve 中文。":    {"naïve", " 中文", "。"},
		" \t":          {" \t"},
	}
	for text, want := range cases {
		var got []string
		for i := 0; i < len(text); {
			end := gpt2PieceEnd(text, i)
			got = append(got, text[i:end])
			i = end
		}
		if strings.Join(got, "|") != strings.Join(want, "|") {
			t.Errorf("%q: pieces %q, want %q", text, got, want)
		}
	}
}

// TestLossyUTF8 follows Rust's from_utf8_lossy: one U+FFFD per maximal
// ill-formed subsequence.
func TestLossyUTF8(t *testing.T) {
	cases := map[string]int{ // input → number of U+FFFD
		"\xe2\x82":     1, // truncated 3-byte sequence
		"\xf0\x9f\x98": 1,
		"\xc0\xaf":     2, // C0 is never a lead byte
		"\xed\xa0\x80": 3, // a surrogate: ED takes only 80..9F
		"\xff":         1,
		"ok\xe2\x82ok": 1,
	}
	for in, n := range cases {
		got := string(appendLossyUTF8(nil, []byte(in)))
		if c := strings.Count(got, "\uFFFD"); c != n {
			t.Errorf("%q → %q: %d replacements, want %d", in, got, c, n)
		}
	}
}

func TestBPEFileErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	vocab := write("vocab.json", `{"a": 0, "b": 1, "ab": 2}`)
	for _, c := range []struct{ merges, wantErr string }{
		{"#version: 0.2\na b\n", ""},
		{"a b c\n", "two tokens"},
		{"a c\n", "not in the vocabulary"},
	} {
		_, err := LoadBPE(vocab, write("merges.txt", c.merges))
		if (err == nil) != (c.wantErr == "") || (err != nil && !strings.Contains(err.Error(), c.wantErr)) {
			t.Errorf("merges %q: error %v, want %q", c.merges, err, c.wantErr)
		}
	}
	if _, err := LoadBPE(write("bad.json", `{"a": 99}`), filepath.Join(dir, "merges.txt")); err == nil {
		t.Error("an id far past the vocabulary size loaded")
	}
	write("merges.txt", "#version: 0.2\na b\n")
	if _, err := Load(filepath.Join(dir, "vocab.json")); err != nil {
		t.Errorf("Load(vocab.json) with merges.txt beside it: %v", err)
	}
	dir = t.TempDir()
	if _, err := Load(write("lonely-vocab.json", `{"a": 0}`)); err == nil {
		t.Error("vocab.json without merges.txt loaded")
	}
}
