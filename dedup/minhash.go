package dedup

import (
	"fmt"

	"github.com/cespare/xxhash/v2"
)

// MersennePrime61 is 2^61−1, the modulus of datatrove's permutations.
const MersennePrime61 = 1<<61 - 1

// Hash families a MinHasher can use.
const (
	// FamilyDatatrove reproduces datatrove's MinhashDedupSignature with its
	// default HashConfig (64-bit xxhash): each shingle x is
	// xxhash64(" ".join(words)) with seed 0, and permutation k maps it to
	//
	//	((a_k·x + b_k) mod 2^64) mod (2^61−1)
	//
	// The inner "mod 2^64" is not a typo: datatrove computes a·x+b on numpy
	// uint64 arrays, which wrap silently, and only then reduces modulo the
	// prime. a_k and b_k are the first K and next K draws of
	// np.random.RandomState(seed).randint(1, 2^61−1, dtype=uint64) and
	// .randint(0, 2^61−1, dtype=uint64), seed 1 by default.
	FamilyDatatrove = "datatrove"
	// FamilyMultiplyShift is a faster 32-bit family (the R-MinHash idea):
	// permutation k maps x to the high 32 bits of a_k·x + b_k mod 2^64
	// (Dietzfelbinger's multiply-shift), with a_k odd. a_k, b_k are
	// successive outputs of splitmix64 started at the seed (a_k |= 1). One
	// multiply and one add per hash, no division.
	FamilyMultiplyShift = "multiply_shift"
)

// MinHasher computes MinHash signatures with K seeded permutations of the
// 64-bit shingle hashes. It is read-only after construction and safe for
// concurrent use; per-call buffers live in a sigScratch.
type MinHasher struct {
	Family string
	K      int
	a, b   []uint64
}

// NewMinHasher makes the K permutations of family, drawn from seed.
func NewMinHasher(family string, k int, seed uint64) (*MinHasher, error) {
	if k <= 0 {
		return nil, fmt.Errorf("minhash: need at least one hash, got %d", k)
	}
	m := &MinHasher{Family: family, K: k, a: make([]uint64, k), b: make([]uint64, k)}
	switch family {
	case FamilyDatatrove:
		if seed >= 1<<32 {
			return nil, fmt.Errorf("minhash: datatrove seeds are below 2^32, got %d", seed)
		}
		rng := newMT19937(uint32(seed))
		for i := range m.a {
			m.a[i] = rng.boundedUint64(1, MersennePrime61)
		}
		for i := range m.b {
			m.b[i] = rng.boundedUint64(0, MersennePrime61)
		}
	case FamilyMultiplyShift:
		state := seed
		for i := range m.a {
			m.a[i] = splitmix64(&state) | 1
			m.b[i] = splitmix64(&state)
		}
	default:
		return nil, fmt.Errorf("minhash: unknown hash family %q (choices: %s, %s)", family, FamilyDatatrove, FamilyMultiplyShift)
	}
	return m, nil
}

// Params returns copies of the permutation parameters, so another tool can
// reproduce a signature.
func (m *MinHasher) Params() (a, b []uint64) {
	return append([]uint64(nil), m.a...), append([]uint64(nil), m.b...)
}

func splitmix64(state *uint64) uint64 {
	*state += 0x9e3779b97f4a7c15
	z := *state
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// mod61 reduces v modulo 2^61−1 without a division.
func mod61(v uint64) uint64 {
	v = (v & MersennePrime61) + (v >> 61)
	if v >= MersennePrime61 {
		v -= MersennePrime61
	}
	return v
}

// emptyValue fills a signature before any shingle is seen; no permutation
// reaches it, so a document without shingles is recognizable.
const emptyValue = ^uint64(0)

// initSignature sets every value of sig to emptyValue.
func initSignature(sig []uint64) {
	for i := range sig {
		sig[i] = emptyValue
	}
}

// addShingle lowers sig with the K permuted values of shingle hash x.
func (m *MinHasher) addShingle(sig []uint64, x uint64) {
	a, b := m.a, m.b[:len(m.a)]
	sig = sig[:len(a)]
	if m.Family == FamilyDatatrove {
		for k := range a {
			if v := mod61(a[k]*x + b[k]); v < sig[k] {
				sig[k] = v
			}
		}
		return
	}
	for k := range a {
		if v := (a[k]*x + b[k]) >> 32; v < sig[k] {
			sig[k] = v
		}
	}
}

// SignatureOf computes text's signature over shingles of n tokens (see
// simplifier for the normalization). A text with fewer than n tokens but at
// least one is a single shingle of all its tokens (datatrove skips such
// documents; we would rather still catch short exact copies). ok is false
// for a text with no tokens at all.
func (m *MinHasher) SignatureOf(text string, n int, sig []uint64) (ok bool) {
	var s simplifier
	return m.signature(&s, text, n, sig)
}

func (m *MinHasher) signature(s *simplifier, text string, n int, sig []uint64) bool {
	s.simplify(text)
	initSignature(sig)
	t := s.tokens()
	if t == 0 {
		return false
	}
	if t < n {
		m.addShingle(sig, xxhash.Sum64(s.span(0, t-1)))
		return true
	}
	for i := 0; i+n <= t; i++ {
		m.addShingle(sig, xxhash.Sum64(s.span(i, i+n-1)))
	}
	return true
}

// EstimateJaccard is the fraction of equal values in two signatures.
func EstimateJaccard(x, y []uint64) float64 {
	if len(x) == 0 || len(x) != len(y) {
		return 0
	}
	same := 0
	for i := range x {
		if x[i] == y[i] {
			same++
		}
	}
	return float64(same) / float64(len(x))
}
