package filter

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/cespare/xxhash/v2"

	"github.com/corpusflow/corpusflow/flow"
)

// The image_text stage keeps image–text pairs that the recipes of the
// large web image–text datasets keep. The caption is Record.Text (so lang,
// badwords and the other text filters apply to captions unchanged); the
// image size is Fields original_width/original_height as image_decode
// decoded it (width/height when there are no original sizes).
//
// Presets, with the rules as published:
//
//   - align (ALIGN, Jia et al. 2021): shorter side > 200 px, aspect ratio
//     < 3; captions of 3–20 unigrams; alt-text shared by more than 10 images
//     rejected.
//   - cc3m (Conceptual Captions, Sharma et al. 2018, image filters): both
//     sides > 400 px, aspect ratio ≤ 2.
//   - datacomp_basic (DataComp "basic filtering", Gadre et al. 2023):
//     caption of more than 2 words and more than 5 characters, shorter side
//     ≥ 200 px, aspect ratio ≤ 3. (DataComp also keeps English captions
//     only, found with fastText, and drops NSFW images: in corpusflow those
//     are the lang and badwords stages, put beside this one.)
//   - none: the rule parameters below, alone.
//
// Words: with English rules the caption's whitespace-separated words; with
// Chinese rules every CJK character is a word (and every other run of
// non-space characters), which is how BERT-style Chinese models see the
// text. So "3–20 unigrams" means 3–20 characters for a Chinese caption.
//
// Alt-text frequency needs counts over the whole corpus, and the pipeline
// streams: the stage then runs in input order on one goroutine and counts
// each normalised caption (lowercased, whitespace collapsed) as it goes.
// A caption is rejected from its (N+1)-th image on, so the first N images
// with a boilerplate caption are kept where ALIGN would drop all of them:
// a documented approximation that keeps one pass and never holds records
// back. Memory: one 8-byte hash and a count per distinct caption.

// Rejection reasons of image_text.
const (
	ImageTextRejectNoSize     = "image_size_unknown"
	ImageTextRejectTooSmall   = "image_too_small"
	ImageTextRejectAspect     = "image_aspect_ratio"
	ImageTextRejectFewWords   = "caption_too_few_words"
	ImageTextRejectManyWords  = "caption_too_many_words"
	ImageTextRejectFewChars   = "caption_too_short"
	ImageTextRejectRepeatedAT = "alt_text_repeated"
)

// Presets of image_text.
const (
	ImageTextPresetNone          = "none"
	ImageTextPresetALIGN         = "align"
	ImageTextPresetCC3M          = "cc3m"
	ImageTextPresetDataCompBasic = "datacomp_basic"
)

// ImageTextConfig is image_text's YAML configuration.
type ImageTextConfig struct {
	Preset            string  `yaml:"preset" choices:"none,align,cc3m,datacomp_basic" help:"a published recipe (its rules replace the rule parameters, which must then be left unset), or none"`
	MinShortSide      int     `yaml:"min_short_side" help:"none: the shorter side must be at least this many pixels (0: off)"`
	MinLongSide       int     `yaml:"min_long_side" help:"none: the longer side must be at least this many pixels (0: off)"`
	MaxAspectRatio    float64 `yaml:"max_aspect_ratio" help:"none: longer/shorter side at most this (0: off)"`
	MinWords          int     `yaml:"min_words" help:"none: captions need at least this many words (0: off)"`
	MaxWords          int     `yaml:"max_words" help:"none: captions may have at most this many words (0: off)"`
	MinChars          int     `yaml:"min_chars" help:"none: captions need at least this many characters (0: off)"`
	MaxAltTextRepeats int     `yaml:"max_alt_text_repeats" help:"none: a caption already seen on this many images is rejected on the next ones (0: off; makes the stage sequential)"`
	Language          string  `yaml:"language" choices:"auto,en,zh" help:"word rules: en splits at whitespace, zh counts each CJK character as a word; auto uses the lang label, else zh rules when the caption has CJK characters"`
}

// imageTextRules are the effective rules after a preset is applied.
type imageTextRules struct {
	minShort, minLong  int
	maxAspect          float64
	aspectStrict       bool // ALIGN: "< 3", not "≤ 3"
	minWords, maxWords int
	minChars           int
	maxAltTextRepeats  int
}

func (c *ImageTextConfig) rules() imageTextRules {
	switch c.Preset {
	case ImageTextPresetALIGN:
		return imageTextRules{minShort: 201, maxAspect: 3, aspectStrict: true, minWords: 3, maxWords: 20, maxAltTextRepeats: 10}
	case ImageTextPresetCC3M:
		return imageTextRules{minShort: 401, maxAspect: 2}
	case ImageTextPresetDataCompBasic:
		return imageTextRules{minShort: 200, maxAspect: 3, minWords: 3, minChars: 6}
	}
	return imageTextRules{
		minShort: c.MinShortSide, minLong: c.MinLongSide, maxAspect: c.MaxAspectRatio,
		minWords: c.MinWords, maxWords: c.MaxWords, minChars: c.MinChars, maxAltTextRepeats: c.MaxAltTextRepeats,
	}
}

// Validate checks the preset and rules.
func (c *ImageTextConfig) Validate() error {
	fe := func(field, format string, args ...any) error {
		return &flow.FieldError{Field: field, Err: fmt.Errorf(format, args...)}
	}
	switch c.Preset {
	case ImageTextPresetNone:
	case ImageTextPresetALIGN, ImageTextPresetCC3M, ImageTextPresetDataCompBasic:
		set := map[string]bool{
			"min_short_side": c.MinShortSide != 0, "min_long_side": c.MinLongSide != 0, "max_aspect_ratio": c.MaxAspectRatio != 0,
			"min_words": c.MinWords != 0, "max_words": c.MaxWords != 0, "min_chars": c.MinChars != 0, "max_alt_text_repeats": c.MaxAltTextRepeats != 0,
		}
		for _, k := range []string{"min_short_side", "min_long_side", "max_aspect_ratio", "min_words", "max_words", "min_chars", "max_alt_text_repeats"} {
			if set[k] {
				return fe(k, "preset %s sets its own rules; use preset: none to choose rules yourself", c.Preset)
			}
		}
	default:
		return fe("preset", "must be none, align, cc3m or datacomp_basic; got %q", c.Preset)
	}
	switch {
	case c.MinShortSide < 0 || c.MinLongSide < 0 || c.MinWords < 0 || c.MaxWords < 0 || c.MinChars < 0 || c.MaxAltTextRepeats < 0:
		return fe("preset", "rule parameters must not be negative")
	case c.MaxAspectRatio != 0 && c.MaxAspectRatio < 1:
		return fe("max_aspect_ratio", "must be at least 1 (longer/shorter side), got %v", c.MaxAspectRatio)
	case c.MaxWords > 0 && c.MaxWords < c.MinWords:
		return fe("max_words", "%d is below min_words %d", c.MaxWords, c.MinWords)
	case c.Language != "auto" && c.Language != "en" && c.Language != "zh":
		return fe("language", "must be auto, en or zh; got %q", c.Language)
	}
	return nil
}

func init() {
	flow.RegisterStage("image_text",
		"keep image–text pairs by image size, aspect ratio, caption length and alt-text frequency: presets align, cc3m, datacomp_basic",
		ImageTextConfig{Preset: ImageTextPresetDataCompBasic, Language: "auto"},
		func(c *ImageTextConfig, env *flow.Env) (flow.Stage, error) { return NewImageText(*c, env) })
}

// ImageText is the image_text stage without alt-text counting: stateless.
type ImageText struct {
	rules    imageTextRules
	language string
}

// imageTextCounting is the stage with alt-text counting: sequential.
type imageTextCounting struct {
	*ImageText
	seen map[uint64]int32
}

func (s *imageTextCounting) Sequential() {}

// NewImageText builds the stage; with alt-text counting it is sequential.
func NewImageText(cfg ImageTextConfig, env *flow.Env) (flow.Stage, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s := &ImageText{rules: cfg.rules(), language: cfg.Language}
	if s.rules.maxAltTextRepeats > 0 {
		return &imageTextCounting{ImageText: s, seen: map[uint64]int32{}}, nil
	}
	return s, nil
}

// Process applies the per-record rules.
func (s *ImageText) Process(r *flow.Record) string {
	if reason := s.checkImage(r); reason != "" {
		return reason
	}
	return s.checkCaption(r)
}

// Process applies the per-record rules, then the alt-text count.
func (s *imageTextCounting) Process(r *flow.Record) string {
	if reason := s.ImageText.Process(r); reason != "" {
		return reason
	}
	key := xxhash.Sum64String(normaliseAltText(r.Text))
	n := s.seen[key] + 1
	s.seen[key] = n
	if int(n) > s.rules.maxAltTextRepeats {
		return ImageTextRejectRepeatedAT
	}
	return ""
}

func (s *ImageText) checkImage(r *flow.Record) string {
	rl := &s.rules
	if rl.minShort == 0 && rl.minLong == 0 && rl.maxAspect == 0 {
		return ""
	}
	w, okW := intField(r, fieldOriginalWidth, fieldWidth)
	h, okH := intField(r, fieldOriginalHeight, fieldHeight)
	if !okW || !okH || w <= 0 || h <= 0 {
		return ImageTextRejectNoSize
	}
	short, long := min(w, h), max(w, h)
	if short < rl.minShort || long < rl.minLong {
		return ImageTextRejectTooSmall
	}
	if rl.maxAspect > 0 {
		aspect := float64(long) / float64(short)
		if aspect > rl.maxAspect || (rl.aspectStrict && aspect >= rl.maxAspect) {
			return ImageTextRejectAspect
		}
	}
	return ""
}

func (s *ImageText) checkCaption(r *flow.Record) string {
	rl := &s.rules
	if rl.minChars > 0 && utf8.RuneCountInString(strings.TrimSpace(r.Text)) < rl.minChars {
		return ImageTextRejectFewChars
	}
	if rl.minWords == 0 && rl.maxWords == 0 {
		return ""
	}
	var words int
	if captionIsCJK(s.language, r) {
		words = cjkWords(r.Text).words
	} else {
		words = whitespaceWords(r.Text).words
	}
	if words < rl.minWords {
		return ImageTextRejectFewWords
	}
	if rl.maxWords > 0 && words > rl.maxWords {
		return ImageTextRejectManyWords
	}
	return ""
}

// captionIsCJK picks the word rule: forced by the setting, else the lang
// label, else whether the caption has CJK characters at all.
func captionIsCJK(setting string, r *flow.Record) bool {
	switch setting {
	case "zh":
		return true
	case "en":
		return false
	}
	switch r.MetaString(LangMetaKey) {
	case "zh", "ja", "ko":
		return true
	case "":
	default:
		return false
	}
	for _, c := range r.Text {
		if isCJK(c) {
			return true
		}
	}
	return false
}

// intField reads the first of keys that holds an integer.
func intField(r *flow.Record, keys ...string) (int, bool) {
	for _, k := range keys {
		switch v := r.Fields[k].(type) {
		case int:
			return v, true
		case int32:
			return int(v), true
		case int64:
			return int(v), true
		}
	}
	return 0, false
}

// normaliseAltText is the key alt-texts are counted under: lowercased,
// surrounding space trimmed, inner whitespace collapsed.
func normaliseAltText(s string) string {
	return strings.Join(strings.Fields(strings.ToLower(s)), " ")
}
