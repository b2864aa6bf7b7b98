package filter

import (
	"fmt"
	"strings"

	"github.com/corpusflow/corpusflow/flow"
	"github.com/corpusflow/corpusflow/internal/pystr"
)

// The fineweb_quality stage is FineWeb's own quality rules (datatrove's
// FineWebQualityFilter), in its order, over the lines of the text split at
// "\n".
//
// datatrove has changed this filter since FineWeb was built, so the stage
// offers both versions (version:):
//
//   - original (the default): the filter as datatrove first published it
//     (e.g. huggingface/datatrove commits 05194d3 and 5c254fa), the one
//     FineWeb was built with, and the inequalities of the FineWeb paper.
//     Ratios are over all lines, empty ones included, and the comparisons
//     are inclusive: at most 12 % of lines end in terminal punctuation →
//     line_punct_ratio; at least 67 % of lines are at most 30 characters →
//     short_line_ratio; characters in repeated non-empty lines are at least
//     1 % of the characters (newlines not counted) → char_dup_ratio; more
//     than 0.3 newlines per word → list_ratio.
//   - current: datatrove's later version (its main branch): empty lines are
//     dropped first and a text without a non-empty line is rejected as
//     empty; the ratios are over non-empty lines and the comparisons strict
//     (< 12 %, > 67 %, > 1 %; list_ratio stays > 0.3). That version also
//     takes its default stop characters from a long list of Unicode
//     terminal punctuation; corpusflow keeps . ' " ! ? (plus the Chinese
//     marks for zh) in both versions.
//
// Chinese (language zh, or a record labelled zh) adds 。！？”」』 to the
// terminal marks and counts one word per CJK character.

// FineWeb constants (datatrove defaults).
const (
	finewebLinePunctThr     = 0.12
	finewebShortLineThr     = 0.67
	finewebShortLineLength  = 30
	finewebCharDupRatio     = 0.01
	finewebNewLineWordRatio = 0.3
)

var (
	finewebStopChars        = []string{".", "'", `"`, "!", "?"}
	finewebChineseStopChars = []string{".", "'", `"`, "!", "?", "。", "！", "？", "”", "」", "』"}
)

// Rejection reasons of fineweb_quality (datatrove's names).
const (
	FineWebRejectLinePunct = "line_punct_ratio"
	FineWebRejectShortLine = "short_line_ratio"
	FineWebRejectCharDup   = "char_dup_ratio"
	FineWebRejectList      = "list_ratio"
	FineWebRejectEmpty     = "empty" // version current only
)

// Versions of datatrove's FineWebQualityFilter the stage implements.
const (
	FineWebVersionOriginal = "original"
	FineWebVersionCurrent  = "current"
)

// FineWebQualityConfig is the fineweb_quality stage's YAML configuration.
type FineWebQualityConfig struct {
	Version              string  `yaml:"version" choices:"original,current" help:"datatrove's filter as FineWeb used it (original: ratios over all lines, <= and >=) or as on datatrove's main branch (current: over non-empty lines, strict < and >, empty texts rejected)"`
	Language             string  `yaml:"language" choices:"auto,en,zh" help:"en, or zh (。！？”」』 also end lines, one word per CJK character); auto: zh when the record's lang is zh"`
	LinePunctThr         float64 `yaml:"line_punct_thr" help:"reject when the share of lines ending in . ' \" ! ? is at most this"`
	LinePunctExcludeZero bool    `yaml:"line_punct_exclude_zero" help:"do not apply line_punct_thr to texts with no such line at all"`
	ShortLineThr         float64 `yaml:"short_line_thr" help:"reject when the share of short lines is at least this"`
	ShortLineLength      int     `yaml:"short_line_length" help:"a line of at most this many characters is short"`
	CharDuplicatesRatio  float64 `yaml:"char_duplicates_ratio" help:"reject when characters in repeated lines reach this share"`
	NewLineRatio         float64 `yaml:"new_line_ratio" help:"reject when newlines per word exceed this"`
}

// DefaultFineWebQualityConfig has FineWeb's constants.
func DefaultFineWebQualityConfig() FineWebQualityConfig {
	return FineWebQualityConfig{Version: FineWebVersionOriginal, Language: "auto", LinePunctThr: finewebLinePunctThr, ShortLineThr: finewebShortLineThr,
		ShortLineLength: finewebShortLineLength, CharDuplicatesRatio: finewebCharDupRatio, NewLineRatio: finewebNewLineWordRatio}
}

// Validate checks the numbers.
func (c *FineWebQualityConfig) Validate() error {
	switch c.Version {
	case FineWebVersionOriginal, FineWebVersionCurrent:
	default:
		return &flow.FieldError{Field: "version", Err: fmt.Errorf("must be original or current, got %q", c.Version)}
	}
	for name, v := range map[string]float64{"line_punct_thr": c.LinePunctThr, "short_line_thr": c.ShortLineThr, "char_duplicates_ratio": c.CharDuplicatesRatio} {
		if v < 0 || v > 1 {
			return &flow.FieldError{Field: name, Err: fmt.Errorf("must be between 0 and 1, got %v", v)}
		}
	}
	if c.ShortLineLength < 0 {
		return &flow.FieldError{Field: "short_line_length", Err: fmt.Errorf("must be 0 or positive, got %d", c.ShortLineLength)}
	}
	if c.NewLineRatio < 0 {
		return &flow.FieldError{Field: "new_line_ratio", Err: fmt.Errorf("must be 0 or positive, got %v", c.NewLineRatio)}
	}
	return nil
}

func init() {
	flow.RegisterStage("fineweb_quality", "FineWeb's quality rules (terminal punctuation, short lines, duplicate line characters, list-like text) as datatrove applies them",
		DefaultFineWebQualityConfig(), func(c *FineWebQualityConfig, env *flow.Env) (flow.Stage, error) {
			return NewFineWebQuality(*c)
		})
}

// FineWebQuality is the fineweb_quality stage. It is safe for concurrent use.
type FineWebQuality struct{ cfg FineWebQualityConfig }

// NewFineWebQuality builds the stage.
func NewFineWebQuality(cfg FineWebQualityConfig) (*FineWebQuality, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &FineWebQuality{cfg: cfg}, nil
}

// Process rejects r when a rule fails.
func (f *FineWebQuality) Process(r *flow.Record) string {
	return f.Check(r.Text, textLanguage(f.cfg.Language, r))
}

// Check returns the first failing rule, or "".
func (f *FineWebQuality) Check(text string, chinese bool) string {
	c := f.cfg
	current := c.Version == FineWebVersionCurrent
	stopChars := finewebStopChars
	if chinese {
		stopChars = finewebChineseStopChars
	}
	lines := strings.Split(text, "\n")
	punct, short, counted := 0, 0, 0
	var nonEmpty []string
	for _, line := range lines {
		empty := pystr.Strip(line) == ""
		if !empty {
			nonEmpty = append(nonEmpty, line)
		} else if current {
			continue
		}
		counted++
		if endsWithAny(line, stopChars) {
			punct++
		}
		if runeLen(line) <= c.ShortLineLength {
			short++
		}
	}
	if counted == 0 {
		return FineWebRejectEmpty // current only: the original counts every line
	}
	n := float64(counted)
	// below reports whether ratio fails a minimum, above whether it fails a
	// maximum: inclusive in the original version, strict in the current one.
	below := func(ratio, thr float64) bool { return ratio < thr || !current && ratio == thr }
	above := func(ratio, thr float64) bool { return ratio > thr || !current && ratio == thr }
	if ratio := float64(punct) / n; below(ratio, c.LinePunctThr) && !(ratio == 0 && c.LinePunctExcludeZero) {
		return FineWebRejectLinePunct
	}
	if c.ShortLineThr > 0 && above(float64(short)/n, c.ShortLineThr) {
		return FineWebRejectShortLine
	}
	_, dupChars := duplicates(nonEmpty)
	if chars := runeLen(text) - strings.Count(text, "\n"); chars > 0 && c.CharDuplicatesRatio > 0 &&
		above(float64(dupChars)/float64(chars), c.CharDuplicatesRatio) {
		return FineWebRejectCharDup
	}
	words := 0
	eachWord(text, chinese, func(string) { words++ })
	if words == 0 || float64(strings.Count(text, "\n"))/float64(words) > c.NewLineRatio {
		return FineWebRejectList
	}
	return ""
}
