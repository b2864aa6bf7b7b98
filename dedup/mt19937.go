package dedup

// mt19937 is the Mersenne Twister as numpy's legacy np.random.RandomState
// runs it. It exists for one reason: datatrove draws its MinHash permutation
// parameters with np.random.RandomState(seed).randint(..., dtype=np.uint64),
// and reproducing those draws bit for bit is what lets a corpusflow signature
// equal a datatrove signature.
type mt19937 struct {
	state [624]uint32
	index int
}

// newMT19937 seeds the generator the way RandomState(seed) does for an
// integer seed below 2^32 (Matsumoto and Nishimura's init_genrand).
func newMT19937(seed uint32) *mt19937 {
	m := &mt19937{}
	m.state[0] = seed
	for i := 1; i < len(m.state); i++ {
		prev := m.state[i-1]
		m.state[i] = 1812433253*(prev^(prev>>30)) + uint32(i)
	}
	m.index = len(m.state)
	return m
}

func (m *mt19937) twist() {
	const upper, lower, matrixA = 0x80000000, 0x7fffffff, 0x9908b0df
	for i := range m.state {
		y := m.state[i]&upper | m.state[(i+1)%624]&lower
		next := m.state[(i+397)%624] ^ (y >> 1)
		if y&1 != 0 {
			next ^= matrixA
		}
		m.state[i] = next
	}
	m.index = 0
}

// uint32 returns the next tempered output.
func (m *mt19937) uint32() uint32 {
	if m.index >= len(m.state) {
		m.twist()
	}
	y := m.state[m.index]
	m.index++
	y ^= y >> 11
	y ^= (y << 7) & 0x9d2c5680
	y ^= (y << 15) & 0xefc60000
	y ^= y >> 18
	return y
}

// uint64 joins two outputs, high word first, as numpy's mt19937_next64 does.
func (m *mt19937) uint64() uint64 {
	hi := uint64(m.uint32())
	return hi<<32 | uint64(m.uint32())
}

// boundedUint64 returns a value in [low, high) exactly as
// RandomState.randint(low, high, dtype=np.uint64) draws it for ranges wider
// than 32 bits: masked rejection sampling on 64-bit outputs.
func (m *mt19937) boundedUint64(low, high uint64) uint64 {
	rng := high - 1 - low
	if rng == 0 {
		return low
	}
	mask := rng
	for s := uint(1); s < 64; s <<= 1 {
		mask |= mask >> s
	}
	for {
		v := m.uint64() & mask
		if v <= rng {
			return low + v
		}
	}
}
