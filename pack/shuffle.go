package pack

import (
	"math/rand/v2"

	"github.com/corpusflow/corpusflow/flow"
)

// shuffleBuffer is a seeded shuffle buffer, as in tf.data and WebDataset:
// it holds up to size examples and, once full, sends on a randomly chosen
// one for each new one. Output depends only on the input order and the seed.
type shuffleBuffer struct {
	size int
	buf  []*flow.Record
	rng  *rand.Rand
}

func newShuffleBuffer(size int, seed uint64) *shuffleBuffer {
	return &shuffleBuffer{size: size, buf: make([]*flow.Record, 0, size), rng: rand.New(rand.NewPCG(seed, 0x73687566))} // "shuf"
}

func (s *shuffleBuffer) push(r *flow.Record, out func(*flow.Record)) {
	if len(s.buf) < s.size {
		s.buf = append(s.buf, r)
		return
	}
	j := s.rng.IntN(s.size)
	out(s.buf[j])
	s.buf[j] = r
}

// drain sends what is left, in random order.
func (s *shuffleBuffer) drain(out func(*flow.Record)) {
	s.rng.Shuffle(len(s.buf), func(i, j int) { s.buf[i], s.buf[j] = s.buf[j], s.buf[i] })
	for _, r := range s.buf {
		out(r)
	}
	s.buf = s.buf[:0]
}
