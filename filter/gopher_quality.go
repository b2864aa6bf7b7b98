package filter

import (
	"errors"
	"fmt"
	"strings"

	"github.com/corpusflow/corpusflow/flow"
	"github.com/corpusflow/corpusflow/internal/pystr"
)

// The gopher_quality stage is the quality rules of Gopher (Rae et al. 2021,
// section A.1.1) with the constants and order of datatrove's
// GopherQualityFilter: 50-100,000 words; mean word length 3-10; '#' and
// ellipsis to word ratios at most 0.1; at most 90 % of lines starting with a
// bullet; at most 30 % ending in an ellipsis; at least 80 % of words with a
// letter; at least 2 stop words.
//
// Chinese (language zh, or a record labelled zh): one word per CJK character
// (see words.go), so the mean word length bounds become 1-10 and the stop
// words are the eight most frequent Chinese function characters.

// Gopher quality constants (datatrove defaults).
const (
	gopherMinDocWords        = 50
	gopherMaxDocWords        = 100_000
	gopherMinAvgWordLength   = 3
	gopherMaxAvgWordLength   = 10
	gopherMaxSymbolWordRatio = 0.1
	gopherMaxBulletLines     = 0.9
	gopherMaxEllipsisLines   = 0.3
	gopherMinAlphaWords      = 0.8
	gopherMinStopWords       = 2
	gopherChineseMinAvgWord  = 1
)

var (
	gopherStopWords        = []string{"the", "be", "to", "of", "and", "that", "have", "with"}
	gopherChineseStopWords = []string{"的", "了", "是", "在", "和", "有", "也", "不"}
	gopherBullets          = []string{"•", "-"}
	gopherEllipses         = []string{"...", "…"}
)

// Rejection reasons of gopher_quality (datatrove's names in brackets where
// they differ).
const (
	GopherRejectShortDoc      = "gopher_short_doc"
	GopherRejectLongDoc       = "gopher_long_doc"
	GopherRejectShortWords    = "gopher_below_avg_word_length" // gopher_below_avg_threshold
	GopherRejectLongWords     = "gopher_above_avg_word_length" // gopher_above_avg_threshold
	GopherRejectHashes        = "gopher_too_many_hashes"
	GopherRejectEllipses      = "gopher_too_many_ellipsis"
	GopherRejectBullets       = "gopher_too_many_bullets"
	GopherRejectEllipsisLines = "gopher_too_many_end_ellipsis"
	GopherRejectNonAlpha      = "gopher_below_alpha_threshold"
	GopherRejectFewStopWords  = "gopher_too_few_stop_words" // gopher_enough_stop_words
)

// GopherQualityConfig is the gopher_quality stage's YAML configuration. A
// zero turns a rule off.
type GopherQualityConfig struct {
	Language              string   `yaml:"language" choices:"auto,en,zh" help:"word rules: en, zh (one word per CJK character, Chinese stop words, mean word length from 1); auto: zh when the record's lang is zh"`
	MinDocWords           int      `yaml:"min_doc_words" help:"fewest words (not counting pure punctuation)"`
	MaxDocWords           int      `yaml:"max_doc_words" help:"most words"`
	MinAvgWordLength      float64  `yaml:"min_avg_word_length" help:"shortest mean word length in characters (zh: 1)"`
	MaxAvgWordLength      float64  `yaml:"max_avg_word_length" help:"longest mean word length in characters"`
	MaxSymbolWordRatio    float64  `yaml:"max_symbol_word_ratio" help:"most '#' per word, and most ellipses per word"`
	MaxBulletLinesRatio   float64  `yaml:"max_bullet_lines_ratio" help:"largest share of lines starting with • or -"`
	MaxEllipsisLinesRatio float64  `yaml:"max_ellipsis_lines_ratio" help:"largest share of lines ending with ... or …"`
	MinAlphaWordsRatio    float64  `yaml:"min_alpha_words_ratio" help:"smallest share of words with a letter"`
	MinStopWords          int      `yaml:"min_stop_words" help:"fewest stop words"`
	StopWords             []string `yaml:"stop_words" help:"stop words (empty: the, be, to, of, and, that, have, with; zh: 的 了 是 在 和 有 也 不)"`
}

// DefaultGopherQualityConfig has Gopher's constants.
func DefaultGopherQualityConfig() GopherQualityConfig {
	return GopherQualityConfig{
		Language: "auto", MinDocWords: gopherMinDocWords, MaxDocWords: gopherMaxDocWords,
		MinAvgWordLength: gopherMinAvgWordLength, MaxAvgWordLength: gopherMaxAvgWordLength,
		MaxSymbolWordRatio: gopherMaxSymbolWordRatio, MaxBulletLinesRatio: gopherMaxBulletLines,
		MaxEllipsisLinesRatio: gopherMaxEllipsisLines, MinAlphaWordsRatio: gopherMinAlphaWords,
		MinStopWords: gopherMinStopWords,
	}
}

// Validate checks that numbers are not negative and ratios are at most 1.
func (c *GopherQualityConfig) Validate() error {
	for _, f := range []struct {
		name  string
		v     float64
		ratio bool
	}{
		{"min_doc_words", float64(c.MinDocWords), false}, {"max_doc_words", float64(c.MaxDocWords), false},
		{"min_avg_word_length", c.MinAvgWordLength, false}, {"max_avg_word_length", c.MaxAvgWordLength, false},
		{"max_symbol_word_ratio", c.MaxSymbolWordRatio, false}, {"max_bullet_lines_ratio", c.MaxBulletLinesRatio, true},
		{"max_ellipsis_lines_ratio", c.MaxEllipsisLinesRatio, true}, {"min_alpha_words_ratio", c.MinAlphaWordsRatio, true},
		{"min_stop_words", float64(c.MinStopWords), false},
	} {
		if f.v < 0 || f.ratio && f.v > 1 {
			return &flow.FieldError{Field: f.name, Err: fmt.Errorf("must be %s, got %v", map[bool]string{false: "0 (off) or positive", true: "between 0 and 1"}[f.ratio], f.v)}
		}
	}
	if c.MaxDocWords > 0 && c.MaxDocWords < c.MinDocWords {
		return &flow.FieldError{Field: "max_doc_words", Err: errors.New("is below min_doc_words")}
	}
	return nil
}

func init() {
	flow.RegisterStage("gopher_quality", "Gopher's quality rules (word count and length, symbols, bullets, ellipses, letters, stop words) as datatrove applies them",
		DefaultGopherQualityConfig(), func(c *GopherQualityConfig, env *flow.Env) (flow.Stage, error) {
			return NewGopherQuality(*c)
		})
}

// GopherQuality is the gopher_quality stage. It is safe for concurrent use.
type GopherQuality struct {
	cfg GopherQualityConfig
}

// NewGopherQuality builds the stage.
func NewGopherQuality(cfg GopherQualityConfig) (*GopherQuality, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &GopherQuality{cfg: cfg}, nil
}

// Process rejects r when a rule fails.
func (g *GopherQuality) Process(r *flow.Record) string {
	return g.Check(r.Text, textLanguage(g.cfg.Language, r))
}

// Check returns the first failing rule, or "".
func (g *GopherQuality) Check(text string, chinese bool) string {
	c := g.cfg
	stopWords, minAvg := c.StopWords, c.MinAvgWordLength
	if chinese {
		if len(stopWords) == 0 {
			stopWords = gopherChineseStopWords
		}
		if minAvg > gopherChineseMinAvgWord {
			minAvg = gopherChineseMinAvgWord
		}
	} else if len(stopWords) == 0 {
		stopWords = gopherStopWords
	}
	nWords, contentWords, contentChars := 0, 0, 0
	alphaWords, stops := 0, 0
	eachWord(text, chinese, func(w string) {
		nWords++
		if !isSymbolWord(w) {
			contentWords++
			contentChars += runeLen(w)
		}
		if hasLetter(w) {
			alphaWords++
		}
		for _, s := range stopWords {
			if w == s {
				stops++
				break
			}
		}
	})
	if c.MinDocWords > 0 && contentWords < c.MinDocWords {
		return GopherRejectShortDoc
	}
	if c.MaxDocWords > 0 && contentWords > c.MaxDocWords {
		return GopherRejectLongDoc
	}
	if contentWords > 0 {
		avg := float64(contentChars) / float64(contentWords)
		if minAvg > 0 && avg < minAvg {
			return GopherRejectShortWords
		}
		if c.MaxAvgWordLength > 0 && avg > c.MaxAvgWordLength {
			return GopherRejectLongWords
		}
	}
	if nWords == 0 {
		return GopherRejectShortDoc
	}
	if c.MaxSymbolWordRatio > 0 {
		if float64(strings.Count(text, "#"))/float64(nWords) > c.MaxSymbolWordRatio {
			return GopherRejectHashes
		}
		ellipses := 0
		for _, e := range gopherEllipses {
			ellipses += countNonOverlapping(text, e)
		}
		if float64(ellipses)/float64(nWords) > c.MaxSymbolWordRatio {
			return GopherRejectEllipses
		}
	}
	lines, bullets, ellipsisLines := 0, 0, 0
	for rest := text; ; {
		line, next, ok := nextLine(rest)
		if !ok {
			break
		}
		rest = next
		lines++
		left := pystr.LStrip(line)
		for _, b := range gopherBullets {
			if strings.HasPrefix(left, b) {
				bullets++
				break
			}
		}
		right := pystr.RStrip(line)
		for _, e := range gopherEllipses {
			if strings.HasSuffix(right, e) {
				ellipsisLines++
				break
			}
		}
	}
	if lines > 0 {
		if c.MaxBulletLinesRatio > 0 && float64(bullets)/float64(lines) > c.MaxBulletLinesRatio {
			return GopherRejectBullets
		}
		if c.MaxEllipsisLinesRatio > 0 && float64(ellipsisLines)/float64(lines) > c.MaxEllipsisLinesRatio {
			return GopherRejectEllipsisLines
		}
	}
	if c.MinAlphaWordsRatio > 0 && float64(alphaWords)/float64(nWords) < c.MinAlphaWordsRatio {
		return GopherRejectNonAlpha
	}
	if c.MinStopWords > 0 && stops < c.MinStopWords {
		return GopherRejectFewStopWords
	}
	return ""
}
