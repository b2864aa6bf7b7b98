package dedup

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

// leakScratch is one goroutine's working memory for Match. Its size
// depends on the index (items, grams, signature length, window classes),
// not on the documents: long documents are probed in segments.
type leakScratch struct {
	tk        leakTokenizer
	gramStamp []uint32 // per gram: the document generation it was last counted in
	gen       uint32
	count     []int32   // per item: distinct grams found
	best      []float64 // MinHash: best estimated containment per item
	bestFrom  []int32
	bestTo    []int32
	touched   []int32
	marked    []bool // per item: in touched
	probe     probeScratch
}

func (s *leakScratch) touch(g uint32) {
	if !s.marked[g] {
		s.marked[g] = true
		s.touched = append(s.touched, int32(g))
	}
}

func (ix *LeakIndex) scratch() *leakScratch {
	if s, _ := ix.scratchPool.Get().(*leakScratch); s != nil {
		return s
	}
	return &leakScratch{
		gramStamp: make([]uint32, len(ix.postings)),
		count:     make([]int32, len(ix.items)),
		best:      make([]float64, len(ix.items)),
		bestFrom:  make([]int32, len(ix.items)),
		bestTo:    make([]int32, len(ix.items)),
		marked:    make([]bool, len(ix.items)),
	}
}

// Match finds the test items in text. near receives every item that scored
// above zero by either method, with its best score (for the report's
// histogram), including those below the thresholds; hits are the matches.
// tokens are text's tokens, for highlighting and cutting, when there are
// hits (nil otherwise: most documents have none, and they need no copy).
func (ix *LeakIndex) Match(text string, near func(item int, score float64)) (hits []LeakHit, tokens []leakToken) {
	s := ix.scratch()
	defer ix.scratchPool.Put(s)
	toks := s.tk.tokenize(text)
	s.touched = s.touched[:0]
	ix.matchGrams(s, toks)
	if ix.hasher != nil && len(ix.probe) > 0 && len(toks) >= 2 {
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
	if len(hits) == 0 {
		return nil, nil
	}
	return hits, append([]leakToken(nil), toks...)
}

// matchGrams counts, per item, the distinct grams of the item that the
// document has. A rolling hash of each position's shortest gram is checked
// against the prefix filter; only the few positions that pass compute the
// gram chain and look the keys of each length up.
func (ix *LeakIndex) matchGrams(s *leakScratch, toks []leakToken) {
	n0 := ix.minGram
	if n0 == 0 || len(toks) < n0 {
		return
	}
	s.gen++
	if s.gen == 0 {
		clear(s.gramStamp)
		s.gen = 1
	}
	roll := prefixRoll(toks[:n0])
	for i := 0; ; i++ {
		if ix.gramPrefix.mayHave(roll) {
			ix.countGramsAt(s, toks, i, roll)
		}
		if i+n0 >= len(toks) {
			return
		}
		roll = (roll-toks[i].hash*ix.rollTop)*prefixRollBase + toks[i+n0].hash
	}
}

// countGramsAt looks up the grams that start at token i, of the lengths
// whose prefix filter has the position's prefix hash roll.
func (ix *LeakIndex) countGramsAt(s *leakScratch, toks []leakToken, i int, roll uint64) {
	h := uint64(gramSeed)
	k := i
	for l, n := range ix.gramLens {
		if i+n > len(toks) {
			return
		}
		for ; k < i+n; k++ {
			h = gramStep(h, toks[k].hash)
		}
		if !ix.lengthPrefix[l].mayHave(roll) {
			continue
		}
		id, ok := ix.grams.get(gramKey(h, n))
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
