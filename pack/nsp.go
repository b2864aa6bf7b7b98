package pack

import (
	"math/rand/v2"

	"github.com/corpusflow/corpusflow/flow"
	"github.com/corpusflow/corpusflow/tokenize"
)

// nspPacker makes BERT's sentence-pair examples, following
// create_instances_from_document of google-research/bert:
// [CLS] A [SEP] B [SEP] with token_type_ids 0 for A and 1 for B. B is the
// real continuation of A (label 0) or, half of the time, a span from another
// document (label 1). Sentences are cut at sentence-final punctuation
// tokens; a sentence longer than an example is cut into pieces.
//
// BERT draws the random document from the whole corpus; a stream cannot, so
// it is drawn from the nsp_pool most recent documents.
type nspPacker struct {
	maxTokens    int // seq_len minus [CLS] and two [SEP]
	shortSeqProb float64
	cls, sep     int32
	ends         map[int32]bool
	rng          *rand.Rand
	counters     *flow.Counters

	pool    [][][]int32 // recent documents, as sentences
	poolCap int
	next    int // ring position
}

func newNSPPacker(c *Config, sp tokenize.SpecialTokens, ends map[int32]bool, rng *rand.Rand, counters *flow.Counters) *nspPacker {
	return &nspPacker{
		maxTokens: c.SeqLen - 3, shortSeqProb: c.ShortSeqProb,
		cls: sp.CLS, sep: sp.SEP, ends: ends, rng: rng, counters: counters, poolCap: c.NSPPool,
	}
}

// sentenceEnds are the ids of tokens that end a sentence in the vocabulary
// (Latin and CJK full stops, question and exclamation marks).
func sentenceEnds(tok tokenize.Tokenizer) map[int32]bool {
	ends := map[int32]bool{}
	for _, s := range []string{".", "!", "?", "。", "！", "？", "Ġ.", "Ġ!", "Ġ?", "…"} {
		if id, ok := tok.TokenID(s); ok {
			ends[id] = true
		}
	}
	return ends
}

// sentences splits a document's tokens after each sentence end, and cuts
// sentences longer than limit.
func (p *nspPacker) sentences(tokens []int32) [][]int32 {
	var out [][]int32
	start := 0
	for i, id := range tokens {
		if p.ends[id] || i-start+1 == p.maxTokens || i == len(tokens)-1 {
			out = append(out, tokens[start:i+1:i+1])
			start = i + 1
		}
	}
	return out
}

func (p *nspPacker) add(docID string, tokens []int32, emit func(*example)) {
	doc := p.sentences(tokens)
	target := p.maxTokens
	if p.rng.Float64() < p.shortSeqProb {
		target = 2 + p.rng.IntN(p.maxTokens-1) // randint(2, max_num_tokens)
	}
	var chunk [][]int32
	chunkLen := 0
	for i := 0; i < len(doc); i++ {
		chunk = append(chunk, doc[i])
		chunkLen += len(doc[i])
		if i != len(doc)-1 && chunkLen < target {
			continue
		}
		aEnd := 1
		if len(chunk) >= 2 {
			aEnd = 1 + p.rng.IntN(len(chunk)-1)
		}
		a := concat(chunk[:aEnd])
		var b []int32
		label := int32(0)
		other := p.randomDoc()
		if len(chunk) == 1 || p.rng.Float64() < 0.5 {
			if other == nil && len(chunk) == 1 {
				// The very first document has nobody to pair with.
				p.counters.Add("nsp_no_pair", 1)
				chunk, chunkLen = chunk[:0], 0
				continue
			}
			if other != nil {
				label = 1
				b = p.randomSpan(other, target-len(a))
				// The segments not used as A go back for the next pair.
				i -= len(chunk) - aEnd
			}
		}
		if label == 0 {
			if other == nil {
				p.counters.Add("nsp_forced_next", 1)
			}
			b = concat(chunk[aEnd:])
		}
		a, b = p.truncatePair(a, b)
		if len(a) > 0 && len(b) > 0 {
			emit(p.pairExample(docID, a, b, label))
		}
		chunk, chunkLen = chunk[:0], 0
	}
	p.remember(doc)
}

func (p *nspPacker) flush(emit func(*example)) {}

// randomDoc picks one of the pooled documents (never the current one, which
// joins the pool only after it is packed), or nil when the pool is empty.
func (p *nspPacker) randomDoc() [][]int32 {
	if len(p.pool) == 0 {
		return nil
	}
	return p.pool[p.rng.IntN(len(p.pool))]
}

// randomSpan takes consecutive sentences of doc from a random start until
// they hold want tokens.
func (p *nspPacker) randomSpan(doc [][]int32, want int) []int32 {
	var b []int32
	for j := p.rng.IntN(len(doc)); j < len(doc) && len(b) < want; j++ {
		b = append(b, doc[j]...)
	}
	return b
}

func (p *nspPacker) remember(doc [][]int32) {
	if len(p.pool) < p.poolCap {
		p.pool = append(p.pool, doc)
		return
	}
	p.pool[p.next] = doc
	p.next = (p.next + 1) % p.poolCap
}

// truncatePair trims the longer of a and b, from the front or the back at
// random, until they fit (BERT's truncate_seq_pair).
func (p *nspPacker) truncatePair(a, b []int32) ([]int32, []int32) {
	cut := 0
	for len(a)+len(b) > p.maxTokens {
		t := &a
		if len(b) > len(a) {
			t = &b
		}
		if p.rng.Float64() < 0.5 {
			*t = (*t)[1:]
		} else {
			*t = (*t)[:len(*t)-1]
		}
		cut++
	}
	if cut > 0 {
		p.counters.Add("nsp_truncated_tokens", int64(cut))
	}
	return a, b
}

func (p *nspPacker) pairExample(docID string, a, b []int32, label int32) *example {
	n := len(a) + len(b) + 3
	ids := make([]int32, 0, n)
	types := make([]int32, 0, n)
	ids = append(ids, p.cls)
	ids = append(ids, a...)
	ids = append(ids, p.sep)
	for range len(a) + 2 {
		types = append(types, 0)
	}
	ids = append(ids, b...)
	ids = append(ids, p.sep)
	for range len(b) + 1 {
		types = append(types, 1)
	}
	return &example{docID: docID, inputIDs: ids, tokenTypeIDs: types, nextSentenceLabel: label}
}

func concat(segs [][]int32) []int32 {
	n := 0
	for _, s := range segs {
		n += len(s)
	}
	out := make([]int32, 0, n)
	for _, s := range segs {
		out = append(out, s...)
	}
	return out
}
