package dedup

import (
	"fmt"
	"math"
	"sort"
	"sync"
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
	// BadLines are the lines of the file that were skipped as unreadable.
	BadLines []BadLine
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

	// grams: gram key (gramKey, any length) → gram id; postings[gram id]
	// lists the items (global index) that contain the gram. gramPrefix
	// holds the rolling hash (prefixRoll) of every gram's first minGram
	// tokens: a document position whose minGram tokens are not in it starts
	// no gram of any length, and that is what almost every position of a
	// clean document learns, for two multiplies and one cached word.
	gramLens   []int // ascending
	minGram    int
	rollTop    uint64 // prefixRollBase^(minGram−1), to roll a token out
	grams      *u64Table
	gramPrefix *bitFilter
	// lengthPrefix[l] holds the same for the grams of length gramLens[l]
	// only: a position that passes gramPrefix looks up only the lengths
	// that may start there (a table lookup is a cache miss).
	lengthPrefix []*bitFilter
	postings     [][]uint32
	maxGram      int

	// MinHash over items, probed by windows (leakprobe.go).
	hasher *MinHasher
	probe  []probeClass // window classes present, ascending
	// firstRows[b] maps each value of the first row of band b in the
	// indexed signatures to the probe classes with an item that has it.
	// The probe looks up every block minimum of a band's first row and
	// keeps those some item has ("tagged"): a window's first row is its
	// least block, so only a window whose least block is tagged for its
	// class can match an item of the class (see leakprobe.go).
	firstRows []classTable
	// bands[b] maps bandKey(class, band hash) of band b to an index in
	// bandItems, the items with that band; bandSeen[b] holds the band
	// hashes, so a window whose band matches no item's (most that get
	// this far) is dismissed without reading the table.
	bands     []*u64Table
	bandSeen  []seenSet
	bandItems [][]uint32
	// rowSeen[j] holds rowKey(class, value) of row j of every indexed
	// signature: a window whose row j has a value no item of its class
	// has there cannot match, and the next rows need not be computed.
	rowSeen  []seenSet
	maxBlock int
	// segment is the number of window starts (in blocks) probed per
	// segment of a long document; see probeMinHash.
	segment int

	// scratchPool holds per-goroutine working memory sized for this index.
	scratchPool sync.Pool
}

// probeClass is the LSH index of the items of one window class.
type probeClass struct {
	class  int
	blocks int // window length in blocks
	stride int // blocks between window starts
}

// BuildLeakIndex loads and indexes the test sets.
func BuildLeakIndex(specs []TestSetSpec, p LeakParams) (*LeakIndex, error) {
	if p.MinItemTokens < 1 {
		p.MinItemTokens = 1
	}
	ix := &LeakIndex{Params: p, grams: newU64Table()}
	if p.MinHash {
		h, err := NewMinHasher(FamilyMultiplyShift, p.MinHashBands*p.MinHashRows, p.Seed)
		if err != nil {
			return nil, err
		}
		ix.hasher = h
	}
	var tk leakTokenizer
	var itemTokens [][]leakToken
	seenName := map[string]bool{}
	for si, spec := range specs {
		if seenName[spec.Name] {
			return nil, fmt.Errorf("test set %q declared twice", spec.Name)
		}
		seenName[spec.Name] = true
		f, err := loadTestSet(spec)
		if err != nil {
			return nil, err
		}
		items := f.items
		set := &LeakSet{Spec: spec, Items: items, Skipped: f.skipped, BadLines: f.badLines, first: len(ix.items)}
		lengths := make([]int, len(items))
		for i, it := range items {
			toks := append([]leakToken(nil), tk.tokenize(it.Text)...)
			itemTokens = append(itemTokens, toks)
			lengths[i] = len(toks)
		}
		set.NGram = p.NGram
		if set.NGram <= 0 {
			set.NGram = adaptiveN(lengths)
		}
		ix.Sets = append(ix.Sets, set)
		for i := range items {
			li := leakItem{set: si, item: i, tokens: lengths[i], class: -1}
			if lengths[i] >= p.MinItemTokens {
				li.n = min(set.NGram, lengths[i])
			}
			ix.items = append(ix.items, li)
		}
	}
	lens := map[int]bool{}
	for _, it := range ix.items {
		if it.n > 0 {
			lens[it.n] = true
		}
	}
	for n := range lens {
		ix.gramLens = append(ix.gramLens, n)
		ix.maxGram = max(ix.maxGram, n)
	}
	sort.Ints(ix.gramLens)
	if len(ix.gramLens) > 0 {
		ix.minGram = ix.gramLens[0]
		ix.rollTop = 1
		for range ix.minGram - 1 {
			ix.rollTop *= prefixRollBase
		}
	}
	prefixes := map[int][]uint64{} // gram length → prefix hashes
	total := 0
	for g, toks := range itemTokens {
		total += ix.addGrams(g, toks, prefixes)
	}
	ix.gramPrefix = newBitFilter(total)
	for _, n := range ix.gramLens {
		f := newBitFilter(len(prefixes[n]))
		for _, k := range prefixes[n] {
			f.add(k)
			ix.gramPrefix.add(k)
		}
		ix.lengthPrefix = append(ix.lengthPrefix, f)
	}
	if ix.hasher != nil {
		ix.buildProbe(itemTokens)
	}
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

// addGrams indexes item g's n-grams, adds their prefix keys to
// prefixes[n] and returns how many it added.
func (ix *LeakIndex) addGrams(g int, toks []leakToken, prefixes map[int][]uint64) int {
	it := &ix.items[g]
	if it.n == 0 {
		return 0
	}
	for i := 0; i+it.n <= len(toks); i++ {
		prefixes[it.n] = append(prefixes[it.n], prefixRoll(toks[i:i+ix.minGram]))
		h := uint64(gramSeed)
		for k := 0; k < it.n; k++ {
			h = gramStep(h, toks[i+k].hash)
		}
		id, added := ix.grams.put(gramKey(h, it.n))
		if added {
			*id = uint32(len(ix.postings))
			ix.postings = append(ix.postings, nil)
		}
		if p := ix.postings[*id]; len(p) > 0 && p[len(p)-1] == uint32(g) {
			continue // this item already has the gram
		}
		ix.postings[*id] = append(ix.postings[*id], uint32(g))
		it.grams++
	}
	return len(toks) - it.n + 1
}

// buildProbe computes the MinHash signature of every item long enough and
// files it under its window class.
func (ix *LeakIndex) buildProbe(itemTokens [][]leakToken) {
	var indexed []int
	present := map[int]bool{}
	sig := make([]uint64, ix.hasher.K)
	for g, toks := range itemTokens {
		it := &ix.items[g]
		if it.n == 0 || len(toks) < ix.Params.MinHashMinTokens {
			continue
		}
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
		present[c] = true
		indexed = append(indexed, g)
	}
	probeOf := map[int]int{} // window class → index in ix.probe
	for c := range windowClasses {
		if present[c] {
			probeOf[c] = len(ix.probe)
			ix.probe = append(ix.probe, probeClass{class: c, blocks: windowClasses[c], stride: max(1, windowClasses[c]/4)})
			ix.maxBlock = windowClasses[c]
		}
	}
	rows, bands := ix.Params.MinHashRows, ix.Params.MinHashBands
	ix.bands = make([]*u64Table, bands)
	ix.bandSeen = make([]seenSet, bands)
	ix.rowSeen = make([]seenSet, ix.hasher.K)
	firstRows := make([]map[uint32]uint32, bands)
	for b := range bands {
		ix.bands[b] = newU64Table()
		firstRows[b] = map[uint32]uint32{}
	}
	for _, g := range indexed {
		it := &ix.items[g]
		pc := probeOf[it.class]
		for b := range bands {
			band := it.signature[b*rows : (b+1)*rows]
			firstRows[b][band[0]] |= 1 << pc
			for r := 1; r < rows; r++ {
				ix.rowSeen[b*rows+r].add(rowKey(pc, band[r]))
			}
			key := bandKey(pc, bandHash32(band))
			ix.bandSeen[b].add(uint32(key >> 32))
			id, added := ix.bands[b].put(key)
			if added {
				*id = uint32(len(ix.bandItems))
				ix.bandItems = append(ix.bandItems, nil)
			}
			ix.bandItems[*id] = append(ix.bandItems[*id], uint32(g))
		}
	}
	ix.firstRows = make([]classTable, bands)
	for b, m := range firstRows {
		ix.firstRows[b] = newClassTable(m)
	}
	ix.planProbe()
}

// rowKey is the rowSeen key of value v in probe class pc.
func rowKey(pc int, v uint32) uint32 { return v ^ uint32(pc+1)*0x85ebca6b }

// bandKey is the bands key of band hash h in probe class pc.
func bandKey(pc int, h uint64) uint64 {
	return h ^ uint64(pc+1)*0x9e3779b97f4a7c15
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

// ItemCount is the number of items over all sets.
func (ix *LeakIndex) ItemCount() int { return len(ix.items) }
