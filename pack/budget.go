package pack

import (
	"fmt"
	"sync/atomic"

	"github.com/apache/arrow/go/v15/arrow/memory"
)

// The Arrow decoder sizes its buffers from a shard's metadata. A damaged
// shard can ask for terabytes; Go cannot recover from running out of
// memory, so the allocator refuses first, by panicking, which the cursor
// recovers into an error naming the file.
//
// A shard whose checksum matched its manifest is what the writer wrote: its
// budget only caps the bytes held at once (a batch decodes to a few times
// the shard's size), generously.
//
// A shard read unverified (`corpusflow inspect FILE.arrow` with no
// manifest, ReaderOptions.SkipVerify) has a budget on every byte decoded
// while reading it, freed or not. Holding is not the only cost: reading
// rows costs time in proportion to the bytes decoded (each row has at
// least 4 bytes of id offsets), and a few KB of zstd can claim 64 MiB of
// zeros, which is 16 million empty rows, and a file's footer can list that
// batch again and again. Real shards decode to 2-18 times their size in
// all (quickstart 3.6x, image-text 2-3x, the tests' synthetic ids 18x), so
// 64 times leaves room, and a damaged few-KB file is rejected after about a
// million bytes.
const (
	heldBudgetBase    = 64 << 20 // bytes held at once, verified shards
	decodedBudgetBase = 1 << 20  // bytes decoded in all, unverified shards
	budgetFactor      = 64       // times the shard's size on disk, both
)

// newDecodeAllocator is the allocator for decoding a shard of n bytes.
func newDecodeAllocator(n int, verified bool) *budgetAllocator {
	if verified {
		return newBudgetAllocator(heldBudgetBase+budgetFactor*int64(n), false)
	}
	return newBudgetAllocator(decodedBudgetBase+budgetFactor*int64(n), true)
}

// budgetAllocator wraps an allocator and panics when the bytes it counts
// would exceed limit: the bytes held at once, or, when cumulative, every
// byte allocated.
type budgetAllocator struct {
	mem        memory.Allocator
	limit      int64
	cumulative bool
	counted    atomic.Int64
	// refused is the first refusal: the stream reader recovers panics into
	// errors of its own that lose the type.
	refused atomic.Pointer[errOverBudget]
}

func newBudgetAllocator(limit int64, cumulative bool) *budgetAllocator {
	return &budgetAllocator{mem: memory.NewGoAllocator(), limit: limit, cumulative: cumulative}
}

// errOverBudget is what the allocator panics with.
type errOverBudget struct {
	asked, counted, limit int64
	cumulative            bool
}

func (e errOverBudget) Error() string {
	switch {
	case e.asked < 0:
		return fmt.Sprintf("the shard asks for a buffer of %d bytes: its sizes are damaged", e.asked)
	case e.cumulative:
		return fmt.Sprintf("the shard decodes to more than %d bytes (%d decoded, %d more asked), more than %dx its size: damaged, or read it verified against its manifest", e.limit, e.counted, e.asked, budgetFactor)
	}
	return fmt.Sprintf("the shard asks for a %d-byte buffer with %d bytes held, over the decoder's budget of %d bytes: its sizes are damaged", e.asked, e.counted, e.limit)
}

func (b *budgetAllocator) reserve(delta int64) {
	if delta < 0 {
		b.refuse(errOverBudget{delta, b.counted.Load(), b.limit, b.cumulative})
	}
	if counted := b.counted.Add(delta); counted > b.limit {
		b.counted.Add(-delta)
		b.refuse(errOverBudget{delta, counted - delta, b.limit, b.cumulative})
	}
}

func (b *budgetAllocator) refuse(e errOverBudget) {
	b.refused.CompareAndSwap(nil, &e)
	panic(e)
}

// refusal is the first allocation refused, or nil.
func (b *budgetAllocator) refusal() error {
	if e := b.refused.Load(); e != nil {
		return *e
	}
	return nil
}

// release gives freed bytes back, unless every byte counts.
func (b *budgetAllocator) release(n int64) {
	if !b.cumulative {
		b.counted.Add(-n)
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
		b.release(-grow)
	}
	return b.mem.Reallocate(size, buf)
}

func (b *budgetAllocator) Free(buf []byte) {
	b.release(int64(len(buf)))
	b.mem.Free(buf)
}
