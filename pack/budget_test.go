package pack

import (
	"errors"
	"testing"
)

// overBudget runs f and returns the errOverBudget it panics with.
func overBudget(t *testing.T, f func()) (err error) {
	t.Helper()
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

func TestBudgetAllocatorRefusesPastItsLimit(t *testing.T) {
	b := newBudgetAllocator(1000, false)
	buf := b.Allocate(600)
	if len(buf) != 600 || b.counted.Load() != 600 {
		t.Fatalf("allocated %d, counted %d", len(buf), b.counted.Load())
	}
	var ob errOverBudget
	if err := overBudget(t, func() { b.Allocate(500) }); !errors.As(err, &ob) || b.counted.Load() != 600 {
		t.Fatalf("600 + 500 of 1000: %v, counted %d", err, b.counted.Load())
	}
	if err := overBudget(t, func() { buf = b.Reallocate(900, buf) }); err != nil || b.counted.Load() != 900 {
		t.Fatalf("grow to 900: %v, counted %d", err, b.counted.Load())
	}
	if err := overBudget(t, func() { b.Reallocate(1001, buf) }); !errors.As(err, &ob) {
		t.Fatalf("grow past the limit: %v", err)
	}
	b.Free(buf)
	if b.counted.Load() != 0 {
		t.Fatalf("counted %d after Free", b.counted.Load())
	}
	if err := overBudget(t, func() { b.Allocate(-1) }); !errors.As(err, &ob) {
		t.Fatalf("negative size: %v", err)
	}
	if err := overBudget(t, func() { b.Allocate(1000) }); err != nil {
		t.Fatalf("the whole budget after Free: %v", err)
	}
}

func TestCumulativeBudgetCountsFreedBytes(t *testing.T) {
	b := newBudgetAllocator(1000, true)
	buf := b.Allocate(600)
	buf = b.Reallocate(300, buf) // shrinking gives nothing back either
	b.Free(buf)
	if b.counted.Load() != 600 {
		t.Fatalf("counted %d after allocating 600 and freeing it, want 600", b.counted.Load())
	}
	if err := overBudget(t, func() { b.Allocate(400) }); err != nil {
		t.Fatalf("600 + 400 of 1000: %v", err)
	}
	var ob errOverBudget
	if err := overBudget(t, func() { b.Allocate(1) }); !errors.As(err, &ob) || !ob.cumulative {
		t.Fatalf("one byte past 1000 decoded: %v", err)
	}
}
