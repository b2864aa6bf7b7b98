package filter

import (
	"fmt"

	"github.com/cespare/xxhash/v2"

	"github.com/corpusflow/corpusflow/flow"
)

// The gopher_repetition stage is Gopher's repetition rules (Rae et al. 2021,
// table A1) as datatrove's GopherRepetitionFilter computes them, in its order:
//
//   - paragraphs (split at two or more newlines): duplicate fraction > 0.30,
//     duplicate characters / text > 0.20;
//   - lines (split at one or more newlines): the same with 0.30 and 0.20;
//   - the most frequent 2-, 3-, 4-gram of words (joined by spaces): its
//     characters times its count / text > 0.20, 0.18, 0.16;
//   - duplicate 5- ... 10-grams (joined without spaces, scanning on past a
//     duplicate): their characters / text > 0.15 ... 0.10.
//
// Lengths are in characters (code points). N-grams are compared by 64-bit
// xxhash of the same characters Python would compare.

// Gopher repetition constants (Gopher table A1).
const (
	gopherDupLineFrac     = 0.30
	gopherDupParaFrac     = 0.30
	gopherDupLineCharFrac = 0.20
	gopherDupParaCharFrac = 0.20
)

var (
	gopherTopNGrams = []NGramFraction{{2, 0.20}, {3, 0.18}, {4, 0.16}}
	gopherDupNGrams = []NGramFraction{{5, 0.15}, {6, 0.14}, {7, 0.13}, {8, 0.12}, {9, 0.11}, {10, 0.10}}
)

// Rejection reasons of gopher_repetition (datatrove's names; the n-gram ones
// carry n: top_2_gram, duplicated_5_n_grams).
const (
	GopherRejectDupParaFrac     = "dup_para_frac"
	GopherRejectDupParaCharFrac = "dup_para_char_frac"
	GopherRejectDupLineFrac     = "dup_line_frac"
	GopherRejectDupLineCharFrac = "dup_line_char_frac"
)

// NGramFraction is an n-gram size and the largest character fraction allowed.
type NGramFraction struct {
	N        int     `yaml:"n" help:"n-gram size in words"`
	Fraction float64 `yaml:"fraction" help:"largest fraction of the text's characters"`
}

// GopherRepetitionConfig is the gopher_repetition stage's YAML configuration.
// A zero fraction turns a rule off.
type GopherRepetitionConfig struct {
	Language        string          `yaml:"language" choices:"auto,en,zh" help:"word rules for n-grams: en, or zh (one word per CJK character); auto: zh when the record's lang is zh"`
	DupLineFrac     float64         `yaml:"dup_line_frac" help:"largest share of lines that repeat an earlier line"`
	DupParaFrac     float64         `yaml:"dup_para_frac" help:"largest share of paragraphs that repeat an earlier one"`
	DupLineCharFrac float64         `yaml:"dup_line_char_frac" help:"largest share of characters in repeated lines"`
	DupParaCharFrac float64         `yaml:"dup_para_char_frac" help:"largest share of characters in repeated paragraphs"`
	TopNGrams       []NGramFraction `yaml:"top_n_grams" help:"for each n, the largest share of characters in the most frequent n-gram"`
	DupNGrams       []NGramFraction `yaml:"dup_n_grams" help:"for each n, the largest share of characters in repeated n-grams"`
}

// DefaultGopherRepetitionConfig has Gopher's constants.
func DefaultGopherRepetitionConfig() GopherRepetitionConfig {
	return GopherRepetitionConfig{
		Language: "auto", DupLineFrac: gopherDupLineFrac, DupParaFrac: gopherDupParaFrac,
		DupLineCharFrac: gopherDupLineCharFrac, DupParaCharFrac: gopherDupParaCharFrac,
		TopNGrams: gopherTopNGrams, DupNGrams: gopherDupNGrams,
	}
}

// Validate checks fractions and n-gram sizes.
func (c *GopherRepetitionConfig) Validate() error {
	for name, v := range map[string]float64{"dup_line_frac": c.DupLineFrac, "dup_para_frac": c.DupParaFrac,
		"dup_line_char_frac": c.DupLineCharFrac, "dup_para_char_frac": c.DupParaCharFrac} {
		if v < 0 || v > 1 {
			return &flow.FieldError{Field: name, Err: fmt.Errorf("must be between 0 and 1, got %v", v)}
		}
	}
	for field, list := range map[string][]NGramFraction{"top_n_grams": c.TopNGrams, "dup_n_grams": c.DupNGrams} {
		for i, g := range list {
			if g.N < 1 || g.N > 100 {
				return &flow.FieldError{Field: fmt.Sprintf("%s.%d.n", field, i), Err: fmt.Errorf("must be 1 to 100, got %d", g.N)}
			}
			if g.Fraction < 0 || g.Fraction > 1 {
				return &flow.FieldError{Field: fmt.Sprintf("%s.%d.fraction", field, i), Err: fmt.Errorf("must be between 0 and 1, got %v", g.Fraction)}
			}
		}
	}
	return nil
}

func init() {
	flow.RegisterStage("gopher_repetition", "Gopher's repetition rules (duplicate lines and paragraphs, top and duplicate n-grams) as datatrove applies them",
		DefaultGopherRepetitionConfig(), func(c *GopherRepetitionConfig, env *flow.Env) (flow.Stage, error) {
			return NewGopherRepetition(*c)
		})
}

// GopherRepetition is the gopher_repetition stage. It is safe for concurrent use.
type GopherRepetition struct {
	cfg        GopherRepetitionConfig
	topReasons []string
	dupReasons []string
}

// NewGopherRepetition builds the stage.
func NewGopherRepetition(cfg GopherRepetitionConfig) (*GopherRepetition, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	g := &GopherRepetition{cfg: cfg}
	for _, t := range cfg.TopNGrams {
		g.topReasons = append(g.topReasons, fmt.Sprintf("top_%d_gram", t.N))
	}
	for _, d := range cfg.DupNGrams {
		g.dupReasons = append(g.dupReasons, fmt.Sprintf("duplicated_%d_n_grams", d.N))
	}
	return g, nil
}

// Process rejects r when a repetition rule fails.
func (g *GopherRepetition) Process(r *flow.Record) string {
	return g.Check(r.Text, textLanguage(g.cfg.Language, r))
}

// Check returns the first failing rule, or "".
func (g *GopherRepetition) Check(text string, chinese bool) string {
	c := g.cfg
	textLen := float64(runeLen(text))
	if textLen == 0 {
		return ""
	}
	paragraphs, paraDupChars := duplicates(splitRuns(pyStrip(text), 2))
	if c.DupParaFrac > 0 && float64(paragraphs.dups)/float64(paragraphs.total) > c.DupParaFrac {
		return GopherRejectDupParaFrac
	}
	if c.DupParaCharFrac > 0 && float64(paraDupChars)/textLen > c.DupParaCharFrac {
		return GopherRejectDupParaCharFrac
	}
	lines, lineDupChars := duplicates(splitRuns(text, 1))
	if c.DupLineFrac > 0 && float64(lines.dups)/float64(lines.total) > c.DupLineFrac {
		return GopherRejectDupLineFrac
	}
	if c.DupLineCharFrac > 0 && float64(lineDupChars)/textLen > c.DupLineCharFrac {
		return GopherRejectDupLineCharFrac
	}
	words := splitWords(text, chinese, nil)
	lens := make([]int, len(words))
	for i, w := range words {
		lens[i] = runeLen(w)
	}
	for i, t := range c.TopNGrams {
		if t.Fraction > 0 && float64(topNGramChars(words, lens, t.N))/textLen > t.Fraction {
			return g.topReasons[i]
		}
	}
	for i, d := range c.DupNGrams {
		if d.Fraction > 0 && float64(duplicateNGramChars(words, lens, d.N))/textLen > d.Fraction {
			return g.dupReasons[i]
		}
	}
	return ""
}

// splitRuns is re.split("\n{k,}", s): pieces between runs of at least k
// newlines.
func splitRuns(s string, k int) []string {
	var out []string
	start := 0
	for i := 0; i < len(s); {
		if s[i] != '\n' {
			i++
			continue
		}
		j := i
		for j < len(s) && s[j] == '\n' {
			j++
		}
		if j-i >= k {
			out = append(out, s[start:i])
			start = j
		}
		i = j
	}
	return append(out, s[start:])
}

type dupCount struct{ dups, total int }

// duplicates is datatrove's find_duplicates: how many elements repeat an
// earlier one, and their characters.
func duplicates(xs []string) (dupCount, int) {
	seen := make(map[string]struct{}, len(xs))
	c := dupCount{total: len(xs)}
	chars := 0
	for _, x := range xs {
		if _, ok := seen[x]; ok {
			c.dups++
			chars += runeLen(x)
			continue
		}
		seen[x] = struct{}{}
	}
	return c, chars
}

// nGramHash hashes words[i:i+n] joined by sep, as the joined string.
func nGramHash(d *xxhash.Digest, words []string, sep string) uint64 {
	d.Reset()
	for k, w := range words {
		if k > 0 {
			d.WriteString(sep)
		}
		d.WriteString(w)
	}
	return d.Sum64()
}

// topNGramChars is datatrove's find_top_duplicate over space-joined n-grams:
// the characters of the most frequent n-gram times its count; on a tie, the
// n-gram seen first (Counter.most_common keeps insertion order).
func topNGramChars(words []string, lens []int, n int) int {
	if len(words) < n {
		return 0
	}
	type entry struct{ count, first, chars int }
	counts := make(map[uint64]*entry, len(words))
	d := xxhash.New()
	var best *entry
	for i := 0; i+n <= len(words); i++ {
		h := nGramHash(d, words[i:i+n], " ")
		e := counts[h]
		if e == nil {
			chars := n - 1
			for _, l := range lens[i : i+n] {
				chars += l
			}
			e = &entry{first: i, chars: chars}
			counts[h] = e
		}
		e.count++
		if best == nil || e.count > best.count || e.count == best.count && e.first < best.first {
			best = e
		}
	}
	return best.chars * best.count
}

// duplicateNGramChars is datatrove's find_all_duplicate: n-grams joined
// without spaces; a repeat adds its characters and skips n words ahead.
func duplicateNGramChars(words []string, lens []int, n int) int {
	seen := make(map[uint64]struct{}, len(words))
	d := xxhash.New()
	repeated := 0
	for i := 0; i+n <= len(words); {
		h := nGramHash(d, words[i:i+n], "")
		if _, ok := seen[h]; ok {
			for _, l := range lens[i : i+n] {
				repeated += l
			}
			i += n
			continue
		}
		seen[h] = struct{}{}
		i++
	}
	return repeated
}
