package tokenize

import (
	"os"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"
)

var fuzzTokenizers = sync.OnceValues(func() ([]Tokenizer, error) {
	var out []Tokenizer
	for _, p := range []string{uncasedVocab, chineseVocab, gpt2Vocab} {
		t, err := Load(p)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, nil
})

func addTextSeeds(f *testing.F) {
	for _, s := range []string{"", "Hello, world!", "naïve café", "中文", "[SEP]x", "<|endoftext|>", "a\u0301\u0327", "\xff\xfe", "   ", "'s'll", strings.Repeat("x", 300), "😀\u200d😀"} {
		f.Add(s)
	}
}

// FuzzEncode: any input, valid UTF-8 or not, encodes without panicking to
// ids inside the vocabulary; byte-level BPE decodes valid UTF-8 back to the
// very same text.
func FuzzEncode(f *testing.F) {
	addTextSeeds(f)
	f.Fuzz(func(t *testing.T, text string) {
		toks, err := fuzzTokenizers()
		if err != nil {
			t.Fatal(err)
		}
		for _, tok := range toks {
			ids := tok.Encode(text, nil)
			for _, id := range ids {
				if id < 0 || int(id) >= tok.VocabSize() {
					t.Fatalf("%s: id %d out of range for %q", tok.Kind(), id, text)
				}
			}
			back := tok.Decode(ids)
			if !utf8.ValidString(back) {
				t.Fatalf("%s: decode gave invalid UTF-8", tok.Kind())
			}
			if tok.Kind() == KindBPE && utf8.ValidString(text) && back != text {
				t.Fatalf("bpe round trip of %q gave %q", text, back)
			}
		}
	})
}

// FuzzGPT2Pieces: the pre-tokenizer cuts any string into non-empty pieces
// that cover it exactly.
func FuzzGPT2Pieces(f *testing.F) {
	addTextSeeds(f)
	f.Fuzz(func(t *testing.T, s string) {
		initCharTables()
		var b strings.Builder
		for i := 0; i < len(s); {
			end := gpt2PieceEnd(s, i)
			if end <= i || end > len(s) {
				t.Fatalf("piece at %d ends at %d in %q", i, end, s)
			}
			b.WriteString(s[i:end])
			i = end
		}
		if b.String() != s {
			t.Fatalf("pieces do not cover %q", s)
		}
	})
}

// FuzzVocabFiles: vocab.txt, merges.txt/vocab.json and tokenizer.json
// parsers reject or accept any bytes without panicking, and what they
// accept can encode.
func FuzzVocabFiles(f *testing.F) {
	for _, p := range []string{"../testdata/tokenize/golden/manifest.json"} {
		if data, err := os.ReadFile(p); err == nil {
			f.Add(data[:min(len(data), 200)])
		}
	}
	f.Add([]byte("[PAD]\n[UNK]\nhello\n##lo\n"))
	f.Add([]byte("#version: 0.2\nh e\nhe llo\n"))
	f.Add([]byte(`{"model":{"type":"BPE","vocab":{"a":0,"b":1,"ab":2},"merges":["a b"]},"pre_tokenizer":{"type":"ByteLevel"}}`))
	f.Add([]byte(`{"model":{"vocab":{"[UNK]":0,"a":1},"max_input_chars_per_word":100},"pre_tokenizer":{"type":"BertPreTokenizer"},"normalizer":{"type":"BertNormalizer"},"added_tokens":[{"id":0,"content":"[UNK]"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		if toks, err := parseVocabTxt("fuzz", data); err == nil {
			if wp, err := newWordPiece("fuzz", toks, nil, BertOptions(true), ""); err == nil {
				wp.Encode("hello world [UNK]", nil)
			}
		}
		if merges, err := parseMergesTxt("fuzz", data); err == nil {
			vocab := map[string]int32{}
			for _, m := range merges {
				for _, s := range []string{m[0], m[1], m[0] + m[1]} {
					if _, ok := vocab[s]; !ok {
						vocab[s] = int32(len(vocab))
					}
				}
			}
			if b, err := newBPE("fuzz", bpeConfig{vocab: vocab, merges: merges, useRegex: true}, ""); err == nil {
				b.Encode("hello world", nil)
			}
		}
		if tok, err := parseTokenizerJSON("fuzz", data); err == nil {
			tok.Encode("hello world [UNK]", nil)
		}
	})
}
