package filter

import (
	"fmt"
	"math/rand"
	"slices"
	"strings"
	"testing"

	"github.com/corpusflow/corpusflow/flow"
)

// goodEnglish passes every Gopher and FineWeb rule: ~120 words, ordinary
// word lengths, stop words, sentences on their own lines.
const goodEnglish = `The history of the river valley is long and well documented by travellers.
Farmers settled along the banks more than three thousand years ago, and they built canals to carry water to their fields.
Over the centuries the towns grew into trading centres that were connected with distant markets.
Merchants brought salt, cloth and metal tools, and they took grain and wool back with them.
Today the valley is known for its orchards, its old stone bridges and the festivals held every autumn.
Visitors who walk the river path can still see the remains of mills that have stood for hundreds of years.
Local historians continue to study the records kept in the parish archives.`

func TestSplitWords(t *testing.T) {
	cases := []struct {
		text    string
		chinese bool
		want    []string
	}{
		{`He said: "U.S. e-mail (costs) 3.5$, don't."`, false, []string{"He", "said", ":", `"`, "U.S", ".", "e-mail", "(", "costs", ")", "3.5", "$", ",", "don't", ".", `"`}},
		{"数学是一门学科。Go语言", true, []string{"数", "学", "是", "一", "门", "学", "科", "。", "Go", "语", "言"}},
		{"数学是", false, []string{"数学是"}},
		{"  \u3000 ", false, nil},
	}
	for _, c := range cases {
		if got := splitWords(c.text, c.chinese, nil); !slices.Equal(got, c.want) {
			t.Errorf("splitWords(%q) = %q, want %q", c.text, got, c.want)
		}
	}
}

func TestGopherQualityRules(t *testing.T) {
	g, err := NewGopherQuality(DefaultGopherQualityConfig())
	if err != nil {
		t.Fatal(err)
	}
	manyWords := strings.Repeat("the river flows past the old stone mill. ", 13000)
	cases := []struct{ name, text, want string }{
		{"good", goodEnglish, ""},
		{"short", "The cat sat on the mat with the hat.", GopherRejectShortDoc},
		{"long", manyWords, GopherRejectLongDoc},
		{"short words", strings.Repeat("a b c d e f to of the ", 10), GopherRejectShortWords},
		{"long words", strings.Repeat("internationalization electroencephalography the of ", 20), GopherRejectLongWords},
		{"hashes", goodEnglish + strings.Repeat(" #tag", 25), GopherRejectHashes},
		{"ellipses", goodEnglish + strings.Repeat(" and then…", 30), GopherRejectEllipses},
		{"bullets", "• " + strings.ReplaceAll(goodEnglish, "\n", "\n- "), GopherRejectBullets},
		{"end ellipsis", strings.ReplaceAll(goodEnglish, ".\n", " ...\n"), GopherRejectEllipsisLines},
		{"numbers", goodEnglish + strings.Repeat(" 1 2 3 4 5", 7), GopherRejectNonAlpha},
		{"stop words", strings.Repeat("Farmers settled along river banks merchants brought salt cloth metal tools ", 8), GopherRejectFewStopWords},
	}
	for _, c := range cases {
		if got := g.Check(c.text, false); got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
}

func TestGopherQualityChinese(t *testing.T) {
	g, _ := NewGopherQuality(DefaultGopherQualityConfig())
	para := "数学是利用符号语言研究数量、结构、变化以及空间等概念的一门学科，从某种角度看属于形式科学的一种。数学透过抽象化和逻辑推理的使用，由计数、计算、量度和对物体形状及运动的观察而产生。"
	if got := g.Check(para, true); got != "" {
		t.Fatalf("Chinese Wikipedia paragraph rejected: %s", got)
	}
	if got := g.Check(para, false); got == "" {
		t.Fatal("under English rules a spaceless paragraph is one word and must fail")
	}
	r := &flow.Record{Text: para, Meta: map[string]any{LangMetaKey: "zh"}}
	if got := g.Process(r); got != "" {
		t.Fatalf("auto language: %s", got)
	}
}

func TestGopherRepetitionRules(t *testing.T) {
	g, err := NewGopherRepetition(DefaultGopherRepetitionConfig())
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(goodEnglish, "\n")
	cases := []struct{ name, text, want string }{
		{"good", goodEnglish, ""},
		{"duplicate paragraphs", strings.Join([]string{lines[0], lines[1], lines[0], lines[1]}, "\n\n"), GopherRejectDupParaFrac},
		{"duplicate paragraph chars", strings.Join(append(lines[:3:3], lines[1]), "\n\n"), GopherRejectDupParaCharFrac},
		{"duplicate lines", strings.Join([]string{lines[0], "a", "a", "a", "a", lines[1], lines[2], lines[3]}, "\n"), GopherRejectDupLineFrac},
		{"duplicate line chars", strings.Join(append(lines[:3:3], lines[1]), "\n"), GopherRejectDupLineCharFrac},
		{"top 2-gram", strings.Repeat("very good ", 30) + goodEnglish, "top_2_gram"},
		{"duplicated 5-grams", goodEnglish + " " + strings.ReplaceAll(lines[1]+" "+lines[4], "\n", " "), "duplicated_5_n_grams"},
	}
	for _, c := range cases {
		if got := g.Check(c.text, false); got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
}

// Hand-computed values of datatrove's helpers.
func TestNGramHelpers(t *testing.T) {
	index := func(words []string, sep string) *ngramIndex {
		pre := make([]int, len(words)+1)
		for i, w := range words {
			pre[i+1] = pre[i] + runeLen(w)
		}
		return newNGramIndex(words, sep, pre)
	}
	seen := map[uint64]int32{}
	words := strings.Fields("a b a b a b c")
	// 2-grams: "a b" x3, "b a" x2, "b c" x1 -> len("a b")*3 = 9.
	if got := topNGramChars(words, index(words, " "), 2, seen); got != 9 {
		t.Errorf("topNGramChars = %d, want 9", got)
	}
	// Tie: "xx y" and "y xx" twice each; the first seen wins: len("xx y")*2 = 8.
	tie := strings.Fields("xx y xx y xx")
	if got := topNGramChars(tie, index(tie, " "), 2, seen); got != 8 {
		t.Errorf("tie: %d, want 8", got)
	}
	// find_all_duplicate(words, 2) joined without spaces: "ab","ba","ab"(dup,+2, skip 2),
	// then idx 4: "ab"(dup,+2, skip 2) -> idx 6 stops (needs 2 words) = 4.
	if got := duplicateNGramChars(words, index(words, ""), 2, seen); got != 4 {
		t.Errorf("duplicateNGramChars = %d, want 4", got)
	}
	// "".join makes "ab"+"c" the same 2-gram as "a"+"bc", as in Python.
	glued := []string{"ab", "c", "a", "bc"}
	if got := duplicateNGramChars(glued, index(glued, ""), 2, seen); got != 3 {
		t.Errorf("joined without spaces: %d, want 3", got)
	}
	// Characters, not bytes.
	cjk := strings.Fields("数 学 数 学")
	if got := topNGramChars(cjk, index(cjk, " "), 2, seen); got != 6 {
		t.Errorf("CJK: %d, want len(\"数 学\")*2 = 6", got)
	}
	if got := splitRuns("a\n\nb\nc\n\n\nd", 2); !slices.Equal(got, []string{"a", "b\nc", "d"}) {
		t.Errorf("splitRuns = %q", got)
	}
}

func TestFineWebQualityRules(t *testing.T) {
	f, err := NewFineWebQuality(DefaultFineWebQualityConfig())
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(goodEnglish, "\n")
	var menu []string
	for i := 0; i < 10; i++ {
		menu = append(menu, fmt.Sprintf("Menu item number %d of the navigation bar", i))
	}
	cases := []struct{ name, text, want string }{
		{"good", goodEnglish, ""},
		{"no punctuation", strings.Join(menu, "\n") + "\n" + lines[0], FineWebRejectLinePunct},
		{"short lines", strings.Join([]string{"Home.", "News.", "Sport.", lines[0]}, "\n"), FineWebRejectShortLine},
		{"duplicate line chars", goodEnglish + "\n" + lines[6], FineWebRejectCharDup},
		{"list", strings.Join([]string{"Internationalization-and-localization.", "Electroencephalography-laboratories.", "Counterrevolutionaries-everywhere!", "Photosynthesis-in-chloroplasts-explained.", "Thermodynamics-of-irreversible-processes."}, "\n"), FineWebRejectList},
	}
	for _, c := range cases {
		if got := f.Check(c.text, false); got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
	zh := "数学是利用符号语言研究数量、结构、变化以及空间等概念的一门学科。\n数学透过抽象化和逻辑推理的使用，由计数、计算、量度和对物体形状及运动的观察而产生。"
	if got := f.Check(zh, true); got != "" {
		t.Errorf("Chinese paragraphs: %q", got)
	}
	if got := f.Check(zh, false); got != FineWebRejectLinePunct {
		t.Errorf("Chinese under English rules: %q", got)
	}
}

func TestQualityConfigsRegisteredAndValidated(t *testing.T) {
	for _, name := range []string{"c4", "lang", "badwords", "gopher_quality", "gopher_repetition", "fineweb_quality"} {
		if _, ok := flow.Lookup(flow.KindStage, name); !ok {
			t.Errorf("%s not registered", name)
		}
	}
	gq := DefaultGopherQualityConfig()
	gq.MaxBulletLinesRatio = 1.5
	if _, err := NewGopherQuality(gq); err == nil || !strings.HasPrefix(err.Error(), "max_bullet_lines_ratio:") {
		t.Errorf("gopher_quality: %v", err)
	}
	gr := DefaultGopherRepetitionConfig()
	gr.DupNGrams = []NGramFraction{{0, 0.1}}
	if _, err := NewGopherRepetition(gr); err == nil || !strings.HasPrefix(err.Error(), "dup_n_grams.0.n:") {
		t.Errorf("gopher_repetition: %v", err)
	}
	fw := DefaultFineWebQualityConfig()
	fw.ShortLineLength = -1
	if _, err := NewFineWebQuality(fw); err == nil || !strings.HasPrefix(err.Error(), "short_line_length:") {
		t.Errorf("fineweb_quality: %v", err)
	}
}

// TestNGramHashingMatchesJoinedStrings compares the hashed n-gram helpers
// with datatrove's definitions computed on real joined strings, on random
// word sequences from a tiny vocabulary (so repeats and "".join collisions
// like "ab"+"c" = "a"+"bc" are frequent).
func TestNGramHashingMatchesJoinedStrings(t *testing.T) {
	vocab := []string{"a", "b", "ab", "ba", "数", "学", "数学", "c"}
	rng := rand.New(rand.NewSource(3))
	seen := map[uint64]int32{}
	for trial := 0; trial < 500; trial++ {
		words := make([]string, rng.Intn(40))
		for i := range words {
			words[i] = vocab[rng.Intn(len(vocab))]
		}
		pre := make([]int, len(words)+1)
		for i, w := range words {
			pre[i+1] = pre[i] + runeLen(w)
		}
		spaced, joined := newNGramIndex(words, " ", pre), newNGramIndex(words, "", pre)
		for n := 1; n <= 6; n++ {
			if got, want := topNGramChars(words, spaced, n, seen), naiveTopNGram(words, n); got != want {
				t.Fatalf("top %d-gram of %q: %d, want %d", n, words, got, want)
			}
			if got, want := duplicateNGramChars(words, joined, n, seen), naiveAllDuplicate(words, n); got != want {
				t.Fatalf("duplicate %d-grams of %q: %d, want %d", n, words, got, want)
			}
		}
	}
}

func naiveTopNGram(words []string, n int) int {
	if len(words) < n {
		return 0
	}
	counts := map[string]int{}
	var order []string
	for i := 0; i+n <= len(words); i++ {
		g := strings.Join(words[i:i+n], " ")
		if counts[g] == 0 {
			order = append(order, g)
		}
		counts[g]++
	}
	best := order[0]
	for _, g := range order {
		if counts[g] > counts[best] {
			best = g
		}
	}
	return runeLen(best) * counts[best]
}

func naiveAllDuplicate(words []string, n int) int {
	seen := map[string]bool{}
	repeated := 0
	for i := 0; i+n <= len(words); {
		g := strings.Join(words[i:i+n], "")
		if seen[g] {
			repeated += runeLen(g)
			i += n
			continue
		}
		seen[g] = true
		i++
	}
	return repeated
}
