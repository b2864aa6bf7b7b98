package kafka

import (
	"sort"
	"sync"
)

// offsetTracker knows, for one partition, which consumed messages are done
// (their output acknowledged by the broker) and so how far the consumer group
// may commit: up to, not including, the oldest message not yet done. This is
// what makes delivery at-least-once: a worker that dies loses only work whose
// input was not committed, and its replacement does it again.
type offsetTracker struct {
	mu      sync.Mutex
	offsets []int64 // received, ascending
	done    []bool
	last    int64 // highest offset received, -1 before any
}

func newOffsetTracker() *offsetTracker { return &offsetTracker{last: -1} }

func (t *offsetTracker) received(off int64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.offsets = append(t.offsets, off)
	t.done = append(t.done, false)
	if off > t.last {
		t.last = off
	}
}

// finish marks off done and returns the offset to commit (the next message to
// read after a restart), or -1 when it did not move.
func (t *offsetTracker) finish(off int64) int64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	i := sort.Search(len(t.offsets), func(i int) bool { return t.offsets[i] >= off })
	if i == len(t.offsets) || t.offsets[i] != off {
		return -1
	}
	t.done[i] = true
	if i != 0 {
		return -1
	}
	n := 0
	for n < len(t.done) && t.done[n] {
		n++
	}
	t.offsets = t.offsets[n:]
	t.done = t.done[n:]
	if len(t.offsets) > 0 {
		return t.offsets[0]
	}
	return t.last + 1
}

// pendingBefore reports whether some message before off is not done yet.
func (t *offsetTracker) pendingBefore(off int64) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.offsets) > 0 && t.offsets[0] < off
}

// lastReceived is the highest offset received, -1 before any.
func (t *offsetTracker) lastReceived() int64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.last
}
