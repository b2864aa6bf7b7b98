package dedup

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"testing"

	"github.com/corpusflow/corpusflow/dedup/internal/plant"
)

// matchOutcome is everything Match tells the decontaminate stage about one
// document, in an order that does not depend on how it was found.
type matchOutcome struct {
	hits []LeakHit
	near map[int]float64
	toks int
}

func outcomeOf(match func(string, func(int, float64)) ([]LeakHit, []leakToken), text string) matchOutcome {
	o := matchOutcome{near: map[int]float64{}}
	hits, toks := match(text, func(item int, score float64) {
		if _, dup := o.near[item]; dup {
			panic(fmt.Sprintf("item %d reported twice", item))
		}
		o.near[item] = score
	})
	sort.Slice(hits, func(i, j int) bool { return hits[i].Item < hits[j].Item })
	o.hits, o.toks = hits, len(toks)
	return o
}

func (o matchOutcome) diff(ref matchOutcome) string {
	var b strings.Builder
	if fmt.Sprint(o.hits) != fmt.Sprint(ref.hits) {
		fmt.Fprintf(&b, "hits %v, reference %v; ", o.hits, ref.hits)
	}
	if len(o.hits) > 0 && o.toks != ref.toks {
		fmt.Fprintf(&b, "%d tokens, reference %d; ", o.toks, ref.toks)
	}
	for g, s := range ref.near {
		if got, ok := o.near[g]; !ok || got != s {
			fmt.Fprintf(&b, "item %d near %v (reported %v), reference %v; ", g, got, ok, s)
		}
	}
	for g, s := range o.near {
		if _, ok := ref.near[g]; !ok {
			fmt.Fprintf(&b, "item %d near %v, reference has none; ", g, s)
		}
	}
	return b.String()
}

// longDocuments joins planted documents into pages of 5,000 to 40,000
// words, so that the probe works in several segments and planted passages
// and their windows fall across segment boundaries.
func longDocuments(docs []plant.Doc, n int) []string {
	rng := rand.New(rand.NewPCG(7, 11))
	var leaks []string
	for _, d := range docs {
		if d.LeakOf != "" {
			leaks = append(leaks, d.Text)
		}
	}
	var out []string
	for range n {
		var b strings.Builder
		target := 30000 + rng.IntN(220000)
		for b.Len() < target {
			if rng.IntN(4) == 0 {
				b.WriteString(leaks[rng.IntN(len(leaks))])
			} else {
				b.WriteString(docs[rng.IntN(len(docs))].Text)
			}
			b.WriteString("\n")
		}
		out = append(out, b.String())
	}
	return out
}

// The fast matcher must tell the stage exactly what the original one did:
// the same hits with the same scores and windows, and the same best score
// for every item either method touched (the report's histogram), over the
// whole planted corpus, long multi-segment pages, and texts at the edges
// (no words, one word pair, exactly one block, one block more).
func TestMatchEqualsReference(t *testing.T) {
	ix, err := BuildLeakIndex(bundledTestSets(), DefaultLeakParams)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := buildRefLeakIndex(bundledTestSets(), DefaultLeakParams)
	if err != nil {
		t.Fatal(err)
	}
	docs := plantedCorpus(t)
	texts := []string{"", "one", "one two", strings.Repeat("w ", 9), strings.Repeat("w x ", 33)}
	for _, d := range docs {
		texts = append(texts, d.Text)
	}
	long := longDocuments(docs, 40)
	texts = append(texts, long...)
	var hits, near int
	for i, text := range texts {
		got, want := outcomeOf(ix.Match, text), outcomeOf(ref.Match, text)
		if d := got.diff(want); d != "" {
			t.Fatalf("text %d (%d bytes): %s", i, len(text), d)
		}
		hits += len(got.hits)
		near += len(got.near)
	}
	if hits < 800 || near < hits {
		t.Fatalf("only %d hits and %d touched items: the comparison proves little", hits, near)
	}
	t.Logf("%d texts (%d long), %d hits, %d touched items: all equal", len(texts), len(long), hits, near)
}

// The probe's segments must visit exactly the windows a single pass over
// the whole document visits, whatever the document and segment lengths.
func TestWindowsInSegments(t *testing.T) {
	for _, m := range windowClasses[:12] {
		st := max(1, m/4)
		for nb := 1; nb < 3000; nb += 1 + nb/50 {
			want := 0
			for start := 0; start < nb; start += st {
				want++
				if start+m >= nb {
					break
				}
			}
			for _, segment := range []int{96, 576, 1152} {
				if segment%st != 0 {
					continue
				}
				got := 0
				for first := 0; first < nb; first += segment {
					got += windowsIn(nb, first, segment, m, st)
				}
				if got != want {
					t.Fatalf("%d-block windows in %d blocks, segments of %d: %d windows, want %d", m, nb, segment, got, want)
				}
			}
		}
	}
}

// The tokenizer's fast path for ASCII words must give the tokens the
// general loop gives: same hashes, same byte spans.
func TestTokenizerFastPath(t *testing.T) {
	texts := []string{
		"", "a", "A", "don't", "DON'T stop", "x'", "'x", "rock'n'roll",
		"naïve café", "Zürich2024", "abc\u0301def", "mid‘quote’s", "中文abc中文", "A1-B2_c3",
		"word\xff\xfebroken", "TAIL", "tail ", " lead", "l’été",
	}
	for _, d := range plantedCorpus(t) {
		texts = append(texts, d.Text)
	}
	var fast, ref leakTokenizer
	for i, text := range texts {
		got, want := fast.tokenize(text), ref.refTokenize(text)
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("text %d %.80q: tokens %v, want %v", i, text, got, want)
		}
	}
}

func FuzzTokenizerFastPath(f *testing.F) {
	for _, s := range []string{"Don't STOP", "naïve café", "中文abc", "a'b'c", "x\u0301y"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		var fast, ref leakTokenizer
		if got, want := fast.tokenize(text), ref.refTokenize(text); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("%q: tokens %v, want %v", text, got, want)
		}
	})
}

// The tokenizer takes U+4E00–U+9FFF as CJK without asking the Unicode
// tables; they must agree.
func TestCommonHanBlockIsCJK(t *testing.T) {
	for r := rune(0x4e00); r <= 0x9fff; r++ {
		if !isCJK(r) {
			t.Fatalf("%U is not CJK by the Unicode tables", r)
		}
	}
}

// joinedDocument joins planted documents, leak pages among them, into one
// text of at least size bytes.
func joinedDocument(docs []plant.Doc, size int) string {
	var b strings.Builder
	for i := 0; b.Len() < size; i++ {
		b.WriteString(docs[(i*7919)%len(docs)].Text)
		b.WriteString("\n")
	}
	return b.String()
}

// The probe's working memory depends on the index (signature length,
// longest window), not on the document: a 2 MB page is probed in segments.
func TestProbeMemoryIsBounded(t *testing.T) {
	ix, err := BuildLeakIndex(bundledTestSets(), DefaultLeakParams)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := buildRefLeakIndex(bundledTestSets(), DefaultLeakParams)
	if err != nil {
		t.Fatal(err)
	}
	docs := plantedCorpus(t)
	probeBytes := func(text string) (fast, old int) {
		s := ix.scratch()
		ix.probeMinHash(s, s.tk.tokenize(text))
		p := &s.probe
		fast = 4*cap(p.base) + 8*cap(p.pairs) + 8*cap(p.tagged) + 12*cap(p.cands)
		r := ref.scratch()
		ref.probeMinHash(r, r.tk.refTokenize(text))
		for _, l := range r.levels {
			old += 4 * cap(l)
		}
		return fast, old
	}
	small, _ := probeBytes(docs[0].Text)
	for _, size := range []int{100 << 10, 2 << 20} {
		fast, old := probeBytes(joinedDocument(docs, size))
		t.Logf("%d KB page: probe working memory %d KB (before: %d KB)", size>>10, fast>>10, old>>10)
		if fast > 2*small || fast > 1<<20 {
			t.Fatalf("%d KB page: %d bytes of probe memory, %d for a short document", size>>10, fast, small)
		}
	}
}

// Any text, the fast matcher and the original agree.
func FuzzMatchEqualsReference(f *testing.F) {
	ix, err := BuildLeakIndex(bundledTestSets(), DefaultLeakParams)
	if err != nil {
		f.Fatal(err)
	}
	ref, err := buildRefLeakIndex(bundledTestSets(), DefaultLeakParams)
	if err != nil {
		f.Fatal(err)
	}
	for _, spec := range bundledTestSets() {
		items, _, err := LoadTestSet(spec)
		if err != nil {
			f.Fatal(err)
		}
		for _, it := range items[:3] {
			f.Add("before " + it.Text + " after")
		}
	}
	f.Add("")
	f.Add("\xff\xfe broken utf-8 ’ don't")
	f.Fuzz(func(t *testing.T, text string) {
		if d := outcomeOf(ix.Match, text).diff(outcomeOf(ref.Match, text)); d != "" {
			t.Fatalf("%.200q: %s", text, d)
		}
	})
}
