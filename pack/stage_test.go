package pack

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/corpusflow/corpusflow/flow"
)

// testVocab writes a small BERT-style vocab.txt: specials, 100 [unusedN],
// punctuation and the words w0..w399. Ids: [PAD]=0, [unused0..99]=1..100,
// [UNK]=101, [CLS]=102, [SEP]=103, [MASK]=104, "."=105, "!"=106, w0=107...
func testVocab(t testing.TB) string {
	t.Helper()
	lines := []string{"[PAD]"}
	for i := 0; i < 100; i++ {
		lines = append(lines, fmt.Sprintf("[unused%d]", i))
	}
	lines = append(lines, "[UNK]", "[CLS]", "[SEP]", "[MASK]", ".", "!")
	for i := 0; i < 400; i++ {
		lines = append(lines, fmt.Sprintf("w%d", i))
	}
	path := filepath.Join(t.TempDir(), "test-uncased-vocab.txt")
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

const (
	tPAD, tCLS, tSEP, tMASK, tDot = 0, 102, 103, 104, 105
	firstWord                     = 107
)

// doc is a test document: its id and token ids.
type doc struct {
	id     string
	tokens []int32
}

// testDocs makes n documents of varying length; every token is a word id
// that encodes (document, position) so tests can trace it back, and every
// seventh token is a full stop.
func testDocs(n int) []doc {
	docs := make([]doc, n)
	for d := range docs {
		length := 5 + (d*37)%90
		toks := make([]int32, length)
		for i := range toks {
			if i%7 == 6 {
				toks[i] = tDot
			} else {
				toks[i] = int32(firstWord + (d*13+i)%400)
			}
		}
		docs[d] = doc{fmt.Sprintf("doc-%d", d), toks}
	}
	return docs
}

func newTestStage(t testing.TB, mutate func(*Config)) (*Stage, *flow.Counters) {
	t.Helper()
	c := DefaultConfig()
	c.Vocab = testVocab(t)
	c.SeqLen = 32
	if mutate != nil {
		mutate(&c)
	}
	counters := &flow.Counters{}
	s, err := New(&c, &flow.Env{Counters: counters, PipelineName: "test", PipelineSHA256: "feed"})
	if err != nil {
		t.Fatal(err)
	}
	return s, counters
}

func packDocs(t testing.TB, s *Stage, docs []doc) []*flow.Record {
	t.Helper()
	var out []*flow.Record
	emit := func(r *flow.Record) { out = append(out, r) }
	for _, d := range docs {
		if reason := s.ProcessEmit(&flow.Record{ID: d.id, Tokens: d.tokens}, emit); reason != "" {
			t.Fatalf("%s rejected: %s", d.id, reason)
		}
	}
	if err := s.Flush(emit); err != nil {
		t.Fatal(err)
	}
	return out
}

func ints(r *flow.Record, col string) []int32 { return r.Fields[col].([]int32) }
func num(r *flow.Record, col string) int      { return int(r.Fields[col].(int32)) }

func TestMLMCrossPacksTheWholeStreamWithSeparators(t *testing.T) {
	s, counters := newTestStage(t, nil)
	docs := testDocs(40)
	exs := packDocs(t, s, docs)
	var stream []int32
	for i, d := range docs {
		if i > 0 {
			stream = append(stream, tSEP)
		}
		stream = append(stream, d.tokens...)
	}
	var got []int32
	for i, r := range exs {
		ids, n := ints(r, ColInputIDs), num(r, ColLength)
		if len(ids) != 32 || ids[0] != tCLS || ids[n-1] != tSEP {
			t.Fatalf("example %d is not [CLS] ... [SEP] padded to 32: %v", i, ids)
		}
		if i < len(exs)-1 && n != 32 {
			t.Fatalf("example %d of a cross-document stream has %d tokens, only the last may be short", i, n)
		}
		for _, id := range ids[n:] {
			if id != tPAD {
				t.Fatalf("example %d: padding holds %d", i, id)
			}
		}
		content := ids[1 : n-1]
		if content[0] == tSEP {
			t.Fatalf("example %d starts with a document separator", i)
		}
		// Provenance: the first content token belongs to doc_id.
		if d := docOf(docs, r.Fields[ColDocID].(string)); !slices.Contains(d.tokens, content[0]) {
			t.Fatalf("example %d: first token %d is not from %s", i, content[0], d.id)
		}
		got = append(got, content...)
		// A separator that ends one example is not repeated at the start of
		// the next: put it back where the stream has it.
		if i < len(exs)-1 && len(got) < len(stream) && stream[len(got)] == tSEP && content[len(content)-1] != tSEP {
			got = append(got, tSEP)
		}
	}
	if !slices.Equal(got, stream) {
		t.Fatalf("the examples do not hold the stream: %d tokens vs %d", len(got), len(stream))
	}
	if pad := counters.Get("pad_tokens"); pad >= 32 {
		t.Fatalf("cross packing padded %d tokens; only the last example may be short", pad)
	}
	if r := exs[0]; r.ID != "ex-0" || LayoutOf(r.Fields) != s.Layout() {
		t.Fatalf("first example id %q / layout %p", r.ID, LayoutOf(r.Fields))
	}
}

func docOf(docs []doc, id string) doc {
	for _, d := range docs {
		if d.id == id {
			return d
		}
	}
	return doc{}
}

func TestMLMStrictNeverCrossesADocument(t *testing.T) {
	s, counters := newTestStage(t, func(c *Config) { c.DocBoundary = BoundaryStrict })
	docs := testDocs(40)
	exs := packDocs(t, s, docs)
	perDoc := map[string][]int32{}
	for _, r := range exs {
		ids, n := ints(r, ColInputIDs), num(r, ColLength)
		id := r.Fields[ColDocID].(string)
		perDoc[id] = append(perDoc[id], ids[1:n-1]...)
	}
	wantPad := 0
	for _, d := range docs {
		if !slices.Equal(perDoc[d.id], d.tokens) {
			t.Fatalf("%s: examples hold %v, document is %v", d.id, perDoc[d.id], d.tokens)
		}
		if rest := len(d.tokens) % 30; rest != 0 {
			wantPad += 30 - rest
		}
	}
	if got := counters.Get("pad_tokens"); got != int64(wantPad) {
		t.Fatalf("pad_tokens %d, want %d", got, wantPad)
	}
}

func TestUnpaddedExamplesAreVariableLength(t *testing.T) {
	s, _ := newTestStage(t, func(c *Config) { c.Pad = false; c.DocBoundary = BoundaryStrict })
	exs := packDocs(t, s, testDocs(5))
	if c, _ := s.Layout().Column(ColInputIDs); c.Width != 0 {
		t.Fatalf("input_ids width %d without padding", c.Width)
	}
	for _, r := range exs {
		if len(ints(r, ColInputIDs)) != num(r, ColLength) {
			t.Fatalf("unpadded example has %d ids, length %d", len(ints(r, ColInputIDs)), num(r, ColLength))
		}
	}
}

func TestStaticMaskLikeBERT(t *testing.T) {
	s, counters := newTestStage(t, func(c *Config) { c.StaticMask = true; c.DupeFactor = 3; c.SeqLen = 128 })
	plain, _ := newTestStage(t, func(c *Config) { c.SeqLen = 128 })
	docs := testDocs(200)
	masked, orig := packDocs(t, s, docs), packDocs(t, plain, docs)
	if len(masked) != 3*len(orig) {
		t.Fatalf("dupe_factor 3 made %d examples from %d", len(masked), len(orig))
	}
	var chosen, toMask, toRandom, candidates int
	for i, r := range masked {
		o := ints(orig[i/3], ColInputIDs)
		ids, labels, n := ints(r, ColInputIDs), ints(r, ColLabels), num(r, ColLength)
		exChosen := 0
		for p := range ids {
			special := o[p] == tCLS || o[p] == tSEP || o[p] == tPAD
			if !special {
				candidates++
			}
			if labels[p] == IgnoreLabel {
				if ids[p] != o[p] {
					t.Fatalf("example %d pos %d changed without a label", i, p)
				}
				continue
			}
			if special || p >= n {
				t.Fatalf("example %d: special or padding position %d was masked", i, p)
			}
			if labels[p] != o[p] {
				t.Fatalf("example %d pos %d: label %d, original %d", i, p, labels[p], o[p])
			}
			exChosen++
			switch {
			case ids[p] == tMASK:
				toMask++
			case ids[p] != o[p]:
				toRandom++
			}
		}
		if exChosen == 0 {
			t.Fatalf("example %d has no prediction", i)
		}
		chosen += exChosen
	}
	if i := 1; slices.Equal(ints(masked[0], ColLabels), ints(masked[i], ColLabels)) {
		t.Fatal("the copies of an example got the same mask")
	}
	frac := float64(chosen) / float64(candidates)
	if math.Abs(frac-0.15) > 0.01 {
		t.Fatalf("%.3f of tokens chosen, want 0.15", frac)
	}
	if m := float64(toMask) / float64(chosen); math.Abs(m-0.8) > 0.03 {
		t.Fatalf("%.3f of chosen tokens became [MASK], want 0.8", m)
	}
	if r := float64(toRandom) / float64(chosen); math.Abs(r-0.1) > 0.03 {
		t.Fatalf("%.3f of chosen tokens became random, want about 0.1", r)
	}
	if counters.Get("masked_tokens") != int64(chosen) {
		t.Fatalf("masked_tokens %d, counted %d", counters.Get("masked_tokens"), chosen)
	}
}

func TestNSPPairs(t *testing.T) {
	s, _ := newTestStage(t, func(c *Config) { c.Mode = ModeNSP; c.SeqLen = 64 })
	docs := testDocs(300)
	exs := packDocs(t, s, docs)
	var random int
	for i, r := range exs {
		ids, types, n := ints(r, ColInputIDs), ints(r, ColTokenTypeIDs), num(r, ColLength)
		if ids[0] != tCLS || ids[n-1] != tSEP || n > 64 {
			t.Fatalf("example %d: %v", i, ids)
		}
		sep := slices.Index(ids, tSEP)
		a, b := ids[1:sep], ids[sep+1:n-1]
		if len(a) == 0 || len(b) == 0 {
			t.Fatalf("example %d has an empty segment", i)
		}
		for p, ty := range types {
			want := int32(0)
			if p > sep && p < n {
				want = 1
			}
			if ty != want {
				t.Fatalf("example %d: token_type_ids[%d] = %d, want %d", i, p, ty, want)
			}
		}
		label := num(r, ColNextSentenceLabel)
		d := docOf(docs, r.Fields[ColDocID].(string))
		if !containsRun(d.tokens, a) {
			t.Fatalf("example %d: segment A is not from %s", i, d.id)
		}
		if label == 0 && !containsRun(d.tokens, append(slices.Clone(a), b...)) {
			// Truncation may trim A's end or B's start; both still come from
			// the document, in order.
			if !containsRun(d.tokens, b) {
				t.Fatalf("example %d: label 0 but B is not from %s", i, d.id)
			}
		}
		random += label
	}
	if frac := float64(random) / float64(len(exs)); frac < 0.4 || frac > 0.75 {
		// Single-sentence chunks always get a random B, so a little over half.
		t.Fatalf("%d of %d pairs are random (%.2f)", random, len(exs), frac)
	}
}

func containsRun(hay, run []int32) bool {
	for i := 0; i+len(run) <= len(hay); i++ {
		if slices.Equal(hay[i:i+len(run)], run) {
			return true
		}
	}
	return false
}

func TestSpanCorruptionLengthsMatchT5(t *testing.T) {
	// random_spans_helper(512, 0.15, 3) gives tokens_length 568 and
	// targets_length 114 (T5 and Hugging Face's run_t5_mlm_flax.py).
	c := DefaultConfig()
	c.SeqLen = 512
	p, err := newSpanPacker(&c, 1, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	if p.tokensLength != 568 || p.targetsLength != 114 {
		t.Fatalf("tokens_length %d, targets_length %d; T5 gives 568 and 114", p.tokensLength, p.targetsLength)
	}
}

func TestSpanCorruptionRoundTrips(t *testing.T) {
	for _, boundary := range []string{BoundaryCross, BoundaryStrict} {
		s, _ := newTestStage(t, func(c *Config) { c.Mode = ModeSpanCorruption; c.SeqLen = 64; c.DocBoundary = boundary })
		sp := s.packer.(*spanPacker)
		docs := testDocs(60)
		exs := packDocs(t, s, docs)
		var stream []int32
		var noise, total int
		for i, r := range exs {
			in, tg := ints(r, ColInputIDs), ints(r, ColTargets)
			n, tn := num(r, ColLength), num(r, ColTargetsLength)
			if len(in) != 64 || len(tg) != sp.targetsLength {
				t.Fatalf("%s example %d: %d inputs, %d targets", boundary, i, len(in), len(tg))
			}
			if boundary == BoundaryCross && i < len(exs)-1 && n != 64 {
				t.Fatalf("%s example %d: full chunk gave %d inputs, want exactly 64", boundary, i, n)
			}
			chunk := reconstruct(t, in[:n], tg[:tn], sp.sentinels)
			noise += tn - 1 - countIn(tg[:tn], sp.sentinels)
			total += len(chunk)
			stream = append(stream, chunk...)
		}
		var want []int32
		for i, d := range docs {
			if i > 0 && boundary == BoundaryCross {
				want = append(want, tSEP) // EOS of a BERT vocabulary
			}
			want = append(want, d.tokens...)
		}
		if !slices.Equal(stream, want) {
			t.Fatalf("%s: inputs + targets do not give back the documents (%d vs %d tokens)", boundary, len(stream), len(want))
		}
		if frac := float64(noise) / float64(total); math.Abs(frac-0.15) > 0.02 {
			t.Fatalf("%s: noise density %.3f", boundary, frac)
		}
	}
}

// reconstruct puts the noise spans of targets back in place of the
// sentinels of inputs; both end with EOS ([SEP] here).
func reconstruct(t *testing.T, inputs, targets, sentinels []int32) []int32 {
	t.Helper()
	spans := map[int32][]int32{}
	var cur int32 = -1
	for _, id := range targets[:len(targets)-1] {
		if slices.Contains(sentinels, id) {
			cur = id
			continue
		}
		spans[cur] = append(spans[cur], id)
	}
	var out []int32
	for _, id := range inputs[:len(inputs)-1] {
		if slices.Contains(sentinels, id) {
			if len(spans[id]) == 0 {
				t.Fatalf("sentinel %d has no span in the targets", id)
			}
			out = append(out, spans[id]...)
			continue
		}
		out = append(out, id)
	}
	if inputs[len(inputs)-1] != tSEP || targets[len(targets)-1] != tSEP {
		t.Fatalf("inputs or targets do not end with EOS")
	}
	return out
}

func countIn(ids, set []int32) int {
	n := 0
	for _, id := range ids {
		if slices.Contains(set, id) {
			n++
		}
	}
	return n
}

func TestShuffleBufferIsSeededAndKeepsEveryExample(t *testing.T) {
	order := func(seed uint64, buffer int) []string {
		s, _ := newTestStage(t, func(c *Config) { c.Shuffle = ShuffleConfig{Buffer: buffer, Seed: seed} })
		var ids []string
		for _, r := range packDocs(t, s, testDocs(100)) {
			ids = append(ids, r.ID)
		}
		return ids
	}
	plain, a, again, other := order(0, 0), order(7, 16), order(7, 16), order(8, 16)
	if !slices.Equal(a, again) || slices.Equal(a, other) || slices.Equal(a, plain) {
		t.Fatal("shuffle is not a function of its seed")
	}
	sorted := slices.Clone(a)
	slices.SortFunc(sorted, func(x, y string) int { return len(x) - len(y) + strings.Compare(x, y)*boolInt(len(x) == len(y)) })
	if !slices.Equal(sorted, plain) {
		t.Fatal("shuffled examples are not a permutation of the unshuffled ones")
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func TestBadDocumentsAreRejectedWithAReason(t *testing.T) {
	s, _ := newTestStage(t, nil)
	if got := s.ProcessEmit(&flow.Record{ID: "a"}, func(*flow.Record) {}); got != "no_tokens" {
		t.Fatalf("no tokens: %q", got)
	}
	if got := s.ProcessEmit(&flow.Record{ID: "b", Tokens: []int32{5, 100000}}, func(*flow.Record) {}); got != "token_id_out_of_range" {
		t.Fatalf("id past the vocabulary: %q", got)
	}
}

func TestConfigErrorsNameTheField(t *testing.T) {
	vocab := testVocab(t)
	cases := map[string]func(*Config){
		"seq_len":       func(c *Config) { c.SeqLen = 4 },
		"dupe_factor":   func(c *Config) { c.DupeFactor = 5 },
		"mask_prob":     func(c *Config) { c.MaskProb = 1.5 },
		"static_mask":   func(c *Config) { c.Mode = ModeSpanCorruption; c.StaticMask = true },
		"vocab":         func(c *Config) { c.Vocab = filepath.Join(t.TempDir(), "missing-vocab.txt") },
		"noise_density": func(c *Config) { c.NoiseDensity = 0 },
	}
	for field, mutate := range cases {
		c := DefaultConfig()
		c.Vocab = vocab
		mutate(&c)
		_, err := New(&c, &flow.Env{})
		var fe *flow.FieldError
		if err == nil || !asFieldError(err, &fe) || fe.Field != field {
			t.Errorf("%s: got %v", field, err)
		}
	}
	// 100 [unusedN] sentinels are too few for 1024-token inputs.
	c := DefaultConfig()
	c.Vocab, c.Mode, c.SeqLen = vocab, ModeSpanCorruption, 4096
	if _, err := New(&c, &flow.Env{}); err == nil || !strings.Contains(err.Error(), "sentinel tokens") {
		t.Errorf("too few sentinels: %v", err)
	}
}

func asFieldError(err error, fe **flow.FieldError) bool {
	e, ok := err.(*flow.FieldError)
	*fe = e
	return ok
}

func TestLayoutMetadataLetsAConsumerCheckTheVocabulary(t *testing.T) {
	s, _ := newTestStage(t, func(c *Config) { c.Mode = ModeNSP; c.StaticMask = true })
	md := s.Layout().Metadata
	for _, key := range []string{MetaVocabSHA256, MetaTokenizer, MetaSpecialTokens, MetaSeqLen, MetaMode, MetaPipelineSHA256, MetaVersion} {
		if md[key] == "" {
			t.Errorf("metadata %s is empty", key)
		}
	}
	if md[MetaSpecialTokens] != `{"bos":-1,"cls":102,"eos":-1,"mask":104,"pad":0,"sep":103,"unk":101}` {
		t.Errorf("special tokens %s", md[MetaSpecialTokens])
	}
	var names []string
	for _, c := range s.Layout().Columns {
		names = append(names, c.Name)
	}
	if got := strings.Join(names, ","); got != "id,doc_id,input_ids,token_type_ids,labels,length,next_sentence_label" {
		t.Errorf("nsp columns: %s", got)
	}
}
