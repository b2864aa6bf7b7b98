package dedup

import (
	"math/rand/v2"
	"testing"
)

func TestUint64SetAgainstMap(t *testing.T) {
	s := NewUint64Set(0)
	ref := map[uint64]bool{}
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 200000; i++ {
		k := rng.Uint64() % 150000 // many repeats
		if i%1000 == 0 {
			k = 0 // the empty-slot marker must still be a valid key
		}
		if got, want := s.Add(k), !ref[k]; got != want {
			t.Fatalf("Add(%d) = %v, want %v", k, got, want)
		}
		ref[k] = true
	}
	if s.Len() != len(ref) {
		t.Fatalf("Len %d, want %d", s.Len(), len(ref))
	}
	for k := range ref {
		if !s.Has(k) {
			t.Fatalf("lost %d", k)
		}
	}
	if s.Has(1 << 63) {
		t.Fatal("phantom key")
	}
	if per := float64(s.Bytes()) / float64(s.Len()); per < 8 || per > 16.1 {
		t.Fatalf("%.1f bytes per key, want 8–16", per)
	}
}

func TestBandTableSegments(t *testing.T) {
	bt := newBandTable(0)
	rng := rand.New(rand.NewPCG(3, 4))
	hashes := make([]uint64, 50000)
	for i := range hashes {
		hashes[i] = rng.Uint64()
		bt.insert(hashes[i], uint32(i))
	}
	if len(bt.segments) < 2 {
		t.Fatalf("expected the table to have opened new segments, has %d", len(bt.segments))
	}
	for i, h := range hashes {
		found := false
		bt.each(h, func(ord uint32) bool {
			found = found || ord == uint32(i)
			return true
		})
		if !found {
			t.Fatalf("hash %d not found", i)
		}
	}
	misses := 0
	for i := 0; i < 50000; i++ {
		bt.each(rng.Uint64(), func(uint32) bool { misses++; return true })
	}
	if misses != 0 {
		t.Fatalf("%d false matches for random hashes", misses)
	}
	if per := float64(bt.bytes()) / 50000; per > 16.5 {
		t.Fatalf("%.1f bytes per entry", per)
	}
}
