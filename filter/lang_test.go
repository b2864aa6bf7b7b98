package filter

import (
	"strings"
	"testing"

	"github.com/corpusflow/corpusflow/flow"
)

var (
	sharedLang     *Lang
	sharedLangErr  error
	sharedLangInit bool
)

// testLang builds one detector for all tests (models load lazily and are
// shared by lingua anyway).
func testLang(t testing.TB) *Lang {
	t.Helper()
	if !sharedLangInit {
		sharedLangInit = true
		cfg := DefaultLangConfig()
		cfg.Languages = []string{"en", "zh"}
		sharedLang, sharedLangErr = NewLang(cfg, &flow.Counters{})
	}
	if sharedLangErr != nil {
		t.Fatal(sharedLangErr)
	}
	return sharedLang
}

func TestLangTable(t *testing.T) {
	cfg := DefaultLangConfig()
	cfg.Languages = []string{"en"}
	counters := &flow.Counters{}
	l, err := NewLang(cfg, counters)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		text, reason, lang string
	}{
		{"The quick brown fox jumps over the lazy dog, and then it runs far away into the forest to rest.", "", "en"},
		{"Le renard brun rapide saute par-dessus le chien paresseux, puis il court loin dans la forêt.", LangRejectNotAllowed, "fr"},
		{"数学是利用符号语言研究数量、结构、变化以及空间等概念的一门学科。", LangRejectNotAllowed, "zh"},
		{"これは日本語の文章です。ひらがなとカタカナがあります。", LangRejectNotAllowed, "ja"},
		{"", LangRejectUnknown, ""},
		{"12345 67890 !!! ???", LangRejectUnknown, ""},
	}
	for _, c := range cases {
		r := &flow.Record{Text: c.text}
		if got := l.Process(r); got != c.reason {
			t.Errorf("%q: reason %q, want %q", c.text, got, c.reason)
		}
		if c.lang != "" && r.Meta[LangMetaKey] != c.lang {
			t.Errorf("%q: lang %v, want %s", c.text, r.Meta[LangMetaKey], c.lang)
		}
		if c.lang != "" {
			if s, ok := r.Meta[LangScoreMetaKey].(float64); !ok || s <= 0 || s > 1 {
				t.Errorf("%q: lang_score %v", c.text, r.Meta[LangScoreMetaKey])
			}
		}
	}
	if counters.Get("detected_en") != 1 || counters.Get("detected_fr") != 1 {
		t.Errorf("counters %v", counters.Snapshot())
	}
	// Short or mixed text is not C4-confident English.
	for _, text := range []string{"OK", "Das ist gut. This is good. C'est bon. Esto es bueno."} {
		r := &flow.Record{Text: text}
		if got := l.Process(r); got == "" {
			t.Errorf("%q kept (score %v)", text, r.Meta[LangScoreMetaKey])
		}
	}
}

func TestLangConfigErrors(t *testing.T) {
	for _, c := range []struct {
		cfg   LangConfig
		field string
	}{
		{LangConfig{MinScore: 0.5}, "languages"},
		{LangConfig{Languages: []string{"english"}, MinScore: 0.5}, "languages.0"},
		{LangConfig{Languages: []string{"en"}, Candidates: []string{"xx"}}, "candidates.0"},
		{LangConfig{Languages: []string{"en"}, MinScore: 1.5}, "min_score"},
		{LangConfig{Languages: []string{"en"}, Candidates: []string{"en"}}, "candidates"},
	} {
		_, err := NewLang(c.cfg, nil)
		if err == nil || !strings.HasPrefix(err.Error(), c.field+":") {
			t.Errorf("%+v: error %v, want one about %s", c.cfg, err, c.field)
		}
	}
}

// TestLangAccuracy: top-1 accuracy on real English and Chinese text must be
// at least 99 %, and most documents must clear C4's 0.99 threshold.
func TestLangAccuracy(t *testing.T) {
	if testing.Short() {
		t.Skip("loads language models")
	}
	l := testLang(t)
	docs := langEvalDocs(t)
	correct := map[string]int{}
	total := map[string]int{}
	confident := map[string]int{}
	wrong := map[string]map[string]int{}
	for _, d := range docs {
		code, score := l.Detect(d.text)
		total[d.lang]++
		if code == d.lang {
			correct[d.lang]++
			if score >= 0.99 {
				confident[d.lang]++
			}
		} else {
			if wrong[d.lang] == nil {
				wrong[d.lang] = map[string]int{}
			}
			wrong[d.lang][code]++
		}
	}
	for _, lang := range []string{"en", "zh"} {
		acc := float64(correct[lang]) / float64(total[lang])
		t.Logf("%s: %d docs, top-1 accuracy %.4f, correct with score >= 0.99: %.4f, wrong labels %v",
			lang, total[lang], acc, float64(confident[lang])/float64(total[lang]), wrong[lang])
		if total[lang] < 500 {
			t.Errorf("%s: only %d documents", lang, total[lang])
		}
		if acc < 0.99 {
			t.Errorf("%s: accuracy %.4f < 0.99", lang, acc)
		}
	}
}
