package ingest

import (
	"context"
	"sync"
)

// orderedMap reads items with next until it reports no more, converts each
// with fn on up to workers goroutines, and hands the results to out in the
// order the items were read, so output does not depend on the worker count.
// At most about 4×workers items are in flight, whatever the input size.
//
// next and out run on one goroutine each (out on the caller's); fn must be
// safe for concurrent use. The first error from next or out ends the map
// and is returned after every goroutine has stopped.
func orderedMap[T, R any](ctx context.Context, workers int, next func() (T, bool, error), fn func(T) R, out func(R) error) error {
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
		done   chan struct{}
	}
	jobs := make(chan *slot, 2*workers)
	order := make(chan *slot, 2*workers)
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
		for {
			item, ok, err := next()
			if err != nil || !ok {
				readErr = err
				return
			}
			s := &slot{item: item, done: make(chan struct{})}
			// A slot enters jobs before order, so every slot the consumer
			// waits for is sure to be worked on.
			select {
			case jobs <- s:
			case <-ctx.Done():
				return
			}
			select {
			case order <- s:
			case <-ctx.Done():
				return
			}
		}
	}()

	var outErr error
	for s := range order {
		<-s.done
		if outErr != nil {
			continue // drain so the reader can finish
		}
		if err := out(s.result); err != nil {
			outErr = err
			cancel()
		}
	}
	wg.Wait()
	if outErr != nil {
		return outErr
	}
	return readErr
}
