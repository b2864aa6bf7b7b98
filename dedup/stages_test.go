package dedup

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/corpusflow/corpusflow/flow"
)

// recordsSource yields fixed records in one part.
type recordsSource []*flow.Record

func (s recordsSource) Parts() ([]flow.Part, error) { return []flow.Part{s}, nil }
func (s recordsSource) Name() string                { return "records" }
func (s recordsSource) Size() int64                 { return -1 }
func (s recordsSource) Read(ctx context.Context, emit func(*flow.Record) error, _ *flow.SourceReport) error {
	for _, r := range s {
		c := *r
		if err := emit(&c); err != nil {
			return err
		}
	}
	return nil
}

type collectSink struct{ got []*flow.Record }

func (c *collectSink) Write(r *flow.Record) error { c.got = append(c.got, r); return nil }
func (c *collectSink) Close() error               { return nil }

type collectRejects struct{ got []flow.Rejection }

func (c *collectRejects) WriteRejection(r flow.Rejection) error { c.got = append(c.got, r); return nil }
func (c *collectRejects) Close() error                          { return nil }

// runStage runs records through one registered stage with the given
// parameters set on its default configuration, the way a pipeline would.
func runStage(t *testing.T, name string, configure func(cfg any), workers int, recs []*flow.Record) (*collectSink, *collectRejects, *flow.RunStats) {
	t.Helper()
	comp, ok := flow.Lookup(flow.KindStage, name)
	if !ok {
		t.Fatalf("stage %s not registered", name)
	}
	cfg := comp.NewConfig()
	if configure != nil {
		configure(cfg)
	}
	env := &flow.Env{Counters: &flow.Counters{}, OutputDir: t.TempDir(), Workers: workers, StageName: name}
	st, err := comp.Build(cfg, env)
	if err != nil {
		t.Fatal(err)
	}
	sink, rej := &collectSink{}, &collectRejects{}
	stats, err := flow.Run(context.Background(), flow.Plan{
		Sources: []flow.NamedSource{{Name: "test", Source: recordsSource(recs)}},
		Stages:  []flow.NamedStage{{Name: name, Use: name, Stage: st.(flow.Stage), Counters: env.Counters}},
		Sinks:   []flow.NamedSink{{Name: "mem", Sink: sink}},
		Rejects: rej, Workers: workers, BatchRecords: 7,
	})
	if err != nil {
		t.Fatal(err)
	}
	return sink, rej, stats
}

func ids(rs []*flow.Record) string {
	var s []string
	for _, r := range rs {
		s = append(s, r.ID)
	}
	return strings.Join(s, ",")
}

func rejected(rs []flow.Rejection) string {
	var s []string
	for _, r := range rs {
		s = append(s, r.Record.ID+":"+r.Reason)
	}
	return strings.Join(s, ",")
}

func TestExactDedupText(t *testing.T) {
	recs := []*flow.Record{
		{ID: "a", Text: "Hello   World"},
		{ID: "b", Text: "hello world"},     // case + whitespace
		{ID: "c", Text: "ＨＥＬＬＯ World\n"},   // NFKC full-width
		{ID: "d", Text: "Hello, World!"},   // punctuation differs: kept by default
		{ID: "e", Text: "Straße 12"},       // ß folds to ss
		{ID: "f", Text: "STRASSE 12"},      // same
		{ID: "g", Text: "strasse 99"},      // digits differ
		{ID: "h", Text: "hello,  world!!"}, // same as d once punctuation is ignored... not by default
	}
	sink, rej, _ := runStage(t, "exact_dedup", nil, 3, recs)
	if got, want := ids(sink.got), "a,d,e,g,h"; got != want {
		t.Errorf("kept %s, want %s", got, want)
	}
	if got, want := rejected(rej.got), "b:duplicate_text,c:duplicate_text,f:duplicate_text"; got != want {
		t.Errorf("rejected %s, want %s", got, want)
	}
	sink, _, _ = runStage(t, "exact_dedup", func(c any) {
		c.(*ExactConfig).StripPunctuation = true
		c.(*ExactConfig).DigitsToZero = true
	}, 3, recs)
	if got, want := ids(sink.got), "a,e"; got != want {
		t.Errorf("with strip_punctuation+digits_to_zero kept %s, want %s", got, want)
	}
}

func TestExactDedupURL(t *testing.T) {
	recs := []*flow.Record{
		{ID: "1", URL: "https://www.Example.com/page/?utm_source=x&id=3#top"},
		{ID: "2", URL: "http://example.com/page?id=3&ref=home"},
		{ID: "3", URL: "http://example.com/page?id=4"},
		{ID: "4", URL: ""},
		{ID: "5", URL: "not a url"},
		{ID: "6", URL: "https://example.com/page/?feed=rss&id=3"},
		{ID: "7", URL: "https://Example.com/page?reference=9"},
		{ID: "8", URL: "https://example.com/page?id=3#top"},
	}
	for _, c := range []struct {
		rule, kept, rejected string
	}{
		// C4: 1, 7 → Example.com/page; 6 → example.com/page (case counts);
		// 2 and 8 keep their parameters and fragment.
		{URLRuleC4, "1,2,3,4,5,6,8", "7:duplicate_url"},
		// params: 1, 2, 6, 8 → example.com/page?id=3; 7 keeps reference=9.
		{URLRuleParams, "1,3,4,5,7", "2:duplicate_url,6:duplicate_url,8:duplicate_url"},
	} {
		sink, rej, stats := runStage(t, "exact_dedup", func(cfg any) {
			cfg.(*ExactConfig).Key = "url"
			cfg.(*ExactConfig).URLRule = c.rule
		}, 2, recs)
		if got := ids(sink.got); got != c.kept {
			t.Errorf("%s: kept %s, want %s", c.rule, got, c.kept)
		}
		if got := rejected(rej.got); got != c.rejected {
			t.Errorf("%s: rejected %s, want %s", c.rule, got, c.rejected)
		}
		if n := stats.Stages[0].Counts["no_url"]; n != 2 {
			t.Errorf("%s: no_url = %d, want 2", c.rule, n)
		}
	}
}

// TestNormalizeURL: the c4 column was computed with TFDS's normalize_url
// (c4_utils.py) in Python on the same strings.
func TestNormalizeURL(t *testing.T) {
	cases := []struct{ in, c4, params string }{
		{"https://www.example.com/", "example.com", "example.com"},
		{"https://www.example.com/a?utm_source=x&id=3", "example.com/a", "example.com/a?id=3"},
		{"https://example.com/a?id=3&utm_source=x", "example.com/a?id=3&utm_source=x", "example.com/a?id=3"},
		{"https://example.com/a?b=1&ref=x&feed=y&c=2", "example.com/a?b=1&ref=x&feed=y&c=2", "example.com/a?b=1&c=2"},
		{"https://example.com/a?reference=1", "example.com/a", "example.com/a?reference=1"},
		{"https://example.com/a?feedback=1", "example.com/a", "example.com/a?feedback=1"},
		{"https://example.com/a?q=1?ref=2", "example.com/a?q=1", "example.com/a?q=1?ref=2"},
		{"https://example.com/a?UTM_campaign=y", "example.com/a?UTM_campaign=y", "example.com/a"},
		{"HTTPS://Example.COM/A/", "HTTPS://Example.COM/A", "example.com/A"},
		{"HTTP://Example.COM:80/a/b/", "HTTP://Example.COM:80/a/b", "example.com/a/b"},
		{"http://example.com:80/a", "example.com:80/a", "example.com/a"},
		{"https://example.com/a#section", "example.com/a#section", "example.com/a"},
		{"https://www.example.com/go?to=http://www.other.org/x", "example.com/go?to=other.org/x", "example.com/go?to=http://www.other.org/x"},
		{"ftp://example.com/a/", "ftp://example.com/a", "example.com/a"},
		{"https://example.com/a///", "example.com/a", "example.com/a"},
		{"  https://example.com/?utm_source=x \n", "example.com", "example.com"},
	}
	for _, c := range cases {
		if got, ok := NormalizeURL(c.in); !ok || got != c.c4 {
			t.Errorf("NormalizeURL(%q) = %q, %v; want %q", c.in, got, ok, c.c4)
		}
		if got, ok := NormalizeURLParams(c.in); !ok || got != c.params {
			t.Errorf("NormalizeURLParams(%q) = %q, %v; want %q", c.in, got, ok, c.params)
		}
	}
	for _, bad := range []string{"", "relative/path", "%zz", "mailto:x@y", "not a url"} {
		if got, ok := NormalizeURL(bad); ok {
			t.Errorf("NormalizeURL(%q) = %q, want not ok", bad, got)
		}
		if got, ok := NormalizeURLParams(bad); ok {
			t.Errorf("NormalizeURLParams(%q) = %q, want not ok", bad, got)
		}
	}
}

// TestExactURLRuleRouting: the keyed (distributed) exact_dedup routes URLs
// by the configured rule (PartitionKey uses the stage's own normalization),
// so every rule offers PartitionKey and splits by key over Kafka.
func TestExactURLRuleRouting(t *testing.T) {
	comp, _ := flow.Lookup(flow.KindStage, "exact_dedup")
	if def := comp.NewConfig().(*ExactConfig); def.URLRule != URLRuleC4 {
		t.Errorf("default url_rule %q, want c4", def.URLRule)
	}
	for _, c := range []struct {
		key, rule string
		keyed     bool
	}{{"url", URLRuleC4, true}, {"url", URLRuleParams, true}, {"text", URLRuleParams, true}} {
		cfg := comp.NewConfig().(*ExactConfig)
		cfg.Key, cfg.URLRule = c.key, c.rule
		st, err := comp.Build(cfg, &flow.Env{Counters: &flow.Counters{}})
		if err != nil {
			t.Fatal(err)
		}
		if _, keyed := st.(flow.Partitioner); keyed != c.keyed {
			t.Errorf("key %s rule %s: Partitioner = %v, want %v", c.key, c.rule, keyed, c.keyed)
		}
		if _, seq := st.(flow.Sequential); !seq {
			t.Errorf("key %s rule %s: not sequential", c.key, c.rule)
		}
	}
	bad := &ExactConfig{Key: "url", URLRule: "regex"}
	var fe *flow.FieldError
	if err := bad.Validate(); !errors.As(err, &fe) || fe.Field != "url_rule" {
		t.Errorf("url_rule regex: %v, want a url_rule error", err)
	}
}

func TestLineDedup(t *testing.T) {
	recs := []*flow.Record{
		{ID: "a", Text: "Cookie policy.\nFirst real sentence here. Second one. Third one."},
		{ID: "b", Text: "  COOKIE POLICY.  \nAnother page. With two. And three sentences."},
		{ID: "c", Text: "cookie policy.\nShort page."},
		{ID: "d", Text: "Another page. With two. And three sentences."},
		{ID: "e", Text: "Fresh. Text. Here.\n\nFresh. Text. Here."},
	}
	sink, rej, stats := runStage(t, "line_dedup", nil, 2, recs)
	if got, want := ids(sink.got), "a,b,e"; got != want {
		t.Errorf("kept %s, want %s", got, want)
	}
	if got, want := rejected(rej.got), "c:too_few_sentences_after_line_dedup,d:duplicate_lines"; got != want {
		t.Errorf("rejected %s, want %s", got, want)
	}
	if sink.got[1].Text != "Another page. With two. And three sentences." {
		t.Errorf("b became %q", sink.got[1].Text)
	}
	if sink.got[2].Text != "Fresh. Text. Here.\n\n" {
		t.Errorf("e became %q (a line repeated inside one document is removed too)", sink.got[2].Text)
	}
	if n := stats.Stages[0].Counts["lines_removed"]; n != 4 {
		t.Errorf("lines_removed = %d, want 4", n)
	}
}

// TestLineDedupCountsSentencesLikeC4: the "fewer than 3 sentences" rule
// counts with Punkt, as C4 did, not with span_dedup's splitter (which would
// count "Mr. J. S. Bach" as four sentences and every line as one).
func TestLineDedupCountsSentencesLikeC4(t *testing.T) {
	seed := &flow.Record{ID: "seed", Text: "Shared boilerplate line."}
	cases := []struct {
		id, rest string
		kept     bool
		splitter int // span_dedup's count, for contrast
	}{
		{"initials", "Mr. J. S. Bach wrote music for the church.", false, 4},
		{"lines without ends", "Title\nFirst line of text\nSecond line of text", false, 3},
		{"abbreviation and decimal", "It costs $3.50 at St. Mary's today. Really. Yes.", true, 4},
		{"three plain sentences", "One is here. Two is here. Three is here.", true, 3},
		{"chinese", "第一句在这里。第二句在这里。第三句在这里。", true, 3},
		{"chinese, two", "第一句在这里。第二句在这里。", false, 2},
	}
	recs := []*flow.Record{seed}
	for _, c := range cases {
		recs = append(recs, &flow.Record{ID: c.id, Text: "Shared boilerplate line.\n" + c.rest})
		if got := countSentences(c.rest); got != c.splitter {
			t.Errorf("%s: span_dedup's splitter counts %d, want %d", c.id, got, c.splitter)
		}
	}
	sink, rej, _ := runStage(t, "line_dedup", nil, 1, recs)
	kept := map[string]bool{}
	for _, r := range sink.got {
		kept[r.ID] = true
	}
	reasons := map[string]string{}
	for _, r := range rej.got {
		reasons[r.Record.ID] = r.Reason
	}
	for _, c := range cases {
		if kept[c.id] != c.kept {
			t.Errorf("%s: kept = %v, want %v (rejected as %q)", c.id, kept[c.id], c.kept, reasons[c.id])
		}
		if !c.kept && reasons[c.id] != "too_few_sentences_after_line_dedup" {
			t.Errorf("%s: reason %q", c.id, reasons[c.id])
		}
	}
}

func TestSpanDedup(t *testing.T) {
	recs := []*flow.Record{
		{ID: "a", Text: "One fish. Two fish. Red fish. Blue fish."},
		{ID: "b", Text: "Intro here. one fish.  Two fish. RED FISH. Outro there."},
		{ID: "c", Text: "Two fish. Red fish. Blue fish."},
		{ID: "d", Text: "数学是学科。它研究数量。它研究结构。它研究空间。"},
		{ID: "e", Text: "前言。它研究数量。它研究结构。它研究空间。"},
	}
	sink, rej, _ := runStage(t, "span_dedup", nil, 2, recs)
	if got, want := ids(sink.got), "a,b,d,e"; got != want {
		t.Errorf("kept %s, want %s", got, want)
	}
	if got, want := rejected(rej.got), "c:duplicate_spans"; got != want {
		t.Errorf("rejected %s, want %s", got, want)
	}
	if sink.got[1].Text != "Intro here. Outro there." {
		t.Errorf("b became %q", sink.got[1].Text)
	}
	if sink.got[3].Text != "前言。" {
		t.Errorf("e became %q", sink.got[3].Text)
	}
}

func TestSentenceStarts(t *testing.T) {
	cases := []struct {
		in   string
		want int
	}{
		{"", 0},
		{"One. Two! Three?", 3},
		{"Pi is 3.14 exactly. Yes.", 2},
		{"He said \"stop.\" Then left.", 2},
		{"第一句。第二句！第三句", 3},
		{"line one\nline two", 2},
		{"   ", 0},
	}
	for _, c := range cases {
		if got := len(sentenceStarts(c.in)); got != c.want {
			t.Errorf("sentences(%q) = %d, want %d", c.in, got, c.want)
		}
	}
}

func TestMinHashDedupStage(t *testing.T) {
	base := strings.Fields(wikiParagraph)
	edit := func(every int) string {
		w := append([]string(nil), base...)
		for i := every / 2; i < len(w); i += every {
			w[i] = "changed"
		}
		return strings.Join(w, " ")
	}
	recs := []*flow.Record{
		{ID: "orig", Text: wikiParagraph},
		{ID: "case", Text: strings.ToUpper(wikiParagraph)},
		{ID: "light", Text: edit(200)}, // one word changed: Jaccard = 106/116 ≈ 0.91
		{ID: "other", Text: otherParagraph},
		{ID: "heavy", Text: edit(4)}, // every 4th word: almost no 5-gram survives
		{ID: "zh1", Text: zhParagraph},
		{ID: "zh2", Text: zhParagraph + "。"},
		{ID: "empty", Text: "!!! ..."},
	}
	for _, family := range []string{FamilyDatatrove, FamilyMultiplyShift} {
		for _, verify := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/verify=%v", family, verify), func(t *testing.T) {
				sink, rej, stats := runStage(t, "minhash_dedup", func(c any) {
					c.(*MinHashConfig).Family = family
					c.(*MinHashConfig).Verify = verify
				}, 4, recs)
				if got, want := ids(sink.got), "orig,other,heavy,zh1,empty"; got != want {
					t.Errorf("kept %s, want %s", got, want)
				}
				if got, want := rejected(rej.got), "case:near_duplicate,light:near_duplicate,zh2:near_duplicate"; got != want {
					t.Errorf("rejected %s, want %s", got, want)
				}
				for _, r := range rej.got {
					want := "orig"
					if r.Record.ID == "zh2" {
						want = "zh1"
					}
					if r.Record.MetaString("dup_of") != want {
						t.Errorf("%s dup_of = %q, want %q", r.Record.ID, r.Record.MetaString("dup_of"), want)
					}
				}
				c := stats.Stages[0].Counts
				if c["index_documents"] != 4 || c["no_tokens"] != 1 || c["index_bytes"] <= 0 {
					t.Errorf("counts %v", c)
				}
			})
		}
	}
}

func TestMinHashConfigValidate(t *testing.T) {
	cases := []struct {
		mut   func(*MinHashConfig)
		field string
	}{
		{func(c *MinHashConfig) { c.NGram = 0 }, "ngram"},
		{func(c *MinHashConfig) { c.Bands = 0 }, "bands"},
		{func(c *MinHashConfig) { c.Rows = 65 }, "rows"},
		{func(c *MinHashConfig) { c.Family = "md5" }, "hash_family"},
		{func(c *MinHashConfig) { c.Threshold = 1.5 }, "threshold"},
		{func(c *MinHashConfig) { c.Seed = 1 << 33 }, "seed"},
	}
	for _, tc := range cases {
		c := DefaultMinHashConfig
		tc.mut(&c)
		err := c.Validate()
		fe, ok := err.(*flow.FieldError)
		if !ok || fe.Field != tc.field {
			t.Errorf("want error on %s, got %v", tc.field, err)
		}
	}
	c := DefaultMinHashConfig
	if err := c.Validate(); err != nil {
		t.Errorf("defaults invalid: %v", err)
	}
}

const wikiParagraph = `Super Bowl 50 was an American football game to determine the champion of the National Football League (NFL) for the 2015 season. The American Football Conference (AFC) champion Denver Broncos defeated the National Football Conference (NFC) champion Carolina Panthers 24–10 to earn their third Super Bowl title. The game was played on February 7, 2016, at Levi's Stadium in the San Francisco Bay Area at Santa Clara, California. As this was the 50th Super Bowl, the league emphasized the "golden anniversary" with various gold-themed initiatives, as well as temporarily suspending the tradition of naming each Super Bowl game with Roman numerals, so that the logo could prominently feature the Arabic numerals 50.`

const otherParagraph = `The Normans were the people who in the 10th and 11th centuries gave their name to Normandy, a region in France. They were descended from Norse raiders and pirates from Denmark, Iceland and Norway who, under their leader Rollo, agreed to swear fealty to King Charles III of West Francia. Through generations of assimilation and mixing with the native Frankish and Roman-Gaulish populations, their descendants would gradually merge with the Carolingian-based cultures of West Francia.`

const zhParagraph = `数学是利用符号语言研究数量、结构、变化以及空间等概念的一门学科，从某种角度看属于形式科学的一种。数学透过抽象化和逻辑推理的使用，由计数、计算、量度和对物体形状及运动的观察而产生。数学家们拓展这些概念，为了公式化新的猜想以及从选定的公理及定义中建立起严谨推导出的定理`
