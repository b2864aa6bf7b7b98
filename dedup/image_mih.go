package dedup

import "math/bits"

// hashIndex answers "every id whose 64-bit hash is within distance r of q"
// (Hamming) by multi-index hashing (Norouzi, Punjani & Fleet, "Fast Search
// in Hamming Space with Multi-Index Hashing", CVPR 2012).
//
// The hash is cut into mihTables substrings of 16 bits, and each substring
// indexes a table of 65,536 buckets. If two hashes are within r, their
// substring distances add up to at most r, so at least one substring is
// within a small radius: with sub-radii r_i such that Σ(r_i + 1) = r + 1,
// some substring i must be within r_i (otherwise the total would be at
// least r + 1). A query therefore probes, in each table i, the buckets of
// every 16-bit key within r_i of its own substring, and verifies the full
// distance of what it finds there. At r = 10 the sub-radii are 2, 2, 2, 1:
// 3·137 + 17 = 428 buckets, which hold 428/65,536 of the index for
// uniformly random hashes — 0.65 % of it, at any size. (The substring
// length is what matters: 16 bits keeps the sub-radii small and the buckets
// directly addressable. The paper's rule m ≈ 64/log2(N) gives 3–4 tables
// for 10^4–10^6 hashes. More, shorter substrings probe fewer buckets but
// each holds N/2^bits hashes: 8 tables of 8 bits compare 12.5 % of the
// index at r = 10, 11 tables of 5 bits (exact lookups) 34 %, 16 of 4 bits
// 69 % — linear again.)
//
// A hash found in several tables is reported once: in table i only if no
// earlier table j would have found it (its substring j is beyond r_j).
//
// Below mihMinEntries hashes, and whenever the probes would cost more than
// reading every hash (large r), the index scans its hash array instead: a
// sequential scan of a few thousand words beats any tree at that size.
// Memory: 12 bytes per entry (hash and id) and, once the tables are built,
// 4 per entry per table (16) plus 4 × 65,536 bucket headers (6 MB).
// (Copying each hash into its buckets, for contiguous verification, gained
// ~5 % at 10^6 hashes for 32 more bytes per hash: not kept.)
type hashIndex struct {
	hashes []uint64
	ids    []int32
	tables *[mihTables][mihBuckets][]int32 // entry numbers; nil while small
	// Compared counts the hashes whose distance to a query was computed,
	// so the fraction of the index a lookup touches can be reported.
	Compared int64
}

const (
	mihTables     = 4
	mihBits       = 64 / mihTables
	mihBuckets    = 1 << mihBits
	mihMask       = mihBuckets - 1
	mihMinEntries = 4096
	// Relative costs of the search plans: per probed bucket (one or two
	// cache misses: 7–20 ns at 10^4–10^5 hashes), per candidate verified
	// through a bucket and per hash scanned in order (~0.85 ns); from
	// BenchmarkHashIndex, to within a factor of two. At r = 10 the tables
	// are used from ~4,400 hashes (measured 2.7× faster than the scan at
	// 10^4).
	mihProbeCost, mihCandidateCost, mihScanCost = 10, 3, 1
)

// masksByWeight lists every 16-bit mask in order of popcount; ballSize[k]
// is how many have popcount ≤ k, so masksByWeight[:ballSize[k]] XORed onto
// a key gives the keys within distance k of it.
var masksByWeight, ballSize = func() ([]uint16, [mihBits + 1]int) {
	masks := make([]uint16, 0, mihBuckets)
	var size [mihBits + 1]int
	for k := 0; k <= mihBits; k++ {
		for m := 0; m < mihBuckets; m++ {
			if bits.OnesCount16(uint16(m)) == k {
				masks = append(masks, uint16(m))
			}
		}
		size[k] = len(masks)
	}
	return masks, size
}()

// Len is the number of hashes held (an image added twice counts twice).
func (x *hashIndex) Len() int { return len(x.hashes) }

// Add inserts id under hash h.
func (x *hashIndex) Add(h uint64, id int32) {
	e := int32(len(x.hashes))
	x.hashes = append(x.hashes, h)
	x.ids = append(x.ids, id)
	if x.tables != nil {
		x.insert(e)
	} else if len(x.hashes) >= mihMinEntries {
		x.tables = new([mihTables][mihBuckets][]int32)
		for i := range x.hashes {
			x.insert(int32(i))
		}
	}
}

func (x *hashIndex) insert(e int32) {
	h := x.hashes[e]
	for t := range x.tables {
		k := substring(h, t)
		x.tables[t][k] = append(x.tables[t][k], e)
	}
}

func substring(h uint64, table int) uint16 { return uint16(h>>(mihBits*table)) & mihMask }

// subRadii splits r + 1 over the tables: the first (r+1) mod 4 get
// ⌊(r+1)/4⌋, the others one less (-1: the table is not probed).
func subRadii(r int) (radii [mihTables]int) {
	a, rem := (r+1)/mihTables, (r+1)%mihTables
	for t := range radii {
		radii[t] = a - 1
		if t < rem {
			radii[t] = a
		}
		radii[t] = min(radii[t], mihBits)
	}
	return radii
}

// useTables says whether probing beats scanning for radius r.
func (x *hashIndex) useTables(radii [mihTables]int) bool {
	if x.tables == nil {
		return false
	}
	probes := 0
	for _, r := range radii {
		if r >= 0 {
			probes += ballSize[r]
		}
	}
	candidates := probes * len(x.hashes) / mihBuckets
	return probes*mihProbeCost+candidates*mihCandidateCost < len(x.hashes)*mihScanCost
}

// Search calls found for every id whose hash is within maxDist of q, with
// that distance, each id once per time it was added. The order is the
// index's, not by distance or id; callers that need an order sort.
func (x *hashIndex) Search(q uint64, maxDist int, found func(id int32, dist int)) {
	if maxDist < 0 {
		return
	}
	radii := subRadii(maxDist)
	if !x.useTables(radii) {
		x.Compared += int64(len(x.hashes))
		for e, h := range x.hashes {
			if d := bits.OnesCount64(h ^ q); d <= maxDist {
				found(x.ids[e], d)
			}
		}
		return
	}
	for t, r := range radii {
		if r < 0 {
			continue
		}
		key := substring(q, t)
		for _, m := range masksByWeight[:ballSize[r]] {
			bucket := x.tables[t][key^m]
			x.Compared += int64(len(bucket))
			for _, e := range bucket {
				diff := x.hashes[e] ^ q
				d := bits.OnesCount64(diff)
				if d > maxDist || foundEarlier(diff, t, &radii) {
					continue
				}
				found(x.ids[e], d)
			}
		}
	}
}

// foundEarlier says whether a table before t probes the bucket of a hash
// that differs from the query by diff.
func foundEarlier(diff uint64, t int, radii *[mihTables]int) bool {
	for j := 0; j < t; j++ {
		if bits.OnesCount16(substring(diff, j)) <= radii[j] {
			return true
		}
	}
	return false
}
