package tokenize

import (
	"bytes"
	"os"
	"testing"
)

// trainSplit returns the golden corpus's texts of some sources, alternately
// as training and held-out text.
func trainSplit(t testing.TB, sources ...string) (train, heldOut []string) {
	t.Helper()
	corpus, err := loadGoldenCorpus()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{}
	for _, s := range sources {
		want[s] = true
	}
	for i, c := range corpus {
		if !want[c.Src] {
			continue
		}
		if i%2 == 0 {
			train = append(train, c.Text)
		} else {
			heldOut = append(heldOut, c.Text)
		}
	}
	return train, heldOut
}

func trainAndWrite(t *testing.T, kind string, texts []string, size, maxWords int) (paths []string, stats CountStats, v *Vocabulary) {
	t.Helper()
	c, err := NewWordCounter(kind, BertOptions(true), maxWords)
	if err != nil {
		t.Fatal(err)
	}
	for _, text := range texts {
		c.Add(text)
	}
	v, err = Train(c, TrainOptions{VocabSize: size})
	if err != nil {
		t.Fatal(err)
	}
	paths, err = v.WriteFiles(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return paths, c.Stats(), v
}

func readAll(t *testing.T, paths []string) []byte {
	t.Helper()
	var b []byte
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		b = append(b, data...)
	}
	return b
}

func TestTrainWordPiece(t *testing.T) {
	train, heldOut := trainSplit(t, "wikitext", "xquad.en", "commoncrawl")
	const size = 8000
	paths, stats, v := trainAndWrite(t, KindWordPiece, train, size, 0)
	if len(v.Tokens) != size || stats.Pruned != 0 {
		t.Fatalf("%d tokens (want %d), %d words pruned", len(v.Tokens), size, stats.Pruned)
	}
	seen := map[string]bool{}
	for _, tok := range v.Tokens {
		if seen[tok] {
			t.Fatalf("token %q twice", tok)
		}
		seen[tok] = true
	}
	trained, err := LoadWordPiece(paths[0], BertOptions(true))
	if err != nil {
		t.Fatal(err)
	}
	ref, err := Load(uncasedVocab)
	if err != nil {
		t.Fatal(err)
	}
	// The alphabet covers every character of the training text: nothing
	// there is unknown except words over 100 characters.
	unknown, total := 0, 0
	for _, text := range train {
		for _, id := range trained.Encode(text, nil) {
			total++
			if id == trained.Special().UNK {
				unknown++
			}
		}
	}
	if float64(unknown) > 1e-4*float64(total) {
		t.Errorf("%d of %d tokens of the training text are [UNK]", unknown, total)
	}
	got, want := TokensPerWord(trained, heldOut), TokensPerWord(ref, heldOut)
	t.Logf("held-out tokens/word: trained %d-token vocabulary %.3f, bert-base-uncased (30522) %.3f", size, got, want)
	// A vocabulary a quarter the size, learned from 1 MB, is a little worse
	// than BERT's, not wildly.
	if got < want*0.9 || got > want*1.5 {
		t.Errorf("tokens/word %.3f is not within [0.9, 1.5] × the reference's %.3f", got, want)
	}

	again, _, _ := trainAndWrite(t, KindWordPiece, train, size, 0)
	if !bytes.Equal(readAll(t, paths), readAll(t, again)) {
		t.Error("training twice on the same text gave different vocabularies")
	}
}

func TestTrainBPE(t *testing.T) {
	train, heldOut := trainSplit(t, "wikitext", "xquad.en", "commoncrawl")
	const size = 8000
	paths, _, v := trainAndWrite(t, KindBPE, train, size, 0)
	if len(v.Tokens) != size || len(v.Merges) != size-257 {
		t.Fatalf("%d tokens, %d merges", len(v.Tokens), len(v.Merges))
	}
	trained, err := LoadBPE(paths[0], paths[1])
	if err != nil {
		t.Fatal(err)
	}
	ref, err := Load(gpt2Vocab)
	if err != nil {
		t.Fatal(err)
	}
	// Byte-level BPE loses nothing: decoding gives the text back.
	for _, text := range heldOut[:200] {
		if got := trained.Decode(trained.Encode(text, nil)); got != text {
			t.Fatalf("round trip of %q gave %q", clip(text, 80), clip(got, 80))
		}
	}
	got, want := TokensPerWord(trained, heldOut), TokensPerWord(ref, heldOut)
	t.Logf("held-out tokens/word: trained %d-token BPE %.3f, GPT-2 (50257) %.3f", size, got, want)
	if got < want*0.9 || got > want*1.5 {
		t.Errorf("tokens/word %.3f is not within [0.9, 1.5] × the reference's %.3f", got, want)
	}
}

// TestTrainBoundedMemory: a counter capped far below the number of distinct
// words prunes, stays under its cap, and is still deterministic.
func TestTrainBoundedMemory(t *testing.T) {
	train, _ := trainSplit(t, "wikitext", "xquad.en", "commoncrawl")
	const maxWords = 3000
	c, err := NewWordCounter(KindWordPiece, BertOptions(true), maxWords)
	if err != nil {
		t.Fatal(err)
	}
	for _, text := range train {
		c.Add(text)
		if c.Len() > maxWords {
			t.Fatalf("counter holds %d words, cap %d", c.Len(), maxWords)
		}
	}
	if c.Stats().Prunes == 0 {
		t.Fatal("never pruned: the test text is too small for the cap")
	}
	a, stats, _ := trainAndWrite(t, KindWordPiece, train, 4000, maxWords)
	b, _, _ := trainAndWrite(t, KindWordPiece, train, 4000, maxWords)
	if !bytes.Equal(readAll(t, a), readAll(t, b)) {
		t.Error("pruned training is not deterministic")
	}
	t.Logf("pruned %d distinct words in %d prunings", stats.Pruned, stats.Prunes)
	if _, err := Train(c, TrainOptions{VocabSize: 10}); err == nil {
		t.Error("a vocabulary smaller than the alphabet trained without error")
	}
	if _, err := NewWordCounter("unigram", WordPieceOptions{}, 0); err == nil {
		t.Error("unknown kind accepted")
	}
}
