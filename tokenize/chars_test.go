package tokenize

import (
	"bufio"
	"compress/gzip"
	"os"
	"strconv"
	"strings"
	"testing"
)

// hfChars is testdata/tokenize/hf-chars.txt.gz read back: for each property,
// what Hugging Face tokenizers does with each code point it changes.
type hfChars struct {
	maps map[string]map[rune]string // clean, strip, lower: output ("" = dropped)
	sets map[string]map[rune]bool   // bert_space, bert_punct, chinese, gpt2_*
}

func readHFChars(t *testing.T) *hfChars {
	t.Helper()
	f, err := os.Open("../testdata/tokenize/hf-chars.txt.gz")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	h := &hfChars{maps: map[string]map[rune]string{}, sets: map[string]map[rune]bool{}}
	sc := bufio.NewScanner(zr)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Fields(line)
		lo, hi := parseHexRange(t, fields[1])
		for c := lo; c <= hi; c++ {
			switch fields[0] {
			case "clean", "strip", "lower":
				if h.maps[fields[0]] == nil {
					h.maps[fields[0]] = map[rune]string{}
				}
				var b strings.Builder
				for _, v := range fields[2:] {
					if v == "drop" {
						continue
					}
					n, err := strconv.ParseUint(v, 16, 32)
					if err != nil {
						t.Fatal(err)
					}
					b.WriteRune(rune(n))
				}
				h.maps[fields[0]][c] = b.String()
			default:
				if h.sets[fields[0]] == nil {
					h.sets[fields[0]] = map[rune]bool{}
				}
				h.sets[fields[0]][c] = true
			}
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return h
}

func parseHexRange(t *testing.T, s string) (rune, rune) {
	a, b, ok := strings.Cut(s, "-")
	lo, err := strconv.ParseUint(a, 16, 32)
	if err != nil {
		t.Fatal(err)
	}
	hi := lo
	if ok {
		if hi, err = strconv.ParseUint(b, 16, 32); err != nil {
			t.Fatal(err)
		}
	}
	return rune(lo), rune(hi)
}

// output is what one normalizer step makes of c.
func (h *hfChars) output(step string, c rune) string {
	if s, ok := h.maps[step][c]; ok {
		return s
	}
	return string(c)
}

// preTokenize splits normalized text as BertPreTokenizer does.
func (h *hfChars) preTokenize(s string) []string {
	var words []string
	var cur strings.Builder
	flush := func() {
		if cur.Len() > 0 {
			words = append(words, cur.String())
			cur.Reset()
		}
	}
	for _, r := range s {
		switch {
		case h.sets["bert_space"][r]:
			flush()
		case h.sets["bert_punct"][r]:
			flush()
			words = append(words, string(r))
		default:
			cur.WriteRune(r)
		}
	}
	flush()
	return words
}

// TestEveryCodePoint runs each of the 1,112,064 Unicode scalar values alone
// through the encoder's normalizer and pre-tokenizer, one normalization step
// at a time, and compares the words with what Hugging Face tokenizers made
// of it.
func TestEveryCodePoint(t *testing.T) {
	if testing.Short() {
		t.Skip("walks all of Unicode")
	}
	h := readHFChars(t)
	steps := []struct {
		name string
		opts WordPieceOptions
	}{
		{"clean", WordPieceOptions{CleanText: true}},
		{"strip", WordPieceOptions{StripAccents: true}},
		{"lower", WordPieceOptions{Lowercase: true}},
	}
	for _, st := range steps {
		wp, err := newWordPiece("test", []string{"[UNK]"}, []addedToken{}, st.opts, "")
		if err != nil {
			t.Fatal(err)
		}
		bad := 0
		var got []string
		collect := func(w []byte) { got = append(got, string(w)) }
		for c := rune(0); c <= 0x10FFFF; c++ {
			if c >= 0xD800 && c <= 0xDFFF {
				continue
			}
			got = got[:0]
			wp.words(string(c), collect)
			want := h.preTokenize(h.output(st.name, c))
			if strings.Join(got, "\x00") != strings.Join(want, "\x00") {
				if bad++; bad <= 5 {
					t.Errorf("%s U+%04X: words %q, want %q", st.name, c, got, want)
				}
			}
		}
		if bad > 0 {
			t.Errorf("%s: %d code points differ", st.name, bad)
		}
	}
	// The CJK ideographs that handle_chinese_chars isolates.
	wp, err := newWordPiece("test", []string{"[UNK]"}, []addedToken{}, WordPieceOptions{TokenizeChinese: true}, "")
	if err != nil {
		t.Fatal(err)
	}
	for c := rune(0); c <= 0x10FFFF; c++ {
		if c >= 0xD800 && c <= 0xDFFF {
			continue
		}
		var got []string
		wp.words("a"+string(c)+"a", func(w []byte) { got = append(got, string(w)) })
		isolated := len(got) == 3 && got[1] == string(c)
		want := h.sets["chinese"][c] || h.sets["bert_punct"][c]
		if isolated != want {
			t.Fatalf("U+%04X: words %q; chinese=%v punct=%v", c, got, h.sets["chinese"][c], h.sets["bert_punct"][c])
		}
	}
}
