package filter

import (
	"fmt"
	"math/bits"

	"github.com/corpusflow/corpusflow/flow"
	"github.com/corpusflow/corpusflow/internal/pystr"
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
// Lengths are in characters (code points). N-grams are compared by a hash of
// the same strings Python would compare (see ngramIndex).

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
	paragraphs, paraDupChars := duplicates(splitRuns(pystr.Strip(text), 2))
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
	runesPre := make([]int, len(words)+1)
	for i, w := range words {
		runesPre[i+1] = runesPre[i] + runeLen(w)
	}
	seen := make(map[uint64]int32, len(words))
	if len(c.TopNGrams) > 0 {
		spaced := newNGramIndex(words, " ", runesPre)
		for i, t := range c.TopNGrams {
			if t.Fraction > 0 && float64(topNGramChars(words, spaced, t.N, seen))/textLen > t.Fraction {
				return g.topReasons[i]
			}
		}
	}
	if len(c.DupNGrams) > 0 {
		joined := newNGramIndex(words, "", runesPre)
		for i, d := range c.DupNGrams {
			if d.Fraction > 0 && float64(duplicateNGramChars(words, joined, d.N, seen))/textLen > d.Fraction {
				return g.dupReasons[i]
			}
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

// N-grams are compared as the strings Python builds (" ".join or
// "".join of the words) through a polynomial hash modulo the Mersenne prime
// 2^61-1 over those strings: with prefix hashes, every n-gram's hash is O(1)
// whatever n, and nothing is joined or allocated per n-gram. The modulus is
// prime (not 2^64), so no input pattern forces collisions.
const (
	mersenne61 = 1<<61 - 1
	ngramBase  = 1_000_003
)

func mulMod61(a, b uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	r := (lo & mersenne61) + (lo >> 61) + (hi << 3)
	r = (r & mersenne61) + (r >> 61)
	if r >= mersenne61 {
		r -= mersenne61
	}
	return r
}

// ngramIndex holds prefix hashes of the words joined with a separator, and
// of their lengths in characters.
type ngramIndex struct {
	sepLen   int      // bytes of separator between words
	start    []int    // byte offset of word k in the joined string
	prefix   []uint64 // prefix[b] = hash of the joined string's first b bytes
	pow      []uint64 // pow[b] = base^b
	runesPre []int    // runesPre[k] = characters in words[:k]
}

func newNGramIndex(words []string, sep string, runesPre []int) *ngramIndex {
	total := 0
	for _, w := range words {
		total += len(w)
	}
	if len(words) > 1 {
		total += (len(words) - 1) * len(sep)
	}
	x := &ngramIndex{sepLen: len(sep), start: make([]int, len(words)), prefix: make([]uint64, total+1),
		pow: make([]uint64, total+1), runesPre: runesPre}
	x.pow[0] = 1
	b := 0
	feed := func(s string) {
		for i := 0; i < len(s); i++ {
			v := mulMod61(x.prefix[b], ngramBase) + uint64(s[i]) + 1
			if v >= mersenne61 {
				v -= mersenne61
			}
			x.prefix[b+1] = v
			x.pow[b+1] = mulMod61(x.pow[b], ngramBase)
			b++
		}
	}
	for k, w := range words {
		if k > 0 {
			feed(sep)
		}
		x.start[k] = b
		feed(w)
	}
	return x
}

// key identifies words[i:i+n] joined: its hash and byte length.
func (x *ngramIndex) key(words []string, i, n int) uint64 {
	from := x.start[i]
	to := x.start[i+n-1] + len(words[i+n-1])
	h := x.prefix[to] + mersenne61 - mulMod61(x.prefix[from], x.pow[to-from])
	if h >= mersenne61 {
		h -= mersenne61
	}
	return h ^ uint64(to-from)<<61
}

// chars is len(" ".join(words[i:i+n])) (or "".join) in characters.
func (x *ngramIndex) chars(i, n int) int {
	return x.runesPre[i+n] - x.runesPre[i] + (n-1)*x.sepLen
}

// topNGramChars is datatrove's find_top_duplicate over space-joined n-grams:
// the characters of the most frequent n-gram times its count; on a tie, the
// n-gram seen first (Counter.most_common keeps insertion order).
func topNGramChars(words []string, x *ngramIndex, n int, seen map[uint64]int32) int {
	if len(words) < n {
		return 0
	}
	clear(seen)
	type entry struct{ count, first int }
	entries := make([]entry, 0, len(words))
	best := -1
	for i := 0; i+n <= len(words); i++ {
		k := x.key(words, i, n)
		e, ok := seen[k]
		if !ok {
			e = int32(len(entries))
			seen[k] = e
			entries = append(entries, entry{first: i})
		}
		entries[e].count++
		if best < 0 || entries[e].count > entries[best].count ||
			entries[e].count == entries[best].count && entries[e].first < entries[best].first {
			best = int(e)
		}
	}
	return x.chars(entries[best].first, n) * entries[best].count
}

// duplicateNGramChars is datatrove's find_all_duplicate: n-grams joined
// without spaces; a repeat adds its characters and skips n words ahead.
func duplicateNGramChars(words []string, x *ngramIndex, n int, seen map[uint64]int32) int {
	clear(seen)
	repeated := 0
	for i := 0; i+n <= len(words); {
		k := x.key(words, i, n)
		if _, ok := seen[k]; ok {
			repeated += x.chars(i, n)
			i += n
			continue
		}
		seen[k] = 0
		i++
	}
	return repeated
}
