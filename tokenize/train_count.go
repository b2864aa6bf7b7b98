package tokenize

import (
	"fmt"
	"sort"
	"strings"
)

// WordCounter counts the pre-tokenized words of a text stream for vocabulary
// training, in bounded memory: when it holds more than MaxWords distinct
// words it forgets the rarest (count 1, then 2, ...) until it is down to half,
// as streaming frequent-item counters do. Rare words hardly change which
// merges win, and the result depends only on the input order, so the same
// input always gives the same vocabulary.
type WordCounter struct {
	kind     string
	maxWords int
	counts   map[string]int64
	// pruneBelow is the count under which a word was last forgotten: a word
	// seen again starts from nothing, so counts are lower bounds.
	pruneBelow int64
	stats      CountStats
	wp         *WordPiece // normalizer and pre-tokenizer for WordPiece words
}

// CountStats say how much text went in and what pruning cost.
type CountStats struct {
	Texts, Bytes, Words int64
	// Pruned counts distinct words forgotten to stay within MaxWords; Prunes
	// counts the prunings.
	Pruned, Prunes int64
}

// DefaultMaxWords bounds the distinct words a counter keeps: about 100 MB.
const DefaultMaxWords = 1 << 20

// NewWordCounter counts words as a WordPiece vocabulary of the given
// normalization sees them (kind "wordpiece"), or as GPT-2's byte-level
// pre-tokenizer cuts them (kind "bpe").
func NewWordCounter(kind string, opts WordPieceOptions, maxWords int) (*WordCounter, error) {
	if maxWords <= 0 {
		maxWords = DefaultMaxWords
	}
	c := &WordCounter{kind: kind, maxWords: maxWords, counts: make(map[string]int64, min(maxWords, 1<<16))}
	switch kind {
	case KindWordPiece:
		// A one-token vocabulary: only its normalizer and pre-tokenizer are used.
		wp, err := newWordPiece("word counter", []string{"[UNK]"}, []addedToken{}, opts, "")
		if err != nil {
			return nil, err
		}
		c.wp = wp
	case KindBPE:
		initCharTables()
	default:
		return nil, errUnknownKind(kind)
	}
	return c, nil
}

// Add counts the words of one text.
func (c *WordCounter) Add(text string) {
	c.stats.Texts++
	c.stats.Bytes += int64(len(text))
	if c.kind == KindWordPiece {
		c.wp.words(text, c.addWord)
		return
	}
	for i := 0; i < len(text); {
		end := gpt2PieceEnd(text, i)
		c.addWordString(text[i:end])
		i = end
	}
}

func (c *WordCounter) addWord(w []byte) {
	c.stats.Words++
	if n, ok := c.counts[string(w)]; ok { // no allocation for a word already known
		c.counts[string(w)] = n + 1
		return
	}
	c.counts[string(w)] = 1
	c.maybePrune()
}

func (c *WordCounter) addWordString(w string) {
	c.stats.Words++
	if n, ok := c.counts[w]; ok {
		c.counts[w] = n + 1
		return
	}
	c.counts[strings.Clone(w)] = 1 // w points into the caller's text
	c.maybePrune()
}

func (c *WordCounter) maybePrune() {
	if len(c.counts) <= c.maxWords {
		return
	}
	c.stats.Prunes++
	for len(c.counts) > c.maxWords/2 {
		c.pruneBelow++
		for w, n := range c.counts {
			if n <= c.pruneBelow {
				delete(c.counts, w)
				c.stats.Pruned++
			}
		}
	}
}

// Stats returns what was counted so far.
func (c *WordCounter) Stats() CountStats { return c.stats }

// Len is the number of distinct words held.
func (c *WordCounter) Len() int { return len(c.counts) }

// wordCount is one word and how often it was seen.
type wordCount struct {
	word  string
	count int64
}

// sorted lists the words by decreasing count, then bytewise, so training
// never depends on map order.
func (c *WordCounter) sorted() []wordCount {
	out := make([]wordCount, 0, len(c.counts))
	for w, n := range c.counts {
		out = append(out, wordCount{w, n})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].count != out[j].count {
			return out[i].count > out[j].count
		}
		return out[i].word < out[j].word
	})
	return out
}

func errUnknownKind(kind string) error {
	return fmt.Errorf("vocabulary kind %q: want %q or %q", kind, KindWordPiece, KindBPE)
}
