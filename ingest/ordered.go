package ingest

import (
	"context"
	"sync"
)

// Limits on the items handed from the reader to the consumer in one go:
// passing items in groups keeps the cost of channels and wake-ups per item
// small when items are cheap (WET text records), while the byte bound keeps
// memory flat when they are large.
const (
	orderedGroupItems = 64
	orderedGroupBytes = 4 << 20
)

// orderedMap reads items with next until it reports no more, converts each
// with fn on up to workers goroutines, and hands the results to out in the
// order the items were read, so output does not depend on the worker count.
// At most about 4×workers items are in flight, whatever the input size.
//
// next runs on one goroutine and out on the caller's; fn must be safe for
// concurrent use. The first error from next or out ends the map and is
// returned after every goroutine has stopped.
func orderedMap[T, R any](ctx context.Context, workers int, next func() (T, bool, error), fn func(T) R, out func(R) error) error {
	everyItemCosts := func(T) (bool, int) { return false, 0 }
	return orderedMapWeighed(ctx, workers, next, fn, everyItemCosts, out)
}

// orderedMapWeighed is orderedMap for inputs that mix cheap and costly
// items. weigh tells, per item, whether it is cheap enough to convert right
// away on the reading goroutine (a WET record needs no extraction) and how
// many bytes it holds. In flight at any time: about 4×workers groups of at
// most orderedGroupItems items and orderedGroupBytes bytes, whatever the
// input size. Otherwise it behaves as orderedMap.
func orderedMapWeighed[T, R any](ctx context.Context, workers int, next func() (T, bool, error), fn func(T) R,
	weigh func(T) (cheap bool, bytes int), out func(R) error) error {
	if workers <= 1 {
		for {
			item, ok, err := next()
			if err != nil || !ok {
				return err
			}
			if err := out(fn(item)); err != nil {
				return err
			}
		}
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type slot struct {
		item   T
		result R
		done   chan struct{} // nil when converted by the reader itself
	}
	jobs := make(chan *slot, 2*workers)
	order := make(chan []*slot, 2*workers)
	var wg sync.WaitGroup
	for i := 0; i < workers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for s := range jobs {
				if ctx.Err() == nil {
					s.result = fn(s.item)
				}
				close(s.done)
			}
		}()
	}
	var readErr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(order)
		defer close(jobs)
		var group []*slot
		groupBytes := 0
		flush := func() bool {
			if len(group) == 0 {
				return true
			}
			select {
			case order <- group:
				group, groupBytes = nil, 0
				return true
			case <-ctx.Done():
				return false
			}
		}
		for {
			item, ok, err := next()
			if err != nil || !ok {
				readErr = err
				flush()
				return
			}
			s := &slot{item: item}
			cheap, size := weigh(item)
			if cheap {
				s.result = fn(item)
			} else {
				// A slot enters jobs before order, so every slot the
				// consumer waits for is sure to be worked on.
				s.done = make(chan struct{})
				select {
				case jobs <- s:
				case <-ctx.Done():
					return
				}
			}
			group = append(group, s)
			groupBytes += size
			if len(group) >= orderedGroupItems || groupBytes >= orderedGroupBytes || !cheap {
				if !flush() {
					return
				}
			}
		}
	}()

	var outErr error
	for group := range order {
		for _, s := range group {
			if s.done != nil {
				<-s.done
			}
			if outErr != nil {
				continue // drain so the reader can finish
			}
			if err := out(s.result); err != nil {
				outErr = err
				cancel()
			}
		}
	}
	wg.Wait()
	if outErr != nil {
		return outErr
	}
	return readErr
}
