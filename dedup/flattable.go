package dedup

import (
	"math/bits"
	"slices"
)

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
// there. It is a cuckoo table: a value lives in one of its two home slots,
// so a lookup reads both and keeps what matches, without a loop or a
// branch to mispredict. A row has about a thousand values, so the table
// (16 KB) of the row being probed stays in the first-level cache.
type classTable struct {
	slots []classSlot // len is a power of two
	shift uint
	// seen holds every value: a value it does not hold (most of them) is
	// answered with one load.
	seen seenSet
}

// seenSet is a 2 KB Bloom filter for a thousand or so 32-bit hashes, both
// bits of a key in one word: 16 bits a key, about 1 % false positives.
// The probe keeps one in front of every table it reads for most blocks or
// windows, so that most misses touch 2 KB instead of the table.
type seenSet [256]uint64

func seenBits(h uint32) (int, uint64) {
	h *= 0x9e3779b1
	return int(h >> 24), 1<<(h>>18&63) | 1<<(h>>12&63)
}

func (s *seenSet) add(h uint32) {
	w, b := seenBits(h)
	s[w] |= b
}

func (s *seenSet) has(h uint32) bool {
	w, b := seenBits(h)
	return s[w]&b == b
}

type classSlot struct {
	value   uint32
	classes uint32 // 0: empty
}

func (t *classTable) homes(v uint32) (int, int) {
	return int((uint64(v) * 0x9e3779b97f4a7c15) >> t.shift), int((uint64(v) * 0xc2b2ae3d27d4eb4f) >> t.shift)
}

// newClassTable builds the table of the values of classes (value → class
// set), inserting them in increasing order so that the layout does not
// depend on map order.
func newClassTable(classes map[uint32]uint32) classTable {
	values := make([]uint32, 0, len(classes))
	for v := range classes {
		values = append(values, v)
	}
	slices.Sort(values)
	size := 16
	for size*2 < 5*len(values) { // load ≤ 0.4: cuckoo insertion rarely fails
		size *= 2
	}
	for ; ; size *= 2 {
		t := classTable{slots: make([]classSlot, size), shift: uint(64 - bits.TrailingZeros(uint(size)))}
		ok := true
		for _, v := range values {
			if !t.insert(classSlot{v, classes[v]}) {
				ok = false
				break
			}
		}
		if ok {
			for _, v := range values {
				t.seen.add(v)
			}
			return t
		}
	}
}

// insert places e in one of its homes, moving the value there to its other
// home, and so on; false if that does not end within a bound.
func (t *classTable) insert(e classSlot) bool {
	pos, _ := t.homes(e.value)
	for range 4 * len(t.slots) {
		e, t.slots[pos] = t.slots[pos], e
		if e.classes == 0 {
			return true
		}
		h1, h2 := t.homes(e.value)
		if pos == h1 {
			pos = h2
		} else {
			pos = h1
		}
	}
	return false
}

// classes returns the set of probe classes with an item that has value v.
func (t *classTable) classes(v uint32) uint32 {
	if !t.mayHold(v) {
		return 0
	}
	return t.lookup(v)
}

// mayHold is false for a value no item has, and true for the values items
// have and about 1 % of the others. It is small enough to inline in the
// probe's loop over every block.
func (t *classTable) mayHold(v uint32) bool { return t.seen.has(v) }

// lookup reads v's two homes. An empty slot's classes are 0, so a value
// that matches one adds nothing.
func (t *classTable) lookup(v uint32) uint32 {
	if len(t.slots) == 0 {
		return 0
	}
	h1, h2 := t.homes(v)
	a, b := t.slots[h1], t.slots[h2]
	var c uint32
	if a.value == v {
		c = a.classes
	}
	if b.value == v {
		c |= b.classes
	}
	return c
}

// bytes is the memory the table holds.
func (t *classTable) bytes() int { return 8*len(t.slots) + 8*len(t.seen) }

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
