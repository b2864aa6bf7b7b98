package dedup

import (
	"fmt"
	"math"
	"sort"
)

// LeakParams are the detection settings of a leakage index.
type LeakParams struct {
	// NGram is the n-gram length in tokens; 0 chooses it per test set as
	// GPT-3 did: the 5th percentile of item lengths, clamped to [8, 13].
	NGram int
	// MinContainment is the fraction of an item's distinct n-grams a
	// document must contain to be contaminated by it.
	MinContainment float64
	// MinItemTokens: items shorter than this are too short to judge and are
	// reported as unchecked instead of matched by chance.
	MinItemTokens int
	// MinHash enables the sliding-window MinHash probe for edited copies.
	MinHash bool
	// MinHashThreshold is the estimated containment of the item's word
	// pairs in a document window needed to call it contaminated.
	MinHashThreshold float64
	// MinHashMinTokens: shorter items are matched by n-grams only.
	MinHashMinTokens int
	// MinHashBands × MinHashRows hashes per item; the LSH candidate
	// threshold is about (1/bands)^(1/rows).
	MinHashBands, MinHashRows int
	Seed                      uint64
}

// DefaultLeakParams are the decontaminate stage's defaults.
var DefaultLeakParams = LeakParams{
	MinContainment: 0.5, MinItemTokens: 8,
	MinHash: true, MinHashThreshold: 0.5, MinHashMinTokens: 32,
	MinHashBands: 32, MinHashRows: 3, Seed: 1,
}

// Adaptive n-gram bounds (GPT-3, appendix C).
const (
	minAdaptiveN = 8
	maxAdaptiveN = 13
	// blockTokens is the granularity of MinHash probe windows.
	blockTokens = 8
)

// windowClasses are the probe window sizes in blocks; consecutive sizes
// differ by 4/3 or 3/2, so a window is never much longer than the items it
// is probed for (a longer window dilutes the Jaccard similarity).
var windowClasses = func() []int {
	c := []int{4}
	for c[len(c)-1] < 1<<14 {
		last := c[len(c)-1]
		if len(c)%2 == 1 {
			c = append(c, last*3/2)
		} else {
			c = append(c, last*4/3)
		}
	}
	return c
}()

// LeakSet is one loaded test set.
type LeakSet struct {
	Spec    TestSetSpec
	NGram   int
	Items   []TestItem
	Skipped int
	// first is the index of the set's first item in LeakIndex.items.
	first int
}

// leakItem is what the index keeps about one test item.
type leakItem struct {
	set       int
	item      int // index in the set's Items
	tokens    int
	n         int // gram length used for it; 0: too short, unchecked
	grams     int // distinct grams
	shingles  int // distinct word pairs (MinHash)
	class     int // window class, -1: not in the MinHash index
	signature []uint32
}

// LeakIndex finds test items inside training documents. It is built once
// and read-only afterwards, so any number of goroutines may Match at once.
type LeakIndex struct {
	Params LeakParams
	Sets   []*LeakSet
	items  []leakItem

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

// BuildLeakIndex loads and indexes the test sets.
func BuildLeakIndex(specs []TestSetSpec, p LeakParams) (*LeakIndex, error) {
	if p.MinItemTokens < 1 {
		p.MinItemTokens = 1
	}
	ix := &LeakIndex{Params: p, byLen: map[int]map[uint64]uint32{}, lsh: map[int][]map[uint64][]uint32{}, anyBand: NewUint64Set(0)}
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
			lengths[i] = len(tk.tokenize(it.Text))
		}
		set.NGram = p.NGram
		if set.NGram <= 0 {
			set.NGram = adaptiveN(lengths)
		}
		ix.Sets = append(ix.Sets, set)
		for i, it := range items {
			li := leakItem{set: si, item: i, tokens: lengths[i], class: -1}
			if lengths[i] >= p.MinItemTokens {
				li.n = min(set.NGram, lengths[i])
			}
			ix.items = append(ix.items, li)
			ix.addItem(len(ix.items)-1, tk.tokenize(it.Text))
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

// adaptiveN is GPT-3's choice: the 5th percentile of item lengths, clamped.
func adaptiveN(lengths []int) int {
	if len(lengths) == 0 {
		return maxAdaptiveN
	}
	s := append([]int(nil), lengths...)
	sort.Ints(s)
	p5 := s[int(math.Floor(0.05*float64(len(s)-1)))]
	return min(max(p5, minAdaptiveN), maxAdaptiveN)
}

func (ix *LeakIndex) addItem(g int, toks []leakToken) {
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
		h := bandHash32(it.signature[b*ix.Params.MinHashRows : (b+1)*ix.Params.MinHashRows])
		tables[b][h] = append(tables[b][h], uint32(g))
		ix.anyBand.Add(bandKey(c, b, h))
	}
}

// bandHash32 mixes a band's values into one 64-bit key (a multiply-xorshift
// chain: cheap, and collisions only cost a wasted verification).
func bandHash32(vals []uint32) uint64 {
	h := uint64(len(vals)) * 0x9e3779b97f4a7c15
	for _, v := range vals {
		h = (h ^ uint64(v)) * 0xbf58476d1ce4e5b9
		h ^= h >> 31
	}
	return h
}

// bandKey is the key of a band hash in the anyBand prefilter.
func bandKey(class, band int, h uint64) uint64 {
	return (h ^ uint64(class)<<48 ^ uint64(band)<<40) * 0x94d049bb133111eb
}

// ItemCount is the number of items over all sets.
func (ix *LeakIndex) ItemCount() int { return len(ix.items) }
