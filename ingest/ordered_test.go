package ingest

import (
	"context"
	"errors"
	"math/rand"
	"sync/atomic"
	"testing"
	"time"
)

func TestOrderedMap(t *testing.T) {
	errStop := errors.New("stop")
	tests := []struct {
		name      string
		workers   int
		items     int
		cheapEach int // every n-th item is cheap (0: none)
		outFailAt int // out fails on this item (-1: never)
		nextFail  int // next fails after this many items (-1: never)
		wantErr   error
	}{
		{"one worker", 1, 200, 0, -1, -1, nil},
		{"four workers keep order", 4, 500, 0, -1, -1, nil},
		{"cheap and costly mixed", 3, 500, 2, -1, -1, nil},
		{"all cheap", 2, 1000, 1, -1, -1, nil},
		{"out fails", 4, 500, 3, 123, -1, errStop},
		{"next fails", 4, 500, 0, -1, 77, errStop},
	}
	for _, tt := range tests {
		rng := rand.New(rand.NewSource(int64(tt.items)))
		delays := make([]time.Duration, tt.items)
		for i := range delays {
			delays[i] = time.Duration(rng.Intn(200)) * time.Microsecond
		}
		var read int
		next := func() (int, bool, error) {
			if read == tt.nextFail {
				return 0, false, errStop
			}
			if read == tt.items {
				return 0, false, nil
			}
			read++
			return read - 1, true, nil
		}
		var running, peak atomic.Int32
		fn := func(i int) int {
			n := running.Add(1)
			for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
			}
			time.Sleep(delays[i])
			running.Add(-1)
			return i * 10
		}
		weigh := func(i int) (bool, int) { return tt.cheapEach > 0 && i%tt.cheapEach == 0, 100 }
		var got []int
		out := func(r int) error {
			if len(got) == tt.outFailAt {
				return errStop
			}
			got = append(got, r)
			return nil
		}
		err := orderedMapWeighed(context.Background(), tt.workers, next, fn, weigh, out)
		if !errors.Is(err, tt.wantErr) {
			t.Errorf("%s: error %v, want %v", tt.name, err, tt.wantErr)
		}
		for i, r := range got {
			if r != i*10 {
				t.Fatalf("%s: result %d is %d: out of order", tt.name, i, r)
			}
		}
		switch {
		case tt.wantErr == nil && len(got) != tt.items:
			t.Errorf("%s: %d results, want %d", tt.name, len(got), tt.items)
		case tt.outFailAt >= 0 && len(got) != tt.outFailAt:
			t.Errorf("%s: %d results before the failure, want %d", tt.name, len(got), tt.outFailAt)
		case tt.nextFail >= 0 && len(got) != tt.nextFail:
			t.Errorf("%s: %d results before the read error, want %d", tt.name, len(got), tt.nextFail)
		}
		if tt.workers > 1 && tt.cheapEach != 1 && peak.Load() < 2 {
			t.Errorf("%s: never ran two conversions at once", tt.name)
		}
	}
}

func TestOrderedMapStopsOnCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	n := 0
	next := func() (int, bool, error) {
		if err := ctx.Err(); err != nil {
			return 0, false, err
		}
		n++
		return n, true, nil // endless
	}
	out := func(r int) error {
		if r == 100 {
			cancel()
		}
		return nil
	}
	done := make(chan error, 1)
	go func() { done <- orderedMap(ctx, 3, next, func(i int) int { return i }, out) }()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("error %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("orderedMap did not stop after cancel")
	}
}
