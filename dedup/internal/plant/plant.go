// Package plant builds a test corpus with planted cases of known truth from
// the real text in the shared test data, so that deduplication and
// decontamination can be measured (precision and recall per case) instead of
// shown on hand-picked examples.
//
// The corpus has three parts, shuffled together with a fixed seed:
//
//   - unrelated documents: every English (WikiText-2) and Chinese (zhwiki)
//     paragraph and every Common Crawl page, cut into chunks; nothing is
//     planted in them, so anything found there is a false positive;
//   - leak pages: a test passage inside a page of unrelated paragraphs 20×
//     its length — verbatim, with 10 % or 20 % of its words replaced, with
//     casing, punctuation and whitespace changed, and Chinese passages in
//     Chinese pages;
//   - near-duplicate pairs: a base document and, later in the input, a copy
//     whose tail is rewritten so that the two share a chosen fraction of
//     their word 5-grams.
package plant

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/klauspost/compress/gzip"
)

// Cases of planted truth.
const (
	CaseUnrelated   = "unrelated"
	CaseVerbatim    = "verbatim_en"
	CaseEdit10      = "replaced_10pct_en"
	CaseEdit20      = "replaced_20pct_en"
	CaseFormat      = "case_punct_space_en"
	CaseChinese     = "verbatim_zh"
	CaseDedupBase   = "near_dup_base"
	CaseDedupCopy   = "near_dup_copy"
	pageMultiple    = 20
	minPassageWords = 50
)

// Doc is one document of the corpus with its truth.
type Doc struct {
	ID   string
	Text string
	Case string
	// LeakOf is "set/item id" for leak pages.
	LeakOf string
	// DupOf is the base document's id for a near-duplicate copy, and
	// TargetJaccard the 5-gram Jaccard similarity it was built for.
	DupOf         string
	TargetJaccard float64
}

// Passage is a test item to plant.
type Passage struct {
	Set, ID, Text string
}

// Options say where the text is and how much to plant.
type Options struct {
	TextDir      string // testdata/corpus (samples.Dir()): files read as NAME or NAME.gz
	PassagesEN   []Passage
	PassagesZH   []Passage
	PerCase      int       // leak pages per case
	DupLevels    []float64 // target Jaccard levels
	DupsPerLevel int
	Seed         uint64
}

// Build makes the corpus.
func Build(o Options) ([]Doc, error) {
	rng := rand.New(rand.NewPCG(o.Seed, 0x9e3779b97f4a7c15))
	en, err := englishParagraphs(o.TextDir)
	if err != nil {
		return nil, err
	}
	zh, err := chineseParagraphs(filepath.Join(o.TextDir, "zhwiki-AA-wiki_00.txt"))
	if err != nil {
		return nil, err
	}
	cc, err := commonCrawl(o.TextDir)
	if err != nil {
		return nil, err
	}
	// The longest English paragraphs are kept aside as near-duplicate
	// bases, so no unrelated chunk overlaps them.
	nBases := len(o.DupLevels) * o.DupsPerLevel
	bases, rest := longest(en, nBases)
	var docs []Doc
	n := 0
	add := func(d Doc) {
		n++
		d.ID = fmt.Sprintf("doc-%05d", n)
		docs = append(docs, d)
	}
	for _, p := range rest {
		for _, c := range chunkWords(p, 50) {
			add(Doc{Text: c, Case: CaseUnrelated})
		}
	}
	for _, p := range zh {
		for _, c := range chunkRunes(p, 150) {
			add(Doc{Text: c, Case: CaseUnrelated})
		}
	}
	for _, c := range cc {
		add(Doc{Text: c, Case: CaseUnrelated})
	}
	vocab := strings.Fields(strings.Join(rest[:min(len(rest), 300)], " "))
	planted := func(c string, ps []Passage, fillers []string, cjk bool, edit func(string) string) {
		for i := 0; i < o.PerCase && len(ps) > 0; i++ {
			p := ps[(i*7+len(c))%len(ps)]
			text := edit(p.Text)
			add(Doc{Text: page(rng, text, fillers, cjk), Case: c, LeakOf: p.Set + "/" + p.ID})
		}
	}
	long := filterWords(o.PassagesEN, minPassageWords)
	planted(CaseVerbatim, long, rest, false, func(s string) string { return s })
	planted(CaseEdit10, long, rest, false, func(s string) string { return replaceWords(rng, s, 0.10, vocab) })
	planted(CaseEdit20, long, rest, false, func(s string) string { return replaceWords(rng, s, 0.20, vocab) })
	planted(CaseFormat, long, rest, false, func(s string) string { return reformat(rng, s) })
	planted(CaseChinese, o.PassagesZH, zh, true, func(s string) string { return s })

	var copies []Doc
	for li, level := range o.DupLevels {
		for j := 0; j < o.DupsPerLevel; j++ {
			base := bases[li*o.DupsPerLevel+j]
			add(Doc{Text: base, Case: CaseDedupBase})
			baseID := docs[len(docs)-1].ID
			copies = append(copies, Doc{Text: rewriteTail(rng, base, level, vocab), Case: CaseDedupCopy, DupOf: baseID, TargetJaccard: level})
		}
	}
	for _, c := range copies {
		add(c)
	}
	rng.Shuffle(len(docs), func(i, j int) { docs[i], docs[j] = docs[j], docs[i] })
	// First seen wins: a copy must come after its base.
	pos := map[string]int{}
	for i, d := range docs {
		pos[d.ID] = i
	}
	for i, d := range docs {
		if d.DupOf == "" {
			continue
		}
		if b := pos[d.DupOf]; b > i {
			docs[i], docs[b] = docs[b], docs[i]
			pos[docs[i].ID], pos[docs[b].ID] = i, b
		}
	}
	return docs, nil
}

func englishParagraphs(dir string) ([]string, error) {
	var out []string
	for _, name := range []string{"wikitext-2-test.txt", "wikitext-2-valid.txt"} {
		lines, err := readLines(filepath.Join(dir, name))
		if err != nil {
			return nil, err
		}
		for _, l := range lines {
			l = strings.TrimSpace(l)
			if l == "" || strings.HasPrefix(l, "=") || len(strings.Fields(l)) < 20 {
				continue
			}
			out = append(out, l)
		}
	}
	return out, nil
}

func chineseParagraphs(path string) ([]string, error) {
	lines, err := readLines(path)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, l := range lines {
		l = strings.TrimSpace(l)
		if utf8.RuneCountInString(l) < 60 || strings.HasPrefix(l, "<") {
			continue
		}
		out = append(out, l)
	}
	return out, nil
}

func commonCrawl(dir string) ([]string, error) {
	var out []string
	for _, name := range []string{"dolma-cc_en_head-0091.jsonl", "dolma-cc_en_head-0174.jsonl"} {
		lines, err := readLines(filepath.Join(dir, name))
		if err != nil {
			return nil, err
		}
		for i, l := range lines {
			var d struct{ Text string }
			if err := json.Unmarshal([]byte(l), &d); err != nil {
				return nil, fmt.Errorf("%s line %d: %w", name, i+1, err)
			}
			out = append(out, d.Text)
		}
	}
	return out, nil
}

func readLines(path string) ([]string, error) {
	var r io.Reader
	f, err := os.Open(path)
	if err == nil {
		r = f
	} else if f, err = os.Open(path + ".gz"); err == nil {
		zr, zerr := gzip.NewReader(f)
		if zerr != nil {
			f.Close()
			return nil, fmt.Errorf("plant: %s.gz: %w", path, zerr)
		}
		r = zr
	} else {
		return nil, fmt.Errorf("plant: %w (the generator reads testdata/corpus)", err)
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	return lines, sc.Err()
}

// longest splits off the n paragraphs with the most words (ties: earlier
// first); the rest keep their order.
func longest(ps []string, n int) (top, rest []string) {
	idx := make([]int, len(ps))
	words := make([]int, len(ps))
	for i, p := range ps {
		idx[i], words[i] = i, len(strings.Fields(p))
	}
	sort.SliceStable(idx, func(a, b int) bool { return words[idx[a]] > words[idx[b]] })
	chosen := map[int]bool{}
	for _, i := range idx[:min(n, len(idx))] {
		chosen[i] = true
		top = append(top, ps[i])
	}
	for i, p := range ps {
		if !chosen[i] {
			rest = append(rest, p)
		}
	}
	return top, rest
}

func chunkWords(p string, size int) []string {
	w := strings.Fields(p)
	var out []string
	for len(w) > 0 {
		n := size
		if len(w) < size+size/2 {
			n = len(w)
		}
		out = append(out, strings.Join(w[:n], " "))
		w = w[n:]
	}
	return out
}

func chunkRunes(p string, size int) []string {
	r := []rune(p)
	var out []string
	for len(r) > 0 {
		n := size
		if len(r) < size+size/2 {
			n = len(r)
		}
		out = append(out, string(r[:n]))
		r = r[n:]
	}
	return out
}

func filterWords(ps []Passage, minWords int) []Passage {
	var out []Passage
	for _, p := range ps {
		if len(strings.Fields(p.Text)) >= minWords {
			out = append(out, p)
		}
	}
	return out
}

// page surrounds text with random filler paragraphs until the page is 20×
// the passage's length (words, or characters for Chinese), at a random
// paragraph position.
func page(rng *rand.Rand, text string, fillers []string, cjk bool) string {
	size := func(s string) int {
		if cjk {
			return utf8.RuneCountInString(s)
		}
		return len(strings.Fields(s))
	}
	target := pageMultiple * size(text)
	var paras []string
	total := size(text)
	for total < target {
		f := fillers[rng.IntN(len(fillers))]
		paras = append(paras, f)
		total += size(f)
	}
	at := rng.IntN(len(paras) + 1)
	paras = append(paras[:at], append([]string{text}, paras[at:]...)...)
	return strings.Join(paras, "\n\n")
}

// replaceWords replaces a fraction of the words, evenly spread with random
// jitter, by random words from vocab.
func replaceWords(rng *rand.Rand, s string, frac float64, vocab []string) string {
	w := strings.Fields(s)
	n := int(float64(len(w))*frac + 0.5)
	for _, i := range rng.Perm(len(w))[:n] {
		w[i] = vocab[rng.IntN(len(vocab))]
	}
	return strings.Join(w, " ")
}

// reformat changes casing, punctuation and whitespace but no word.
func reformat(rng *rand.Rand, s string) string {
	var b strings.Builder
	for i, w := range strings.Fields(s) {
		if i > 0 {
			switch rng.IntN(6) {
			case 0:
				b.WriteString("\n")
			case 1:
				b.WriteString("   ")
			default:
				b.WriteString(" ")
			}
		}
		w = strings.NewReplacer(",", " ;", ".", " !", "\"", "'' ", "(", "[ ", ")", " ]").Replace(w)
		switch rng.IntN(3) {
		case 0:
			w = strings.ToUpper(w)
		case 1:
			w = strings.ToLower(w)
		}
		b.WriteString(w)
	}
	return b.String()
}

// rewriteTail replaces the last words of s by vocabulary words so that the
// 5-gram shingle sets of s and the result have about the target Jaccard
// similarity: with S shingles and the last r words replaced, r+4 shingles
// change, so J = (S−r−4)/(S+r+4).
func rewriteTail(rng *rand.Rand, s string, target float64, vocab []string) string {
	w := strings.Fields(s)
	shingles := float64(len(w) - 4)
	r := int((shingles*(1-target))/(1+target) - 4 + 0.5)
	r = max(1, min(r, len(w)))
	out := append([]string(nil), w...)
	for i := len(w) - r; i < len(w); i++ {
		out[i] = "x" + vocab[rng.IntN(len(vocab))]
	}
	return strings.Join(out, " ")
}
