package filter

import (
	"fmt"
	"math/rand"
	"strings"
	"testing"

	"github.com/corpusflow/corpusflow/flow"
	"github.com/corpusflow/corpusflow/internal/pystr"
)

func mustBadWords(t testing.TB, words []string, lang string) *BadWords {
	t.Helper()
	cfg := DefaultBadWordsConfig()
	cfg.Language = lang
	b, err := newBadWordsMatcher(words, cfg, &flow.Counters{})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TFDS's test_clean_page_badwords cases, with the list ["ass"].
func TestBadWordsTFDSCases(t *testing.T) {
	b := mustBadWords(t, []string{"ass"}, "en")
	padding := "This page starts out with some text.\nEverything looks good at first, since these are sentences.\nBut then, all of a sudden, there's a badword... or not?\n"
	cases := []struct {
		text string
		bad  bool
	}{
		{"I asked my friend for assistance polishing my cutlass.", false},
		{"He took the saddle and put it on his ass in preparation for travel.", true},
		{"Ass is one of several species of small, horse-like animals.", true},
		{"Donkey is one synonym for the word \"ass\".", true},
		{"ass", true},
		{"class_ass", false}, // _ is a word character
		{"ässa", false},      // so is ä (Python's \w is Unicode)
		{"ä ass", true},
	}
	for _, c := range cases {
		if _, got := b.Find(padding + c.text); got != c.bad {
			t.Errorf("%q: found %v, want %v", c.text, got, c.bad)
		}
	}
}

func TestBadWordsChineseSubstringsAndAllowlist(t *testing.T) {
	b, err := NewBadWords(BadWordsConfig{List: "../testdata/badwords/zh", Language: "zh"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if w, ok := b.Find("这部电影是三级片，不适合儿童。"); !ok || w != "三级片" {
		t.Fatalf("found %q %v", w, ok)
	}
	// 性 is on the list but allowlisted by TFDS: 性质 (nature) is fine.
	if w, ok := b.Find("数学研究数量和结构的性质。"); ok {
		t.Fatalf("found %q in a clean sentence", w)
	}
	en, err := NewBadWords(BadWordsConfig{List: "../testdata/badwords/en.c4-25e679f0", Language: "en"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(en.words) < 370 {
		t.Fatalf("en list has %d words", len(en.words))
	}
}

// TestBadWordsMatchesBruteForce checks the automaton against the definition
// on random text over a small alphabet, where overlaps abound.
func TestBadWordsMatchesBruteForce(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	alphabet := []string{"a", "b", "s", " ", ".", "_", "é", "\n"}
	randomString := func(n int) string {
		var sb strings.Builder
		for i := 0; i < n; i++ {
			sb.WriteString(alphabet[rng.Intn(len(alphabet))])
		}
		return sb.String()
	}
	for trial := 0; trial < 300; trial++ {
		var words []string
		for i := 0; i < 1+rng.Intn(6); i++ {
			w := strings.TrimSpace(randomString(1 + rng.Intn(4)))
			if w != "" {
				words = append(words, w)
			}
		}
		if len(words) == 0 {
			continue
		}
		b := mustBadWords(t, words, "en")
		for i := 0; i < 30; i++ {
			text := randomString(rng.Intn(40))
			_, got := b.Find(text)
			if want := bruteForceBadWord(words, text); got != want {
				t.Fatalf("words %q text %q: found %v, want %v", words, text, got, want)
			}
		}
	}
}

func bruteForceBadWord(words []string, text string) bool {
	low := []byte(pystr.Lower(text))
	for _, w := range words {
		for i := 0; i+len(w) <= len(low); i++ {
			if string(low[i:i+len(w)]) == w && nonWordBefore(low, i) && nonWordAfter(low, i+len(w)) {
				return true
			}
		}
	}
	return false
}

func TestBadWordsProcess(t *testing.T) {
	counters := &flow.Counters{}
	cfg := BadWordsConfig{Language: "en"}
	b, err := newBadWordsMatcher([]string{"ass"}, cfg, counters)
	if err != nil {
		t.Fatal(err)
	}
	bad := &flow.Record{ID: "1", URL: "http://a/", Text: "his ass in"}
	if got := b.Process(bad); got != BadWordsReject {
		t.Fatalf("reason %q", got)
	}
	zh := &flow.Record{ID: "2", Text: "his ass in", Meta: map[string]any{LangMetaKey: "zh"}}
	if got := b.Process(zh); got != "" || counters.Get("passed_other_language") != 1 {
		t.Fatalf("other language: %q %v", got, counters.Snapshot())
	}
	// keep_fraction keeps about that share, the same records every time.
	cfg.KeepFraction = 0.3
	half, _ := newBadWordsMatcher([]string{"ass"}, cfg, counters)
	kept := 0
	for i := 0; i < 2000; i++ {
		r := &flow.Record{URL: fmt.Sprintf("http://example.com/%d", i), Text: "his ass in"}
		first := half.Process(r)
		if again := half.Process(r); again != first {
			t.Fatal("keep_fraction is not deterministic")
		}
		if first == "" {
			kept++
		}
	}
	if kept < 500 || kept > 700 {
		t.Fatalf("kept %d of 2000 with keep_fraction 0.3", kept)
	}
}

func TestBadWordsConfigErrors(t *testing.T) {
	if _, err := NewBadWords(BadWordsConfig{List: "does-not-exist", Language: "en"}, nil); err == nil || !strings.HasPrefix(err.Error(), "list:") {
		t.Fatalf("missing file: %v", err)
	}
	if _, err := NewBadWords(BadWordsConfig{List: "../testdata/badwords/en", Language: "en", KeepFraction: 2}, nil); err == nil || !strings.HasPrefix(err.Error(), "keep_fraction:") {
		t.Fatalf("bad fraction: %v", err)
	}
	if _, err := parseBadWords([]byte("a\xffb\n"), nil); err == nil {
		t.Fatal("invalid UTF-8 accepted")
	}
}

func FuzzParseBadWords(f *testing.F) {
	f.Add([]byte("ass\n  boob \n\n三级片\n"))
	f.Add([]byte("\xff"))
	f.Fuzz(func(t *testing.T, data []byte) {
		words, err := parseBadWords(data, nil)
		if err != nil {
			return
		}
		for _, w := range words {
			if w == "" || w != pystr.Strip(w) {
				t.Fatalf("bad entry %q", w)
			}
		}
		if len(words) > 0 {
			b := mustBadWords(t, words, "en")
			b.Find(string(data))
		}
	})
}
