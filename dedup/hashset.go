package dedup

import "math/bits"

// Growth policy shared by the open-addressing tables: grow by half when the
// load passes maxLoad, so the load stays between maxLoad/1.5 and maxLoad
// (0.5–0.75): 10.7–16 bytes per uint64 key. Doubling would let it fall to
// 0.375 and cost up to 21 bytes a key.
const (
	maxLoadNum, maxLoadDen = 3, 4
	minTableSlots          = 16
)

// slotFor maps a uniformly distributed hash to [0, n) with a multiply
// instead of a modulo (Lemire's fast range), so capacities need not be
// powers of two and tables can grow by 1.5×.
// The multiply by an odd constant first spreads keys that are not
// well-mixed hashes (small integers) over the high bits fast range uses.
func slotFor(h uint64, n int) int {
	hi, _ := bits.Mul64(h*0x9e3779b97f4a7c15, uint64(n))
	return int(hi)
}

func grownSize(n int) int {
	if n < minTableSlots {
		return minTableSlots
	}
	return n + n/2
}

// Uint64Set is a set of 64-bit hashes in one flat slice with linear probing:
// 8 bytes a slot and no per-entry allocation, where a map[uint64]struct{}
// costs about 40 bytes a key and a map[string]bool several times that. The
// keys are expected to be hashes already (uniform bits).
type Uint64Set struct {
	slots   []uint64 // 0 = empty; the key 0 is tracked by hasZero
	n       int
	hasZero bool
}

// NewUint64Set returns a set sized for about expected keys without growing.
func NewUint64Set(expected int) *Uint64Set {
	s := &Uint64Set{}
	size := minTableSlots
	for size*maxLoadNum/maxLoadDen < expected {
		size = grownSize(size)
	}
	s.slots = make([]uint64, size)
	return s
}

// Add inserts key and reports whether it was absent.
func (s *Uint64Set) Add(key uint64) bool {
	if key == 0 {
		if s.hasZero {
			return false
		}
		s.hasZero = true
		s.n++
		return true
	}
	if s.slots == nil {
		s.slots = make([]uint64, minTableSlots)
	}
	i := slotFor(key, len(s.slots))
	for {
		switch s.slots[i] {
		case key:
			return false
		case 0:
			s.slots[i] = key
			s.n++
			if s.n*maxLoadDen > len(s.slots)*maxLoadNum {
				s.grow()
			}
			return true
		}
		if i++; i == len(s.slots) {
			i = 0
		}
	}
}

// Has reports whether key is in the set.
func (s *Uint64Set) Has(key uint64) bool {
	if key == 0 {
		return s.hasZero
	}
	if len(s.slots) == 0 {
		return false
	}
	for i := slotFor(key, len(s.slots)); ; {
		switch s.slots[i] {
		case key:
			return true
		case 0:
			return false
		}
		if i++; i == len(s.slots) {
			i = 0
		}
	}
}

func (s *Uint64Set) grow() {
	old := s.slots
	s.slots = make([]uint64, grownSize(len(old)))
	for _, k := range old {
		if k == 0 {
			continue
		}
		i := slotFor(k, len(s.slots))
		for s.slots[i] != 0 {
			if i++; i == len(s.slots) {
				i = 0
			}
		}
		s.slots[i] = k
	}
}

// Len is the number of keys.
func (s *Uint64Set) Len() int { return s.n }

// Bytes is the memory the set holds.
func (s *Uint64Set) Bytes() int { return 8 * cap(s.slots) }
