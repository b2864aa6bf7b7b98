package filter

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/corpusflow/corpusflow/flow"
	"github.com/pemistahl/lingua-go"
)

// The lang stage identifies a record's language with lingua-go and keeps the
// record only if the top language is allowed and confident enough. C4 used
// langdetect with en and 0.99; lingua is more accurate on short text and
// tells Chinese from Japanese and Korean by script rules.
//
// A detector that knows only the allowed languages would call every French
// page English with confidence 1, so the detector tells apart a set of
// candidate languages: by default the allowed ones plus the languages most
// common on the web. Only their models are loaded, which keeps memory and
// time low (measured in BENCHMARKS.md).

// Rejection reasons of the lang stage.
const (
	LangRejectNotAllowed = "lang_not_allowed"
	LangRejectLowScore   = "lang_low_score"
	LangRejectUnknown    = "lang_unknown"
)

// Metadata keys the lang stage writes.
const (
	LangMetaKey      = "lang"
	LangScoreMetaKey = "lang_score"
)

// defaultLangCandidates are the languages with the most Common Crawl pages.
// Each candidate costs time on every record (lingua scores every one), so the
// default is the dozen largest; a page in another language scores low or
// lands on a candidate that is not allowed, and is rejected either way.
var defaultLangCandidates = []string{"en", "de", "fr", "es", "it", "pt", "nl", "ru", "pl", "zh", "ja", "ko"}

// defaultLangMaxChars bounds the text lingua reads. Past a few hundred
// characters the answer does not change but lingua's cost keeps growing
// (its confidence falls back to arbitrary-precision arithmetic once the
// log-probabilities underflow), so the first 500 characters decide.
const defaultLangMaxChars = 500

// langScoreDecimals rounds lang_score so outputs stay short and stable.
const langScoreDecimals = 4

// LangConfig is the lang stage's YAML configuration.
type LangConfig struct {
	Languages   []string `yaml:"languages" required:"true" help:"ISO 639-1 codes a record may be in, e.g. [en] or [zh]"`
	MinScore    float64  `yaml:"min_score" help:"reject when the top language's confidence is below this (C4 used 0.99)"`
	Candidates  []string `yaml:"candidates" help:"ISO 639-1 codes the detector tells apart; the allowed languages are always added (empty: en de fr es it pt nl ru pl zh ja ko)"`
	LowAccuracy bool     `yaml:"low_accuracy" help:"trigram models only (lingua uses only trigrams above 120 characters anyway): 20x less memory, faster on short text"`
	Preload     bool     `yaml:"preload" help:"load every candidate's models when the pipeline starts instead of on first use"`
	MaxChars    int      `yaml:"max_chars" help:"classify only the first N characters of a record (0: all of it)"`
}

// DefaultLangConfig has C4's threshold.
func DefaultLangConfig() LangConfig {
	return LangConfig{MinScore: 0.99, LowAccuracy: true, Preload: true, MaxChars: defaultLangMaxChars}
}

// Validate checks codes and numbers.
func (c *LangConfig) Validate() error {
	if len(c.Languages) == 0 {
		return &flow.FieldError{Field: "languages", Err: errors.New("name at least one language, e.g. [en]")}
	}
	for field, codes := range map[string][]string{"languages": c.Languages, "candidates": c.Candidates} {
		for i, code := range codes {
			if _, err := linguaLanguage(code); err != nil {
				return &flow.FieldError{Field: fmt.Sprintf("%s.%d", field, i), Err: err}
			}
		}
	}
	if c.MinScore < 0 || c.MinScore > 1 {
		return &flow.FieldError{Field: "min_score", Err: fmt.Errorf("must be between 0 and 1, got %v", c.MinScore)}
	}
	if c.MaxChars < 0 {
		return &flow.FieldError{Field: "max_chars", Err: fmt.Errorf("must be 0 or positive, got %d", c.MaxChars)}
	}
	return nil
}

func linguaLanguage(code string) (lingua.Language, error) {
	iso := lingua.GetIsoCode639_1FromValue(code)
	if iso == lingua.UnknownIsoCode639_1 {
		return lingua.Unknown, fmt.Errorf("%q is not an ISO 639-1 code lingua knows (e.g. en, zh, ja)", code)
	}
	return lingua.GetLanguageFromIsoCode639_1(iso), nil
}

func init() {
	flow.RegisterStage("lang", "language identification with lingua-go; writes lang and lang_score, keeps allowed languages",
		DefaultLangConfig(), func(c *LangConfig, env *flow.Env) (flow.Stage, error) { return NewLang(*c, env.Counters) })
}

// Lang is the lang stage. It is safe for concurrent use.
type Lang struct {
	detector lingua.LanguageDetector
	allowed  map[lingua.Language]bool
	minScore float64
	maxChars int
	counters *flow.Counters
	// codes caches each language's lower-case ISO code.
	codes map[lingua.Language]string
}

// NewLang builds the detector; counters may be nil.
func NewLang(cfg LangConfig, counters *flow.Counters) (*Lang, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	candidates := cfg.Candidates
	if len(candidates) == 0 {
		candidates = defaultLangCandidates
	}
	l := &Lang{allowed: map[lingua.Language]bool{}, minScore: cfg.MinScore, maxChars: cfg.MaxChars,
		counters: counters, codes: map[lingua.Language]string{}}
	var langs []lingua.Language
	for _, code := range append(slices.Clone(cfg.Languages), candidates...) {
		lang, err := linguaLanguage(code)
		if err != nil {
			return nil, err
		}
		if !slices.Contains(langs, lang) {
			langs = append(langs, lang)
			l.codes[lang] = strings.ToLower(lang.IsoCode639_1().String())
		}
	}
	for _, code := range cfg.Languages {
		lang, _ := linguaLanguage(code)
		l.allowed[lang] = true
	}
	if len(langs) < 2 {
		return nil, &flow.FieldError{Field: "candidates", Err: errors.New("the detector needs at least two languages to tell apart")}
	}
	b := lingua.NewLanguageDetectorBuilder().FromLanguages(langs...)
	if cfg.LowAccuracy {
		b = b.WithLowAccuracyMode()
	}
	if cfg.Preload {
		b = b.WithPreloadedLanguageModels()
	}
	l.detector = b.Build()
	return l, nil
}

// Detect returns the top language's ISO code and confidence ("" when none).
func (l *Lang) Detect(text string) (string, float64) {
	if l.maxChars > 0 && len(text) > l.maxChars {
		text = truncateRunes(text, l.maxChars)
	}
	values := l.detector.ComputeLanguageConfidenceValues(text)
	if len(values) == 0 || values[0].Value() == 0 {
		return "", 0
	}
	top := values[0]
	pow := math.Pow(10, langScoreDecimals)
	return l.codes[top.Language()], math.Round(top.Value()*pow) / pow
}

// Process labels r and rejects it unless its language is allowed.
func (l *Lang) Process(r *flow.Record) string {
	code, score := l.Detect(r.Text)
	if code == "" {
		return LangRejectUnknown
	}
	r.SetMeta(LangMetaKey, code)
	r.SetMeta(LangScoreMetaKey, score)
	if l.counters != nil {
		l.counters.Add("detected_"+code, 1)
	}
	lang, _ := linguaLanguage(code)
	if !l.allowed[lang] {
		return LangRejectNotAllowed
	}
	if score < l.minScore {
		return LangRejectLowScore
	}
	return ""
}

// truncateRunes cuts s to at most n characters.
func truncateRunes(s string, n int) string {
	for i := range s {
		if n == 0 {
			return s[:i]
		}
		n--
	}
	return s
}
