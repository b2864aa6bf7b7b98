package dedup

import (
	"math"
	"math/bits"
	"slices"
)

// The MinHash window probe. A document's word pairs are cut into blocks of
// blockTokens; a window of class c covers windowClasses[c] blocks and
// starts every stride = blocks/4 blocks. A window's signature row j is the
// minimum of hash j over its pairs. For every window and band the probe
// asks the class's LSH table for items with the same band, and verifies
// each candidate item by its estimated containment in the window.
//
// Doing that literally costs K hashes per word pair, K minima per window
// and one band lookup per band and window, and almost everything misses:
// on the planted corpus 1 band lookup in 2,500 finds an item. The probe
// computes the same candidates and scores (the one exception: where the
// 64-bit hashes of two different bands collide, the literal probe verified
// a spurious candidate and this one does not), but only looks at the
// windows that can match:
//
//   - block minima are computed row by row (one hash function over all
//     pairs of a segment), 8 blocks at a time with AVX-512 where there is
//     one (blockminima.go);
//   - a band can only match an item of class c if its first row's value
//     is a value some item of class c has there. The block minima of a
//     band's first row are looked up in that row's classTable, and about
//     1 block in 20 has a value some item has ("tagged");
//   - a window's first row is the minimum of its blocks, so it is a
//     tagged value only if its minimum block is tagged. For each tagged
//     block the probe finds how far left and right the block stays the
//     minimum (the leftmost minimum, so no window is claimed twice), and
//     the windows of each of the block's classes that fit in that stretch
//     are exactly the windows whose first row matches an item of their
//     class. No other window is looked at;
//   - such a window's other band rows are minima over its block minima,
//     each checked against a small filter of the (class, value) pairs of
//     its row; about 1 window in 10 passes the second row. Its band hash
//     is looked up in a small filter of the band's hashes first, and only
//     then in the band's table of items;
//   - candidates are verified after all bands, in window order, against
//     the full window signature computed from the block minima.
//
// Long documents are probed in segments of ix.segment window starts, so
// the working memory is bounded by the index, not the document: the block
// minima a segment shares with the next (the windows that start at its
// end) are carried over instead of recomputed.

// probeSegmentMin is the least number of window starts (blocks) per
// segment: large enough that carrying over the last maxBlock blocks is
// cheap, small enough that a segment's K rows of block minima stay in the
// processor's cache (512 blocks × 96 rows × 4 bytes ≈ 200 KB).
const probeSegmentMin = 512

func init() {
	// A block's classes are a bit set in a uint32 (classTable).
	if len(windowClasses) > 32 {
		panic("dedup: more than 32 window classes")
	}
}

// planProbe chooses, once per index, the segment length: a multiple of
// every class's stride, so each class's windows start at multiples of its
// stride from the segment start too.
func (ix *LeakIndex) planProbe() {
	l := 1
	for _, pc := range ix.probe {
		l = lcm(l, pc.stride)
	}
	ix.segment = l * ((probeSegmentMin + l - 1) / l)
}

func lcm(a, b int) int {
	x, y := a, b
	for y != 0 {
		x, y = y, x%y
	}
	return a / x * b
}

// probeScratch is the probe's working memory, reused across documents.
type probeScratch struct {
	// pairs holds the word pair hashes of the blocks being filled, pair p
	// of block k at pairs[p*stride+k] (blockminima.go).
	pairs []uint64
	// base holds K rows of block minima, row j at base[j*stride:], for
	// the blocks of the current segment.
	base   []uint32
	stride int
	// tagged lists the blocks of the current band's first row whose value
	// some item has there, with the classes of those items.
	tagged []taggedBlock
	win    []uint32
	vals   []uint32
	cands  []probeCandidate
	// windows[ci] is the number of windows of probe class ci that start in
	// the current segment.
	windows []int
}

// taggedBlock is a block whose first-row value an item of classes has.
type taggedBlock struct {
	block   int32
	classes uint32
}

// probeCandidate is an item found by a band of a window, to verify.
type probeCandidate struct {
	class int32 // index in ix.probe
	start int32 // window start block
	item  uint32
}

// probeSegment describes the segment being probed.
type probeSegment struct {
	first  int // first window start (block) of the segment
	blocks int // blocks held: [first, first+blocks)
	nb     int // blocks in the document
	pairs  int // word pairs in the document
}

func (ix *LeakIndex) probeMinHash(s *leakScratch, toks []leakToken) {
	p := &s.probe
	k := ix.hasher.K
	pairs := len(toks) - 1
	nb := (pairs + blockTokens - 1) / blockTokens
	capBlocks := ix.segment + ix.maxBlock
	if p.stride != capBlocks || len(p.base) != k*capBlocks {
		p.stride = capBlocks
		p.base = make([]uint32, k*capBlocks)
		p.pairs = make([]uint64, capBlocks*blockTokens)
		p.win = make([]uint32, k)
		p.vals = make([]uint32, ix.Params.MinHashRows)
		p.windows = make([]int, len(ix.probe))
	}
	seg := probeSegment{nb: nb, pairs: pairs}
	held := 0 // blocks of the previous segment that this one shares
	for first := 0; first < nb; first += ix.segment {
		end := min(first+ix.segment+ix.maxBlock, nb)
		if first > 0 {
			// The previous segment held [first-segment, first-segment+seg.blocks).
			held = seg.blocks - ix.segment
			for j := 0; j < k; j++ {
				row := p.base[j*p.stride:]
				copy(row[:held], row[ix.segment:seg.blocks])
			}
		}
		seg.first, seg.blocks = first, end-first
		ix.fillBlocks(p, toks, first+held, end, held)
		for ci, pc := range ix.probe {
			p.windows[ci] = windowsIn(nb, first, ix.segment, pc.blocks, pc.stride)
		}
		p.cands = p.cands[:0]
		for band := 0; band < ix.Params.MinHashBands; band++ {
			ix.probeBand(p, &seg, band)
		}
		ix.verifyCandidates(s, &seg)
	}
}

// windowsIn is the number of windows of blocks blocks, one every stride
// blocks, that start in [first, first+segment) in a document of nb blocks:
// windows start at 0, stride, 2·stride, … up to and including the first
// that reaches the end of the document.
func windowsIn(nb, first, segment, blocks, stride int) int {
	last := 0
	if nb > blocks {
		last = (nb - blocks + stride - 1) / stride * stride
	}
	stop := min(first+segment-1, last)
	if stop < first {
		return 0
	}
	return (stop-first)/stride + 1
}

// fillBlocks computes the block minima of blocks [from, to) of the document
// into local positions from at onward, row by row.
func (ix *LeakIndex) fillBlocks(p *probeScratch, toks []leakToken, from, to, at int) {
	if from >= to {
		return
	}
	lo, hi := from*blockTokens, min(to*blockTokens, len(toks)-1)
	for i := lo; i < hi; i++ {
		k := i - lo
		p.pairs[k%blockTokens*p.stride+k/blockTokens] = shingle2(toks[i].hash, toks[i+1].hash)
	}
	lastPairs := hi - (to-from-1)*blockTokens - lo
	for j := 0; j < ix.hasher.K; j++ {
		row := p.base[j*p.stride+at : j*p.stride+at+(to-from)]
		blockMinima(row, p.pairs, p.stride, lastPairs, ix.hasher.a[j], ix.hasher.b[j])
	}
}

// probeBand finds the windows of the segment whose band matches an item's
// and collects the candidates.
func (ix *LeakIndex) probeBand(p *probeScratch, seg *probeSegment, band int) {
	rows := ix.Params.MinHashRows
	j0 := band * rows
	row := p.base[j0*p.stride : j0*p.stride+seg.blocks]
	tagged := p.tagged[:0]
	classes := &ix.firstRows[band]
	for i, v := range row {
		if !classes.mayHold(v) {
			continue
		}
		if c := classes.lookup(v); c != 0 {
			tagged = append(tagged, taggedBlock{int32(i), c})
		}
	}
	p.tagged = tagged
	if len(tagged) == 0 {
		return
	}
	docEnd := seg.nb - seg.first // the document's end, in segment blocks
	for _, tb := range tagged {
		i, v := int(tb.block), row[tb.block]
		// The windows that block i is the leftmost minimum of lie in the
		// stretch around it of smaller values to its left and no smaller
		// or equal values to its right. Beyond the longest window of the
		// block's classes (the highest, as classes ascend) it does not
		// matter; to the right it is only scanned as far as a window needs.
		m := ix.probe[31-bits.LeadingZeros32(tb.classes)].blocks
		left := i
		for lo := max(0, i-m+1); left > lo && row[left-1] > v; left-- {
		}
		right, hi := i, min(len(row), i+m)-1
		for c := tb.classes; c != 0; c &= c - 1 {
			ci := bits.TrailingZeros32(c)
			pc := &ix.probe[ci]
			m, st := pc.blocks, pc.stride
			// The windows w whose leftmost minimum is block i hold block i,
			// start at w·stride in [left, i] and end (cut at the
			// document's end) in the stretch. Each window has one leftmost
			// minimum, so each is met once.
			last := min(i/st, p.windows[ci]-1)
			for w := (max(left, i-m+1) + st - 1) / st; w <= last; w++ {
				local := w * st
				wb := min(m, docEnd-local)
				end := local + wb - 1
				for right < end && right < hi && row[right+1] >= v {
					right++
				}
				if end > right {
					break // later windows end later still
				}
				ix.checkBand(p, seg, band, ci, v, local, wb)
			}
		}
	}
}

// checkBand computes the other rows of a window whose band's first row
// matches (value v) and collects the items with the same band.
func (ix *LeakIndex) checkBand(p *probeScratch, seg *probeSegment, band, ci int, v uint32, local, wb int) {
	rows := ix.Params.MinHashRows
	j0 := band * rows
	p.vals[0] = v
	for r := 1; r < rows; r++ {
		j := j0 + r
		p.vals[r] = slices.Min(p.base[j*p.stride+local : j*p.stride+local+wb])
		if !ix.rowSeen[j].has(rowKey(ci, p.vals[r])) {
			return
		}
	}
	key := bandKey(ci, bandHash32(p.vals))
	if !ix.bandSeen[band].has(uint32(key >> 32)) {
		return
	}
	id, ok := ix.bands[band].get(key)
	if !ok {
		return
	}
	for _, g := range ix.bandItems[id] {
		p.cands = append(p.cands, probeCandidate{class: int32(ci), start: int32(seg.first + local), item: g})
	}
}

// verifyCandidates scores each (window, item) candidate once, windows in
// class and start order as a window-by-window probe would meet them, so an
// item's best window is the first with its best score.
func (ix *LeakIndex) verifyCandidates(s *leakScratch, seg *probeSegment) {
	p := &s.probe
	if len(p.cands) == 0 {
		return
	}
	slices.SortFunc(p.cands, func(a, b probeCandidate) int {
		switch {
		case a.class != b.class:
			return int(a.class - b.class)
		case a.start != b.start:
			return int(a.start - b.start)
		}
		return int(int64(a.item) - int64(b.item))
	})
	win := p.win
	prev := probeCandidate{class: -1}
	for i, c := range p.cands {
		if i > 0 && c == prev {
			continue
		}
		start := int(c.start)
		wb := min(ix.probe[c.class].blocks, seg.nb-start)
		if c.class != prev.class || c.start != prev.start {
			local := start - seg.first
			for j := range win {
				win[j] = slices.Min(p.base[j*p.stride+local : j*p.stride+local+wb])
			}
		}
		prev = c
		from, to := start*blockTokens, min((start+wb)*blockTokens, seg.pairs)
		windowShingles := float64(to - from)
		g := c.item
		it := &ix.items[g]
		same := 0
		for j, v := range it.signature {
			if v == win[j] {
				same++
			}
		}
		jac := float64(same) / float64(len(win))
		// Jaccard → containment of the item in the window, from the set
		// sizes: |A∩B| = J(|A|+|B|)/(1+J).
		cont := math.Min(1, jac*(float64(it.shingles)+windowShingles)/((1+jac)*float64(it.shingles)))
		s.touch(g)
		if cont > s.best[g] {
			s.best[g] = cont
			s.bestFrom[g], s.bestTo[g] = int32(from), int32(to+1)
		}
	}
}
