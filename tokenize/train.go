package tokenize

import (
	"bytes"
	"container/heap"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/corpusflow/corpusflow/internal/atomicfile"
)

// TrainOptions configure vocabulary training.
type TrainOptions struct {
	// VocabSize is the size of the vocabulary to learn, special tokens and
	// alphabet included.
	VocabSize int
	// MinFrequency: a merge must be seen at least this often (2 when 0).
	MinFrequency int64
	// SpecialTokens come first (WordPiece) or last (BPE); the defaults are
	// BERT's [PAD] [UNK] [CLS] [SEP] [MASK] and GPT-2's <|endoftext|>.
	SpecialTokens []string
}

// Vocabulary is a trained vocabulary.
type Vocabulary struct {
	Kind   string
	Tokens []string    // by id; BPE tokens are in the byte-level alphabet
	Merges [][2]string // BPE only, in priority order
	// Learned is the number of merges training made.
	Learned int
}

// Train learns a vocabulary from counted words with byte-pair merges: the
// most frequent adjacent pair of symbols is merged, again and again, until
// the vocabulary has VocabSize tokens or no pair is frequent enough. For
// WordPiece the symbols inside a word carry the "##" prefix, as in Hugging
// Face's WordPieceTrainer; for byte-level BPE the alphabet is the 256 bytes.
// Ties are broken by the symbols' bytes, so training is deterministic.
func Train(c *WordCounter, opts TrainOptions) (*Vocabulary, error) {
	if opts.MinFrequency <= 0 {
		opts.MinFrequency = 2
	}
	if opts.SpecialTokens == nil {
		if c.kind == KindWordPiece {
			opts.SpecialTokens = []string{"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"}
		} else {
			opts.SpecialTokens = []string{"<|endoftext|>"}
		}
	}
	t := &trainer{kind: c.kind, symbolID: map[string]int32{}, counts: map[uint64]int64{}, where: map[uint64][]int32{}}
	if c.kind == KindWordPiece {
		t.prefix = c.wp.opts.ContinuingSubwordPrefix
	}
	t.initWords(c.sorted())
	base := len(t.symbols) + len(opts.SpecialTokens)
	if opts.VocabSize < base {
		return nil, fmt.Errorf("vocabulary size %d is smaller than the alphabet and special tokens (%d)", opts.VocabSize, base)
	}
	t.learn(opts.VocabSize-len(opts.SpecialTokens), opts.MinFrequency)

	v := &Vocabulary{Kind: c.kind, Learned: len(t.merges)}
	if c.kind == KindWordPiece {
		v.Tokens = append(append(v.Tokens, opts.SpecialTokens...), t.symbols...)
	} else {
		v.Tokens = append(append(v.Tokens, t.symbols...), opts.SpecialTokens...)
		for _, m := range t.merges {
			v.Merges = append(v.Merges, [2]string{t.symbols[m[0]], t.symbols[m[1]]})
		}
	}
	return v, nil
}

type trainWord struct {
	syms  []int32
	count int64
}

type trainer struct {
	kind     string
	prefix   string // "##" for WordPiece
	symbols  []string
	symbolID map[string]int32
	words    []trainWord
	counts   map[uint64]int64   // pair → occurrences, weighted by word count
	where    map[uint64][]int32 // pair → words that had it (may hold stale entries)
	merges   [][2]int32
	queue    pairQueue
}

func (t *trainer) symbol(s string) int32 {
	if id, ok := t.symbolID[s]; ok {
		return id
	}
	id := int32(len(t.symbols))
	t.symbols = append(t.symbols, s)
	t.symbolID[s] = id
	return id
}

// initWords splits every word into its alphabet symbols. The alphabet gets
// ids in a fixed order (all 256 bytes for BPE; the sorted characters for
// WordPiece) before any merge.
func (t *trainer) initWords(words []wordCount) {
	if t.kind == KindBPE {
		for b := 0; b < 256; b++ {
			t.symbol(string(byteToChar[b]))
		}
	} else {
		alphabet := map[string]bool{}
		for _, w := range words {
			for i, r := range w.word {
				if i == 0 {
					alphabet[string(r)] = true
				} else {
					alphabet[t.prefix+string(r)] = true
				}
			}
		}
		sorted := make([]string, 0, len(alphabet))
		for s := range alphabet {
			sorted = append(sorted, s)
		}
		sort.Strings(sorted)
		for _, s := range sorted {
			t.symbol(s)
		}
	}
	for wi, w := range words {
		var syms []int32
		if t.kind == KindBPE {
			for i := 0; i < len(w.word); i++ {
				syms = append(syms, int32(w.word[i]))
			}
		} else {
			for i, r := range w.word {
				if i == 0 {
					syms = append(syms, t.symbolID[string(r)])
				} else {
					syms = append(syms, t.symbolID[t.prefix+string(r)])
				}
			}
		}
		t.words = append(t.words, trainWord{syms: syms, count: w.count})
		for i := 0; i+1 < len(syms); i++ {
			k := pairKey(syms[i], syms[i+1])
			t.counts[k] += w.count
			t.where[k] = append(t.where[k], int32(wi))
		}
	}
	for k, n := range t.counts {
		t.queue.items = append(t.queue.items, pairItem{key: k, count: n})
	}
	t.queue.t = t
	heap.Init(&t.queue)
}

// mergedSymbol is the token two symbols make: for WordPiece the right one
// loses its "##".
func (t *trainer) mergedSymbol(left, right int32) string {
	r := t.symbols[right]
	if t.kind == KindWordPiece {
		r = strings.TrimPrefix(r, t.prefix)
	}
	return t.symbols[left] + r
}

// learn merges until there are maxSymbols symbols or no pair is frequent
// enough.
func (t *trainer) learn(maxSymbols int, minFrequency int64) {
	seen := make([]int, len(t.words))
	for step := 1; len(t.symbols) < maxSymbols && t.queue.Len() > 0; {
		top := heap.Pop(&t.queue).(pairItem)
		current := t.counts[top.key]
		if current != top.count { // stale: the pair's count changed since it was queued
			if current > 0 {
				heap.Push(&t.queue, pairItem{key: top.key, count: current})
			}
			continue
		}
		if current < minFrequency {
			break
		}
		left, right := int32(uint32((top.key-1)>>32)), int32(uint32(top.key-1))
		name := t.mergedSymbol(left, right)
		// Two different pairs can spell the same token: the vocabulary keeps
		// one entry, and both merges lead to it.
		merged := t.symbol(name)
		t.merges = append(t.merges, [2]int32{left, right})
		changed := map[uint64]bool{}
		for _, wi := range t.where[top.key] {
			if seen[wi] == step {
				continue
			}
			seen[wi] = step
			t.mergeInWord(int(wi), left, right, merged, changed)
		}
		delete(t.counts, top.key)
		delete(t.where, top.key)
		keys := make([]uint64, 0, len(changed))
		for k := range changed {
			keys = append(keys, k)
		}
		sort.Slice(keys, func(i, j int) bool { return keys[i] < keys[j] })
		for _, k := range keys {
			if n := t.counts[k]; n > 0 {
				heap.Push(&t.queue, pairItem{key: k, count: n})
			}
		}
		step++
	}
}

// mergeInWord replaces every left,right in one word by merged and moves the
// counts of the neighbouring pairs.
func (t *trainer) mergeInWord(wi int, left, right, merged int32, changed map[uint64]bool) {
	w := &t.words[wi]
	syms := w.syms
	for i := 0; i+1 < len(syms); i++ {
		if syms[i] != left || syms[i+1] != right {
			continue
		}
		if i > 0 {
			t.counts[pairKey(syms[i-1], left)] -= w.count
			k := pairKey(syms[i-1], merged)
			t.counts[k] += w.count
			t.where[k] = append(t.where[k], int32(wi))
			changed[k] = true
		}
		if i+2 < len(syms) {
			t.counts[pairKey(right, syms[i+2])] -= w.count
			k := pairKey(merged, syms[i+2])
			t.counts[k] += w.count
			t.where[k] = append(t.where[k], int32(wi))
			changed[k] = true
		}
		syms[i] = merged
		syms = append(syms[:i+1], syms[i+2:]...)
	}
	w.syms = syms
}

// pairQueue is a max-heap of pairs by count; ties go to the pair whose
// symbols sort first bytewise.
type pairQueue struct {
	items []pairItem
	t     *trainer
}

type pairItem struct {
	key   uint64
	count int64
}

func (q *pairQueue) Len() int { return len(q.items) }
func (q *pairQueue) Less(i, j int) bool {
	a, b := q.items[i], q.items[j]
	if a.count != b.count {
		return a.count > b.count
	}
	la, ra := q.t.symbols[uint32((a.key-1)>>32)], q.t.symbols[uint32(a.key-1)]
	lb, rb := q.t.symbols[uint32((b.key-1)>>32)], q.t.symbols[uint32(b.key-1)]
	if la != lb {
		return la < lb
	}
	return ra < rb
}
func (q *pairQueue) Swap(i, j int) { q.items[i], q.items[j] = q.items[j], q.items[i] }
func (q *pairQueue) Push(x any)    { q.items = append(q.items, x.(pairItem)) }
func (q *pairQueue) Pop() any {
	it := q.items[len(q.items)-1]
	q.items = q.items[:len(q.items)-1]
	return it
}

// WriteFiles writes the vocabulary into dir: vocab.txt for WordPiece,
// vocab.json and merges.txt for BPE. It returns the paths written; the first
// is the one to give Load.
func (v *Vocabulary) WriteFiles(dir string) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	if v.Kind == KindWordPiece {
		var b bytes.Buffer
		for _, t := range v.Tokens {
			b.WriteString(t)
			b.WriteByte('\n')
		}
		p := filepath.Join(dir, "vocab.txt")
		return []string{p}, writeFileAtomic(p, b.Bytes())
	}
	var vb bytes.Buffer
	vb.WriteByte('{')
	for id, t := range v.Tokens {
		if id > 0 {
			vb.WriteString(", ")
		}
		k, _ := json.Marshal(t)
		fmt.Fprintf(&vb, "%s: %d", k, id)
	}
	vb.WriteString("}\n")
	var mb bytes.Buffer
	mb.WriteString("#version: 0.2\n")
	for _, m := range v.Merges {
		mb.WriteString(m[0] + " " + m[1] + "\n")
	}
	vp, mp := filepath.Join(dir, "vocab.json"), filepath.Join(dir, "merges.txt")
	if err := writeFileAtomic(vp, vb.Bytes()); err != nil {
		return nil, err
	}
	return []string{vp, mp}, writeFileAtomic(mp, mb.Bytes())
}

// writeFileAtomic writes to a temporary name and renames, so a reader never
// sees half a vocabulary.
func writeFileAtomic(path string, data []byte) error { return atomicfile.WriteFile(path, data) }

// TokensPerWord encodes texts and returns tokens per whitespace-separated
// word, the usual measure of how well a vocabulary fits a text.
func TokensPerWord(tok Tokenizer, texts []string) float64 {
	var tokens, words int
	var ids []int32
	for _, t := range texts {
		ids = tok.Encode(t, ids[:0])
		tokens += len(ids)
		words += len(strings.Fields(t))
	}
	if words == 0 {
		return 0
	}
	return float64(tokens) / float64(words)
}
