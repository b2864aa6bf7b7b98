package tokenize

import (
	"os"
	"path/filepath"
	"testing"
)

// Table tests for the WordPiece edge cases the reference defines.
func TestWordPieceCases(t *testing.T) {
	dir := t.TempDir()
	vocab := filepath.Join(dir, "vocab.txt")
	lines := "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nun\n##aff\n##able\na\n##b\nhello\nhello\n,\n!\ncafe\nx  \r\n"
	if err := os.WriteFile(vocab, []byte(lines), 0o644); err != nil {
		t.Fatal(err)
	}
	w, err := LoadWordPiece(vocab, BertOptions(true))
	if err != nil {
		t.Fatal(err)
	}
	long := ""
	for range 101 {
		long += "a"
	}
	cases := []struct {
		text string
		want []int32
	}{
		{"unaffable", []int32{5, 6, 7}},
		{"Hello, CAFÉ!", []int32{11, 12, 14, 13}}, // "hello" is line 11 (its second copy)
		{"ab abb", []int32{8, 9, 8, 9, 9}},
		{"abc", []int32{1}}, // "c" cannot be covered: the whole word is [UNK]
		{long, []int32{1}},  // 101 characters
		{long[:100], nil},   // 100 characters: "a" then 99 × "##a", and "##a" is missing
		{"x", []int32{15}},  // trailing whitespace of a vocab line is trimmed
		{"[SEP]hello[MASK]", []int32{3, 11, 4}},
		{"[sep]", []int32{1, 1, 1}}, // special tokens match case-sensitively, before lowercasing
		{"\u0000\u200b", nil},
	}
	for _, c := range cases {
		got := w.Encode(c.text, nil)
		if c.text == long[:100] {
			if len(got) != 1 || got[0] != 1 {
				t.Errorf("%d a's: %v, want [UNK]", len(c.text), got)
			}
			continue
		}
		if !equalIDs(got, c.want) {
			t.Errorf("Encode(%q) = %v, want %v", c.text, got, c.want)
		}
	}
	if got := w.Decode([]int32{10, 11, 5, 6, 12, 999}); got != "hello unaff," {
		// id 10 is shadowed by line 11 and skipped, as the reference does;
		// 999 is out of range.
		t.Errorf("Decode = %q", got)
	}
	if w.VocabSize() != 16 || w.Special() != (SpecialTokens{CLS: 2, SEP: 3, PAD: 0, MASK: 4, UNK: 1, BOS: -1, EOS: -1}) {
		t.Errorf("size %d, special %+v", w.VocabSize(), w.Special())
	}
	if _, err := LoadWordPiece(vocab, WordPieceOptions{UnkToken: "<unk>"}); err == nil {
		t.Error("a vocabulary without its unknown token loaded")
	}
}
