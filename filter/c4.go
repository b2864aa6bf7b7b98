package filter

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
	"unsafe"

	"github.com/corpusflow/corpusflow/flow"
	"github.com/corpusflow/corpusflow/internal/punkt"
	"github.com/corpusflow/corpusflow/internal/pystr"
)

// The c4 stage is TensorFlow Datasets' c4_utils.clean_page, the line rules
// T5's C4 was built with, in its order, per stripped line:
//
//  1. a word longer than 1000 characters drops the line;
//  2. citation markers [\d*], [edit], [citation needed] are removed;
//  3. the line must end with . ? ! or " and not with ..., else it is dropped;
//  4. fewer than 5 words drops the line;
//  5. "lorem ipsum" (any case) drops the page;
//  6. "javascript" (any case) drops the line;
//  7. { drops the page (only on lines that got this far);
//  8. a policy phrase (any case) drops the line;
//  9. the page survives only with at least 3 Punkt sentences in its kept
//     lines, which are joined with "\n".
//
// Before the lines, pages over 190,000 characters are dropped (TFDS's
// is_valid_length, which runs before clean_page). Words are Python's
// str.split() words and lengths are in code points, as in TFDS.
//
// variant: datatrove is datatrove's C4QualityFilter: 3 words per line, 5
// sentences, ' also ends a line, and rule 4 counts the words of the line as
// it was before rule 2 removed its citations (datatrove splits the line once,
// before removing them; TFDS splits it again after), so "Two [1] words." is
// three words there and two in TFDS.

// TFDS defaults (c4_utils.py).
const (
	c4MaxPageChars       = 190_000
	c4MaxWordLength      = 1000
	c4MinWordsPerLine    = 5
	c4MinSentences       = 3
	c4Ellipsis           = "..."
	c4ChineseEllipsis    = "……"
	c4LoremIpsum         = "lorem ipsum"
	c4Javascript         = "javascript"
	c4CurlyBracket       = '{'
	datatroveMinWords    = 3
	datatroveMinSentence = 5
)

// c4EndMarks are TFDS's _END_MARKS; datatrove adds the apostrophe.
var (
	c4EndMarks         = []string{".", "?", "!", `"`}
	datatroveEndMarks  = []string{".", "?", "!", `"`, "'"}
	c4ChineseEndMarks  = []string{"。", "！", "？", "”", "」", "』"}
	c4PolicySubstrings = []string{"terms of use", "privacy policy", "cookie policy", "uses cookies", "use of cookies", "use cookies"}
	c4CitationWords    = []string{"[edit]", "[citation needed]"}
	// c4ChinesePolicySubstrings are the same policy notices in Chinese
	// (Simplified and Traditional), checked with language zh only.
	c4ChinesePolicySubstrings = []string{"使用条款", "服务条款", "隐私政策", "隐私权政策", "隐私声明", "使用cookie", "cookie政策",
		"使用條款", "服務條款", "隱私政策", "隱私權政策", "隱私聲明"}
)

// Rejection reasons and line counters of the c4 stage.
const (
	C4RejectPageTooLong     = "page_too_long"
	C4RejectLoremIpsum      = "lorem_ipsum"
	C4RejectCurlyBracket    = "curly_bracket"
	C4RejectTooFewSentences = "too_few_sentences"

	c4LinesTooLongWord = "lines_too_long_word"
	c4LinesNoEndMark   = "lines_no_end_mark"
	c4LinesTooFewWords = "lines_too_few_words"
	c4LinesJavascript  = "lines_javascript"
	c4LinesPolicy      = "lines_policy"
	c4LinesKept        = "lines_kept"
)

// C4Config is the c4 stage's YAML configuration. Zero numbers and an empty
// end_marks list take the preset's value; -1 turns a numeric rule off.
type C4Config struct {
	Variant            string   `yaml:"variant" choices:"tfds,datatrove" help:"preset: tfds (T5's C4: 5 words per line, 3 sentences) or datatrove (C4QualityFilter: 3 words, 5 sentences, ' also ends a line, words counted before citations are removed)"`
	Language           string   `yaml:"language" choices:"auto,en,zh" help:"line rules: en; zh (。！？”」』 end lines, …… is an ellipsis, one word per CJK character, CJK sentence ends); auto: zh when the record's lang is zh"`
	MaxPageChars       int      `yaml:"max_page_chars" help:"drop pages longer than this many characters (0: preset 190000, -1: no limit)"`
	MaxWordLength      int      `yaml:"max_word_length" help:"drop lines with a word longer than this many characters (0: preset 1000, -1: off)"`
	MinWordsPerLine    int      `yaml:"min_words_per_line" help:"drop lines with fewer words (0: preset, tfds 5 / datatrove 3; -1: off)"`
	MinSentences       int      `yaml:"min_sentences" help:"drop pages whose kept lines hold fewer sentences (0: preset, tfds 3 / datatrove 5; -1: off)"`
	EndMarks           []string `yaml:"end_marks" help:"a kept line must end with one of these (empty: preset, . ? ! \" and for datatrove ')"`
	RemoveCitations    bool     `yaml:"remove_citations" help:"remove [1], [edit] and [citation needed] from lines"`
	FilterNoEndMark    bool     `yaml:"filter_no_end_mark" help:"drop lines without an end mark or ending in an ellipsis"`
	FilterLoremIpsum   bool     `yaml:"filter_lorem_ipsum" help:"drop pages with \"lorem ipsum\""`
	FilterJavascript   bool     `yaml:"filter_javascript" help:"drop lines mentioning javascript"`
	FilterCurlyBracket bool     `yaml:"filter_curly_bracket" help:"drop pages with { in a line that passed the earlier rules"`
	FilterPolicy       bool     `yaml:"filter_policy" help:"drop lines with terms of use, privacy policy, cookie policy, uses cookies, use of cookies, use cookies"`
}

// DefaultC4Config is TFDS's clean_page.
func DefaultC4Config() C4Config {
	return C4Config{
		Variant: "tfds", Language: "auto", MaxPageChars: c4MaxPageChars,
		RemoveCitations: true, FilterNoEndMark: true, FilterLoremIpsum: true,
		FilterJavascript: true, FilterCurlyBracket: true, FilterPolicy: true,
	}
}

// Validate checks the numbers and end marks.
func (c *C4Config) Validate() error {
	for _, f := range []struct {
		name string
		v    int
	}{{"max_page_chars", c.MaxPageChars}, {"max_word_length", c.MaxWordLength}, {"min_words_per_line", c.MinWordsPerLine}, {"min_sentences", c.MinSentences}} {
		if f.v < -1 {
			return &flow.FieldError{Field: f.name, Err: fmt.Errorf("must be -1 (off), 0 (preset) or positive, got %d", f.v)}
		}
	}
	for i, m := range c.EndMarks {
		if m == "" {
			return &flow.FieldError{Field: fmt.Sprintf("end_marks.%d", i), Err: errors.New("an end mark cannot be empty")}
		}
	}
	return nil
}

func init() {
	flow.RegisterStage("c4", "C4 line and page rules exactly as TFDS's c4_utils.clean_page (English and Chinese)",
		DefaultC4Config(), func(c *C4Config, env *flow.Env) (flow.Stage, error) { return NewC4(*c, env.Counters) })
}

// C4 is the c4 stage. It is safe for concurrent use.
type C4 struct {
	maxPageChars    int
	maxWordLength   int // -1: off
	minWords        int
	minSentences    int
	endMarks        []string
	zhEndMarks      []string
	removeCitations bool
	// wordsBeforeCitations: the words-per-line rule counts the line as it
	// was before citations were removed (datatrove), not after (TFDS).
	wordsBeforeCitations bool
	cfg                  C4Config
	language             string
	punkt                *punktModel
	counters             *flow.Counters
}

// NewC4 builds the stage; counters may be nil.
func NewC4(cfg C4Config, counters *flow.Counters) (*C4, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	m, err := loadEnglishPunkt()
	if err != nil {
		return nil, err
	}
	c := &C4{cfg: cfg, language: cfg.Language, punkt: m, counters: counters, removeCitations: cfg.RemoveCitations,
		wordsBeforeCitations: cfg.Variant == "datatrove"}
	preset := func(v, tfds, datatrove int) int {
		switch {
		case v != 0:
			return v
		case cfg.Variant == "datatrove":
			return datatrove
		}
		return tfds
	}
	// datatrove's C4QualityFilter has no page-length rule (TFDS's
	// is_valid_length runs before clean_page); both presets keep TFDS's
	// limit, which max_page_chars: -1 turns off.
	c.maxPageChars = preset(cfg.MaxPageChars, c4MaxPageChars, c4MaxPageChars)
	c.maxWordLength = preset(cfg.MaxWordLength, c4MaxWordLength, c4MaxWordLength)
	c.minWords = preset(cfg.MinWordsPerLine, c4MinWordsPerLine, datatroveMinWords)
	c.minSentences = preset(cfg.MinSentences, c4MinSentences, datatroveMinSentence)
	c.endMarks = cfg.EndMarks
	if len(c.endMarks) == 0 {
		c.endMarks = c4EndMarks
		if cfg.Variant == "datatrove" {
			c.endMarks = datatroveEndMarks
		}
	}
	c.zhEndMarks = append(append([]string{}, c.endMarks...), c4ChineseEndMarks...)
	if c.language == "" {
		c.language = "auto"
	}
	return c, nil
}

// c4Tally counts one page's line decisions, added to the stage counters once
// per page rather than once per line.
type c4Tally struct {
	tooLongWord, noEndMark, tooFewWords, javascript, policy, kept int64
}

func (c *C4) flush(t *c4Tally) {
	if c.counters == nil {
		return
	}
	for _, kv := range []struct {
		name string
		n    int64
	}{{c4LinesTooLongWord, t.tooLongWord}, {c4LinesNoEndMark, t.noEndMark}, {c4LinesTooFewWords, t.tooFewWords},
		{c4LinesJavascript, t.javascript}, {c4LinesPolicy, t.policy}, {c4LinesKept, t.kept}} {
		if kv.n != 0 {
			c.counters.Add(kv.name, kv.n)
		}
	}
}

// isChinese decides the rules for one record.
func (c *C4) isChinese(r *flow.Record) bool {
	switch c.language {
	case "zh":
		return true
	case "en":
		return false
	}
	return isChineseTag(r.Meta["lang"]) || isChineseTag(r.Meta["language"])
}

func isChineseTag(v any) bool {
	s, ok := v.(string)
	return ok && (s == "zh" || s == "zho" || s == "chi" || strings.HasPrefix(s, "zh-") || strings.HasPrefix(s, "zh_"))
}

// Process applies clean_page to r.Text and keeps the cleaned text.
func (c *C4) Process(r *flow.Record) string {
	text, reason := c.Clean(r.Text, c.isChinese(r))
	if reason != "" {
		return reason
	}
	r.Text = text
	return ""
}

// Clean returns the cleaned page, or the reason the page is dropped.
func (c *C4) Clean(text string, chinese bool) (string, string) {
	if c.maxPageChars >= 0 && len(text) > c.maxPageChars && utf8.RuneCountInString(text) > c.maxPageChars {
		return "", C4RejectPageTooLong
	}
	scratch := punktScratchPool.Get().(*punktScratch)
	defer punktScratchPool.Put(scratch)

	var tally c4Tally
	defer c.flush(&tally)
	endMarks := c.endMarks
	if chinese {
		endMarks = c.zhEndMarks
	}
	var out []byte
	sentences := 0
	for rest := text; ; {
		raw, next, ok := nextLine(rest)
		if !ok {
			break
		}
		rest = next
		line := pystr.Strip(raw)

		// 1. a word too long (before citations are removed, as in TFDS).
		var words wordStats
		if chinese {
			words = cjkWords(line)
		} else {
			words = whitespaceWords(line)
		}
		if c.maxWordLength >= 0 && words.longest > c.maxWordLength {
			tally.tooLongWord++
			continue
		}
		// 2. citations. TFDS counts the words again afterwards; datatrove
		// keeps the count it took before (so "Two [1] words." has 3).
		if c.removeCitations && strings.IndexByte(line, '[') >= 0 {
			if cleaned := removeCitations(line); len(cleaned) != len(line) {
				line = cleaned
				switch {
				case c.wordsBeforeCitations:
				case chinese:
					words = cjkWords(line)
				default:
					words = whitespaceWords(line)
				}
			}
		}
		// 3. end marks.
		if c.cfg.FilterNoEndMark && (!endsWithAny(line, endMarks) || strings.HasSuffix(line, c4Ellipsis) ||
			chinese && strings.HasSuffix(line, c4ChineseEllipsis)) {
			tally.noEndMark++
			continue
		}
		// 4. too few words.
		if c.minWords > 0 && words.words < c.minWords {
			tally.tooFewWords++
			continue
		}
		// 5-8. phrases, in TFDS's order.
		k := scanC4Keywords(line, chinese, &scratch.fold)
		if c.cfg.FilterLoremIpsum && k.loremIpsum {
			return "", C4RejectLoremIpsum
		}
		if c.cfg.FilterJavascript && k.javascript {
			tally.javascript++
			continue
		}
		if c.cfg.FilterCurlyBracket && k.curlyBracket {
			return "", C4RejectCurlyBracket
		}
		if c.cfg.FilterPolicy && k.policy {
			tally.policy++
			continue
		}
		// 9. sentences.
		sentences += c.punkt.countSentences(scratch, line)
		if chinese {
			sentences += punkt.ChineseBreaks(line)
		}
		if out == nil {
			out = make([]byte, 0, len(text))
		} else {
			out = append(out, '\n')
		}
		out = append(out, line...)
		tally.kept++
	}
	if c.minSentences > 0 && sentences < c.minSentences {
		return "", C4RejectTooFewSentences
	}
	return pystr.Strip(string(out)), ""
}

// endsWithAny is str.endswith(tuple).
func endsWithAny(s string, marks []string) bool {
	for _, m := range marks {
		if strings.HasSuffix(s, m) {
			return true
		}
	}
	return false
}

// removeCitations is re.sub(r"\[\d*\]|\[edit\]|\[citation needed\]", "", s)
// with Python's Unicode \d.
func removeCitations(s string) string {
	var b strings.Builder
	last := 0
	for i := 0; i < len(s); {
		j := strings.IndexByte(s[i:], '[')
		if j < 0 {
			break
		}
		i += j
		n := citationAt(s[i:])
		if n == 0 {
			i++
			continue
		}
		if b.Cap() == 0 {
			b.Grow(len(s))
		}
		b.WriteString(s[last:i])
		i += n
		last = i
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

// citationAt is the length of a citation marker at the start of s, or 0.
func citationAt(s string) int {
	for _, w := range c4CitationWords {
		if strings.HasPrefix(s, w) {
			return len(w)
		}
	}
	i := 1
	for i < len(s) {
		r, n := utf8.DecodeRuneInString(s[i:])
		if !unicode.IsDigit(r) {
			break
		}
		i += n
	}
	if i < len(s) && s[i] == ']' {
		return i + 1
	}
	return 0
}

// c4Keywords says which of C4's phrases a line contains.
type c4Keywords struct {
	loremIpsum, javascript, curlyBracket, policy bool
}

// kelvinSign lower-cases to an ASCII "k" in Python, the only non-ASCII
// character that does; lines holding it take the slow path.
const kelvinSign = "\u212a"

// c4Phrase is a phrase C4 looks for, found through its rarest letter: the
// line is searched (SIMD IndexByte) for the anchor byte, and the phrase is
// compared only where the anchor sits at the right offset. The anchors j, k,
// v, f and p are rare in English, so this is several times faster than
// searching for each phrase's common first letter.
type c4Phrase struct {
	text   string
	anchor int // index in text of its rarest letter
}

var (
	c4LoremPhrase      = c4Phrase{c4LoremIpsum, 7} // the p of ipsum
	c4JavascriptPhrase = c4Phrase{c4Javascript, 0} // j
	c4PolicyPhrases    = []c4Phrase{               // indices into c4PolicySubstrings order
		{"terms of use", 7},    // f
		{"privacy policy", 3},  // v
		{"cookie policy", 3},   // k
		{"uses cookies", 8},    // k
		{"use of cookies", 10}, // k
		{"use cookies", 7},     // k
	}
)

// containsPhrase reports whether low contains p.text.
func containsPhrase(low string, p c4Phrase) bool {
	a := p.text[p.anchor]
	for from := p.anchor; from < len(low); {
		j := strings.IndexByte(low[from:], a)
		if j < 0 {
			return false
		}
		at := from + j - p.anchor
		if at+len(p.text) <= len(low) && low[at:at+len(p.text)] == p.text {
			return true
		}
		from += j + 1
	}
	return false
}

// scanC4Keywords finds C4's phrases case-insensitively (as line.lower() does
// in TFDS). The line is folded into buf (ASCII letters lowered, the Kelvin
// sign written as k, as Python lower-cases it) and buf is reused across
// lines, so nothing is allocated.
func scanC4Keywords(line string, chinese bool, buf *[]byte) c4Keywords {
	if cap(*buf) < len(line) {
		*buf = make([]byte, len(line)+len(line)/2)
	}
	folded := (*buf)[:len(line)]
	for i := 0; i < len(folded); i++ {
		folded[i] = asciiLower[line[i]]
	}
	if strings.Contains(line, kelvinSign) {
		folded = []byte(strings.ReplaceAll(string(folded), kelvinSign, "k"))
	}
	low := unsafe.String(unsafe.SliceData(folded), len(folded))
	k := c4Keywords{
		loremIpsum:   containsPhrase(low, c4LoremPhrase),
		javascript:   containsPhrase(low, c4JavascriptPhrase),
		curlyBracket: strings.IndexByte(line, c4CurlyBracket) >= 0,
	}
	for _, p := range c4PolicyPhrases {
		if containsPhrase(low, p) {
			k.policy = true
			break
		}
	}
	if chinese && !k.policy {
		for _, p := range c4ChinesePolicySubstrings {
			if strings.Contains(low, p) {
				k.policy = true
				break
			}
		}
	}
	return k
}

// asciiLower maps every byte to itself except A-Z, which become a-z.
var asciiLower = func() (t [256]byte) {
	for i := range t {
		t[i] = byte(i)
		if 'A' <= i && i <= 'Z' {
			t[i] = byte(i + 'a' - 'A')
		}
	}
	return
}()

// hasPrefixFold reports whether s starts with the lower-case ASCII prefix,
// ignoring the case of ASCII letters in s.
func hasPrefixFold(s, prefix string) bool {
	if len(s) < len(prefix) {
		return false
	}
	for i := 0; i < len(prefix); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != prefix[i] {
			return false
		}
	}
	return true
}
