package dedup

// The decontamination matcher as it was before it was made fast: kept as a
// test oracle (the fast matcher must find the same items with the same
// scores and windows) and as the "before" of BenchmarkDecontaminate. It
// tokenizes with refTokenize, the tokenizer as it was.

import (
	"fmt"
	"math"
	"math/bits"
	"sort"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/cespare/xxhash/v2"
)

// refTokenize is leakTokenizer.tokenize before its ASCII fast path.
func (t *leakTokenizer) refTokenize(text string) []leakToken {
	t.toks = t.toks[:0]
	t.word = t.word[:0]
	wordStart := -1
	flush := func(end int) {
		if wordStart >= 0 {
			if len(t.word) > 0 {
				t.toks = append(t.toks, leakToken{hash: xxhash.Sum64(t.word), start: int32(wordStart), end: int32(end)})
			}
			t.word = t.word[:0]
			wordStart = -1
		}
	}
	for i := 0; i < len(text); {
		c := text[i]
		if c < utf8.RuneSelf {
			switch {
			case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
				if wordStart < 0 {
					wordStart = i
				}
				t.word = append(t.word, c)
			case c >= 'A' && c <= 'Z':
				if wordStart < 0 {
					wordStart = i
				}
				t.word = append(t.word, c+'a'-'A')
			case c == '\'' && wordStart >= 0:
				// joined: "don't" = "dont"
			default:
				flush(i)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(text[i:])
		switch {
		case isCJK(r):
			flush(i)
			t.word = utf8.AppendRune(t.word, r)
			wordStart = i
			flush(i + size)
		case r == '’' && wordStart >= 0:
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			if wordStart < 0 {
				wordStart = i
			}
			t.appendFolded(r)
		case unicode.Is(unicode.Mn, r) && wordStart >= 0:
			// a combining accent: dropped, the word goes on
		default:
			flush(i)
		}
		i += size
	}
	flush(len(text))
	return t.toks
}

// refLeakItem is what the index keeps about one test item.
type refLeakItem struct {
	set       int
	item      int // index in the set's Items
	tokens    int
	n         int // gram length used for it; 0: too short, unchecked
	grams     int // distinct grams
	shingles  int // distinct word pairs (MinHash)
	class     int // window class, -1: not in the MinHash index
	signature []uint32
}

// refLeakIndex finds test items inside training documents. It is built once
// and read-only afterwards, so any number of goroutines may Match at once.
type refLeakIndex struct {
	Params LeakParams
	Sets   []*LeakSet
	items  []refLeakItem

	// byLen: gram length → gram hash → gram id; postings[gram id] lists the
	// items (global index) that contain the gram.
	gramLens []int
	byLen    map[int]map[uint64]uint32
	postings [][]uint32
	maxGram  int

	// MinHash: per window class, per band, band hash → items.
	hasher   *MinHasher
	classes  []int // classes present, ascending
	lsh      map[int][]map[uint64][]uint32
	maxBlock int
	// anyBand holds every (class, band, band hash) of the index: almost all
	// window bands miss, and a flat set answers that faster than the maps.
	anyBand *Uint64Set
}

// buildRefLeakIndex loads and indexes the test sets.
func buildRefLeakIndex(specs []TestSetSpec, p LeakParams) (*refLeakIndex, error) {
	if p.MinItemTokens < 1 {
		p.MinItemTokens = 1
	}
	ix := &refLeakIndex{Params: p, byLen: map[int]map[uint64]uint32{}, lsh: map[int][]map[uint64][]uint32{}, anyBand: NewUint64Set(0)}
	if p.MinHash {
		h, err := NewMinHasher(FamilyMultiplyShift, p.MinHashBands*p.MinHashRows, p.Seed)
		if err != nil {
			return nil, err
		}
		ix.hasher = h
	}
	var tk leakTokenizer
	seenName := map[string]bool{}
	for si, spec := range specs {
		if seenName[spec.Name] {
			return nil, fmt.Errorf("test set %q declared twice", spec.Name)
		}
		seenName[spec.Name] = true
		items, skipped, err := LoadTestSet(spec)
		if err != nil {
			return nil, err
		}
		set := &LeakSet{Spec: spec, Items: items, Skipped: skipped, first: len(ix.items)}
		lengths := make([]int, len(items))
		for i, it := range items {
			lengths[i] = len(tk.refTokenize(it.Text))
		}
		set.NGram = p.NGram
		if set.NGram <= 0 {
			set.NGram = adaptiveN(lengths)
		}
		ix.Sets = append(ix.Sets, set)
		for i, it := range items {
			li := refLeakItem{set: si, item: i, tokens: lengths[i], class: -1}
			if lengths[i] >= p.MinItemTokens {
				li.n = min(set.NGram, lengths[i])
			}
			ix.items = append(ix.items, li)
			ix.addItem(len(ix.items)-1, tk.refTokenize(it.Text))
		}
	}
	for n := range ix.byLen {
		ix.gramLens = append(ix.gramLens, n)
		ix.maxGram = max(ix.maxGram, n)
	}
	sort.Ints(ix.gramLens)
	for c := range ix.lsh {
		ix.classes = append(ix.classes, c)
		ix.maxBlock = max(ix.maxBlock, windowClasses[c])
	}
	sort.Ints(ix.classes)
	return ix, nil
}

func (ix *refLeakIndex) addItem(g int, toks []leakToken) {
	it := &ix.items[g]
	if it.n == 0 {
		return
	}
	grams := ix.byLen[it.n]
	if grams == nil {
		grams = map[uint64]uint32{}
		ix.byLen[it.n] = grams
	}
	for i := 0; i+it.n <= len(toks); i++ {
		h := gramHash(toks[i : i+it.n])
		id, ok := grams[h]
		if !ok {
			id = uint32(len(ix.postings))
			grams[h] = id
			ix.postings = append(ix.postings, nil)
		}
		if p := ix.postings[id]; len(p) > 0 && p[len(p)-1] == uint32(g) {
			continue // this item already has the gram
		}
		ix.postings[id] = append(ix.postings[id], uint32(g))
		it.grams++
	}
	if ix.hasher == nil || len(toks) < ix.Params.MinHashMinTokens {
		return
	}
	sig := make([]uint64, ix.hasher.K)
	initSignature(sig)
	distinct := NewUint64Set(len(toks))
	for i := 0; i+1 < len(toks); i++ {
		x := shingle2(toks[i].hash, toks[i+1].hash)
		if distinct.Add(x) {
			ix.hasher.addShingle(sig, x)
		}
	}
	it.shingles = distinct.Len()
	it.signature = make([]uint32, len(sig))
	for k, v := range sig {
		it.signature[k] = uint32(v)
	}
	c := 0
	for c < len(windowClasses)-1 && windowClasses[c]*blockTokens < len(toks) {
		c++
	}
	it.class = c
	tables := ix.lsh[c]
	if tables == nil {
		tables = make([]map[uint64][]uint32, ix.Params.MinHashBands)
		for b := range tables {
			tables[b] = map[uint64][]uint32{}
		}
		ix.lsh[c] = tables
	}
	for b := range tables {
		h := refBandHash32(it.signature[b*ix.Params.MinHashRows : (b+1)*ix.Params.MinHashRows])
		tables[b][h] = append(tables[b][h], uint32(g))
		ix.anyBand.Add(refBandKey(c, b, h))
	}
}

// refBandHash32 mixes a band's values into one 64-bit key (a multiply-xorshift
// chain: cheap, and collisions only cost a wasted verification).
func refBandHash32(vals []uint32) uint64 {
	h := uint64(len(vals)) * 0x9e3779b97f4a7c15
	for _, v := range vals {
		h = (h ^ uint64(v)) * 0xbf58476d1ce4e5b9
		h ^= h >> 31
	}
	return h
}

// refBandKey is the key of a band hash in the anyBand prefilter.
func refBandKey(class, band int, h uint64) uint64 {
	return (h ^ uint64(class)<<48 ^ uint64(band)<<40) * 0x94d049bb133111eb
}

// ItemCount is the number of items over all sets.
func (ix *refLeakIndex) ItemCount() int { return len(ix.items) }

// refScratch is one goroutine's working memory for Match.
type refScratch struct {
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

func (s *refScratch) touch(g uint32) {
	if !s.marked[g] {
		s.marked[g] = true
		s.touched = append(s.touched, int32(g))
	}
}

var refScratchPool sync.Pool

func (ix *refLeakIndex) scratch() *refScratch {
	s, _ := refScratchPool.Get().(*refScratch)
	if s == nil || len(s.count) != len(ix.items) || len(s.gramStamp) != len(ix.postings) {
		s = &refScratch{
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
func (ix *refLeakIndex) Match(text string, near func(item int, score float64)) (hits []LeakHit, tokens []leakToken) {
	s := ix.scratch()
	defer refScratchPool.Put(s)
	toks := s.tk.refTokenize(text)
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
func (ix *refLeakIndex) probeMinHash(s *refScratch, toks []leakToken) {
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

func (ix *refLeakIndex) verifyWindow(s *refScratch, class int, win []uint32, rows, from, to int) {
	s.winGen++
	if s.winGen == 0 {
		clear(s.verified)
		s.winGen = 1
	}
	windowShingles := float64(to - from)
	for band, table := range ix.lsh[class] {
		h := refBandHash32(win[band*rows : (band+1)*rows])
		if !ix.anyBand.Has(refBandKey(class, band, h)) {
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
