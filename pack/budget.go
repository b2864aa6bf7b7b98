package pack

import (
	"fmt"
	"sync/atomic"

	"github.com/apache/arrow/go/v15/arrow/memory"
)

// The Arrow decoder sizes its buffers from a shard's metadata. A damaged
// shard that reaches it unverified (`corpusflow inspect FILE.arrow` with no
// manifest, ReaderOptions.SkipVerify) can ask for terabytes; Go cannot
// recover from running out of memory, so the allocator refuses first, by
// panicking, which the cursor recovers into an error naming the file.
//
// A shard's batches decode to a few times its size (compression); the
// budget is generous for real shards and small beside what damage asks for.
const (
	decodeBudgetBase   = 64 << 20 // bytes, whatever the shard's size
	decodeBudgetFactor = 64       // times the shard's size on disk
)

// decodeBudget is how many bytes the decoder may hold at once for a shard of
// n bytes.
func decodeBudget(n int) int64 { return decodeBudgetBase + decodeBudgetFactor*int64(n) }

// budgetAllocator wraps an allocator and panics when the bytes it holds
// would exceed limit.
type budgetAllocator struct {
	mem   memory.Allocator
	limit int64
	held  atomic.Int64
}

func newBudgetAllocator(limit int64) *budgetAllocator {
	return &budgetAllocator{mem: memory.NewGoAllocator(), limit: limit}
}

// errOverBudget is what the allocator panics with.
type errOverBudget struct{ asked, held, limit int64 }

func (e errOverBudget) Error() string {
	if e.asked < 0 {
		return fmt.Sprintf("the shard asks for a buffer of %d bytes: its sizes are damaged", e.asked)
	}
	return fmt.Sprintf("the shard asks for a %d-byte buffer with %d bytes held, over the decoder's budget of %d bytes: its sizes are damaged", e.asked, e.held, e.limit)
}

func (b *budgetAllocator) reserve(delta int64) {
	if delta < 0 {
		panic(errOverBudget{delta, b.held.Load(), b.limit})
	}
	if held := b.held.Add(delta); held > b.limit {
		b.held.Add(-delta)
		panic(errOverBudget{delta, held - delta, b.limit})
	}
}

func (b *budgetAllocator) Allocate(size int) []byte {
	b.reserve(int64(size))
	return b.mem.Allocate(size)
}

func (b *budgetAllocator) Reallocate(size int, buf []byte) []byte {
	if size < 0 {
		b.reserve(int64(size))
	}
	if grow := int64(size) - int64(len(buf)); grow > 0 {
		b.reserve(grow)
	} else {
		b.held.Add(grow)
	}
	return b.mem.Reallocate(size, buf)
}

func (b *budgetAllocator) Free(buf []byte) {
	b.held.Add(-int64(len(buf)))
	b.mem.Free(buf)
}
