package pack

import (
	"errors"
	"testing"
)

func TestBudgetAllocatorRefusesPastItsLimit(t *testing.T) {
	overBudget := func(f func()) (err error) {
		defer func() {
			if p := recover(); p != nil {
				err, _ = p.(error)
				if err == nil {
					t.Fatalf("panicked with %v, not an error", p)
				}
			}
		}()
		f()
		return nil
	}
	b := newBudgetAllocator(1000)
	buf := b.Allocate(600)
	if len(buf) != 600 || b.held.Load() != 600 {
		t.Fatalf("allocated %d, held %d", len(buf), b.held.Load())
	}
	var ob errOverBudget
	if err := overBudget(func() { b.Allocate(500) }); !errors.As(err, &ob) || b.held.Load() != 600 {
		t.Fatalf("600 + 500 of 1000: %v, held %d", err, b.held.Load())
	}
	if err := overBudget(func() { buf = b.Reallocate(900, buf) }); err != nil || b.held.Load() != 900 {
		t.Fatalf("grow to 900: %v, held %d", err, b.held.Load())
	}
	if err := overBudget(func() { b.Reallocate(1001, buf) }); !errors.As(err, &ob) {
		t.Fatalf("grow past the limit: %v", err)
	}
	b.Free(buf)
	if b.held.Load() != 0 {
		t.Fatalf("held %d after Free", b.held.Load())
	}
	if err := overBudget(func() { b.Allocate(-1) }); !errors.As(err, &ob) {
		t.Fatalf("negative size: %v", err)
	}
	if err := overBudget(func() { b.Allocate(1000) }); err != nil {
		t.Fatalf("the whole budget after Free: %v", err)
	}
}
