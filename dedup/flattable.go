package dedup

import "math/bits"

// u64Table maps 64-bit keys to uint32 values in one flat slice with
// linear probing. The leakage index looks up every n-gram position that
// passes its filter, every tagged block and every band that passes its
// rows in one, so it must not cost what a Go map costs (hashing the key
// again, group control bytes, pointer chasing); keys are mixed once here.
type u64Table struct {
	slots []u64Slot // len is a power of two
	shift uint      // 64 − log2(len(slots))
	n     int
}

// u64Slot keeps the value beside its key, so a probe touches one cache
// line.
type u64Slot struct {
	key  uint64
	val  uint32
	used bool
}

func newU64Table() *u64Table {
	return &u64Table{slots: make([]u64Slot, minTableSlots), shift: 64 - 4}
}

func (t *u64Table) home(key uint64) int { return int((key * 0x9e3779b97f4a7c15) >> t.shift) }

// get returns the value of key.
func (t *u64Table) get(key uint64) (uint32, bool) {
	mask := len(t.slots) - 1
	for i := t.home(key); ; i = (i + 1) & mask {
		s := &t.slots[i]
		if !s.used {
			return 0, false
		}
		if s.key == key {
			return s.val, true
		}
	}
}

// put returns the value of key for writing, adding key with value 0 if it
// is new. The pointer is good until the next put.
func (t *u64Table) put(key uint64) (val *uint32, added bool) {
	if (t.n+1)*maxLoadDen > len(t.slots)*maxLoadNum {
		t.grow()
	}
	mask := len(t.slots) - 1
	for i := t.home(key); ; i = (i + 1) & mask {
		s := &t.slots[i]
		if !s.used {
			s.key, s.used = key, true
			t.n++
			return &s.val, true
		}
		if s.key == key {
			return &s.val, false
		}
	}
}

func (t *u64Table) grow() {
	old := t.slots
	t.slots = make([]u64Slot, 2*len(old))
	t.shift--
	mask := len(t.slots) - 1
	for _, s := range old {
		if !s.used {
			continue
		}
		i := t.home(s.key)
		for t.slots[i].used {
			i = (i + 1) & mask
		}
		t.slots[i] = s
	}
}

// bytes is the memory the table holds.
func (t *u64Table) bytes() int { return 16 * len(t.slots) }

// classTable maps the values one signature row takes in the indexed items
// to the set of probe classes (a bit each) with an item that has the value
// there. It holds about a thousand values at 8 bytes a slot, so the table
// of the row being probed stays in the first-level cache; a probe that
// finds an empty slot answers "no item" exactly.
type classTable struct {
	slots []classSlot // len is a power of two
	shift uint
	n     int
	// seen has one bit per value hash, set for every value held: a
	// value whose bit is clear (most of them) is answered without
	// searching the slots, with one load and no branch misprediction.
	seen [classSeenWords]uint64
}

// classSeenWords × 64 bits, 16 per value of the thousand or so a row
// holds: about 6 % of absent values get past it to the slots.
const classSeenWords = 256

func classSeenBit(v uint32) (int, uint64) {
	h := uint32(v * 0x9e3779b1)
	return int(h >> 24), 1 << (h >> 18 & 63)
}

type classSlot struct {
	value   uint32
	classes uint32 // 0: empty
}

func (t *classTable) home(v uint32) int { return int((uint64(v) * 0x9e3779b97f4a7c15) >> t.shift) }

// add records that an item of probe class pc has value v.
func (t *classTable) add(v uint32, pc int) {
	if (t.n+1)*2 > len(t.slots) { // load ≤ 1/2: short probe runs
		old := t.slots
		t.slots = make([]classSlot, max(16, 2*len(old)))
		t.shift = uint(64 - bits.TrailingZeros(uint(len(t.slots))))
		t.n = 0
		for _, s := range old {
			for c := s.classes; c != 0; c &= c - 1 {
				t.add(s.value, bits.TrailingZeros32(c))
			}
		}
	}
	mask := len(t.slots) - 1
	for i := t.home(v); ; i = (i + 1) & mask {
		s := &t.slots[i]
		if s.classes == 0 {
			s.value = v
			t.n++
		}
		if s.value == v {
			s.classes |= 1 << pc
			w, bit := classSeenBit(v)
			t.seen[w] |= bit
			return
		}
	}
}

// classes returns the set of probe classes with an item that has value v.
func (t *classTable) classes(v uint32) uint32 {
	if w, bit := classSeenBit(v); t.seen[w]&bit == 0 {
		return 0
	}
	mask := len(t.slots) - 1
	for i := t.home(v); ; i = (i + 1) & mask {
		s := t.slots[i]
		if s.classes == 0 || s.value == v {
			return s.classes
		}
	}
}

// bytes is the memory the table holds.
func (t *classTable) bytes() int { return 8*len(t.slots) + 8*classSeenWords }

// bitFilter is a Bloom filter with both probe bits in one 64-bit word, so
// a lookup is one memory access. It answers "certainly absent" for almost
// every key the index does not hold, in far less memory than the keys
// (16 bits per key: about 1.4 % false positives), so it stays in cache
// while the exact tables do not. Keys need not be well mixed.
type bitFilter struct {
	words []uint64
}

// newBitFilter sizes a filter for n keys.
func newBitFilter(n int) *bitFilter {
	return &bitFilter{words: make([]uint64, max(1, (16*n+63)/64))}
}

// probe returns the word index and the two-bit mask of key: the key is
// mixed by one multiply and an xorshift, the word comes from the high bits
// by a multiply (any number of words), the two bits from the low 12.
func (f *bitFilter) probe(key uint64) (int, uint64) {
	h := key * 0xbf58476d1ce4e5b9
	h ^= h >> 31
	w, _ := bits.Mul64(h, uint64(len(f.words)))
	return int(w), 1<<(h&63) | 1<<((h>>6)&63)
}

func (f *bitFilter) add(key uint64) {
	w, m := f.probe(key)
	f.words[w] |= m
}

func (f *bitFilter) mayHave(key uint64) bool {
	w, m := f.probe(key)
	return f.words[w]&m == m
}

func (f *bitFilter) bytes() int { return 8 * len(f.words) }
