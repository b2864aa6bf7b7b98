package tokenize

import (
	"math/bits"
	"strings"
	"sync"
)

// mergeTable maps a pair of adjacent token ids to the merge's rank and the
// merged token's id: open addressing over one []uint64 pair of arrays, which
// is several times faster than a Go map on this path.
type mergeTable struct {
	keys []uint64 // left<<32 | right, plus one so that 0 means empty
	vals []uint64 // rank<<32 | merged id
	mask uint64
}

func newMergeTable(n int) mergeTable {
	size := 1 << bits.Len(uint(2*n+16))
	return mergeTable{keys: make([]uint64, size), vals: make([]uint64, size), mask: uint64(size - 1)}
}

func pairKey(left, right int32) uint64 { return (uint64(uint32(left))<<32 | uint64(uint32(right))) + 1 }

func (m *mergeTable) put(left, right, rank, merged int32) {
	k := pairKey(left, right)
	for h := edgeHash(k) & m.mask; ; h = (h + 1) & m.mask {
		// A repeated merge takes its last rank, as in the reference's map.
		if m.keys[h] == 0 || m.keys[h] == k {
			m.keys[h] = k
			m.vals[h] = uint64(uint32(rank))<<32 | uint64(uint32(merged))
			return
		}
	}
}

func (m *mergeTable) get(left, right int32) (rank, merged int32, ok bool) {
	k := pairKey(left, right)
	for h := edgeHash(k) & m.mask; ; h = (h + 1) & m.mask {
		switch m.keys[h] {
		case k:
			v := m.vals[h]
			return int32(v >> 32), int32(uint32(v)), true
		case 0:
			return 0, 0, false
		}
	}
}

// bpeSymbol is one token of a word being merged, in a linked list over the
// word's initial characters.
type bpeSymbol struct {
	id         int32
	prev, next int32
	size       int32 // bytes covered; 0 once merged into its left neighbour
}

// bpeCandidate is a possible merge of the symbol at pos with its right
// neighbour.
type bpeCandidate struct {
	rank, pos, merged int32
}

type bpeScratch struct {
	symbols []bpeSymbol
	heap    []bpeCandidate
}

// merge applies the merges to one piece and appends the resulting ids. It
// follows the reference's Word::merge_all: a min-heap of candidate merges by
// (rank, position), stale candidates skipped, so a long piece (a base64 blob,
// a DNA string) costs n log n, not n².
func (b *BPE) merge(p string, dst []int32) []int32 {
	if b.ignoreMerges {
		if id, ok := b.ids[byteLevelString([]byte(p))]; ok {
			return append(dst, id)
		}
	}
	sc := b.scratch.Get().(*bpeScratch)
	defer b.scratch.Put(sc)
	syms := sc.symbols[:0]
	for i := 0; i < len(p); i++ {
		id := b.byteID[p[i]]
		if id < 0 {
			// Not in the vocabulary: [UNK] when there is one, else dropped,
			// as the reference does.
			if b.unk >= 0 {
				syms = append(syms, bpeSymbol{id: b.unk, size: 1})
			}
			continue
		}
		syms = append(syms, bpeSymbol{id: id, size: 1})
	}
	for i := range syms {
		syms[i].prev = int32(i - 1)
		syms[i].next = int32(i + 1)
	}
	if len(syms) > 0 {
		syms[len(syms)-1].next = -1
	}
	h := sc.heap[:0]
	for i := 0; i+1 < len(syms); i++ {
		if rank, merged, ok := b.merges.get(syms[i].id, syms[i+1].id); ok {
			h = heapPush(h, bpeCandidate{rank: rank, pos: int32(i), merged: merged})
		}
	}
	for len(h) > 0 {
		var top bpeCandidate
		top, h = heapPop(h)
		cur := &syms[top.pos]
		if cur.size == 0 || cur.next < 0 {
			continue
		}
		right := syms[cur.next]
		if _, merged, ok := b.merges.get(cur.id, right.id); !ok || merged != top.merged {
			continue // stale: one side has changed since this candidate was pushed
		}
		cur.id = top.merged
		cur.size += right.size
		syms[cur.next].size = 0
		cur.next = right.next
		if right.next >= 0 {
			syms[right.next].prev = top.pos
		}
		if cur.prev >= 0 {
			if rank, merged, ok := b.merges.get(syms[cur.prev].id, cur.id); ok {
				h = heapPush(h, bpeCandidate{rank: rank, pos: cur.prev, merged: merged})
			}
		}
		if cur.next >= 0 {
			if rank, merged, ok := b.merges.get(cur.id, syms[cur.next].id); ok {
				h = heapPush(h, bpeCandidate{rank: rank, pos: top.pos, merged: merged})
			}
		}
	}
	for _, s := range syms {
		if s.size != 0 {
			dst = append(dst, s.id)
		}
	}
	sc.symbols, sc.heap = syms, h
	return dst
}

func candidateLess(a, b bpeCandidate) bool {
	if a.rank != b.rank {
		return a.rank < b.rank
	}
	return a.pos < b.pos
}

func heapPush(h []bpeCandidate, c bpeCandidate) []bpeCandidate {
	h = append(h, c)
	for i := len(h) - 1; i > 0; {
		parent := (i - 1) / 2
		if !candidateLess(h[i], h[parent]) {
			break
		}
		h[i], h[parent] = h[parent], h[i]
		i = parent
	}
	return h
}

func heapPop(h []bpeCandidate) (bpeCandidate, []bpeCandidate) {
	top := h[0]
	last := len(h) - 1
	h[0] = h[last]
	h = h[:last]
	for i := 0; ; {
		l, r, small := 2*i+1, 2*i+2, i
		if l < len(h) && candidateLess(h[l], h[small]) {
			small = l
		}
		if r < len(h) && candidateLess(h[r], h[small]) {
			small = r
		}
		if small == i {
			break
		}
		h[i], h[small] = h[small], h[i]
		i = small
	}
	return top, h
}

// wordCache remembers the ids of pieces already merged. Like the reference's
// cache it is bounded: once full it stops taking new words, so memory stays
// fixed however much text passes through.
type wordCache struct {
	shards [wordCacheShards]wordCacheShard
}

const (
	wordCacheShards   = 32
	wordCachePerShard = 4096
	wordCacheMaxBytes = 64 // longer pieces are rare and would crowd out the common ones
)

type wordCacheShard struct {
	mu sync.RWMutex
	m  map[string][]int32
	_  [40]byte // keep shards on separate cache lines
}

func (c *wordCache) init() {
	for i := range c.shards {
		c.shards[i].m = make(map[string][]int32, 256)
	}
}

func cacheShard(p string) int {
	h := uint32(2166136261)
	for i := 0; i < len(p); i++ {
		h = (h ^ uint32(p[i])) * 16777619
	}
	return int(h % wordCacheShards)
}

func (c *wordCache) get(p string) ([]int32, bool) {
	if len(p) > wordCacheMaxBytes {
		return nil, false
	}
	s := &c.shards[cacheShard(p)]
	s.mu.RLock()
	ids, ok := s.m[p]
	s.mu.RUnlock()
	return ids, ok
}

func (c *wordCache) put(p string, ids []int32) {
	if len(p) > wordCacheMaxBytes {
		return
	}
	s := &c.shards[cacheShard(p)]
	s.mu.Lock()
	if len(s.m) < wordCachePerShard {
		s.m[strings.Clone(p)] = append([]int32(nil), ids...) // p points into the caller's text
	}
	s.mu.Unlock()
}
