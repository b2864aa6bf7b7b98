package dedup

import (
	"math"
	"math/bits"
	"sync"
)

// LeakHit is one test item found in one document.
type LeakHit struct {
	Item   int // global item index
	Method string
	Score  float64
	// From and To are the document's token range the item was found in:
	// the whole document for n-grams, the best window for MinHash.
	From, To int
}

// Methods of detection.
const (
	MethodNGram   = "ngram"
	MethodMinHash = "minhash"
)

// leakScratch is one goroutine's working memory for Match.
type leakScratch struct {
	tk        leakTokenizer
	gramStamp []uint32
	gen       uint32
	count     []int32
	best      []float64 // MinHash: best estimated containment per item
	bestFrom  []int32
	bestTo    []int32
	touched   []int32
	levels    [][]uint32
	winSig    []uint32
	verified  []uint32 // per item: window generation it was last verified in
	winGen    uint32
	marked    []bool // per item: in touched
}

func (s *leakScratch) touch(g uint32) {
	if !s.marked[g] {
		s.marked[g] = true
		s.touched = append(s.touched, int32(g))
	}
}

var leakScratchPool sync.Pool

func (ix *LeakIndex) scratch() *leakScratch {
	s, _ := leakScratchPool.Get().(*leakScratch)
	if s == nil || len(s.count) != len(ix.items) || len(s.gramStamp) != len(ix.postings) {
		s = &leakScratch{
			gramStamp: make([]uint32, len(ix.postings)),
			count:     make([]int32, len(ix.items)),
			best:      make([]float64, len(ix.items)),
			bestFrom:  make([]int32, len(ix.items)),
			bestTo:    make([]int32, len(ix.items)),
			verified:  make([]uint32, len(ix.items)),
			marked:    make([]bool, len(ix.items)),
		}
	}
	return s
}

// Match finds the test items in text. near receives every item that scored
// above zero by either method, with its best score (for the report's
// histogram), including those below the thresholds; hits are the matches.
// tokens are text's tokens, for highlighting and cutting.
func (ix *LeakIndex) Match(text string, near func(item int, score float64)) (hits []LeakHit, tokens []leakToken) {
	s := ix.scratch()
	defer leakScratchPool.Put(s)
	toks := s.tk.tokenize(text)
	s.touched = s.touched[:0]
	s.gen++
	if s.gen == 0 {
		clear(s.gramStamp)
		s.gen = 1
	}
	for _, n := range ix.gramLens {
		grams := ix.byLen[n]
		for i := 0; i+n <= len(toks); i++ {
			id, ok := grams[gramHash(toks[i:i+n])]
			if !ok || s.gramStamp[id] == s.gen {
				continue
			}
			s.gramStamp[id] = s.gen
			for _, g := range ix.postings[id] {
				s.touch(g)
				s.count[g]++
			}
		}
	}
	if ix.hasher != nil && len(ix.classes) > 0 && len(toks) >= 2 {
		ix.probeMinHash(s, toks)
	}
	for _, g := range s.touched {
		it := &ix.items[g]
		containment := float64(s.count[g]) / float64(max(it.grams, 1))
		if near != nil {
			near(int(g), max(containment, s.best[g]))
		}
		switch {
		case s.count[g] > 0 && containment >= ix.Params.MinContainment:
			// n-grams first: exact, and the whole document is the region.
			hits = append(hits, LeakHit{Item: int(g), Method: MethodNGram, Score: containment, From: 0, To: len(toks)})
		case s.best[g] >= ix.Params.MinHashThreshold:
			hits = append(hits, LeakHit{Item: int(g), Method: MethodMinHash, Score: s.best[g], From: int(s.bestFrom[g]), To: int(s.bestTo[g])})
		}
		s.count[g] = 0
		s.best[g] = 0
		s.marked[g] = false
	}
	return hits, append([]leakToken(nil), toks...)
}

// probeMinHash slides windows of each class's size over the document's word
// pairs and verifies LSH candidates by estimated containment. Window
// signatures come from a sparse table of per-block minima, so a window of
// any length costs two lookups per hash instead of a pass over its words.
func (ix *LeakIndex) probeMinHash(s *leakScratch, toks []leakToken) {
	k := ix.hasher.K
	a, b := ix.hasher.a, ix.hasher.b
	shingles := len(toks) - 1
	nb := (shingles + blockTokens - 1) / blockTokens
	levels := 1
	for 1<<levels <= min(ix.maxBlock, nb) {
		levels++
	}
	for len(s.levels) < levels {
		s.levels = append(s.levels, nil)
	}
	for l := 0; l < levels; l++ {
		if cap(s.levels[l]) < nb*k {
			s.levels[l] = make([]uint32, nb*k)
		}
		s.levels[l] = s.levels[l][:nb*k]
	}
	base := s.levels[0]
	for i := range base {
		base[i] = math.MaxUint32
	}
	for i := 0; i < shingles; i++ {
		x := shingle2(toks[i].hash, toks[i+1].hash)
		row := base[(i/blockTokens)*k : (i/blockTokens+1)*k]
		for j := range row {
			if v := uint32((a[j]*x + b[j]) >> 32); v < row[j] {
				row[j] = v
			}
		}
	}
	for l := 1; l < levels; l++ {
		prev, cur, half := s.levels[l-1], s.levels[l], 1<<(l-1)
		for blk := 0; blk+(1<<l) <= nb; blk++ {
			x, y, out := prev[blk*k:(blk+1)*k], prev[(blk+half)*k:(blk+half+1)*k], cur[blk*k:(blk+1)*k]
			for j := range out {
				out[j] = min(x[j], y[j])
			}
		}
	}
	if cap(s.winSig) < k {
		s.winSig = make([]uint32, k)
	}
	win := s.winSig[:k]
	rows := ix.Params.MinHashRows
	for _, c := range ix.classes {
		m := windowClasses[c]
		stride := max(1, m/4)
		for start := 0; start < nb; start += stride {
			wb := min(m, nb-start)
			l := bits.Len(uint(wb)) - 1
			x, y := s.levels[l][start*k:(start+1)*k], s.levels[l][(start+wb-1<<l)*k:(start+wb-1<<l+1)*k]
			for j := range win {
				win[j] = min(x[j], y[j])
			}
			from, to := start*blockTokens, min((start+wb)*blockTokens, shingles)
			ix.verifyWindow(s, c, win, rows, from, to)
			if start+m >= nb {
				break
			}
		}
	}
}

func (ix *LeakIndex) verifyWindow(s *leakScratch, class int, win []uint32, rows, from, to int) {
	s.winGen++
	if s.winGen == 0 {
		clear(s.verified)
		s.winGen = 1
	}
	windowShingles := float64(to - from)
	for band, table := range ix.lsh[class] {
		h := bandHash32(win[band*rows : (band+1)*rows])
		if !ix.anyBand.Has(bandKey(class, band, h)) {
			continue
		}
		for _, g := range table[h] {
			if s.verified[g] == s.winGen {
				continue
			}
			s.verified[g] = s.winGen
			it := &ix.items[g]
			same := 0
			for j, v := range it.signature {
				if v == win[j] {
					same++
				}
			}
			jac := float64(same) / float64(len(win))
			// Jaccard → containment of the item in the window, from the
			// set sizes: |A∩B| = J(|A|+|B|)/(1+J).
			c := math.Min(1, jac*(float64(it.shingles)+windowShingles)/((1+jac)*float64(it.shingles)))
			s.touch(g)
			if c > s.best[g] {
				s.best[g] = c
				s.bestFrom[g], s.bestTo[g] = int32(from), int32(to+1)
			}
		}
	}
}
