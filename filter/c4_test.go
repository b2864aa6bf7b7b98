package filter

import (
	"strings"
	"testing"

	"github.com/corpusflow/corpusflow/flow"
)

func newTestC4(t testing.TB, cfg C4Config) (*C4, *flow.Counters) {
	t.Helper()
	counters := &flow.Counters{}
	c, err := NewC4(cfg, counters)
	if err != nil {
		t.Fatal(err)
	}
	return c, counters
}

// The first cases are TFDS's own c4_utils_test.py, with its expected text and
// counters (TFDS counter names in comments).
func TestC4TFDSBehaviour(t *testing.T) {
	cases := []struct {
		name, text, want, reason string
		counts                   map[string]int64
	}{
		{
			name: "tfds test_clean_page",
			text: `This line has enough words and ends in punctuation, Dr. Roberts!
Economic History | All Institutions | Open Access Articles | Digital Commons Network
"Open Access. Powered by Scholars. Published by Universities."
Digital Commons Network™/ Social and Behavioral Sciences...
Too few words.
You need to enable javascript in your browser in order to see this page.
You have JavaScript disabled and that means you can't see this page.
Adam Roberts has a cookie policy: always eat them.
Colin has a privacy policy: don't share people's secrets.
You'd better follow our terms of use!
`,
			want: "This line has enough words and ends in punctuation, Dr. Roberts!\n\"Open Access. Powered by Scholars. Published by Universities.\"",
			// lines-valid 2, lines-too-short 1, lines-no-endmark 2, lines-javascript 2, lines-policy 3
			counts: map[string]int64{c4LinesKept: 2, c4LinesTooFewWords: 1, c4LinesNoEndMark: 2, c4LinesJavascript: 2, c4LinesPolicy: 3},
		},
		{
			name:   "tfds test_clean_page_toofewsentences",
			text:   "This first line has one sentence.\nThis line looks like it has three sentences...but it's actually just 1.",
			reason: C4RejectTooFewSentences,
			counts: map[string]int64{c4LinesKept: 2},
		},
		{
			name:   "tfds test_clean_page_squigglybracket",
			text:   "This page starts out with some text.\nEverything looks good at first, since these are sentences.\nBut then, all of a sudden, there's a bunch of code like the next block.\nfn foo(a) { bar = a + 10; }.",
			reason: C4RejectCurlyBracket,
			counts: map[string]int64{c4LinesKept: 3},
		},
		{
			name:   "tfds test_clean_page_loremipsum",
			text:   "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore et dolore magna aliqua.\nUt enim ad minim veniam, quis nostrud exercitation ullamco laboris nisi ut aliquip ex ea commodo consequat.",
			reason: C4RejectLoremIpsum,
			counts: map[string]int64{},
		},
		{
			name:   "tfds test_clean_page_citations",
			text:   "This page has some text.\nSome lines don't end with punctuation\nAnd some of these lines end with citations.[3]\nOr have requested citations[citation needed]. Or the option to edit.[edit]\n",
			want:   "This page has some text.\nAnd some of these lines end with citations.\nOr have requested citations. Or the option to edit.",
			counts: map[string]int64{c4LinesKept: 3, c4LinesNoEndMark: 1},
		},
		{
			name:   "tfds test_clean_page_policy",
			text:   "This page has with some text. So, that's good!\nBut at the end it has some polciy lines.\nThis line mentions the Terms of Use.\nThis line should be okay.\nThe privacy policy is mentioned in this line.\nLet's talk about the Cookie Policy now.\n",
			want:   "This page has with some text. So, that's good!\nBut at the end it has some polciy lines.\nThis line should be okay.",
			counts: map[string]int64{c4LinesKept: 3, c4LinesPolicy: 3},
		},
		// Our own cases, one per rule.
		{
			name:   "a { before the end-mark check does not drop the page",
			text:   "function f() { return 1 }\nThis is the first real sentence here. And a second one follows it. A third one ends the page.",
			want:   "This is the first real sentence here. And a second one follows it. A third one ends the page.",
			counts: map[string]int64{c4LinesKept: 1, c4LinesNoEndMark: 1},
		},
		{
			name:   "a { on a short line does not drop the page",
			text:   "Code: {x}.\nThis is the first real sentence here. And a second one follows it. A third one ends the page.",
			want:   "This is the first real sentence here. And a second one follows it. A third one ends the page.",
			counts: map[string]int64{c4LinesKept: 1, c4LinesTooFewWords: 1},
		},
		{
			name:   "javascript is checked before {",
			text:   "Enable JavaScript to see {this} page, it says here.\nThis is the first real sentence here. And a second one follows it. A third one ends the page.",
			want:   "This is the first real sentence here. And a second one follows it. A third one ends the page.",
			counts: map[string]int64{c4LinesKept: 1, c4LinesJavascript: 1},
		},
		{
			name:   "too long word, measured in characters",
			text:   "A line with a very " + strings.Repeat("é", 1001) + " long word in it.\nThis is the first real sentence here. And a second one follows it. A third one ends the page.",
			want:   "This is the first real sentence here. And a second one follows it. A third one ends the page.",
			counts: map[string]int64{c4LinesKept: 1, c4LinesTooLongWord: 1},
		},
		{
			name:   "a 1000-character word is allowed",
			text:   "A line with a " + strings.Repeat("x", 1000) + " word in it.\nThis is the first real sentence here. And a second one follows it.",
			want:   "A line with a " + strings.Repeat("x", 1000) + " word in it.\nThis is the first real sentence here. And a second one follows it.",
			counts: map[string]int64{c4LinesKept: 2},
		},
		{
			name:   "ellipsis ending and quote ending",
			text:   "This line trails off at the very end...\n\"This line is quoted and it ends with a quote\"\nWe count sentences here. There are two. And three.",
			want:   "\"This line is quoted and it ends with a quote\"\nWe count sentences here. There are two. And three.",
			counts: map[string]int64{c4LinesKept: 2, c4LinesNoEndMark: 1},
		},
		{
			name:   "python whitespace and line breaks: \\x1c separates lines, U+3000 and \\x1f strip",
			text:   "\u3000This is the first real sentence here.\x1f\x1cAnd a second one follows it right here.\u2028A third one ends the page right now.",
			want:   "This is the first real sentence here.\nAnd a second one follows it right here.\nA third one ends the page right now.",
			counts: map[string]int64{c4LinesKept: 3},
		},
		{
			name:   "Kelvin sign lower-cases to k in Python",
			text:   "We use coo\u212aies on this website to help you.\nThis is the first real sentence here. And a second one follows it. A third one ends the page.",
			want:   "This is the first real sentence here. And a second one follows it. A third one ends the page.",
			counts: map[string]int64{c4LinesKept: 1, c4LinesPolicy: 1},
		},
		{
			name:   "citation in the middle leaves a double space and one word fewer",
			text:   "Four words [12] here.\nThis is the first real sentence here. And a second one follows it. A third one ends the page.",
			want:   "This is the first real sentence here. And a second one follows it. A third one ends the page.",
			counts: map[string]int64{c4LinesKept: 1, c4LinesTooFewWords: 1},
		},
		{
			name:   "empty page",
			text:   "",
			reason: C4RejectTooFewSentences,
			counts: map[string]int64{},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, counters := newTestC4(t, DefaultC4Config())
			r := &flow.Record{ID: "x", Text: tc.text}
			reason := c.Process(r)
			if reason != tc.reason {
				t.Fatalf("reason %q, want %q", reason, tc.reason)
			}
			if reason == "" && r.Text != tc.want {
				t.Errorf("text:\n%q\nwant:\n%q", r.Text, tc.want)
			}
			got := counters.Snapshot()
			for k, v := range tc.counts {
				if got[k] != v {
					t.Errorf("counter %s = %d, want %d (all: %v)", k, got[k], v, got)
				}
			}
			for k, v := range got {
				if _, ok := tc.counts[k]; !ok && v != 0 {
					t.Errorf("unexpected counter %s = %d", k, v)
				}
			}
		})
	}
}

func TestC4PageTooLong(t *testing.T) {
	c, _ := newTestC4(t, DefaultC4Config())
	line := "This is a perfectly good sentence of English text. "
	page := strings.Repeat(line, c4MaxPageChars/len(line)+1)
	if _, reason := c.Clean(page, false); reason != C4RejectPageTooLong {
		t.Fatalf("reason %q", reason)
	}
	// 190,000 characters but more bytes: characters count, not bytes.
	page = strings.Repeat("é", c4MaxPageChars)
	if _, reason := c.Clean(page, false); reason == C4RejectPageTooLong {
		t.Fatal("190,000 characters is not too long")
	}
}

func TestC4DatatroveVariant(t *testing.T) {
	cfg := DefaultC4Config()
	cfg.Variant = "datatrove"
	c, _ := newTestC4(t, cfg)
	// Three-word lines and an apostrophe end are kept; five sentences needed.
	text := "Three words here.\nHe said 'it is fine'\nOne. Two. Three."
	got, reason := c.Clean(text, false)
	if reason != "" || got != text {
		t.Fatalf("got %q %q", got, reason)
	}
	if _, reason := c.Clean("Three words here.\nOne more. Two more. Three.", false); reason != C4RejectTooFewSentences {
		t.Fatalf("4 sentences: reason %q", reason)
	}
	tfds, _ := newTestC4(t, DefaultC4Config())
	if _, reason := tfds.Clean(text, false); reason != C4RejectTooFewSentences {
		t.Fatalf("tfds keeps the datatrove page: %q", reason)
	}
}

func TestC4Chinese(t *testing.T) {
	c, counters := newTestC4(t, DefaultC4Config())
	para := "数学是利用符号语言研究数量、结构、变化以及空间等概念的一门学科，从某种角度看属于形式科学的一种。数学透过抽象化和逻辑推理的使用，由计数、计算、量度和对物体形状及运动的观察而产生。数学家们拓展这些概念，为了公式化新的猜想以及从选定的公理及定义中建立起严谨推导出的定理。"
	page := strings.Join([]string{
		"首页 | 新闻 | 体育 | 娱乐 | 财经",
		"上一篇：数学的历史",
		"欢迎访问本站……",
		para,
		"版权所有 © 2018 本网站保留所有权利",
		"本站使用cookies。",
	}, "\n")
	r := &flow.Record{Text: page, Meta: map[string]any{"lang": "zh"}}
	if reason := c.Process(r); reason != "" {
		t.Fatalf("rejected: %s", reason)
	}
	if r.Text != para {
		t.Fatalf("kept %q", r.Text)
	}
	got := counters.Snapshot()
	if got[c4LinesKept] != 1 || got[c4LinesNoEndMark] != 4 || got[c4LinesPolicy] != 1 {
		t.Fatalf("counters %v", got)
	}
	// Under English rules the same page has no 5-word line.
	if _, reason := c.Clean(page, false); reason != C4RejectTooFewSentences {
		t.Fatalf("english rules: %q", reason)
	}
	// Two Chinese sentences are too few.
	if _, reason := c.Clean("这是第一个句子，它有足够的字。这是第二个句子，也有足够的字。", true); reason != C4RejectTooFewSentences {
		t.Fatalf("two sentences: %q", reason)
	}
}

func TestRemoveCitations(t *testing.T) {
	cases := map[string]string{
		"no citation":                "no citation",
		"a[1] b[23] c[] d":           "a b c d",
		"x[edit] y[citation needed]": "x y",
		"[[1]]":                      "[]",
		"[Edit] [a1] [1":             "[Edit] [a1] [1",
		"arabic digits[١٢]":          "arabic digits",
	}
	for in, want := range cases {
		if got := removeCitations(in); got != want {
			t.Errorf("removeCitations(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestC4ConfigValidate(t *testing.T) {
	cfg := DefaultC4Config()
	cfg.MinSentences = -2
	if _, err := NewC4(cfg, nil); err == nil || !strings.Contains(err.Error(), "min_sentences") {
		t.Fatalf("err %v", err)
	}
	cfg = DefaultC4Config()
	cfg.EndMarks = []string{".", ""}
	if _, err := NewC4(cfg, nil); err == nil || !strings.Contains(err.Error(), "end_marks.1") {
		t.Fatalf("err %v", err)
	}
}

func TestC4Registered(t *testing.T) {
	comp, ok := flow.Lookup(flow.KindStage, "c4")
	if !ok {
		t.Fatal("c4 not registered")
	}
	st, err := comp.Build(comp.NewConfig(), &flow.Env{Counters: &flow.Counters{}})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := st.(*C4); !ok {
		t.Fatalf("built %T", st)
	}
}

// FuzzC4Clean: any text, English or Chinese rules, never panics, gives the
// same answer twice, and keeps only lines that end with an end mark.
func FuzzC4Clean(f *testing.F) {
	f.Add("This is the first real sentence here. And a second one follows it. A third one ends the page.", false)
	f.Add("数学是一门学科。它研究数量。它也研究结构。\n首页 | 新闻", true)
	f.Add("\x1c\u2028[1][edit]{...}\r\n\"a\" b c d e!", false)
	c, _ := newTestC4(f, DefaultC4Config())
	f.Fuzz(func(t *testing.T, text string, chinese bool) {
		got, reason := c.Clean(text, chinese)
		again, reason2 := c.Clean(text, chinese)
		if got != again || reason != reason2 {
			t.Fatal("not deterministic")
		}
		if reason != "" {
			return
		}
		marks := c.endMarks
		if chinese {
			marks = c.zhEndMarks
		}
		for _, line := range strings.Split(got, "\n") {
			if !endsWithAny(line, marks) {
				t.Fatalf("kept line without an end mark: %q", line)
			}
		}
	})
}

// TestC4ZeroMeansPreset: every parameter documented as "0: preset" behaves
// exactly as the preset's value, for both presets, on a page that exercises
// its rule (max_page_chars: 0 once rejected every page as page_too_long).
func TestC4ZeroMeansPreset(t *testing.T) {
	good := "This is the first real sentence here. And a second one follows it. A third one ends the page. Four. Five."
	longPage := strings.Repeat("This is a perfectly good sentence of English text. ", c4MaxPageChars/51+1)
	cases := []struct {
		name, variant string
		zero          func(*C4Config)
		preset        func(*C4Config)
		text          string
		reason        string // with the preset value
	}{
		{"max_page_chars keeps a short page", "tfds", func(c *C4Config) { c.MaxPageChars = 0 }, func(c *C4Config) { c.MaxPageChars = c4MaxPageChars }, good, ""},
		{"max_page_chars keeps a short page (datatrove)", "datatrove", func(c *C4Config) { c.MaxPageChars = 0 }, func(c *C4Config) { c.MaxPageChars = c4MaxPageChars }, good, ""},
		{"max_page_chars drops a long page", "tfds", func(c *C4Config) { c.MaxPageChars = 0 }, func(c *C4Config) { c.MaxPageChars = c4MaxPageChars }, longPage, C4RejectPageTooLong},
		{"max_word_length drops a 1001-character word", "tfds", func(c *C4Config) { c.MaxWordLength = 0 }, func(c *C4Config) { c.MaxWordLength = c4MaxWordLength },
			"A line with a " + strings.Repeat("x", 1001) + " word in it.\n" + good, ""},
		{"max_word_length keeps a 1000-character word", "datatrove", func(c *C4Config) { c.MaxWordLength = 0 }, func(c *C4Config) { c.MaxWordLength = c4MaxWordLength },
			"A line with a " + strings.Repeat("x", 1000) + " word in it.\n" + good, ""},
		{"min_words_per_line tfds drops 4 words", "tfds", func(c *C4Config) { c.MinWordsPerLine = 0 }, func(c *C4Config) { c.MinWordsPerLine = c4MinWordsPerLine },
			"Only four words here.\n" + good, ""},
		{"min_words_per_line datatrove keeps 3 words", "datatrove", func(c *C4Config) { c.MinWordsPerLine = 0 }, func(c *C4Config) { c.MinWordsPerLine = datatroveMinWords },
			"Three words here.\n" + good, ""},
		{"min_sentences tfds drops 2 sentences", "tfds", func(c *C4Config) { c.MinSentences = 0 }, func(c *C4Config) { c.MinSentences = c4MinSentences },
			"This is the first real sentence here. And a second one follows it.", C4RejectTooFewSentences},
		{"min_sentences datatrove drops 4 sentences", "datatrove", func(c *C4Config) { c.MinSentences = 0 }, func(c *C4Config) { c.MinSentences = datatroveMinSentence },
			"This is the first real sentence here. And a second one follows it. A third. A fourth.", C4RejectTooFewSentences},
		{"end_marks datatrove keeps ' endings", "datatrove", func(c *C4Config) { c.EndMarks = nil }, func(c *C4Config) { c.EndMarks = datatroveEndMarks },
			"He said it 'is fine'\n" + good, ""},
		{"end_marks tfds drops ' endings", "tfds", func(c *C4Config) { c.EndMarks = nil }, func(c *C4Config) { c.EndMarks = c4EndMarks },
			"He said it is really 'fine'\n" + good, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			build := func(set func(*C4Config)) *C4 {
				cfg := DefaultC4Config()
				cfg.Variant = tc.variant
				set(&cfg)
				c, _ := newTestC4(t, cfg)
				return c
			}
			zeroText, zeroReason := build(tc.zero).Clean(tc.text, false)
			presetText, presetReason := build(tc.preset).Clean(tc.text, false)
			if presetReason != tc.reason {
				t.Fatalf("preset value: reason %q, want %q", presetReason, tc.reason)
			}
			if zeroReason != presetReason || zeroText != presetText {
				t.Fatalf("0 gives %q %q, the preset value gives %q %q", zeroReason, short(zeroText), presetReason, short(presetText))
			}
		})
	}
}

func short(s string) string {
	if len(s) > 120 {
		return s[:120] + "..."
	}
	return s
}

// TestC4DatatroveCountsWordsBeforeCitations: datatrove's C4QualityFilter
// splits a line into words once, before removing citations, and the
// words-per-line rule uses that count; TFDS splits again after.
func TestC4DatatroveCountsWordsBeforeCitations(t *testing.T) {
	five := "One sentence here. Two sentences here. Three here. Four here. Five here."
	page := "Two [1] words.\n" + five
	dt := DefaultC4Config()
	dt.Variant = "datatrove"
	c, counters := newTestC4(t, dt)
	got, reason := c.Clean(page, false)
	if reason != "" || got != "Two  words.\n"+five {
		t.Fatalf("datatrove: %q %q; want the 3-word line (2 after its citation goes) kept", got, reason)
	}
	if n := counters.Snapshot()[c4LinesTooFewWords]; n != 0 {
		t.Errorf("datatrove counted %d lines with too few words", n)
	}
	// The same rule in TFDS's order, at datatrove's threshold: the line has 2
	// words after its citation is removed and is dropped.
	tf := DefaultC4Config()
	tf.MinWordsPerLine, tf.MinSentences, tf.EndMarks = datatroveMinWords, datatroveMinSentence, datatroveEndMarks
	c, counters = newTestC4(t, tf)
	got, reason = c.Clean(page, false)
	if reason != "" || got != five {
		t.Fatalf("tfds: %q %q", got, reason)
	}
	if n := counters.Snapshot()[c4LinesTooFewWords]; n != 1 {
		t.Errorf("tfds counted %d lines with too few words, want 1", n)
	}
	// Chinese under datatrove: "[1]" is one word before removal too.
	c, _ = newTestC4(t, dt)
	if got, reason := c.Clean("两个[1]。\n"+five, true); reason != "" || !strings.HasPrefix(got, "两个。\n") {
		t.Fatalf("datatrove zh: %q %q", got, reason)
	}
}
