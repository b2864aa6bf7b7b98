package trainer

import (
	"context"
	"math"
	"slices"
	"testing"
)

func testVocab(t testing.TB) *Vocab {
	t.Helper()
	tokens := []string{"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "[unused0]"}
	for _, w := range []string{"the", "cat", "play", "walk", "sun", "run", "blue", "red", "moon", "tree"} {
		tokens = append(tokens, w)
	}
	for _, c := range []string{"##s", "##ing", "##ed", "##ful", "##ly"} {
		tokens = append(tokens, c)
	}
	v, err := VocabFromTokens(tokens)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// sentence is [CLS] w w## w ... [SEP] [PAD]... with words of 1-3 pieces.
func sentence(v *Vocab, n int, salt int) []int32 {
	ids := []int32{v.CLS}
	for i := 0; len(ids) < n-4; i++ {
		ids = append(ids, int32(6+(i*7+salt)%10))
		for k := 0; k < (i+salt)%3; k++ {
			ids = append(ids, int32(16+(i+k)%5))
		}
	}
	ids = append(ids, v.SEP)
	for len(ids) < n {
		ids = append(ids, v.PAD)
	}
	return ids
}

func TestMaskingProportions(t *testing.T) {
	v := testVocab(t)
	m, err := NewMasker(DefaultMasking(), v)
	if err != nil {
		t.Fatal(err)
	}
	var chosen, candidates, masked, random, kept int
	for row := 0; row < 3000; row++ {
		ids := sentence(v, 64, row)
		out := make([]int32, len(ids))
		pos, labels, err := m.Mask(ids, ExampleKey{Row: row}, out, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, id := range ids {
			if !v.Special[id] {
				n++
			}
		}
		candidates += n
		chosen += len(pos)
		if !slices.IsSorted(pos) {
			t.Fatalf("positions not increasing: %v", pos)
		}
		for i, p := range pos {
			if labels[i] != ids[p] || v.Special[ids[p]] {
				t.Fatalf("row %d: label %d at %d for token %d", row, labels[i], p, ids[p])
			}
			switch {
			case out[p] == v.MASK:
				masked++
			case out[p] == ids[p]:
				kept++
			default:
				random++
				if v.Special[out[p]] {
					t.Fatalf("random replacement is special token %d", out[p])
				}
			}
		}
		for i := range ids {
			if !slices.Contains(pos, int32(i)) && out[i] != ids[i] {
				t.Fatalf("unchosen position %d changed", i)
			}
		}
	}
	rate := float64(chosen) / float64(candidates)
	fm, fr, fk := float64(masked)/float64(chosen), float64(random)/float64(chosen), float64(kept)/float64(chosen)
	t.Logf("chosen %.4f; mask %.3f random %.3f kept %.3f", rate, fm, fr, fk)
	// A random replacement equal to the original counts as kept: +1/15 of 10 %.
	if math.Abs(rate-0.15) > 0.01 || math.Abs(fm-0.8) > 0.02 || math.Abs(fr-0.1*14/15) > 0.015 || math.Abs(fk-0.1-0.1/15) > 0.015 {
		t.Fatalf("proportions off: chosen %.4f mask %.3f random %.3f kept %.3f", rate, fm, fr, fk)
	}
}

func TestMaskingDeterministicAndDynamic(t *testing.T) {
	v := testVocab(t)
	m, _ := NewMasker(DefaultMasking(), v)
	ids := sentence(v, 128, 3)
	mask := func(k ExampleKey) ([]int32, []int32) {
		out := make([]int32, len(ids))
		pos, _, err := m.Mask(ids, k, out, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		return out, pos
	}
	a, pa := mask(ExampleKey{Epoch: 0, Shard: 2, Row: 5})
	b, pb := mask(ExampleKey{Epoch: 0, Shard: 2, Row: 5})
	if !slices.Equal(a, b) || !slices.Equal(pa, pb) {
		t.Fatal("same example masked differently")
	}
	_, pc := mask(ExampleKey{Epoch: 1, Shard: 2, Row: 5})
	if slices.Equal(pa, pc) {
		t.Fatal("epoch 1 masks the same positions as epoch 0")
	}
	seeded, _ := NewMasker(MaskingConfig{Prob: 0.15, MaskFrac: 0.8, RandomFrac: 0.1, Seed: 99}, v)
	out := make([]int32, len(ids))
	pd, _, _ := seeded.Mask(ids, ExampleKey{Shard: 2, Row: 5}, out, nil, nil)
	if slices.Equal(pa, pd) {
		t.Fatal("seed does not change the masking")
	}
}

func TestWholeWordMasking(t *testing.T) {
	v := testVocab(t)
	cfg := DefaultMasking()
	cfg.WholeWord = true
	m, _ := NewMasker(cfg, v)
	sawMultiPiece := false
	for row := 0; row < 500; row++ {
		ids := sentence(v, 96, row)
		out := make([]int32, len(ids))
		pos, _, err := m.Mask(ids, ExampleKey{Row: row}, out, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		chosen := map[int32]bool{}
		for _, p := range pos {
			chosen[p] = true
		}
		// A continuation is chosen exactly when the piece before it is.
		for i := 1; i < len(ids); i++ {
			if v.Continuation[ids[i]] {
				if chosen[int32(i)] != chosen[int32(i-1)] {
					t.Fatalf("row %d: word split at %d (%v vs %v)", row, i, chosen[int32(i-1)], chosen[int32(i)])
				}
				if chosen[int32(i)] {
					sawMultiPiece = true
				}
			}
		}
	}
	if !sawMultiPiece {
		t.Fatal("no multi-piece word was ever masked")
	}
}

func TestMaskingRejectsBadIDs(t *testing.T) {
	v := testVocab(t)
	m, _ := NewMasker(DefaultMasking(), v)
	out := make([]int32, 3)
	if _, _, err := m.Mask([]int32{2, 99, 3}, ExampleKey{}, out, nil, nil); err == nil {
		t.Fatal("id 99 accepted")
	}
	if _, err := NewMasker(MaskingConfig{Prob: 0.15, MaskFrac: 0.9, RandomFrac: 0.2}, v); err == nil {
		t.Fatal("fractions over 1 accepted")
	}
}

func TestReadBERTVocab(t *testing.T) {
	v, err := ReadVocab("testdata/bert-base-uncased-vocab.txt")
	if err != nil {
		t.Fatal(err)
	}
	if v.Size != 30522 || v.PAD != 0 || v.UNK != 100 || v.CLS != 101 || v.SEP != 102 || v.MASK != 103 {
		t.Fatalf("vocab %d, pad %d unk %d cls %d sep %d mask %d", v.Size, v.PAD, v.UNK, v.CLS, v.SEP, v.MASK)
	}
	if !v.Continuation[2015] && !v.Special[1] {
		t.Fatalf("##s (2015) is not a continuation or [unused0] (1) not special")
	}
}

func TestBaseline(t *testing.T) {
	v := testVocab(t)
	// Tokens 6,6,6,7 plus specials: p = (3/4, 1/4).
	src := &SliceSource{Examples: []Example{{InputIDs: []int32{v.CLS, 6, 6, v.SEP, v.PAD}}, {InputIDs: []int32{v.CLS, 6, 7, v.SEP}}}}
	b, err := ComputeBaseline(context.Background(), src, v)
	if err != nil {
		t.Fatal(err)
	}
	want := -(0.75*math.Log(0.75) + 0.25*math.Log(0.25))
	if b.Tokens != 4 || b.MajorityToken != 6 || b.MajorityAccuracy != 0.75 || math.Abs(b.UnigramEntropy-want) > 1e-12 {
		t.Fatalf("%+v, want entropy %g", b, want)
	}
}
