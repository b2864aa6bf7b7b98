package dedup

// bandTable is one LSH band's index: band hash → ordinal of the document
// that first had it, at 8 bytes a slot.
//
// A slot holds the band hash's high 32 bits as a fingerprint and the
// ordinal+1 in its low 32 bits (0 = empty). The slot position comes from the
// hash's low 32 bits, so a lookup compares fingerprints only along one short
// probe run: a false match needs 32 independent bits to agree, about
// probe-length × 2^-32 per lookup, whatever the number of documents.
//
// Because the low bits are not stored, a full segment cannot be rehashed
// into a bigger one. Instead, when a segment reaches 3/4 load it is closed
// and a 1.5× bigger one opens for new entries; lookups probe every segment.
// The closed segments stay at 3/4 load, so memory is 10.7–16 bytes per
// entry, and the segment count grows only logarithmically
// (`expected_documents` sizes the first segment so there is usually one).
type bandTable struct {
	segments [][]uint64
	n        int // entries in the newest segment
}

func newBandTable(expected int) bandTable {
	size := minTableSlots
	for size*maxLoadNum/maxLoadDen < expected {
		size = grownSize(size)
	}
	return bandTable{segments: [][]uint64{make([]uint64, size)}}
}

func bandHome(h uint64, n int) int { return int((h & 0xffffffff) * uint64(n) >> 32) }

// each calls fn with the ordinal of every document stored under h, oldest
// segment first, until fn returns false.
func (t *bandTable) each(h uint64, fn func(ord uint32) bool) {
	fp := h >> 32
	for _, seg := range t.segments {
		n := len(seg)
		for i := bandHome(h, n); ; {
			e := seg[i]
			if e == 0 {
				break
			}
			if e>>32 == fp && !fn(uint32(e)-1) {
				return
			}
			if i++; i == n {
				i = 0
			}
		}
	}
}

func (t *bandTable) insert(h uint64, ord uint32) {
	seg := t.segments[len(t.segments)-1]
	if (t.n+1)*maxLoadDen > len(seg)*maxLoadNum {
		seg = make([]uint64, grownSize(len(seg)))
		t.segments = append(t.segments, seg)
		t.n = 0
	}
	n := len(seg)
	for i := bandHome(h, n); ; {
		if seg[i] == 0 {
			seg[i] = h>>32<<32 | uint64(ord+1)
			t.n++
			return
		}
		if i++; i == n {
			i = 0
		}
	}
}

// bytes is the memory the table holds.
func (t *bandTable) bytes() int {
	b := 24 * cap(t.segments)
	for _, s := range t.segments {
		b += 8 * cap(s)
	}
	return b
}
